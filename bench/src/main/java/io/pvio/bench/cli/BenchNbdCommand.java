package io.pvio.bench.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.pvio.backend.block.FileBlockStore;
import io.pvio.bench.machine.PvDisk;
import io.pvio.bench.machine.PvGuest;
import io.pvio.bench.machine.PvMachine;
import io.pvio.bench.nbd.NbdExport;
import io.pvio.bench.scenario.ScenarioParser;
import io.pvio.frontend.block.BlockFrontOptions;
import io.pvio.hypervisor.sched.Vcpu;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code pvio bench nbd}: the same fio job ({@code --ioengine=nbd}) against pvio's NBD export of a guest's PV disk and
 * against nbdkit's file plugin on the same image, in alternating rounds of one run, with the ratio of each round and
 * their median.
 */
@Command(
    name = "nbd",
    description = {
        "Run one fio job (--ioengine=nbd) against pvio's NBD export (a para guest's PV disk: blkfront, the ring, " +
            "blkback) and against nbdkit's file plugin on the same image, in alternating rounds, and report IOPS, " +
            "MB/s, latency and the ratio pvio / nbdkit. Needs fio and nbdkit (apt-get install fio nbdkit)."},
    footer = {
        "",
        "Example:",
        "  ./pvio bench nbd --rw randread --bs 4K --iodepth 32 --runtime 10s --rounds 3",
        "",
        "Exit status: 0 measured; 1 a tool is missing or failed; 2 bad arguments."})
final class BenchNbdCommand implements Callable<Integer>
{
    private static final int MACHINE_FRAMES = (int)((512L << 20) / 4096);
    private static final int DOM0_FRAMES = (int)((64L << 20) / 4096);
    private static final int GUEST_FRAMES = (int)((64L << 20) / 4096);
    private static final List<String> PATTERNS = List.of("randread", "randwrite", "randrw", "read", "write");
    private static final long START_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(10);

    @Spec
    private CommandSpec spec;

    @Mixin
    private NbdMachineArgs machineArgs;

    private String rw = "randread";
    private int blockSize = 4096;
    private int iodepth = 32;
    private long size = 256L << 20;
    private int runtimeSeconds = 10;
    private int rounds = 3;

    @Option(names = "--rw", order = 1, paramLabel = "PATTERN",
        description = "fio's --rw: randread, randwrite, randrw, read or write (default: randread).")
    void rw(final String value)
    {
        if (!PATTERNS.contains(value))
        {
            throw bad("--rw", value, String.join(", ", PATTERNS));
        }
        rw = value;
    }

    @Option(names = "--bs", order = 2, paramLabel = "S",
        description = "Block size, a multiple of 512 from 512 to 1M (default: 4K).")
    void bs(final String text)
    {
        final long bytes = ScenarioParser.parseSize(text);
        if (bytes < 512 || bytes > (1 << 20) || 0 != (bytes & 511))
        {
            throw bad("--bs", text, "a multiple of 512 from 512 to 1M, e.g. 4K");
        }
        blockSize = (int)bytes;
    }

    @Option(names = "--iodepth", order = 3, paramLabel = "N", description = "fio's --iodepth, 1 to 128 (default: 32).")
    void iodepth(final int value)
    {
        if (value < 1 || value > NbdExport.MAX_IN_FLIGHT)
        {
            throw bad("--iodepth", Integer.toString(value), "1 to " + NbdExport.MAX_IN_FLIGHT);
        }
        iodepth = value;
    }

    @Option(names = "--size", order = 4, paramLabel = "S",
        description = "Image size, a multiple of 1M from 16M to 16G, filled with random data (default: 256M).")
    void size(final String text)
    {
        final long bytes = ScenarioParser.parseSize(text);
        if (bytes < (16L << 20) || bytes > (16L << 30) || 0 != (bytes & ((1 << 20) - 1)))
        {
            throw bad("--size", text, "a multiple of 1M from 16M to 16G");
        }
        size = bytes;
    }

    @Option(names = "--runtime", order = 5, paramLabel = "D",
        description = "Each fio run's length in whole seconds, 1s to 600s (default: 10s).")
    void runtime(final String text)
    {
        final long nanos = ScenarioParser.parseDuration(text);
        if (nanos < TimeUnit.SECONDS.toNanos(1) || nanos > TimeUnit.SECONDS.toNanos(600) ||
            0 != nanos % TimeUnit.SECONDS.toNanos(1))
        {
            throw bad("--runtime", text, "whole seconds from 1s to 600s, e.g. 10s");
        }
        runtimeSeconds = (int)TimeUnit.NANOSECONDS.toSeconds(nanos);
    }

    @Option(names = "--rounds", order = 6, paramLabel = "N",
        description = "Rounds of (pvio, nbdkit), 1 to 20 (default: 3); the ratio reported is the rounds' median.")
    void rounds(final int value)
    {
        if (value < 1 || value > 20)
        {
            throw bad("--rounds", Integer.toString(value), "1 to 20");
        }
        rounds = value;
    }

    /**
     * {@inheritDoc}
     */
    @Override
    public Integer call() throws Exception
    {
        final PrintWriter out = spec.commandLine().getOut();
        final PrintWriter err = spec.commandLine().getErr();
        for (final String tool : new String[] {"fio", "nbdkit"})
        {
            if (!onPath(tool))
            {
                err.println(spec.qualifiedName() + ": " + tool + " is not installed (apt-get install fio nbdkit)");
                err.flush();
                return PvioCommand.EXIT_FAILURE;
            }
        }
        final Path dir = Files.createTempDirectory("pvio-bench-nbd-");
        final Path image = dir.resolve("disk.img");
        try
        {
            CliSupport.printLine(out, "bench nbd: writing a " + (size >> 20) + " MiB image of random data");
            fill(image);
            final List<double[]> pvio = new ArrayList<>();
            final List<double[]> kit = new ArrayList<>();
            for (int round = 1; round <= rounds; round++)
            {
                CliSupport.printLine(out, String.format(Locale.ROOT, "bench nbd: round %d of %d: pvio (%d s)", round,
                    rounds, runtimeSeconds));
                pvio.add(runPvio(image, dir));
                CliSupport.printLine(out, String.format(Locale.ROOT, "bench nbd: round %d of %d: nbdkit (%d s)", round,
                    rounds, runtimeSeconds));
                kit.add(runNbdkit(image, dir));
            }
            report(out, pvio, kit);
            return PvioCommand.EXIT_OK;
        }
        catch (final ToolFailure ex)
        {
            err.println(spec.qualifiedName() + ": " + ex.getMessage());
            err.flush();
            return PvioCommand.EXIT_FAILURE;
        }
        finally
        {
            try (var files = Files.list(dir))
            {
                for (final Path file : (Iterable<Path>)files::iterator)
                {
                    Files.deleteIfExists(file);
                }
            }
            Files.deleteIfExists(dir);
        }
    }

    private void fill(final Path image) throws IOException
    {
        final SplittableRandom random = new SplittableRandom(1);
        final ByteBuffer chunk = ByteBuffer.allocateDirect(1 << 20);
        try (FileChannel channel = FileChannel.open(image, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE))
        {
            for (long at = 0; at < size; at += chunk.capacity())
            {
                chunk.clear();
                while (chunk.hasRemaining())
                {
                    chunk.putLong(random.nextLong());
                }
                chunk.flip();
                while (chunk.hasRemaining())
                {
                    channel.write(chunk);
                }
            }
        }
    }

    private double[] runPvio(final Path image, final Path dir) throws Exception
    {
        try (PvMachine machine = PvMachine.start(MACHINE_FRAMES, DOM0_FRAMES, machineArgs.machine()))
        {
            final PvGuest guest = machine.createGuest("nbd-guest", GUEST_FRAMES);
            final PvDisk disk = machine.attachDisk(guest, 51712, FileBlockStore.open(image, false),
                machineArgs.back(), new BlockFrontOptions());
            final Vcpu[] vcpus = guest.vcpus();
            try (NbdExport export = NbdExport.start(disk.front(), 0 == vcpus.length ? null : vcpus[0], "pvio", false,
                InetAddress.getLoopbackAddress(), 0))
            {
                return fio("nbd://127.0.0.1:" + export.port() + "/pvio", dir);
            }
        }
    }

    private double[] runNbdkit(final Path image, final Path dir) throws Exception
    {
        final int port;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress()))
        {
            port = probe.getLocalPort();
        }
        final Process nbdkit = new ProcessBuilder("nbdkit", "-f", "--exit-with-parent", "-i", "127.0.0.1", "-p",
            Integer.toString(port), "file", image.toString()).redirectErrorStream(true)
            .redirectOutput(dir.resolve("nbdkit.log").toFile()).start();
        try
        {
            awaitListening(port, nbdkit, dir);
            return fio("nbd://127.0.0.1:" + port + "/", dir);
        }
        finally
        {
            nbdkit.destroy();
            if (!nbdkit.waitFor(10, TimeUnit.SECONDS))
            {
                nbdkit.destroyForcibly();
            }
        }
    }

    private static void awaitListening(final int port, final Process process, final Path dir) throws Exception
    {
        final long deadline = System.nanoTime() + START_TIMEOUT_NANOS;
        while (System.nanoTime() - deadline < 0)
        {
            if (!process.isAlive())
            {
                throw new ToolFailure("nbdkit exited with " + process.exitValue() + ": " +
                    Files.readString(dir.resolve("nbdkit.log")).strip());
            }
            try (Socket probe = new Socket(InetAddress.getLoopbackAddress(), port))
            {
                if (probe.isConnected())
                {
                    return;
                }
            }
            catch (final IOException notYet)
            {
                Thread.sleep(20);
            }
        }
        throw new ToolFailure("nbdkit did not listen on 127.0.0.1:" + port + " in 10 s");
    }

    /** Runs fio and returns {IOPS, MB/s, p50 us, p99 us}. */
    private double[] fio(final String uri, final Path dir) throws Exception
    {
        final Path output = dir.resolve("fio.json");
        final List<String> command = List.of("fio", "--name=pvio-bench-nbd", "--ioengine=nbd", "--uri=" + uri,
            "--rw=" + rw, "--bs=" + blockSize, "--iodepth=" + iodepth, "--size=" + size, "--runtime=" +
            runtimeSeconds, "--time_based", "--ramp_time=1", "--output-format=json", "--output=" + output);
        final Process fio = new ProcessBuilder(command).redirectErrorStream(true)
            .redirectOutput(dir.resolve("fio.log").toFile()).start();
        if (!fio.waitFor(runtimeSeconds + 60L, TimeUnit.SECONDS))
        {
            fio.destroyForcibly();
            throw new ToolFailure("fio did not finish: " + String.join(" ", command));
        }
        if (0 != fio.exitValue())
        {
            throw new ToolFailure("fio failed (" + fio.exitValue() + ") against " + uri + ": " +
                Files.readString(dir.resolve("fio.log")).strip());
        }
        final JsonNode job = new ObjectMapper().readTree(output.toFile()).path("jobs").path(0);
        double iops = 0;
        double bytesPerSecond = 0;
        double p50 = 0;
        double p99 = 0;
        for (final String side : new String[] {"read", "write"})
        {
            final JsonNode node = job.path(side);
            final double sideIops = node.path("iops").asDouble();
            if (sideIops <= 0)
            {
                continue;
            }
            iops += sideIops;
            bytesPerSecond += node.path("bw_bytes").asDouble();
            final JsonNode percentiles = node.path("clat_ns").path("percentile");
            p50 = Math.max(p50, percentiles.path("50.000000").asDouble() / 1000.0);
            p99 = Math.max(p99, percentiles.path("99.000000").asDouble() / 1000.0);
        }
        if (iops <= 0)
        {
            throw new ToolFailure("fio reported no I/O against " + uri + " (see its JSON output)");
        }
        return new double[] {iops, bytesPerSecond / 1e6, p50, p99};
    }

    private void report(final PrintWriter out, final List<double[]> pvio, final List<double[]> kit)
    {
        out.println();
        out.println(String.format(Locale.ROOT, "fio --ioengine=nbd --rw=%s --bs=%d --iodepth=%d, %d s per run, " +
            "%d MiB image of random data (measured by fio; ratio derived)", rw, blockSize, iodepth, runtimeSeconds,
            size >> 20));
        out.println("pvio: " + machineArgs.describe() + "; nbdkit: file plugin, its default threads");
        out.println(String.format(Locale.ROOT, "%-6s %-8s %12s %10s %10s %10s %14s", "round", "server", "IOPS",
            "MB/s", "p50 us", "p99 us", "pvio/nbdkit"));
        final double[] ratios = new double[pvio.size()];
        for (int i = 0; i < pvio.size(); i++)
        {
            final double[] p = pvio.get(i);
            final double[] k = kit.get(i);
            ratios[i] = p[0] / k[0];
            out.println(String.format(Locale.ROOT, "%-6d %-8s %,12.0f %10.1f %10.1f %10.1f", i + 1, "pvio", p[0], p[1],
                p[2], p[3]));
            out.println(String.format(Locale.ROOT, "%-6d %-8s %,12.0f %10.1f %10.1f %10.1f %14.2f", i + 1, "nbdkit",
                k[0], k[1], k[2], k[3], ratios[i]));
        }
        Arrays.sort(ratios);
        out.println(String.format(Locale.ROOT, "median pvio/nbdkit IOPS ratio over %d round(s): %.2f",
            ratios.length, ratios[ratios.length / 2]));
        out.flush();
    }

    private static boolean onPath(final String tool)
    {
        final String path = System.getenv("PATH");
        if (null == path)
        {
            return false;
        }
        for (final String entry : path.split(java.io.File.pathSeparator))
        {
            if (Files.isExecutable(Path.of(entry, tool)))
            {
                return true;
            }
        }
        return false;
    }

    private ParameterException bad(final String option, final String value, final String expected)
    {
        return CliSupport.badValue(spec, option, value, expected);
    }

    /** A tool failed or is missing: reported, exit status 1. */
    private static final class ToolFailure extends Exception
    {
        private static final long serialVersionUID = 1L;

        ToolFailure(final String message)
        {
            super(message);
        }
    }
}
