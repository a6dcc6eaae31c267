package io.pvio.frontend.inet;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The guest's IPv4 stack against frames built here byte by byte, with checksums computed here independently: ARP,
 * ping, UDP, and every malformed input dropped under its own reason while good traffic goes on.
 */
class Ipv4HostTest
{
    private static final long HOST_MAC = 0x00163e000002L;
    private static final long PEER_MAC = 0x0a0000000001L;
    private static final int HOST_IP = Ipv4Host.parseIp("198.18.0.2");
    private static final int PEER_IP = Ipv4Host.parseIp("198.18.0.1");

    private final List<byte[]> sent = new ArrayList<>();
    private final Ipv4Host host = new Ipv4Host(HOST_MAC, HOST_IP, (frame, offset, length) ->
    {
        final byte[] copy = new byte[length];
        frame.getBytes(offset, copy);
        sent.add(copy);
        return true;
    });

    @Test
    void shouldAnswerAnArpRequestForItsAddressAndIgnoreOthers()
    {
        host.receive(wrap(arp(1, PEER_MAC, PEER_IP, 0, HOST_IP, 0xFFFFFFFFFFFFL)), 0, 42);
        assertEquals(1, sent.size());
        final ByteBuffer reply = ByteBuffer.wrap(sent.get(0));
        assertEquals(PEER_MAC, mac(reply, 0));
        assertEquals(HOST_MAC, mac(reply, 6));
        assertEquals(0x0806, reply.getShort(12) & 0xFFFF);
        assertEquals(2, reply.getShort(20), "an ARP reply");
        assertEquals(HOST_MAC, mac(reply, 22));
        assertEquals(HOST_IP, reply.getInt(28));
        assertEquals(PEER_MAC, mac(reply, 32));
        assertEquals(PEER_IP, reply.getInt(38));
        assertTrue(host.resolved(PEER_IP), "the asker is learned");

        host.receive(wrap(arp(1, PEER_MAC, PEER_IP, 0, Ipv4Host.parseIp("198.18.0.9"), 0xFFFFFFFFFFFFL)), 0, 42);
        assertEquals(1, sent.size(), "no answer for another address");
        assertEquals(1, host.drops(DropReason.NOT_FOR_US));
    }

    @Test
    void shouldAnswerPingWithTheSameIdSequenceAndDataAndValidChecksums()
    {
        final byte[] data = new byte[56];
        Arrays.fill(data, (byte)0x5a);
        final byte[] icmp = new byte[8 + data.length];
        icmp[0] = 8;
        icmp[4] = 0x12;
        icmp[5] = 0x34;
        icmp[7] = 7;
        System.arraycopy(data, 0, icmp, 8, data.length);
        putChecksum(icmp, 0, icmp.length, 2, 0);
        host.receive(wrap(ipv4(HOST_MAC, PEER_MAC, PEER_IP, HOST_IP, 1, icmp, 0)), 0, 14 + 20 + icmp.length);

        assertEquals(1, sent.size());
        final byte[] reply = sent.get(0);
        final ByteBuffer b = ByteBuffer.wrap(reply);
        assertEquals(PEER_MAC, mac(b, 0), "answered to the frame's sender");
        assertEquals(0, checksum(reply, 14, 20, 0), "IPv4 header checksum");
        assertEquals(PEER_IP, b.getInt(30));
        assertEquals(HOST_IP, b.getInt(26));
        assertEquals(0, reply[34], "echo reply");
        assertEquals(0, checksum(reply, 34, icmp.length, 0), "ICMP checksum");
        assertEquals(0x1234, b.getShort(38) & 0xFFFF);
        assertEquals(7, b.getShort(40));
        assertArrayEquals(data, Arrays.copyOfRange(reply, 42, reply.length));
        assertEquals(1, host.echoRepliesSent());
    }

    @Test
    void shouldDeliverUdpWithAValidChecksumAndSendAnswersWithOne()
    {
        final byte[][] got = new byte[1][];
        host.bindUdp(7, (h, sourceIp, sourcePort, payload, offset, length) ->
        {
            got[0] = new byte[length];
            payload.getBytes(offset, got[0]);
            h.sendUdp(sourceIp, 7, sourcePort, payload, offset, length);
        });
        final byte[] payload = "hello, pvio".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        host.receive(wrap(udpFrame(40000, 7, payload, true)), 0, 14 + 20 + 8 + payload.length);
        assertArrayEquals(payload, got[0]);
        assertEquals(1, sent.size(), "answered without an ARP round trip: the sender was learned");
        final byte[] reply = sent.get(0);
        final ByteBuffer b = ByteBuffer.wrap(reply);
        assertEquals(0, checksum(reply, 14, 20, 0));
        assertEquals(7, b.getShort(34));
        assertEquals(40000, b.getShort(36) & 0xFFFF);
        final int udpLength = 8 + payload.length;
        assertEquals(0, checksum(reply, 34, udpLength, pseudo(HOST_IP, PEER_IP, udpLength)), "UDP checksum");
        assertArrayEquals(payload, Arrays.copyOfRange(reply, 42, reply.length));
        // a zero checksum means none, which IPv4 allows
        host.receive(wrap(udpFrame(40000, 7, payload, false)), 0, 14 + 20 + 8 + payload.length);
        assertEquals(2, host.datagramsReceived());
    }

    @Test
    void shouldDropEachMalformedFrameUnderItsReasonAndCarryOn()
    {
        host.bindUdp(7, (h, sourceIp, sourcePort, payload, offset, length) -> { });
        final byte[] payload = {1, 2, 3, 4};
        final int length = 14 + 20 + 8 + payload.length;

        final byte[] badIp = udpFrame(1, 7, payload, true);
        badIp[24] ^= 1;
        host.receive(wrap(badIp), 0, length);
        assertEquals(1, host.drops(DropReason.BAD_IP_CHECKSUM));

        final byte[] badUdp = udpFrame(1, 7, payload, true);
        badUdp[length - 1] ^= 1;
        host.receive(wrap(badUdp), 0, length);
        assertEquals(1, host.drops(DropReason.BAD_UDP_CHECKSUM));

        final byte[] fragment = udpFrame(1, 7, payload, true);
        fragment[20] = 0x20; // more fragments
        putChecksum(fragment, 14, 20, 24, 0);
        host.receive(wrap(fragment), 0, length);
        assertEquals(1, host.drops(DropReason.FRAGMENT));

        final byte[] longer = udpFrame(1, 7, payload, true);
        longer[17] += 40; // total length beyond the frame
        putChecksum(longer, 14, 20, 24, 0);
        host.receive(wrap(longer), 0, length);
        assertEquals(1, host.drops(DropReason.TRUNCATED));

        final byte[] badLength = udpFrame(1, 7, payload, true);
        badLength[39] = 100; // UDP length beyond the packet
        host.receive(wrap(badLength), 0, length);
        assertEquals(1, host.drops(DropReason.BAD_UDP_LENGTH));

        final byte[] version6 = udpFrame(1, 7, payload, true);
        version6[14] = 0x65;
        host.receive(wrap(version6), 0, length);
        assertEquals(1, host.drops(DropReason.BAD_IP_HEADER));

        host.receive(wrap(udpFrame(1, 9, payload, true)), 0, length);
        assertEquals(1, host.drops(DropReason.NO_LISTENER));

        host.receive(wrap(new byte[10]), 0, 10);
        assertEquals(2, host.drops(DropReason.TRUNCATED));

        final byte[] badArp = arp(1, PEER_MAC, PEER_IP, 0, HOST_IP, 0xFFFFFFFFFFFFL);
        badArp[18] = 8; // an 8-byte hardware address
        host.receive(wrap(badArp), 0, 42);
        assertEquals(1, host.drops(DropReason.BAD_ARP));

        assertEquals(0, host.datagramsReceived());
        assertTrue(sent.isEmpty(), "nothing answered a malformed frame");
        host.receive(wrap(udpFrame(1, 7, payload, true)), 0, length);
        assertEquals(1, host.datagramsReceived(), "a good datagram after them all");
    }

    @Test
    void shouldResolveANewPeerWithAnArpRequestBeforeSending()
    {
        final UnsafeBuffer payload = new UnsafeBuffer(new byte[16]);
        assertFalse(host.sendUdp(PEER_IP, 5000, 6000, payload, 0, 16), "not resolved yet");
        assertEquals(1, host.drops(DropReason.UNRESOLVED));
        final ByteBuffer request = ByteBuffer.wrap(sent.get(0));
        assertEquals(0xFFFFFFFFFFFFL, mac(request, 0), "broadcast");
        assertEquals(1, request.getShort(20), "an ARP request");
        assertEquals(PEER_IP, request.getInt(38));
        host.receive(wrap(arp(2, PEER_MAC, PEER_IP, HOST_MAC, HOST_IP, HOST_MAC)), 0, 42);
        assertTrue(host.sendUdp(PEER_IP, 5000, 6000, payload, 0, 16));
        assertEquals(PEER_MAC, mac(ByteBuffer.wrap(sent.get(1)), 0));
        assertTrue(host.sendEchoRequest(PEER_IP, 1, 1, 32));
        assertThrows(IllegalArgumentException.class, () -> host.sendUdp(PEER_IP, 1, 1, payload, 0, 1473));
    }

    @Test
    void shouldParseAndFormatAddressesAndRefuseBadOnes()
    {
        assertEquals("198.18.0.2", Ipv4Host.formatIp(HOST_IP));
        assertEquals(0xC6120002, HOST_IP);
        for (final String bad : new String[] {"198.18.0", "198.18.0.256", "a.b.c.d", "1..2.3", "1.2.3.4.5", ""})
        {
            assertThrows(IllegalArgumentException.class, () -> Ipv4Host.parseIp(bad), bad);
        }
        assertThrows(IllegalArgumentException.class, () -> new Ipv4Host(0x010000000001L, HOST_IP, (f, o, l) -> true),
            "a group MAC");
        host.bindUdp(7, (h, a, p, b, o, l) -> { });
        assertThrows(IllegalArgumentException.class, () -> host.bindUdp(7, (h, a, p, b, o, l) -> { }));
        assertThrows(IllegalArgumentException.class, () -> host.bindUdp(0, (h, a, p, b, o, l) -> { }));
    }

    private static byte[] udpFrame(final int sourcePort, final int destinationPort, final byte[] payload,
        final boolean withChecksum)
    {
        final byte[] udp = new byte[8 + payload.length];
        final ByteBuffer b = ByteBuffer.wrap(udp);
        b.putShort(0, (short)sourcePort).putShort(2, (short)destinationPort).putShort(4, (short)udp.length);
        System.arraycopy(payload, 0, udp, 8, payload.length);
        if (withChecksum)
        {
            putChecksum(udp, 0, udp.length, 6, pseudo(PEER_IP, HOST_IP, udp.length));
        }
        return ipv4(HOST_MAC, PEER_MAC, PEER_IP, HOST_IP, 17, udp, 0);
    }

    private static byte[] ipv4(final long destinationMac, final long sourceMac, final int source,
        final int destination, final int protocol, final byte[] body, final int flags)
    {
        final byte[] frame = new byte[14 + 20 + body.length];
        final ByteBuffer b = ByteBuffer.wrap(frame).order(ByteOrder.BIG_ENDIAN);
        putMac(b, 0, destinationMac);
        putMac(b, 6, sourceMac);
        b.putShort(12, (short)0x0800);
        b.put(14, (byte)0x45).putShort(16, (short)(20 + body.length)).putShort(20, (short)flags);
        b.put(22, (byte)64).put(23, (byte)protocol).putInt(26, source).putInt(30, destination);
        putChecksum(frame, 14, 20, 24, 0);
        System.arraycopy(body, 0, frame, 34, body.length);
        return frame;
    }

    private static byte[] arp(final int operation, final long senderMac, final int senderIp, final long targetMac,
        final int targetIp, final long destinationMac)
    {
        final byte[] frame = new byte[42];
        final ByteBuffer b = ByteBuffer.wrap(frame);
        putMac(b, 0, destinationMac);
        putMac(b, 6, senderMac);
        b.putShort(12, (short)0x0806).putShort(14, (short)1).putShort(16, (short)0x0800);
        b.put(18, (byte)6).put(19, (byte)4).putShort(20, (short)operation);
        putMac(b, 22, senderMac);
        b.putInt(28, senderIp);
        putMac(b, 32, targetMac);
        b.putInt(38, targetIp);
        return frame;
    }

    private static int pseudo(final int source, final int destination, final int length)
    {
        return (source >>> 16) + (source & 0xFFFF) + (destination >>> 16) + (destination & 0xFFFF) + 17 + length;
    }

    /** The RFC 1071 checksum of a range plus an initial sum: 0 over a range whose checksum field is right. */
    private static int checksum(final byte[] bytes, final int offset, final int length, final int initial)
    {
        long sum = initial;
        for (int i = 0; i < length; i += 2)
        {
            final int hi = bytes[offset + i] & 0xFF;
            final int lo = i + 1 < length ? bytes[offset + i + 1] & 0xFF : 0;
            sum += hi << 8 | lo;
        }
        while (sum >> 16 != 0)
        {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }
        return (int)(~sum & 0xFFFF);
    }

    private static void putChecksum(final byte[] bytes, final int offset, final int length, final int at,
        final int initial)
    {
        bytes[at] = 0;
        bytes[at + 1] = 0;
        final int value = checksum(bytes, offset, length, initial);
        bytes[at] = (byte)(value >>> 8);
        bytes[at + 1] = (byte)value;
    }

    private static UnsafeBuffer wrap(final byte[] bytes)
    {
        return new UnsafeBuffer(bytes);
    }

    private static long mac(final ByteBuffer b, final int at)
    {
        return (b.getShort(at) & 0xFFFFL) << 32 | (b.getInt(at + 2) & 0xFFFF_FFFFL);
    }

    private static void putMac(final ByteBuffer b, final int at, final long mac)
    {
        b.putShort(at, (short)(mac >>> 32)).putInt(at + 2, (int)mac);
    }
}
