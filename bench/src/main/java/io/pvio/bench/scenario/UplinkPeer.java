package io.pvio.bench.scenario;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.util.concurrent.atomic.AtomicLong;

import org.agrona.concurrent.UnsafeBuffer;

import io.pvio.backend.net.VxlanUplink;
import io.pvio.frontend.inet.Ipv4Host;

/**
 * The host at the far end of dom0's {@link VxlanUplink}: a VXLAN tunnel end point on a loopback UDP socket that
 * decapsulates what the uplink sends it, checks each inner frame's IPv4 and UDP checksums, and hands datagrams for
 * the discard port to the current stream sink and those for the echo port to the current request sink, answering
 * each by swapping the frame's MAC addresses, IPv4 addresses and ports in place (the checksums stay valid) and
 * sending it back through the tunnel. Frames for other addresses (the bridge floods until it has learned) are
 * counted and ignored. One thread, blocking on the socket; nothing allocated per datagram.
 */
final class UplinkPeer implements AutoCloseable
{
    /** The host's MAC address (locally administered). */
    static final long MAC = 0x0200_00FE_0001L;
    /** The host's IPv4 address, in the benchmark range 198.18.0.0/15. */
    static final int IP = Ipv4Host.parseIp("198.19.255.1");
    /** The VXLAN network both ends use. */
    static final int VNI = 42;

    private static final ByteOrder BE = ByteOrder.BIG_ENDIAN;
    private static final int INNER = VxlanUplink.HEADER_BYTES;
    private static final int BUFFER_BYTES = 2048;

    private final DatagramChannel channel;
    private final ByteBuffer buffer = ByteBuffer.allocateDirect(BUFFER_BYTES);
    private final UnsafeBuffer view = new UnsafeBuffer(buffer);
    private final AtomicLong ignored = new AtomicLong();
    private final AtomicLong corrupt = new AtomicLong();
    private final AtomicLong answered = new AtomicLong();
    private Thread thread;
    private volatile NetSink streamSink;
    private volatile NetSink requestSink;
    private volatile Throwable failure;

    private UplinkPeer(final DatagramChannel channel)
    {
        this.channel = channel;
    }

    /**
     * Binds the peer's socket on an ephemeral loopback port.
     *
     * @return the peer, not yet connected.
     * @throws IOException if the socket cannot be bound.
     */
    static UplinkPeer open() throws IOException
    {
        final DatagramChannel channel = DatagramChannel.open();
        try
        {
            channel.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            return new UplinkPeer(channel);
        }
        catch (final IOException | RuntimeException ex)
        {
            channel.close();
            throw ex;
        }
    }

    /**
     * The socket's address, the uplink's remote end point.
     *
     * @return the address.
     * @throws IOException if it cannot be read.
     */
    InetSocketAddress address() throws IOException
    {
        return (InetSocketAddress)channel.getLocalAddress();
    }

    /**
     * Connects to the uplink's socket, starts answering, and sends one frame from the host's MAC to the broadcast
     * address so that the bridge learns where the host is.
     *
     * @param uplink the uplink's local address.
     * @throws IOException if the socket fails.
     */
    void connect(final InetSocketAddress uplink) throws IOException
    {
        channel.connect(uplink);
        final ByteBuffer hello = ByteBuffer.allocate(INNER + 60);
        final UnsafeBuffer out = new UnsafeBuffer(hello);
        out.putByte(0, (byte)0x08);
        out.putInt(4, VNI << 8, BE);
        UdpFrames.putMac(out, INNER, 0xFFFF_FFFF_FFFFL);
        UdpFrames.putMac(out, INNER + 6, MAC);
        out.putShort(INNER + 12, (short)0x88B5, BE);
        channel.write(hello);
        thread = new Thread(this::serve, "pvio-uplink-peer");
        thread.setDaemon(true);
        thread.start();
    }

    /**
     * Sets where stream datagrams and requests go.
     *
     * @param stream   the stream sink, or null.
     * @param requests the request sink, or null.
     */
    void sinks(final NetSink stream, final NetSink requests)
    {
        streamSink = stream;
        requestSink = requests;
    }

    /**
     * Datagrams that failed a checksum.
     *
     * @return the count.
     */
    long corrupt()
    {
        return corrupt.get();
    }

    /**
     * Requests answered.
     *
     * @return the count.
     */
    long answered()
    {
        return answered.get();
    }

    /**
     * Frames not for the host, or not UDP to a known port.
     *
     * @return the count.
     */
    long ignored()
    {
        return ignored.get();
    }

    private void serve()
    {
        try
        {
            while (true)
            {
                buffer.clear();
                final int bytes = channel.read(buffer);
                onDatagram(bytes);
            }
        }
        catch (final ClosedChannelException ex)
        {
            // closed: done
        }
        catch (final IOException | RuntimeException ex)
        {
            failure = ex;
        }
    }

    private void onDatagram(final int bytes) throws IOException
    {
        final UnsafeBuffer b = view;
        final int ip = INNER + 14;
        final int udp = ip + 20;
        if (bytes < udp + 8 || 0 == (b.getByte(0) & 0x08) || macAt(b, INNER) != MAC ||
            0x0800 != (b.getShort(INNER + 12, BE) & 0xFFFF) || 0x45 != b.getByte(ip) || 17 != b.getByte(ip + 9))
        {
            ignored.incrementAndGet();
            return;
        }
        final int udpLength = b.getShort(udp + 4, BE) & 0xFFFF;
        final int source = b.getInt(ip + 12, BE);
        final int destination = b.getInt(ip + 16, BE);
        final long pseudo = (source >>> 16) + (source & 0xFFFF) + (destination >>> 16) + (destination & 0xFFFF) +
            17 + udpLength;
        if (udpLength < 8 || udp + udpLength > bytes || 0 != UdpFrames.fold(UdpFrames.sum(b, ip, 20, 0)) ||
            (0 != b.getShort(udp + 6) && 0 != UdpFrames.fold(UdpFrames.sum(b, udp, udpLength, pseudo))))
        {
            corrupt.incrementAndGet();
            return;
        }
        final int port = b.getShort(udp + 2, BE) & 0xFFFF;
        final NetSink sink = NetRunner.ECHO_PORT == port ? requestSink :
            NetRunner.DISCARD_PORT == port ? streamSink : null;
        if (null == sink)
        {
            ignored.incrementAndGet();
            return;
        }
        sink.onPayload(b, udp + 8, udpLength - 8);
        if (NetRunner.ECHO_PORT == port)
        {
            final long peer = macAt(b, INNER + 6);
            UdpFrames.putMac(b, INNER, peer);
            UdpFrames.putMac(b, INNER + 6, MAC);
            b.putInt(ip + 12, destination, BE);
            b.putInt(ip + 16, source, BE);
            final short sourcePort = b.getShort(udp);
            b.putShort(udp, b.getShort(udp + 2));
            b.putShort(udp + 2, sourcePort);
            buffer.position(0).limit(bytes);
            channel.write(buffer);
            answered.lazySet(answered.get() + 1);
        }
    }

    private static long macAt(final UnsafeBuffer b, final int offset)
    {
        long mac = 0;
        for (int i = 0; i < 6; i++)
        {
            mac = (mac << 8) | (b.getByte(offset + i) & 0xFF);
        }
        return mac;
    }

    /**
     * Why the peer stopped serving, or null.
     *
     * @return the failure.
     */
    Throwable failure()
    {
        return failure;
    }

    /** Closes the socket and waits for the thread. */
    @Override
    public void close()
    {
        try
        {
            channel.close();
            if (null != thread)
            {
                thread.join(5_000);
            }
        }
        catch (final IOException ex)
        {
            failure = ex;
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }
}
