package io.pvio.bench.cli;

import java.io.PrintStream;
import java.nio.file.Path;

import io.pvio.bench.ring.RingBenchReport;
import picocli.CommandLine.Command;

/**
 * {@code pvio bench ring}: a JMH pass over the ring benchmarks that prints pvio's figures beside JCTools and Agrona,
 * the ratios against the targets, and the core-to-core placement of the run.
 */
@Command(
    name = "ring",
    description = "Benchmark the pvio ring beside Agrona and JCTools with JMH and print the ratios " +
        "(about 1 min with --quick, several minutes without).")
final class BenchRingCommand extends ReportBenchCommand
{
    @Override
    int run(final boolean quick, final Path jsonOrNull, final PrintStream out)
    {
        return RingBenchReport.run(quick, jsonOrNull, out);
    }
}
