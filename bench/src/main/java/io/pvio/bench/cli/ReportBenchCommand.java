package io.pvio.bench.cli;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.concurrent.Callable;

import picocli.CommandLine.Option;

/**
 * A {@code pvio bench} suite run through JMH and summed up in a report: the options every suite shares and the exit
 * code ({@link PvioCommand#EXIT_FAILURE} if a benchmark failed to run; missed targets are reported, not fatal).
 */
abstract class ReportBenchCommand implements Callable<Integer>
{
    @Option(
        names = "--quick",
        description = "Short pass: fewer forks or rounds, shorter warm-up and measurement.")
    private boolean quick;

    @Option(
        names = "--json",
        paramLabel = "PATH",
        description = "Also write the JMH results as JSON to PATH.")
    private Path json;

    /**
     * Runs the suite and prints its report.
     *
     * @param quick      the short pass.
     * @param jsonOrNull where to write JMH's JSON results, or null.
     * @param out        where progress and the report go.
     * @return 0 if every benchmark ran.
     */
    abstract int run(boolean quick, Path jsonOrNull, PrintStream out);

    /**
     * {@inheritDoc}
     */
    @Override
    public Integer call()
    {
        return 0 == run(quick, json, System.out) ? PvioCommand.EXIT_OK : PvioCommand.EXIT_FAILURE;
    }
}
