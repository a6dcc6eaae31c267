package io.pvio.bench.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;

import io.pvio.bench.block.BlockBenchReport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code pvio bench block}: JMH runs of block I/O through the split driver beside the same I/O on the image file,
 * with the ratios and notification rates against their targets. Exits with {@link PvioCommand#EXIT_FAILURE} if a
 * benchmark failed to run; missed targets are reported, not fatal.
 */
@Command(
    name = "block",
    description = "Benchmark PV block I/O against native FileChannel I/O on a page-cached image with JMH " +
        "(4 KiB random reads, 64 KiB sequential reads and writes; depth 1 and 32; about 2 min with --quick, " +
        "4 min without).")
final class BenchBlockCommand implements Callable<Integer>
{
    @Option(
        names = "--quick",
        description = "Short pass: fewer warm-up and measurement iterations.")
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
        return 0 == BlockBenchReport.run(quick, json, System.out) ? PvioCommand.EXIT_OK : PvioCommand.EXIT_FAILURE;
    }
}
