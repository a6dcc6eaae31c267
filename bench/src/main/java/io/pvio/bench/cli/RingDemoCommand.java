package io.pvio.bench.cli;

import java.io.PrintStream;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

import io.pvio.bench.ring.RingDemo;
import io.pvio.bench.ring.RingPeerOptions;
import io.pvio.ring.RingGeometry;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code pvio ring demo}: front and back ends on two threads exchange requests through one in-memory ring, spinning
 * and then parking, and the command prints throughput, latency and notifications per message.
 */
@Command(
    name = "demo",
    description = "Run a front end and a back end on two threads of this process over one ring, spinning and then " +
        "parking between notifications; print round trips/s, latency and notifications per message.")
final class RingDemoCommand implements Callable<Integer>
{
    @Spec
    private CommandSpec spec;

    @Option(names = "--pages", defaultValue = "1",
        description = "Ring pages: 1, 2, 4, 8 or 16 (default: ${DEFAULT-VALUE}).")
    private int pages;

    @Option(names = "--request-bytes", defaultValue = "112",
        description = "Request size in bytes (default: ${DEFAULT-VALUE}, a blkif request).")
    private int requestBytes;

    @Option(names = "--response-bytes", defaultValue = "16",
        description = "Response size in bytes (default: ${DEFAULT-VALUE}, a blkif response).")
    private int responseBytes;

    @Option(names = "--seconds", defaultValue = "3", description = "Seconds per wait mode (default: ${DEFAULT-VALUE}).")
    private int seconds;

    @Override
    public Integer call() throws InterruptedException
    {
        if (!RingPeerOptions.isValidPages(pages))
        {
            throw new ParameterException(spec.commandLine(),
                "Invalid value for option '--pages': " + pages + " (expected: one of " + RingPeerOptions.VALID_PAGES +
                ")");
        }
        final int maxBytes = RingPeerOptions.maxEntryBytes(pages);
        if (requestBytes < 16 || requestBytes > maxBytes || responseBytes < 16 || responseBytes > maxBytes)
        {
            throw new ParameterException(spec.commandLine(),
                "Invalid message size: --request-bytes=" + requestBytes + " --response-bytes=" + responseBytes +
                " (expected: 16 to " + maxBytes + " bytes for --pages=" + pages + ")");
        }
        if (seconds < 1 || seconds > 3600)
        {
            throw new ParameterException(spec.commandLine(),
                "Invalid value for option '--seconds': " + seconds + " (expected: 1 to 3600)");
        }
        final PrintStream out = System.out;
        final RingGeometry geometry = RingGeometry.ofPages(pages, requestBytes, responseBytes, 8);
        out.println("pvio ring demo: " + pages + " page(s), " + geometry.size() + " entries of " +
            geometry.entryBytes() + " bytes (request " + requestBytes + ", response " + responseBytes + "), " +
            seconds + " s per wait mode");
        final RingDemo.WaitMode[] modes = RingDemo.WaitMode.values();
        final RingDemo.Result[] results = new RingDemo.Result[modes.length];
        for (int i = 0; i < modes.length; i++)
        {
            results[i] = RingDemo.run(geometry, modes[i], TimeUnit.SECONDS.toNanos(seconds), out);
        }
        RingDemo.print(results, out);
        return PvioCommand.EXIT_OK;
    }
}
