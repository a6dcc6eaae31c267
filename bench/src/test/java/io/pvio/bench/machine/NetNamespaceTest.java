package io.pvio.bench.machine;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.pvio.bench.ExternalTools;
import io.pvio.bench.cli.AgronaAccess;
import io.pvio.bench.cli.PvioCommand;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Linux's own network stack on the guests' LAN: two network namespaces of the test's own, joined by a veth pair and
 * with no route out of either; a Linux {@code vxlan} interface (198.18.0.1) in one, {@code ./pvio net serve} in the
 * other: dom0's bridge, the VXLAN uplink and a para guest at 198.18.0.2 behind netfront and netback. Linux's
 * {@code ping} gets its answers from the guest and {@code socat} gets its UDP datagrams echoed byte for byte, each
 * frame crossing the uplink, the bridge, netback's grant copies and the guest's rings. Two namespaces, because Linux
 * hands a VXLAN packet for one of its own addresses straight to its own VXLAN sockets.
 */
class NetNamespaceTest
{
    private static final String LINUX_NS = "pvio-l" + ProcessHandle.current().pid();
    private static final String PVIO_NS = "pvio-p" + ProcessHandle.current().pid();

    @Test
    @Timeout(120)
    void linuxPingAndUdpReachTheHostThroughTheVxlanUplink() throws Exception
    {
        ExternalTools.requireTool("/usr/sbin/ip", "iproute2");
        ExternalTools.requireTool("/usr/bin/ping", "iputils-ping");
        ExternalTools.requireTool("/usr/bin/socat", "socat");
        ExternalTools.requireTool("/usr/sbin/ethtool", "ethtool");
        assumeTrue("root".equals(System.getProperty("user.name")), "network namespaces need root");
        Process pvio = null;
        // a container without CAP_SYS_ADMIN cannot make namespaces: that is the machine, not a missing tool
        assumeTrue(0 == new ProcessBuilder("ip", "netns", "add", LINUX_NS).redirectErrorStream(true).start()
            .waitFor(), "this machine cannot create network namespaces");
        try
        {
            run("ip", "netns", "add", PVIO_NS);
            run("ip", "-n", LINUX_NS, "link", "set", "lo", "up");
            run("ip", "-n", PVIO_NS, "link", "set", "lo", "up");
            run("ip", "link", "add", "vl", "netns", LINUX_NS, "type", "veth", "peer", "name", "vp", "netns", PVIO_NS);
            run("ip", "-n", LINUX_NS, "addr", "add", "198.19.0.1/30", "dev", "vl");
            run("ip", "-n", PVIO_NS, "addr", "add", "198.19.0.2/30", "dev", "vp");
            run("ip", "-n", LINUX_NS, "link", "set", "vl", "up");
            run("ip", "-n", PVIO_NS, "link", "set", "vp", "up");
            run("ip", "-n", LINUX_NS, "link", "add", "vx0", "type", "vxlan", "id", "42", "local", "198.19.0.1",
                "remote", "198.19.0.2", "dstport", "4789", "dev", "vl");
            // the inner UDP checksum would otherwise be left to an offload that the veth never performs
            run("ip", "netns", "exec", LINUX_NS, "ethtool", "-K", "vx0", "tx", "off");
            run("ip", "-n", LINUX_NS, "addr", "add", "198.18.0.1/24", "dev", "vx0");
            run("ip", "-n", LINUX_NS, "link", "set", "vx0", "up");

            pvio = startPvio("net", "serve", "--local", "198.19.0.2:4789", "--remote", "198.19.0.1:4789",
                "--duration", "90s");
            final BufferedReader lines =
                new BufferedReader(new InputStreamReader(pvio.getInputStream(), StandardCharsets.UTF_8));
            final String ready = lines.readLine();
            assertTrue(null != ready && ready.startsWith("net: guest 198.18.0.2 (00:16:3e:00:00:02, vif"),
                String.valueOf(ready));
            final CompletableFuture<Void> drain = CompletableFuture.runAsync(() -> drainQuietly(lines));

            final String ping = run("ip", "netns", "exec", LINUX_NS, "ping", "-c", "5", "-i", "0.2", "-W", "2",
                "198.18.0.2");
            assertTrue(ping.contains("5 packets transmitted, 5 received"), ping);

            final Random random = new Random(42);
            for (final int size : new int[] {1, 64, 512, 1400})
            {
                final StringBuilder text = new StringBuilder();
                for (int i = 0; i < size; i++)
                {
                    text.append((char)('a' + random.nextInt(26)));
                }
                final String echoed = runWithInput(text.toString(), "ip", "netns", "exec", LINUX_NS, "socat", "-t",
                    "2", "-", "UDP4:198.18.0.2:7");
                assertEquals(text.toString(), echoed, size + "-byte datagram echoed");
            }
            pvio.destroy();
            assertTrue(pvio.waitFor(30, TimeUnit.SECONDS), "pvio net serve stops on SIGTERM");
            drain.get(30, TimeUnit.SECONDS);
        }
        finally
        {
            if (null != pvio)
            {
                pvio.destroyForcibly();
            }
            runQuietly("ip", "netns", "del", LINUX_NS);
            runQuietly("ip", "netns", "del", PVIO_NS);
        }
    }

    private static Process startPvio(final String... args) throws IOException
    {
        final String java = ProcessHandle.current().info().command().orElse("java");
        final List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", PVIO_NS, java));
        command.addAll(List.of(AgronaAccess.REQUIRED_JVM_FLAG.split(" ")));
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), PvioCommand.class.getName()));
        command.addAll(List.of(args));
        final ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().remove("JAVA_TOOL_OPTIONS");
        builder.environment().remove("JDK_JAVA_OPTIONS");
        return builder.start();
    }

    private static void drainQuietly(final BufferedReader lines)
    {
        try
        {
            while (null != lines.readLine())
            {
                // status lines
            }
        }
        catch (final IOException ignore)
        {
            // the process is gone
        }
    }

    private static String run(final String... command) throws IOException, InterruptedException
    {
        return runWithInput(null, command);
    }

    private static String runWithInput(final String input, final String... command)
        throws IOException, InterruptedException
    {
        final Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        if (null != input)
        {
            process.getOutputStream().write(input.getBytes(StandardCharsets.US_ASCII));
        }
        process.getOutputStream().close();
        final String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(30, TimeUnit.SECONDS))
        {
            process.destroyForcibly();
            fail(String.join(" ", command) + " did not finish");
        }
        assertEquals(0, process.exitValue(), String.join(" ", command) + " failed: " + output);
        return output;
    }

    private static void runQuietly(final String... command)
    {
        try
        {
            new ProcessBuilder(command).redirectErrorStream(true).start().waitFor(30, TimeUnit.SECONDS);
        }
        catch (final IOException | InterruptedException ignore)
        {
            // best effort clean-up
        }
    }
}
