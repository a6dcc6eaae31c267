package io.pvio.bench.experiment;

/**
 * One reproducible experiment: builds its machine, runs, and returns a table, the qualitative checks it was designed
 * to show, and how to chart it.
 */
public interface Experiment
{
    /**
     * The name users type: {@code e4}, {@code e5}, ...
     *
     * @return the name.
     */
    String name();

    /**
     * One line: what it shows.
     *
     * @return the summary.
     */
    String summary();

    /**
     * Runs it.
     *
     * @param context seed and progress reporting.
     * @return the result.
     */
    ExperimentResult run(ExperimentContext context);
}
