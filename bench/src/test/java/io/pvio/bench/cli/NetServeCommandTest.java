package io.pvio.bench.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import picocli.CommandLine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@code pvio net serve}: argument checks, and a UDP datagram that a plain socket on loopback tunnels in over VXLAN
 * to the guest, which echoes it back through netfront, netback, the bridge and the uplink.
 */
class NetServeCommandTest
{
    private static final long GUEST_MAC = 0x00163e000002L;
    private static final long PEER_MAC = 0x0a0000000001L;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    @Test
    void serveRejectsBadArgumentsNamingTheValue()
    {
        assertUsage("'--local': 10.0.0.1:4790 (expected: ADDR:PORT with ADDR loopback or in 198.18.0.0/15",
            "--local", "10.0.0.1:4790");
        assertUsage("'--remote': localhost:4789 (expected: ADDR:PORT", "--remote", "localhost:4789");
        assertUsage("'--remote': 127.0.0.1:70000", "--remote", "127.0.0.1:70000");
        assertUsage("'--vni': 16777216 (expected: 0 to 16777215)", "--vni", "16777216");
        assertUsage("'--mac': 01:00:5e:00:00:01 (expected: six hex pairs", "--mac", "01:00:5e:00:00:01");
        assertUsage("'--ip': 198.18.0 (expected: a dotted IPv4 address", "--ip", "198.18.0");
        assertUsage("'--echo-port': 0 (expected: 1 to 65535)", "--echo-port", "0");
        assertUsage("'--duration': soon", "--duration", "soon");
    }

    @Test
    @Timeout(90)
    void aDatagramTunnelledInIsEchoedByTheGuestThroughItsVif() throws Exception
    {
        try (DatagramChannel peer = DatagramChannel.open(StandardProtocolFamily.INET)
            .bind(new InetSocketAddress("127.0.0.1", 0)))
        {
            final int peerPort = ((InetSocketAddress)peer.getLocalAddress()).getPort();
            final CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() -> execute("net", "serve",
                "--local", "127.0.0.1:0", "--remote", "127.0.0.1:" + peerPort, "--vni", "7", "--duration", "6s"));
            final Matcher ready = awaitOutput(Pattern.compile("uplink 127\\.0\\.0\\.1:(\\d+) -> 127\\.0\\.0\\.1:"));
            final InetSocketAddress uplink = new InetSocketAddress("127.0.0.1", Integer.parseInt(ready.group(1)));

            final byte[] payload = "through the guest's rings and back".getBytes(StandardCharsets.US_ASCII);
            peer.send(ByteBuffer.wrap(vxlan(7, udpFrame(payload))), uplink);
            final ByteBuffer reply = ByteBuffer.allocate(2048);
            peer.configureBlocking(true);
            assertNotNull(peer.receive(reply));
            reply.flip();
            assertEquals(7 << 8, reply.getInt(4), "the reply's VNI");
            final byte[] frame = Arrays.copyOfRange(reply.array(), 8, reply.limit());
            final ByteBuffer f = ByteBuffer.wrap(frame);
            assertEquals(PEER_MAC, (f.getShort(0) & 0xFFFFL) << 32 | (f.getInt(2) & 0xFFFF_FFFFL));
            assertEquals(17, frame[23], "UDP");
            assertEquals(7, f.getShort(34), "from the echo port");
            assertEquals(40000, f.getShort(36) & 0xFFFF);
            assertArrayEquals(payload, Arrays.copyOfRange(frame, 42, frame.length));
            assertEquals(PvioCommand.EXIT_OK, exit.get(60, TimeUnit.SECONDS), err.toString());
            assertTrue(out.toString().contains("net: stopped; uplink 1 frames in, 1 out, 0 dropped"), out.toString());
            assertTrue(out.toString().contains("1 datagrams echoed"), out.toString());
        }
    }

    private static byte[] vxlan(final int vni, final byte[] frame)
    {
        return ByteBuffer.allocate(8 + frame.length).putInt(0x08000000).putInt(vni << 8).put(frame).array();
    }

    /** A frame from the peer (198.18.0.1:40000) to the guest's echo port, the UDP checksum left out (zero). */
    private static byte[] udpFrame(final byte[] payload)
    {
        final ByteBuffer b = ByteBuffer.allocate(14 + 20 + 8 + payload.length);
        b.putShort((short)(GUEST_MAC >>> 32)).putInt((int)GUEST_MAC);
        b.putShort((short)(PEER_MAC >>> 32)).putInt((int)PEER_MAC);
        b.putShort((short)0x0800);
        b.put((byte)0x45).put((byte)0).putShort((short)(20 + 8 + payload.length)).putInt(0);
        b.put((byte)64).put((byte)17).putShort((short)0).putInt(0xC6120001).putInt(0xC6120002);
        b.putShort((short)40000).putShort((short)7).putShort((short)(8 + payload.length)).putShort((short)0);
        b.put(payload);
        final byte[] frame = b.array();
        long sum = 0;
        for (int i = 14; i < 34; i += 2)
        {
            sum += (frame[i] & 0xFF) << 8 | frame[i + 1] & 0xFF;
        }
        while (sum >> 16 != 0)
        {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }
        frame[24] = (byte)(~sum >>> 8);
        frame[25] = (byte)~sum;
        return frame;
    }

    private void assertUsage(final String message, final String... options)
    {
        final String[] args = new String[options.length + 2];
        args[0] = "net";
        args[1] = "serve";
        System.arraycopy(options, 0, args, 2, options.length);
        assertEquals(PvioCommand.EXIT_USAGE, execute(args), String.join(" ", args));
        assertTrue(err.toString().contains(message), err.toString());
    }

    private Matcher awaitOutput(final Pattern pattern) throws InterruptedException
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() - deadline < 0)
        {
            final Matcher matcher = pattern.matcher(out.toString());
            if (matcher.find())
            {
                return matcher;
            }
            Thread.sleep(20);
        }
        fail("no line matching " + pattern + " in: " + out + err);
        return null;
    }

    private int execute(final String... args)
    {
        final CommandLine commandLine = PvioCommand.newCommandLine();
        commandLine.setOut(new PrintWriter(out, true));
        commandLine.setErr(new PrintWriter(err, true));
        return commandLine.execute(args);
    }
}
