package io.pvio.bench.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

import io.pvio.bench.scenario.RepeatSummary;
import io.pvio.bench.scenario.Scenario;
import io.pvio.bench.scenario.ScenarioException;
import io.pvio.bench.scenario.ScenarioParser;
import io.pvio.bench.scenario.ScenarioReport;
import io.pvio.bench.scenario.ScenarioRunner;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code pvio run [FILE] [--json PATH] [--duration D] [--repeat N] [--xenstore-socket PATH | --no-xenstore-socket]}:
 * runs a scenario (the built-in default without FILE) and prints its report, or N reports and their medians; while
 * the guests run, dom0's XenStore is
 * served on a Unix socket for Xen's {@code xenstore-*} tools. A bad file or option exits with
 * {@link PvioCommand#EXIT_USAGE} and a message naming the field, before anything starts; a run in which a read did
 * not match, a written block was not found in its image, an I/O failed or a datagram arrived damaged exits with
 * {@link PvioCommand#EXIT_FAILURE}.
 */
@Command(
    name = "run",
    description = {
        "Boot a simulated machine (dom0 and guests with disks on disk images: split-driver disks, io: pv, or " +
            "emulated AHCI disks, io: emulated), run each disk's workload natively on the image (one thread per I/O, " +
            "or an io_uring when the back end has io-uring), then through its guest's driver (the split drivers' " +
            "disks first, then the emulated ones), then natively again, and report IOPS, MB/s, latency percentiles, " +
            "exits, notifications and hypercalls per I/O, CPU time per domain and each path's ratio to native (the " +
            "mean of the two native runs), side by side; then any network workloads (UDP stream and request/response " +
            "between guests' PV vifs or emulated e1000 NICs, or to the VXLAN uplink) with packets/s, Gbit/s, " +
            "latency, notifications, copies and exits per packet, PV beside emulated.",
        "",
        "Without FILE, runs the built-in default: dom0, a para guest with a split-driver disk and a full-mode " +
            "guest with an emulated AHCI disk, each on a 256 MiB temporary sparse image, verified random 4 KiB " +
            "reads (70%%) and writes at queue depth 32 for 1 s of warm-up and 4 s each, with the same workload " +
            "natively before and after them.",
        "",
        "FILE is YAML or JSON (by its extension, .yaml/.yml/.json, or its first character); the example " +
            "scenarios in scenarios/ show every field. A file with an error is refused as a whole before anything " +
            "starts, with a message naming the field, for example: " +
            "guests[1].disks[0].size: expected a size like 4K, 256M or 4G ..., got \"12X\".",
        "",
        "Guests may also, or instead, have NICs (nics: io: pv, a vif in a para guest; io: emulated, an e1000 NIC " +
            "in a full or native guest) and the scenario a network: list of UDP workloads from a guest to another " +
            "or to the uplink (dom0's VXLAN uplink to a host socket on loopback), kind stream or rr " +
            "(request/response), run in turn after the disks' workloads; the report gives packets/s, Gbit/s, " +
            "latency percentiles, and notifications, copies, exits, hypercalls and CPU time per packet, PV and " +
            "emulated side by side (scenarios/net-guest-to-guest.yaml, scenarios/net-uplink.yaml)."},
    footer = {
        "",
        "Exit status: 0 clean run; 1 a read mismatched, a written block is missing from its image, an I/O failed, " +
            "a datagram's payload or checksum was wrong, or the machine failed; 2 bad arguments or a bad scenario " +
            "file."})
final class RunCommand implements Callable<Integer>
{
    /** The socket's name in the temporary directory made for it when {@code --xenstore-socket} is not given. */
    static final String DEFAULT_SOCKET_NAME = "xenstored.sock";

    @Spec
    private CommandSpec spec;

    @Parameters(
        index = "0",
        arity = "0..1",
        paramLabel = "FILE",
        description = "Scenario file, YAML or JSON (default: the built-in scenario, scenarios/default.yaml).")
    private Path file;

    @Option(
        names = "--json",
        paramLabel = "PATH",
        description = "Also write the report as JSON to PATH (measured, counted and derived figures kept apart).")
    private Path json;

    @Option(
        names = "--duration",
        paramLabel = "D",
        description = "Run every workload for D after its warm-up, e.g. 500ms, 10s or 2m, instead of the " +
            "duration or count the scenario gives.")
    private String duration;

    @Option(
        names = "--repeat",
        paramLabel = "N",
        defaultValue = "1",
        description = "Run the scenario N times (1 to 100), each run with its own native runs before and after, " +
            "print each report, then each disk's median, least and most IOPS, native IOPS and ratio to native " +
            "over the runs (default: ${DEFAULT-VALUE}). With --json, run K's report goes to PATH with -K before " +
            "its extension.")
    private int repeat;

    @Option(
        names = "--xenstore-socket",
        paramLabel = "PATH",
        description = "Serve dom0's XenStore on the Unix socket PATH while the workloads run (default: a socket " +
            "in a new private temporary directory, printed at the start).")
    private Path xenStoreSocket;

    @Option(
        names = "--no-xenstore-socket",
        description = "Do not serve the XenStore on a socket.")
    private boolean noXenStoreSocket;

    /**
     * {@inheritDoc}
     */
    @Override
    public Integer call() throws IOException, InterruptedException
    {
        final PrintWriter out = spec.commandLine().getOut();
        final PrintWriter err = spec.commandLine().getErr();
        Scenario scenario;
        try
        {
            scenario = null == file ? ScenarioParser.defaultScenario() : ScenarioParser.parse(file);
            if (null != duration)
            {
                scenario = scenario.withDuration(ScenarioParser.checkDuration("--duration", duration));
            }
        }
        catch (final ScenarioException ex)
        {
            final String message = ex.getMessage();
            err.println("pvio run: " + (null == file || message.startsWith(file.toString()) ||
                message.startsWith("--") ? "" : file + ": ") + message);
            err.flush();
            return PvioCommand.EXIT_USAGE;
        }
        if (repeat < 1 || repeat > 100)
        {
            err.println("pvio run: --repeat: expected a number of runs from 1 to 100, got " + repeat);
            err.flush();
            return PvioCommand.EXIT_USAGE;
        }
        if (null != json)
        {
            final Path parent = json.toAbsolutePath().getParent();
            if (Files.isDirectory(json) || null == parent || !Files.isDirectory(parent))
            {
                err.println("pvio run: --json: expected a file path in an existing directory, got " + json);
                err.flush();
                return PvioCommand.EXIT_USAGE;
            }
        }

        if (null != xenStoreSocket)
        {
            final String expected = noXenStoreSocket ? "no --no-xenstore-socket beside it" :
                XenstoreServeCommand.socketPathProblem(xenStoreSocket);
            if (null != expected)
            {
                err.println("pvio run: --xenstore-socket: expected " + expected + ", got " + xenStoreSocket);
                err.flush();
                return PvioCommand.EXIT_USAGE;
            }
        }

        final RepeatSummary summary = new RepeatSummary();
        boolean clean = true;
        for (int run = 1; run <= repeat; run++)
        {
            if (repeat > 1)
            {
                out.printf("%n=== run %d of %d ===%n", run, repeat);
            }
            final ScenarioReport report = runOnce(scenario, out, err);
            if (null == report)
            {
                return PvioCommand.EXIT_USAGE;
            }
            report.print(out);
            if (null != json)
            {
                final Path path = repeat > 1 ? numbered(json, run) : json;
                report.writeJson(path);
                out.println("report written to " + path);
            }
            out.flush();
            summary.add(report);
            clean &= report.clean();
        }
        if (repeat > 1)
        {
            summary.print(out);
        }
        out.flush();
        if (!clean)
        {
            err.println("pvio run: verification failed or I/O failed: see the report above");
            err.flush();
            return PvioCommand.EXIT_FAILURE;
        }
        return PvioCommand.EXIT_OK;
    }

    /** One run with its XenStore socket; null (after saying why) if the scenario fails once the machine is built. */
    private ScenarioReport runOnce(final Scenario scenario, final PrintWriter out, final PrintWriter err)
        throws IOException, InterruptedException
    {
        Path socketDir = null;
        try
        {
            Path socket = xenStoreSocket;
            if (null == socket && !noXenStoreSocket)
            {
                socketDir = Files.createTempDirectory("pvio-xenstore-"); // 0700: the socket is dom0's
                socket = socketDir.resolve(DEFAULT_SOCKET_NAME);
            }
            return new ScenarioRunner(scenario, null == file ? "built-in default" : file.toString(), out,
                null != System.console()).xenStoreSocket(socket).run();
        }
        catch (final ScenarioException ex)
        {
            // found only when the machine is built, e.g. an image's file system refusing O_DIRECT
            err.println("pvio run: " + (null == file ? "" : file + ": ") + ex.getMessage());
            err.flush();
            return null;
        }
        finally
        {
            if (null != socketDir)
            {
                Files.deleteIfExists(socketDir.resolve(DEFAULT_SOCKET_NAME));
                Files.deleteIfExists(socketDir);
            }
        }
    }

    /** {@code report.json} and run 3: {@code report-3.json}. */
    static Path numbered(final Path path, final int run)
    {
        final String name = path.getFileName().toString();
        final int dot = name.lastIndexOf('.');
        final String numbered = dot > 0 ? name.substring(0, dot) + '-' + run + name.substring(dot) :
            name + '-' + run;
        return path.resolveSibling(numbered);
    }
}
