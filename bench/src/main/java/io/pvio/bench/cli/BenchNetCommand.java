package io.pvio.bench.cli;

import java.io.PrintStream;
import java.nio.file.Path;

import io.pvio.bench.net.NetBenchReport;
import picocli.CommandLine.Command;

/**
 * {@code pvio bench net}: JMH runs of guest-to-guest frames through the PV network beside the Linux kernel bridging
 * two network namespaces, with the ratios against their target.
 */
@Command(
    name = "net",
    description = "Benchmark guest-to-guest frames through netfront, netback and dom0's bridge against the Linux " +
        "kernel bridging two network namespaces (trafgen from netsniff-ng, as root) with JMH, 64 B and 1514 B " +
        "frames, in one run (about 1 min with --quick, 2 min without). Without root or netsniff-ng, pvio alone.")
final class BenchNetCommand extends ReportBenchCommand
{
    @Override
    int run(final boolean quick, final Path jsonOrNull, final PrintStream out)
    {
        return NetBenchReport.run(quick, jsonOrNull, out);
    }
}
