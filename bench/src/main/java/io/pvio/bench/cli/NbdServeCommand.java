package io.pvio.bench.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import io.pvio.backend.block.BlockStore;
import io.pvio.backend.block.FileBlockStore;
import io.pvio.bench.machine.PvDisk;
import io.pvio.bench.machine.PvGuest;
import io.pvio.bench.machine.PvMachine;
import io.pvio.bench.nbd.NbdExport;
import io.pvio.bench.nbd.NbdWire;
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
 * {@code pvio nbd serve}: boots a machine with one para guest whose PV disk is an image file, and exports that disk
 * over NBD on 127.0.0.1 from an application on the guest's vCPU, until interrupted or for {@code --duration}. Every
 * request goes through blkfront, the ring, blkback and the image.
 */
@Command(
    name = "serve",
    description = {
        "Export a guest's PV disk over NBD (fixed newstyle, structured replies) on 127.0.0.1: a machine boots with " +
            "one para guest whose disk is --image (or a new sparse image of --size), and an application on the " +
            "guest's vCPU serves each NBD request through blkfront, the ring, blkback and the image. qemu-img, " +
            "nbdcopy, nbdinfo and fio --ioengine=nbd work against it.",
        "",
        "Runs until interrupted (Ctrl-C) or for --duration."},
    footer = {
        "",
        "Example:",
        "  ./pvio nbd serve --image disk.img --port 10809 &",
        "  nbdinfo nbd://127.0.0.1:10809/pvio",
        "  nbdcopy nbd://127.0.0.1:10809/pvio copy.img",
        "",
        "Exit status: 0 served and stopped; 1 the export could not start; 2 bad arguments."})
final class NbdServeCommand implements Callable<Integer>
{
    private static final long DEFAULT_SIZE = 256L << 20;
    private static final long MAX_SIZE = 1L << 40;
    private static final int MACHINE_FRAMES = (int)((512L << 20) / 4096);
    private static final int DOM0_FRAMES = (int)((64L << 20) / 4096);
    private static final int GUEST_FRAMES = (int)((64L << 20) / 4096);

    @Spec
    private CommandSpec spec;

    @Mixin
    private NbdMachineArgs machineArgs;

    private int port = 10809;
    private Path image;
    private long size = -1;
    private String name = "pvio";
    private long durationNanos;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final CountDownLatch finished = new CountDownLatch(1);

    @Option(names = "--read-only", order = 5, description = "Export read-only (the back end opens the image so too).")
    private boolean readOnly;

    @Option(
        names = "--port",
        order = 1,
        paramLabel = "PORT",
        description = "TCP port on 127.0.0.1, 1 to 65535, or 0 for any free one (default: 10809).")
    void port(final int value)
    {
        if (value < 0 || value > 65535)
        {
            throw bad("--port", Integer.toString(value), "0 to 65535");
        }
        port = value;
    }

    @Option(
        names = "--image",
        order = 2,
        paramLabel = "FILE",
        description = "An existing raw image, a multiple of 512 bytes (default: a new sparse image of --size in a " +
            "temporary directory, deleted on stop).")
    void image(final Path path)
    {
        if (!Files.isRegularFile(path))
        {
            throw bad("--image", path.toString(), "an existing regular file");
        }
        image = path;
    }

    @Option(
        names = "--size",
        order = 3,
        paramLabel = "S",
        description = "Size of the new image, e.g. 256M or 4G, a multiple of 4K up to 1T (default: 256M); not with " +
            "--image.")
    void size(final String text)
    {
        final long bytes = ScenarioParser.parseSize(text);
        if (bytes <= 0 || bytes > MAX_SIZE || 0 != (bytes & 4095))
        {
            throw bad("--size", text, "a size such as 256M, a positive multiple of 4K up to 1T");
        }
        size = bytes;
    }

    @Option(
        names = "--name",
        order = 4,
        paramLabel = "NAME",
        description = "The export's name (default: pvio); clients may also ask for the default (empty) name.")
    void name(final String text)
    {
        if (text.isEmpty() || text.length() > NbdWire.MAX_STRING_LENGTH || text.indexOf('\0') >= 0)
        {
            throw bad("--name", text, "1 to " + NbdWire.MAX_STRING_LENGTH + " characters, no NUL");
        }
        name = text;
    }

    @Option(
        names = "--duration",
        order = 7,
        paramLabel = "D",
        description = "Stop after D, e.g. 30s or 5m (default: serve until interrupted).")
    void duration(final String text)
    {
        durationNanos = CliSupport.duration(spec, "--duration", text);
    }

    /**
     * {@inheritDoc}
     */
    @Override
    public Integer call() throws Exception
    {
        final PrintWriter out = spec.commandLine().getOut();
        final PrintWriter err = spec.commandLine().getErr();
        if (null != image && size >= 0)
        {
            throw bad("--size", Long.toString(size), "no --size with --image (the image's size is the disk's)");
        }
        Path temporary = null;
        try
        {
            final BlockStore store;
            try
            {
                if (null == image)
                {
                    temporary = Files.createTempDirectory("pvio-nbd-");
                    store = FileBlockStore.createSparse(temporary.resolve("disk.img"), size < 0 ? DEFAULT_SIZE : size);
                }
                else
                {
                    store = FileBlockStore.open(image, readOnly);
                }
            }
            catch (final IOException | IllegalArgumentException ex)
            {
                err.println(spec.qualifiedName() + ": " + (null == image ? "new image" : image) + ": " +
                    ex.getMessage());
                err.flush();
                return PvioCommand.EXIT_FAILURE;
            }
            try (PvMachine machine = PvMachine.start(MACHINE_FRAMES, DOM0_FRAMES, machineArgs.machine()))
            {
                final PvGuest guest = machine.createGuest("nbd-guest", GUEST_FRAMES);
                final PvDisk disk = machine.attachDisk(guest, 51712, store,
                    machineArgs.back(), new BlockFrontOptions());
                final Vcpu[] vcpus = guest.vcpus();
                final NbdExport export;
                try
                {
                    export = NbdExport.start(disk.front(), 0 == vcpus.length ? null : vcpus[0], name, readOnly,
                        InetAddress.getLoopbackAddress(), port);
                }
                catch (final IllegalStateException ex)
                {
                    err.println(spec.qualifiedName() + ": " + ex.getMessage());
                    err.flush();
                    return PvioCommand.EXIT_FAILURE;
                }
                try (export)
                {
                    serve(export, disk, out);
                }
            }
        }
        finally
        {
            if (null != temporary)
            {
                Files.deleteIfExists(temporary.resolve("disk.img"));
                Files.deleteIfExists(temporary);
            }
            finished.countDown();
        }
        return PvioCommand.EXIT_OK;
    }

    private void serve(final NbdExport export, final PvDisk disk, final PrintWriter out) throws InterruptedException
    {
        // Ctrl-C: the hook stops the loop, then holds the JVM until the machine is closed and the image removed
        final Thread hook = new Thread(() ->
        {
            stopped.countDown();
            try
            {
                finished.await(30, TimeUnit.SECONDS);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
        }, "pvio-nbd-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        try
        {
            final long bytes = disk.front().sectors() * disk.front().sectorSize();
            CliSupport.printLine(out, "nbd: serving " + disk + " (" + bytes + " bytes" +
                (export.isReadOnly() ? ", read-only" : "") + ") as nbd://127.0.0.1:" + export.port() + "/" +
                export.name() + " (" + machineArgs.describe() + "); " +
                (0 == durationNanos ? "Ctrl-C stops" : "stopping after --duration"));
            CliSupport.serveUntilStopped(stopped, durationNanos, () -> true, () -> status(export), "nbd: ", out);
        }
        finally
        {
            try
            {
                Runtime.getRuntime().removeShutdownHook(hook);
            }
            catch (final IllegalStateException ignore)
            {
                // the JVM is shutting down: the hook waits for the clean-up that follows
            }
        }
        CliSupport.printLine(out, "nbd: stopped; " + status(export));
    }

    private static String status(final NbdExport export)
    {
        return export.requests() + " requests (" + export.errors() + " errors), " + export.connections() +
            " connections (" + export.openConnections() + " open, " + export.cutOff() + " cut off for protocol " +
            "errors)";
    }

    private ParameterException bad(final String option, final String value, final String expected)
    {
        return CliSupport.badValue(spec, option, value, expected);
    }
}
