package io.pvio.backend.net;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.Arrays;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The VXLAN uplink against a plain UDP socket on loopback standing for the remote tunnel end point: frames cross in
 * both directions with the RFC 7348 header, and every bad datagram is dropped under its reason while the good ones
 * go on.
 */
class VxlanUplinkTest
{
    private static final int VNI = 4242;
    private static final long GUEST_MAC = 0x00163e000002L;
    private static final long LINUX_MAC = 0x0a0000000001L;

    private final LinkedBlockingQueue<byte[]> atGuest = new LinkedBlockingQueue<>();
    private Bridge bridge;
    private DatagramChannel peer;
    private VxlanUplink uplink;
    private int guestPort;

    @BeforeEach
    void setUp() throws Exception
    {
        bridge = new Bridge();
        peer = DatagramChannel.open(StandardProtocolFamily.INET).bind(new InetSocketAddress("127.0.0.1", 0));
        uplink = VxlanUplink.open(bridge, new InetSocketAddress("127.0.0.1", 0),
            (InetSocketAddress)peer.getLocalAddress(), VNI);
        guestPort = bridge.addPort("guest", (frame, offset, length) ->
        {
            final byte[] copy = new byte[length];
            frame.getBytes(offset, copy);
            atGuest.add(copy);
        });
    }

    @AfterEach
    void tearDown() throws Exception
    {
        uplink.close();
        peer.close();
    }

    @Test
    void shouldCarryFramesBothWaysWithTheVxlanHeader() throws Exception
    {
        final byte[] in = frame(0xFFFFFFFFFFFFL, LINUX_MAC, 60, (byte)1);
        send(peer, header(0x08, VNI), in);
        final byte[] got = atGuest.poll(5, TimeUnit.SECONDS);
        assertArrayEquals(in, got, "decapsulated into the bridge, flooded to the guest");

        final byte[] out = frame(LINUX_MAC, GUEST_MAC, 1514, (byte)2);
        bridge.receive(guestPort, new UnsafeBuffer(out), 0, out.length, System.nanoTime());
        final ByteBuffer datagram = ByteBuffer.allocate(2048);
        peer.configureBlocking(true);
        assertNotNull(peer.receive(datagram));
        datagram.flip();
        assertEquals(VxlanUplink.HEADER_BYTES + out.length, datagram.remaining());
        assertEquals(0x08000000, datagram.getInt(0), "the I flag, reserved bits zero");
        assertEquals(VNI << 8, datagram.getInt(4));
        final byte[] inner = new byte[out.length];
        datagram.position(VxlanUplink.HEADER_BYTES);
        datagram.get(inner);
        assertArrayEquals(out, inner, "the bridge learned LINUX_MAC behind the uplink and sent the frame there");
        assertEquals(1, uplink.framesSent());
        assertEquals(1, uplink.framesReceived());
        assertEquals(out.length, uplink.bytesSent());
    }

    @Test
    void shouldDropBadDatagramsUnderTheirReasonAndKeepServing() throws Exception
    {
        final byte[] good = frame(GUEST_MAC, LINUX_MAC, 100, (byte)3);
        send(peer, header(0x00, VNI), good);
        send(peer, header(0x08, VNI + 1), good);
        send(peer, header(0x08, VNI), Arrays.copyOf(good, 10));
        try (DatagramChannel stranger = DatagramChannel.open(StandardProtocolFamily.INET)
            .bind(new InetSocketAddress("127.0.0.2", 0)))
        {
            send(stranger, header(0x08, VNI), good);
        }
        // reserved bits are ignored on receipt, as RFC 7348 says
        final byte[] reservedSet = header(0xFF, VNI);
        reservedSet[7] = 0x55;
        send(peer, reservedSet, good);
        assertArrayEquals(good, atGuest.poll(5, TimeUnit.SECONDS), "the good datagram after the bad ones");
        assertNull(atGuest.poll(200, TimeUnit.MILLISECONDS), "no bad datagram got through");
        assertEquals(1, uplink.drops(VxlanUplink.Drop.NO_VNI_FLAG));
        assertEquals(1, uplink.drops(VxlanUplink.Drop.WRONG_VNI));
        assertEquals(1, uplink.drops(VxlanUplink.Drop.BAD_LENGTH));
        assertEquals(1, uplink.drops(VxlanUplink.Drop.FOREIGN_SENDER));
        assertEquals(1, uplink.framesReceived());
    }

    @Test
    void shouldRefuseAddressesOutsideLoopbackAndTheBenchmarkRangeAndBadVnis() throws Exception
    {
        final InetSocketAddress loopback = new InetSocketAddress("127.0.0.1", 0);
        final Bridge other = new Bridge();
        final IllegalArgumentException outside = assertThrows(IllegalArgumentException.class,
            () -> VxlanUplink.open(other, loopback, new InetSocketAddress("10.0.0.1", 4789), 1));
        assertTrue(outside.getMessage().contains("10.0.0.1"), outside.getMessage());
        assertThrows(IllegalArgumentException.class,
            () -> VxlanUplink.open(other, loopback, new InetSocketAddress("198.20.0.1", 4789), 1));
        assertThrows(IllegalArgumentException.class,
            () -> VxlanUplink.open(other, loopback, loopback, VxlanUplink.MAX_VNI + 1));
        assertTrue(VxlanUplink.isAllowed(InetAddress.getByName("198.19.255.1")));
        assertTrue(VxlanUplink.isAllowed(InetAddress.getByName("198.18.0.1")));
        assertTrue(VxlanUplink.isAllowed(InetAddress.getByName("::1")));
    }

    private static byte[] header(final int flags, final int vni)
    {
        final byte[] header = new byte[VxlanUplink.HEADER_BYTES];
        ByteBuffer.wrap(header).putInt(0, flags << 24).putInt(4, vni << 8);
        return header;
    }

    private void send(final DatagramChannel from, final byte[] header, final byte[] frame) throws Exception
    {
        final ByteBuffer datagram = ByteBuffer.allocate(header.length + frame.length).put(header).put(frame).flip();
        from.send(datagram, uplink.localAddress());
    }

    private static byte[] frame(final long destination, final long source, final int length, final byte fill)
    {
        final byte[] frame = new byte[length];
        Arrays.fill(frame, fill);
        ByteBuffer.wrap(frame).putShort(0, (short)(destination >>> 32)).putInt(2, (int)destination)
            .putShort(6, (short)(source >>> 32)).putInt(8, (int)source).putShort(12, (short)0x0800);
        return frame;
    }
}
