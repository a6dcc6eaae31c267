package io.pvio.bench.experiment;

import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

import io.pvio.bench.experiment.MemoryRig.Guest;
import io.pvio.hypervisor.memory.MemoryManager;
import io.pvio.hypervisor.memory.WorkingSetEstimator;

/**
 * E10: working-set estimation by sampling. A toucher in a 1200-page guest steps its working set 200 -> 1000 -> 200
 * pages (the paper's 50 -> 250 -> 50 MB at 4 pages per MB); each period the hypervisor samples 100 random pages. The
 * estimate (max of a fast and a slow average and the latest sample) should follow the rise within a period and the
 * fall over several, inducing at most n minor faults per period.
 */
final class WorkingSetExperiment implements Experiment
{
    private static final int PAGES = 1200;
    private static final int SMALL = 200;
    private static final int LARGE = 1000;
    private static final int RISE = 10;
    private static final int FALL = 30;
    private static final int PERIODS = 60;
    private static final int SAMPLES = 100;

    @Override
    public String name()
    {
        return "e10";
    }

    @Override
    public String summary()
    {
        return "working-set sampling: estimated vs true active memory as a toucher steps 200 -> 1000 -> 200 pages";
    }

    @Override
    public ExperimentResult run(final ExperimentContext context)
    {
        final ExperimentResult result = new ExperimentResult(name(),
            "Working-set estimate vs true active memory (fraction of the guest's pages)",
            "period", "true_active", "estimate", "sample", "fast_average", "slow_average", "induced_faults");
        final int extra = context.scaled(2000, 200);
        context.progress("e10: " + PERIODS + " periods of " + SAMPLES + " samples");
        int maxFaults = 0;
        try (MemoryRig rig = new MemoryRig(PAGES + 256))
        {
            final Guest guest = rig.guest("toucher", PAGES, PAGES, 64);
            final MemoryManager manager = rig.memoryManager();
            final SplittableRandom random = new SplittableRandom(context.seed());
            for (int period = 0; period < PERIODS; period++)
            {
                final int set = period >= RISE && period < FALL ? LARGE : SMALL;
                final long faultsBefore = manager.stats(guest.domain).sampleFaults();
                manager.startSamplingPeriod(guest.domain, SAMPLES, random);
                for (int page = 0; page < set; page++)
                {
                    guest.pager.touch(page, false); // the whole working set, every period
                }
                for (int i = 0; i < extra; i++)
                {
                    guest.pager.touch(random.nextInt(set), random.nextInt(4) == 0);
                }
                final double estimate = manager.endSamplingPeriod(guest.domain);
                final WorkingSetEstimator estimator = manager.estimator(guest.domain);
                final int faults = (int)(manager.stats(guest.domain).sampleFaults() - faultsBefore);
                maxFaults = Math.max(maxFaults, faults);
                result.row(period, (double)set / PAGES, estimate, estimator.lastSample(), estimator.fastAverage(),
                    estimator.slowAverage(), faults);
            }
        }
        final double high = (double)LARGE / PAGES;
        final double low = (double)SMALL / PAGES;
        final double afterRise = result.number(RISE, "estimate");
        result.check("the estimate follows an increase within one period", afterRise >= 0.85 * high,
            String.format(Locale.ROOT, "true %.2f, estimate %.2f at the first period", high, afterRise));
        int periodsDown = 0;
        while (FALL + periodsDown < PERIODS && result.number(FALL + periodsDown, "estimate") > 1.15 * low)
        {
            periodsDown++;
        }
        result.check("and a decrease over several periods", periodsDown >= 3,
            String.format(Locale.ROOT, "%d periods to come within 15%% of %.2f", periodsDown, low));
        result.check("induced minor faults stay within n per period", maxFaults <= SAMPLES,
            "most in a period: " + maxFaults + ", n = " + SAMPLES);
        result.note("true_active = working-set pages / guest pages; every working-set page is touched each period");
        result.chart(new ExperimentResult.Chart(ExperimentResult.Chart.Kind.LINE, "period",
            List.of("true_active", "estimate", "fast_average", "slow_average"), null, "sampling period",
            "active fraction", false));
        return result;
    }
}
