package io.pvio.bench.net;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * The Linux kernel bridging two network namespaces, the peer of {@link NetGuestToGuestBenchmark}: namespaces A and B
 * each hold one end of a veth pair whose other end is a port of a bridge in a third namespace; no namespace has a
 * route out of it, and only 198.18.1.0/24 (reserved for benchmark networks) is used. trafgen (netsniff-ng) injects
 * raw UDP frames of one size into A's veth as fast as one CPU can, the kernel bridge forwards them, and B's veth
 * counts what it receives; {@link #received()} reads that count from {@code /proc/PID/net/dev} of a process parked
 * in B, so counting costs no process start.
 * <pre>
 *   ns A                 ns BR                     ns B
 *   trafgen -> va ===== pa -+- br0 -+- pb ===== vb (198.18.1.2) -> rx_packets
 * </pre>
 * Needs root, {@code ip} (iproute2) and {@code trafgen} (netsniff-ng). {@link #close()} stops both processes and
 * deletes the namespaces.
 */
public final class KernelBridge implements AutoCloseable
{
    /** Where trafgen is looked for. */
    public static final String TRAFGEN = "/usr/sbin/trafgen";

    private static final String SOURCE_MAC = "00:16:3e:00:00:a1";
    private static final long STOP_TIMEOUT_SECONDS = 5;

    private final int frameBytes;
    private final String nsA;
    private final String nsB;
    private final String nsBridge;
    private final List<String> created = new ArrayList<>();
    private Path config;
    private Process sink;
    private Process generator;
    private Path counterFile;

    private KernelBridge(final int frameBytes)
    {
        this.frameBytes = frameBytes;
        final long pid = ProcessHandle.current().pid();
        this.nsA = "pvio-kb-a-" + pid;
        this.nsB = "pvio-kb-b-" + pid;
        this.nsBridge = "pvio-kb-br-" + pid;
    }

    /**
     * Why the kernel peer cannot run here, or null if it can: not root, or {@code ip} or {@code trafgen} missing.
     *
     * @return the reason, or null.
     */
    public static String unavailableReason()
    {
        if (!"root".equals(System.getProperty("user.name")))
        {
            return "network namespaces need root";
        }
        if (!Files.isExecutable(Path.of(TRAFGEN)))
        {
            return TRAFGEN + " is not installed (apt-get install netsniff-ng)";
        }
        if (!Files.isExecutable(Path.of("/usr/sbin/ip")) && !Files.isExecutable(Path.of("/usr/bin/ip")) &&
            !Files.isExecutable(Path.of("/sbin/ip")))
        {
            return "ip is not installed (apt-get install iproute2)";
        }
        return null;
    }

    /**
     * Creates the namespaces, the veth pairs and the bridge, and parks the counting process in B. Frames are
     * Ethernet (14) + IPv4 (20) + UDP (8) + payload, without the FCS, as pvio's frames.
     *
     * @param frameBytes the frame size, 60 to 1514.
     * @return the bridge, not yet loaded.
     * @throws IllegalArgumentException if the size is out of range.
     * @throws IllegalStateException    if it cannot run here ({@link #unavailableReason()}) or a step fails.
     */
    public static KernelBridge create(final int frameBytes)
    {
        if (frameBytes < 60 || frameBytes > 1514)
        {
            throw new IllegalArgumentException("frame size: expected 60 to 1514 bytes, got " + frameBytes);
        }
        final String reason = unavailableReason();
        if (null != reason)
        {
            throw new IllegalStateException("the kernel bridge cannot run here: " + reason);
        }
        final KernelBridge bridge = new KernelBridge(frameBytes);
        try
        {
            bridge.build();
            return bridge;
        }
        catch (final RuntimeException ex)
        {
            bridge.close();
            throw ex;
        }
    }

    private void build()
    {
        for (final String ns : List.of(nsA, nsB, nsBridge))
        {
            run("ip", "netns", "add", ns);
            created.add(ns);
            run("ip", "-n", ns, "link", "set", "lo", "up");
        }
        run("ip", "-n", nsBridge, "link", "add", "br0", "type", "bridge");
        run("ip", "-n", nsBridge, "link", "set", "br0", "up");
        for (final String side : List.of("a", "b"))
        {
            final String ns = "a".equals(side) ? nsA : nsB;
            run("ip", "link", "add", "v" + side, "netns", ns, "type", "veth", "peer", "name", "p" + side, "netns",
                nsBridge);
            run("ip", "-n", nsBridge, "link", "set", "p" + side, "master", "br0");
            run("ip", "-n", nsBridge, "link", "set", "p" + side, "up");
            run("ip", "-n", ns, "link", "set", "v" + side, "up");
        }
        run("ip", "-n", nsB, "addr", "add", "198.18.1.2/24", "dev", "vb");
        final String macB = run("ip", "-n", nsB, "-br", "link", "show", "vb").trim().split("\\s+")[2];
        try
        {
            config = Files.createTempFile("pvio-trafgen-", ".cfg");
            Files.writeString(config, String.format(Locale.ROOT, "{ eth(da=%s, sa=%s), ipv4(sa=198.18.1.1, " +
                "da=198.18.1.2), udp(sp=40000, dp=9), fill(0x5a, %d) }%n", macB, SOURCE_MAC, frameBytes - 42),
                StandardCharsets.US_ASCII);
            sink = new ProcessBuilder("ip", "netns", "exec", nsB, "sleep", "infinity")
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
        // ip netns exec enters B and then execs sleep, so the pid is the parked process's
        counterFile = Path.of("/proc", Long.toString(sink.pid()), "net", "dev");
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(STOP_TIMEOUT_SECONDS);
        while (readCounter() < 0)
        {
            if (!sink.isAlive() || System.nanoTime() - deadline > 0)
            {
                throw new IllegalStateException("the counting process did not enter namespace " + nsB);
            }
            Thread.onSpinWait();
        }
    }

    /**
     * Starts trafgen on A's veth, one CPU, sending until {@link #stopLoad()}.
     *
     * @throws IllegalStateException if it is already running or does not start.
     */
    public void startLoad()
    {
        if (null != generator && generator.isAlive())
        {
            throw new IllegalStateException("trafgen is already running");
        }
        try
        {
            generator = new ProcessBuilder("ip", "netns", "exec", nsA, TRAFGEN, "--dev", "va", "--conf",
                config.toString(), "--cpus", "1", "-q").redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }

    /** Stops trafgen, if running, and waits for it to exit. */
    public void stopLoad()
    {
        stop(generator);
        generator = null;
    }

    /**
     * Whether trafgen is still sending.
     *
     * @return true while it runs.
     */
    public boolean loadRunning()
    {
        return null != generator && generator.isAlive();
    }

    /**
     * Frames B's veth has received since it was created.
     *
     * @return the count.
     * @throws IllegalStateException if the counter cannot be read.
     */
    public long received()
    {
        final long count = readCounter();
        if (count < 0)
        {
            throw new IllegalStateException("no vb line in " + counterFile);
        }
        return count;
    }

    /**
     * The frame size.
     *
     * @return bytes per frame.
     */
    public int frameBytes()
    {
        return frameBytes;
    }

    private long readCounter()
    {
        try
        {
            return rxPackets(Files.readString(counterFile, StandardCharsets.US_ASCII), "vb");
        }
        catch (final IOException ex)
        {
            return -1;
        }
    }

    /**
     * The received-packets column of one interface's line in the text of {@code /proc/net/dev}.
     *
     * @param netDev    the file's text.
     * @param interfaceName the interface.
     * @return the count, or -1 if the interface has no line.
     * @throws IllegalStateException if its line is malformed.
     */
    static long rxPackets(final String netDev, final String interfaceName)
    {
        for (final String line : netDev.split("\n"))
        {
            final int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().equals(interfaceName))
            {
                final String[] fields = line.substring(colon + 1).trim().split("\\s+");
                try
                {
                    // receive: bytes packets errs drop fifo frame compressed multicast, then transmit
                    return Long.parseLong(fields[1]);
                }
                catch (final NumberFormatException | ArrayIndexOutOfBoundsException ex)
                {
                    throw new IllegalStateException("malformed /proc/net/dev line for " + interfaceName + ": " +
                        line, ex);
                }
            }
        }
        return -1;
    }

    /** Stops both processes and deletes the namespaces and the configuration. Idempotent. */
    @Override
    public void close()
    {
        stopLoad();
        stop(sink);
        sink = null;
        for (final String ns : created)
        {
            runQuietly("ip", "netns", "del", ns);
        }
        created.clear();
        if (null != config)
        {
            try
            {
                Files.deleteIfExists(config);
            }
            catch (final IOException ignore)
            {
                // a temporary file: nothing else to do
            }
            config = null;
        }
    }

    private static void stop(final Process process)
    {
        if (null == process)
        {
            return;
        }
        process.destroy();
        try
        {
            if (!process.waitFor(STOP_TIMEOUT_SECONDS, TimeUnit.SECONDS))
            {
                process.destroyForcibly().waitFor(STOP_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            }
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }

    private static String run(final String... command)
    {
        try
        {
            final Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            final String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (0 != process.waitFor())
            {
                throw new IllegalStateException(String.join(" ", command) + " failed: " + output.trim());
            }
            return output;
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted running " + String.join(" ", command), ex);
        }
    }

    private static void runQuietly(final String... command)
    {
        try
        {
            run(command);
        }
        catch (final RuntimeException ignore)
        {
            // cleaning up: a namespace already gone is fine
        }
    }
}
