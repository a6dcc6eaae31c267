package io.pvio.bench.experiment;

import java.util.List;

/**
 * The experiments {@code ./pvio experiment} runs, in order.
 */
public final class Experiments
{
    private static final List<Experiment> ALL = List.of(
        new ExitsPerIoExperiment(),
        new NotificationExperiment(),
        new SmallPacketExperiment(),
        new PteUpdateExperiment(),
        new FaultDeliveryExperiment(),
        new EventDeliveryExperiment(),
        new WalkLengthExperiment(),
        new BalloonVsSwapExperiment(),
        new PageSharingExperiment(),
        new IdleTaxExperiment(),
        new WorkingSetExperiment(),
        new SliceLatencyExperiment(),
        new FairnessExperiment());

    private Experiments()
    {
    }

    /**
     * Every experiment.
     *
     * @return the list.
     */
    public static List<Experiment> all()
    {
        return ALL;
    }

    /**
     * Finds an experiment by name.
     *
     * @param name the name, e.g. {@code e4}.
     * @return the experiment, null if none has that name.
     */
    public static Experiment find(final String name)
    {
        for (final Experiment experiment : ALL)
        {
            if (experiment.name().equals(name))
            {
                return experiment;
            }
        }
        return null;
    }

    /**
     * Runs one, timing it.
     *
     * @param experiment the experiment.
     * @param context    seed, scale and progress.
     * @return its result.
     */
    public static ExperimentResult run(final Experiment experiment, final ExperimentContext context)
    {
        final long start = System.nanoTime();
        final ExperimentResult result = experiment.run(context);
        result.wallNanos(System.nanoTime() - start);
        return result;
    }
}
