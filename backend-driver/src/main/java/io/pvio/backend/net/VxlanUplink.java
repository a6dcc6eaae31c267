package io.pvio.backend.net;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.socket.nio.NioDatagramChannel;

/**
 * dom0's uplink: a port of the {@link Bridge} that tunnels the guests' LAN over VXLAN (RFC 7348) in UDP, so a real
 * network stack (a Linux {@code vxlan} interface) joins the LAN as one more segment. A frame the bridge forwards to
 * the uplink is encapsulated and sent to the remote tunnel end point; a datagram from it is decapsulated and enters
 * the bridge as arriving on this port. Served by one Netty event loop. Its addresses are loopback addresses or ones
 * in 198.18.0.0/15, the range reserved for benchmark networks (RFC 2544), as on a link inside a network namespace of
 * its own; never any other.
 * <pre>
 *  VXLAN header (8 bytes, then the inner Ethernet frame)
 *   0      1      2      3      4      5      6      7
 *  +------+------+------+------+------+------+------+------+
 *  |flags | reserved (24)      | VNI (24 bits)      | res. |
 *  +------+------+------+------+------+------+------+------+
 *  flags: 0x08 (the I flag: the VNI is valid); reserved bits are sent as zero and ignored on receipt
 * </pre>
 * <b>Trust</b>: a datagram is the outside world's. One from any address but the remote end point's, one without the
 * I flag, for another VNI, or too short to hold a VXLAN header and an Ethernet header is dropped and counted by
 * {@link Drop}; the bridge then checks the inner frame as it does every port's. When the socket cannot take more,
 * frames for the uplink are dropped and counted rather than queued without bound.
 */
public final class VxlanUplink implements BridgePort, AutoCloseable
{
    /** IANA's UDP port for VXLAN. */
    public static final int DEFAULT_PORT = 4789;
    /** Bytes of the VXLAN header. */
    public static final int HEADER_BYTES = 8;
    /** Largest VNI (24 bits). */
    public static final int MAX_VNI = 0xFF_FFFF;

    /** Why a datagram or a frame was dropped. */
    public enum Drop
    {
        /** A datagram from an address other than the remote end point's. */
        FOREIGN_SENDER,
        /** Shorter than a VXLAN header and an Ethernet header, or longer than the bridge takes. */
        BAD_LENGTH,
        /** Without the I flag. */
        NO_VNI_FLAG,
        /** For another VXLAN network. */
        WRONG_VNI,
        /** A frame for the uplink while the socket could not take more. */
        SOCKET_FULL
    }

    private static final int SENT = 0;
    private static final int RECEIVED = 1;
    private static final int BYTES_SENT = 2;
    private static final int BYTES_RECEIVED = 3;
    private static final int DROPS = 4;

    private final Bridge bridge;
    private final int vni;
    private final InetSocketAddress remote;
    private final EventLoopGroup group;
    private final Channel channel;
    private final int portId;
    private final AtomicLongArray counts = new AtomicLongArray(DROPS + Drop.values().length);
    private final UnsafeBuffer inner = new UnsafeBuffer(0, 0);
    private final UnsafeBuffer copy = new UnsafeBuffer(new byte[Bridge.MAX_FRAME_BYTES]);

    private VxlanUplink(
        final Bridge bridge, final InetSocketAddress local, final InetSocketAddress remote, final int vni)
        throws InterruptedException
    {
        this.bridge = bridge;
        this.vni = vni;
        this.remote = remote;
        this.group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try
        {
            this.channel = new Bootstrap().group(group).channel(NioDatagramChannel.class)
                .handler(new Inbound()).bind(local).sync().channel();
        }
        catch (final RuntimeException | InterruptedException ex)
        {
            group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            throw ex;
        }
        this.portId = bridge.addPort("uplink", this);
    }

    /**
     * Binds the uplink's socket and plugs it into the bridge.
     *
     * @param bridge the bridge it joins.
     * @param local  the address and port to bind (loopback or in 198.18.0.0/15).
     * @param remote the remote tunnel end point (loopback or in 198.18.0.0/15).
     * @param vni    the VXLAN network identifier, 0..{@value #MAX_VNI}.
     * @return the running uplink.
     * @throws IllegalArgumentException if an address is outside those ranges or the VNI is out of range.
     * @throws InterruptedException if interrupted while binding.
     */
    public static VxlanUplink open(
        final Bridge bridge, final InetSocketAddress local, final InetSocketAddress remote, final int vni)
        throws InterruptedException
    {
        requireAllowed("local", local);
        requireAllowed("remote", remote);
        if (vni < 0 || vni > MAX_VNI)
        {
            throw new IllegalArgumentException("VNI " + vni + " (expected 0.." + MAX_VNI + ")");
        }
        return new VxlanUplink(bridge, local, remote, vni);
    }

    /**
     * Whether the uplink may use an address: loopback, or IPv4 in 198.18.0.0/15 (benchmark networks).
     *
     * @param ip the address.
     * @return true if allowed.
     */
    public static boolean isAllowed(final InetAddress ip)
    {
        if (ip.isLoopbackAddress())
        {
            return true;
        }
        final byte[] bytes = ip.getAddress();
        return 4 == bytes.length && (byte)198 == bytes[0] && 18 == (bytes[1] & 0xFE);
    }

    private static void requireAllowed(final String what, final InetSocketAddress address)
    {
        final InetAddress ip = address.getAddress();
        if (null == ip || !isAllowed(ip))
        {
            throw new IllegalArgumentException(what + " address " + address + " is neither loopback nor in " +
                "198.18.0.0/15 (the uplink talks only to this host or a benchmark network)");
        }
    }

    /**
     * The bridge port this uplink is.
     *
     * @return the port id.
     */
    public int portId()
    {
        return portId;
    }

    /**
     * The bound address, with the port the system chose if 0 was asked for.
     *
     * @return the local address.
     */
    public InetSocketAddress localAddress()
    {
        return (InetSocketAddress)channel.localAddress();
    }

    /**
     * On the bridge's caller's thread: encapsulates a frame and sends it to the remote end point. This is the edge
     * to the host's sockets, not the guests' data path: each frame takes a pooled Netty buffer and a datagram object,
     * and a call from outside the event loop hands the write to it as a task.
     */
    @Override
    public void deliver(final DirectBuffer frame, final int offset, final int length)
    {
        if (!channel.isActive() || !channel.isWritable())
        {
            counts.incrementAndGet(DROPS + Drop.SOCKET_FULL.ordinal());
            return;
        }
        final ByteBuf out = channel.alloc().directBuffer(HEADER_BYTES + length);
        out.writeInt(0x0800_0000);
        out.writeInt(vni << 8);
        frame.getBytes(offset, out.nioBuffer(HEADER_BYTES, length), 0, length);
        out.writerIndex(HEADER_BYTES + length);
        counts.incrementAndGet(SENT);
        counts.addAndGet(BYTES_SENT, length);
        channel.writeAndFlush(new DatagramPacket(out, remote), channel.voidPromise());
    }

    private void onDatagram(final DatagramPacket packet)
    {
        final ByteBuf in = packet.content();
        final int readable = in.readableBytes();
        if (!remote.getAddress().equals(packet.sender().getAddress()))
        {
            counts.incrementAndGet(DROPS + Drop.FOREIGN_SENDER.ordinal());
            return;
        }
        if (readable < HEADER_BYTES + Bridge.HEADER_BYTES || readable > HEADER_BYTES + Bridge.MAX_FRAME_BYTES)
        {
            counts.incrementAndGet(DROPS + Drop.BAD_LENGTH.ordinal());
            return;
        }
        final int at = in.readerIndex();
        if (0 == (in.getByte(at) & 0x08))
        {
            counts.incrementAndGet(DROPS + Drop.NO_VNI_FLAG.ordinal());
            return;
        }
        if (vni != in.getInt(at + 4) >>> 8)
        {
            counts.incrementAndGet(DROPS + Drop.WRONG_VNI.ordinal());
            return;
        }
        final int length = readable - HEADER_BYTES;
        final DirectBuffer frame;
        if (in.hasMemoryAddress())
        {
            inner.wrap(in.memoryAddress() + at + HEADER_BYTES, length);
            frame = inner;
        }
        else
        {
            in.getBytes(at + HEADER_BYTES, copy.byteArray(), 0, length);
            frame = copy;
        }
        counts.incrementAndGet(RECEIVED);
        counts.addAndGet(BYTES_RECEIVED, length);
        bridge.receive(portId, frame, 0, length, System.nanoTime());
    }

    /**
     * Frames sent to the remote end point.
     *
     * @return the count.
     */
    public long framesSent()
    {
        return counts.get(SENT);
    }

    /**
     * Frames received from the remote end point and handed to the bridge.
     *
     * @return the count.
     */
    public long framesReceived()
    {
        return counts.get(RECEIVED);
    }

    /**
     * Inner-frame bytes sent.
     *
     * @return the count.
     */
    public long bytesSent()
    {
        return counts.get(BYTES_SENT);
    }

    /**
     * Inner-frame bytes received.
     *
     * @return the count.
     */
    public long bytesReceived()
    {
        return counts.get(BYTES_RECEIVED);
    }

    /**
     * Datagrams or frames dropped for one reason.
     *
     * @param reason the reason.
     * @return the count.
     */
    public long drops(final Drop reason)
    {
        return counts.get(DROPS + reason.ordinal());
    }

    /** Unplugs the port and closes the socket and its event loop. */
    @Override
    public void close()
    {
        bridge.removePort(portId);
        channel.close().awaitUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
    }

    private final class Inbound extends ChannelInboundHandlerAdapter
    {
        @Override
        public void channelRead(final ChannelHandlerContext ctx, final Object msg)
        {
            final DatagramPacket packet = (DatagramPacket)msg;
            try
            {
                onDatagram(packet);
            }
            finally
            {
                packet.release();
            }
        }
    }
}
