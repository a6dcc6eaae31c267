package io.pvio.bench.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;

import io.pvio.bench.ring.RingBenchReport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code pvio bench ring}: a JMH pass over the ring benchmarks that prints pvio's figures beside JCTools and Agrona,
 * the ratios against the targets, and the core-to-core placement of the run. Exits with
 * {@link PvioCommand#EXIT_FAILURE} if a benchmark failed to run; missed targets are reported, not fatal.
 */
@Command(
    name = "ring",
    description = "Benchmark the pvio ring beside Agrona and JCTools with JMH and print the ratios " +
        "(about 1 min with --quick, several minutes without).")
final class BenchRingCommand implements Callable<Integer>
{
    @Option(
        names = "--quick",
        description = "Short pass: fewer forks, warm-up and measurement iterations.")
    private boolean quick;

    @Option(
        names = "--json",
        paramLabel = "PATH",
        description = "Also write the JMH results as JSON to PATH.")
    private Path json;

    /**
     * {@inheritDoc}
     */
    @Override
    public Integer call()
    {
        return 0 == RingBenchReport.run(quick, json, System.out) ? PvioCommand.EXIT_OK : PvioCommand.EXIT_FAILURE;
    }
}
