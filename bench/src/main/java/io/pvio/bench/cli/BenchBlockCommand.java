package io.pvio.bench.cli;

import java.io.PrintStream;
import java.nio.file.Path;

import io.pvio.bench.block.BlockBenchReport;
import picocli.CommandLine.Command;

/**
 * {@code pvio bench block}: JMH runs of block I/O through the split driver beside the same I/O on the image file,
 * with the ratios and notification rates against their targets.
 */
@Command(
    name = "block",
    description = "Benchmark PV block I/O against native FileChannel I/O on a page-cached image with JMH " +
        "(4 KiB random reads, 64 KiB sequential reads and writes; depth 1 and 32; about 1.5 min with --quick, " +
        "4 min without).")
final class BenchBlockCommand extends ReportBenchCommand
{
    @Override
    int run(final boolean quick, final Path jsonOrNull, final PrintStream out)
    {
        return BlockBenchReport.run(quick, jsonOrNull, out);
    }
}
