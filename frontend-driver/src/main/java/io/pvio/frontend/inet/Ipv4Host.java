package io.pvio.frontend.inet;

import java.nio.ByteOrder;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * A guest's minimal IPv4 host on one Ethernet interface: answers ARP requests for its address (and learns the asker,
 * as RFC 826 does; a valid UDP datagram's sender is learned too), answers ICMP echo requests, sends echo requests,
 * and sends and receives UDP with checksums on
 * bound ports. No fragmentation, no IP options on what it sends, no routing: every destination is on the link.
 * <p>
 * Every received frame is copied once into a private buffer and checked there (lengths, header checksum, protocol
 * checksums) before anything acts on it; a frame that fails a check is dropped and counted by {@link DropReason}.
 * Single-threaded: call {@link #receive} and the send methods from the guest's one network thread (its vCPU).
 * Allocates nothing after construction.
 * <pre>
 *  Ethernet   0 destination MAC (6)  6 source MAC (6)  12 EtherType (2)             14 bytes
 *  ARP        0 htype=1 (2)  2 ptype=0x0800 (2)  4 hlen=6  5 plen=4  6 oper (2)
 *             8 sender MAC (6)  14 sender IP (4)  18 target MAC (6)  24 target IP (4) 28 bytes
 *  IPv4       0 version 4, IHL  1 TOS  2 total length (2)  4 id (2)  6 flags, fragment offset (2)
 *             8 TTL  9 protocol  10 header checksum (2)  12 source (4)  16 destination (4) 20 bytes + options
 *  ICMP echo  0 type (8 request, 0 reply)  1 code 0  2 checksum (2)  4 id (2)  6 sequence (2)  8 data
 *  UDP        0 source port (2)  2 destination port (2)  4 length (2)  6 checksum (2, over a pseudo-header)  8 data
 * </pre>
 * All fields big-endian.
 */
public final class Ipv4Host
{
    /** EtherType of IPv4. */
    public static final int ETHERTYPE_IPV4 = 0x0800;
    /** EtherType of ARP. */
    public static final int ETHERTYPE_ARP = 0x0806;
    /** IP protocol number of ICMP. */
    public static final int PROTOCOL_ICMP = 1;
    /** IP protocol number of UDP. */
    public static final int PROTOCOL_UDP = 17;
    /** Largest frame handled: a 1500-byte MTU plus the Ethernet header. */
    public static final int MAX_FRAME_BYTES = 1514;
    /** ARP entries kept; the oldest is replaced when full. */
    public static final int ARP_ENTRIES = 64;

    private static final ByteOrder BE = ByteOrder.BIG_ENDIAN;
    private static final int ETH = 14;
    private static final int IP = 20;
    private static final int UDP = 8;
    private static final long BROADCAST = 0xFFFF_FFFF_FFFFL;

    private final long mac;
    private final int ip;
    private final FrameSink sink;
    private final UnsafeBuffer rx = new UnsafeBuffer(new byte[MAX_FRAME_BYTES]);
    private final UnsafeBuffer tx = new UnsafeBuffer(new byte[MAX_FRAME_BYTES]);
    private final int[] arpIp = new int[ARP_ENTRIES];
    private final long[] arpMac = new long[ARP_ENTRIES];
    private final int[] udpPorts = new int[16];
    private final UdpHandler[] udpHandlers = new UdpHandler[16];
    private final long[] drops = new long[DropReason.values().length];
    private int arpCount;
    private int arpNext;
    private int udpCount;
    private int ipId;
    private long framesReceived;
    private long arpReplies;
    private long echoRepliesSent;
    private long echoRepliesReceived;
    private long datagramsReceived;
    private long datagramsSent;

    /**
     * A host with one address on one link.
     *
     * @param mac  its MAC address in the low 48 bits (unicast).
     * @param ip   its IPv4 address.
     * @param sink where it sends frames.
     * @throws IllegalArgumentException if {@code mac} is not a 48-bit unicast address.
     */
    public Ipv4Host(final long mac, final int ip, final FrameSink sink)
    {
        if ((mac & ~BROADCAST) != 0 || (mac & (1L << 40)) != 0)
        {
            throw new IllegalArgumentException("mac " + Long.toHexString(mac) + " is not a 48-bit unicast address");
        }
        this.mac = mac;
        this.ip = ip;
        this.sink = sink;
    }

    /**
     * Parses a dotted-quad IPv4 address.
     *
     * @param dotted for example {@code 198.18.0.2}.
     * @return the address as an int.
     * @throws IllegalArgumentException naming what is wrong with it.
     */
    public static int parseIp(final String dotted)
    {
        final String[] parts = dotted.split("\\.", -1);
        if (4 != parts.length)
        {
            throw new IllegalArgumentException("'" + dotted + "' is not an IPv4 address (expected four numbers)");
        }
        int value = 0;
        for (final String part : parts)
        {
            final int octet;
            try
            {
                octet = part.isEmpty() || part.length() > 3 ? -1 : Integer.parseInt(part);
            }
            catch (final NumberFormatException ex)
            {
                throw new IllegalArgumentException("'" + dotted + "' is not an IPv4 address ('" + part + "')", ex);
            }
            if (octet < 0 || octet > 255)
            {
                throw new IllegalArgumentException("'" + dotted + "' is not an IPv4 address ('" + part + "')");
            }
            value = value << 8 | octet;
        }
        return value;
    }

    /**
     * Formats an IPv4 address as a dotted quad.
     *
     * @param ip the address.
     * @return for example {@code 198.18.0.2}.
     */
    public static String formatIp(final int ip)
    {
        return (ip >>> 24) + "." + (ip >>> 16 & 0xFF) + '.' + (ip >>> 8 & 0xFF) + '.' + (ip & 0xFF);
    }

    /**
     * Binds a UDP port.
     *
     * @param port    1..65535.
     * @param handler receives the port's datagrams.
     * @throws IllegalArgumentException if the port is out of range, taken, or too many are bound.
     */
    public void bindUdp(final int port, final UdpHandler handler)
    {
        if (port < 1 || port > 0xFFFF)
        {
            throw new IllegalArgumentException("UDP port " + port + " (expected 1..65535)");
        }
        if (null != handlerOf(port))
        {
            throw new IllegalArgumentException("UDP port " + port + " is already bound");
        }
        if (udpCount == udpPorts.length)
        {
            throw new IllegalArgumentException("at most " + udpPorts.length + " UDP ports can be bound");
        }
        udpPorts[udpCount] = port;
        udpHandlers[udpCount++] = handler;
    }

    /**
     * Handles one received frame: copies it, checks it, and answers or delivers it.
     *
     * @param frame  the buffer holding it (read once).
     * @param offset where it starts.
     * @param length its bytes.
     */
    public void receive(final DirectBuffer frame, final int offset, final int length)
    {
        framesReceived++;
        if (length < ETH || length > MAX_FRAME_BYTES)
        {
            drop(length < ETH ? DropReason.TRUNCATED : DropReason.UNSUPPORTED);
            return;
        }
        rx.putBytes(0, frame, offset, length);
        final long destination = mac(rx, 0);
        if (destination != mac && destination != BROADCAST)
        {
            drop(DropReason.NOT_FOR_US);
            return;
        }
        final int type = u16(rx, 12);
        if (ETHERTYPE_ARP == type)
        {
            onArp(length);
        }
        else if (ETHERTYPE_IPV4 == type)
        {
            onIpv4(length);
        }
        else
        {
            drop(DropReason.UNSUPPORTED);
        }
    }

    /**
     * Sends a UDP datagram with its checksum.
     *
     * @param destinationIp   where to.
     * @param sourcePort      from which port.
     * @param destinationPort to which port.
     * @param payload         the buffer holding the payload.
     * @param offset          where it starts.
     * @param length          its bytes, at most 1472.
     * @return true if sent; false if the next hop was not resolved yet (an ARP request went out) or the device was
     *     full, each counted.
     * @throws IllegalArgumentException if the payload does not fit one unfragmented packet.
     */
    public boolean sendUdp(
        final int destinationIp, final int sourcePort, final int destinationPort, final DirectBuffer payload,
        final int offset, final int length)
    {
        if (length < 0 || length > MAX_FRAME_BYTES - ETH - IP - UDP)
        {
            throw new IllegalArgumentException("UDP payload of " + length + " bytes (expected 0.." +
                (MAX_FRAME_BYTES - ETH - IP - UDP) + ")");
        }
        final long next = resolve(destinationIp);
        if (next < 0)
        {
            return false;
        }
        final int udp = ETH + IP;
        tx.putBytes(udp + UDP, payload, offset, length);
        return sendUdpFrame(next, destinationIp, sourcePort, destinationPort, length);
    }

    /**
     * Sends an ICMP echo request ({@code ping}) with a payload of a repeating byte pattern.
     *
     * @param destinationIp where to.
     * @param id            the echo identifier.
     * @param sequence      the echo sequence number.
     * @param dataBytes     payload bytes, at most 1472.
     * @return true if sent; false if the next hop was not resolved yet or the device was full, each counted.
     */
    public boolean sendEchoRequest(final int destinationIp, final int id, final int sequence, final int dataBytes)
    {
        if (dataBytes < 0 || dataBytes > MAX_FRAME_BYTES - ETH - IP - 8)
        {
            throw new IllegalArgumentException("echo data of " + dataBytes + " bytes (expected 0.." +
                (MAX_FRAME_BYTES - ETH - IP - 8) + ")");
        }
        final long next = resolve(destinationIp);
        if (next < 0)
        {
            return false;
        }
        final int icmp = ETH + IP;
        for (int i = 0; i < dataBytes; i++)
        {
            tx.putByte(icmp + 8 + i, (byte)i);
        }
        writeEcho(icmp, 8, id, sequence, 8 + dataBytes);
        return sendIpv4(next, destinationIp, PROTOCOL_ICMP, 8 + dataBytes);
    }

    private void onArp(final int length)
    {
        if (length < ETH + 28)
        {
            drop(DropReason.TRUNCATED);
            return;
        }
        final int a = ETH;
        if (1 != u16(rx, a) || ETHERTYPE_IPV4 != u16(rx, a + 2) || 6 != u8(rx, a + 4) || 4 != u8(rx, a + 5))
        {
            drop(DropReason.BAD_ARP);
            return;
        }
        final int operation = u16(rx, a + 6);
        final long senderMac = mac(rx, a + 8);
        final int senderIp = rx.getInt(a + 14, BE);
        final int targetIp = rx.getInt(a + 24, BE);
        if ((senderMac & (1L << 40)) != 0)
        {
            drop(DropReason.BAD_ARP);
            return;
        }
        if (targetIp != ip)
        {
            drop(DropReason.NOT_FOR_US);
            return;
        }
        learn(senderIp, senderMac);
        if (1 == operation)
        {
            putArp(senderMac, 2, senderMac, senderIp);
            if (emit(ETH + 28))
            {
                arpReplies++;
            }
        }
        else if (2 != operation)
        {
            drop(DropReason.UNSUPPORTED);
        }
    }

    private void onIpv4(final int length)
    {
        final int h = ETH;
        if (length < ETH + IP)
        {
            drop(DropReason.TRUNCATED);
            return;
        }
        final int versionIhl = u8(rx, h);
        final int headerBytes = (versionIhl & 0xF) * 4;
        final int total = u16(rx, h + 2);
        if (4 != versionIhl >>> 4 || headerBytes < IP || total < headerBytes)
        {
            drop(DropReason.BAD_IP_HEADER);
            return;
        }
        if (ETH + total > length)
        {
            drop(DropReason.TRUNCATED);
            return;
        }
        if (0 != fold(sum(rx, h, headerBytes, 0)))
        {
            drop(DropReason.BAD_IP_CHECKSUM);
            return;
        }
        if (0 != (u16(rx, h + 6) & 0x3FFF))
        {
            drop(DropReason.FRAGMENT);
            return;
        }
        final int destination = rx.getInt(h + 16, BE);
        if (destination != ip)
        {
            drop(DropReason.NOT_FOR_US);
            return;
        }
        final int source = rx.getInt(h + 12, BE);
        final int protocol = u8(rx, h + 9);
        final int body = h + headerBytes;
        final int bodyBytes = total - headerBytes;
        if (PROTOCOL_ICMP == protocol)
        {
            onIcmp(source, body, bodyBytes);
        }
        else if (PROTOCOL_UDP == protocol)
        {
            onUdp(source, body, bodyBytes);
        }
        else
        {
            drop(DropReason.UNSUPPORTED);
        }
    }

    private void onIcmp(final int source, final int icmp, final int bytes)
    {
        if (bytes < 8)
        {
            drop(DropReason.TRUNCATED);
            return;
        }
        if (0 != fold(sum(rx, icmp, bytes, 0)))
        {
            drop(DropReason.BAD_ICMP_CHECKSUM);
            return;
        }
        final int type = u8(rx, icmp);
        if (0 == type && 0 == u8(rx, icmp + 1))
        {
            echoRepliesReceived++;
            return;
        }
        if (8 != type || 0 != u8(rx, icmp + 1))
        {
            drop(DropReason.UNSUPPORTED);
            return;
        }
        // answer to the frame's sender: the asker is on the link
        final long next = mac(rx, 6);
        final int out = ETH + IP;
        tx.putBytes(out + 8, rx, icmp + 8, bytes - 8);
        writeEcho(out, 0, u16(rx, icmp + 4), u16(rx, icmp + 6), bytes);
        if (sendIpv4(next, source, PROTOCOL_ICMP, bytes))
        {
            echoRepliesSent++;
        }
    }

    private void onUdp(final int source, final int udp, final int bytes)
    {
        if (bytes < UDP)
        {
            drop(DropReason.TRUNCATED);
            return;
        }
        final int udpLength = u16(rx, udp + 4);
        if (udpLength < UDP || udpLength > bytes)
        {
            drop(DropReason.BAD_UDP_LENGTH);
            return;
        }
        // a zero checksum means none was computed (allowed over IPv4)
        if (0 != u16(rx, udp + 6) && 0 != fold(sum(rx, udp, udpLength, pseudoHeader(source, ip, udpLength))))
        {
            drop(DropReason.BAD_UDP_CHECKSUM);
            return;
        }
        final UdpHandler handler = handlerOf(u16(rx, udp + 2));
        if (null == handler)
        {
            drop(DropReason.NO_LISTENER);
            return;
        }
        datagramsReceived++;
        // trust the frame's source for the sender's address (on-link only, as lwIP's ETHARP_TRUST_IP_MAC does), so
        // an answer needs no ARP round trip
        learn(source, mac(rx, 6));
        handler.onDatagram(this, source, u16(rx, udp), rx, udp + UDP, udpLength - UDP);
    }

    private boolean sendUdpFrame(
        final long next, final int destinationIp, final int sourcePort, final int destinationPort, final int length)
    {
        final int udp = ETH + IP;
        final int udpLength = UDP + length;
        tx.putShort(udp, (short)sourcePort, BE);
        tx.putShort(udp + 2, (short)destinationPort, BE);
        tx.putShort(udp + 4, (short)udpLength, BE);
        tx.putShort(udp + 6, (short)0, BE);
        int checksum = fold(sum(tx, udp, udpLength, pseudoHeader(ip, destinationIp, udpLength)));
        if (0 == checksum)
        {
            checksum = 0xFFFF; // zero would mean "no checksum"
        }
        tx.putShort(udp + 6, (short)checksum, BE);
        if (sendIpv4(next, destinationIp, PROTOCOL_UDP, udpLength))
        {
            datagramsSent++;
            return true;
        }
        return false;
    }

    private void writeEcho(final int icmp, final int type, final int id, final int sequence, final int bytes)
    {
        tx.putByte(icmp, (byte)type);
        tx.putByte(icmp + 1, (byte)0);
        tx.putShort(icmp + 2, (short)0, BE);
        tx.putShort(icmp + 4, (short)id, BE);
        tx.putShort(icmp + 6, (short)sequence, BE);
        tx.putShort(icmp + 2, (short)fold(sum(tx, icmp, bytes, 0)), BE);
    }

    private boolean sendIpv4(final long nextMac, final int destinationIp, final int protocol, final int bodyBytes)
    {
        putEthernet(nextMac, ETHERTYPE_IPV4);
        final int h = ETH;
        tx.putByte(h, (byte)0x45);
        tx.putByte(h + 1, (byte)0);
        tx.putShort(h + 2, (short)(IP + bodyBytes), BE);
        tx.putShort(h + 4, (short)ipId++, BE);
        tx.putShort(h + 6, (short)0x4000, BE); // don't fragment
        tx.putByte(h + 8, (byte)64);
        tx.putByte(h + 9, (byte)protocol);
        tx.putShort(h + 10, (short)0, BE);
        tx.putInt(h + 12, ip, BE);
        tx.putInt(h + 16, destinationIp, BE);
        tx.putShort(h + 10, (short)fold(sum(tx, h, IP, 0)), BE);
        return emit(ETH + IP + bodyBytes);
    }

    /** The next hop's MAC, or -1 after sending an ARP request for it. */
    private long resolve(final int destinationIp)
    {
        final int slot = arpSlot(destinationIp);
        if (slot >= 0)
        {
            return arpMac[slot];
        }
        putArp(BROADCAST, 1, 0, destinationIp);
        emit(ETH + 28);
        drop(DropReason.UNRESOLVED);
        return -1;
    }

    /** Writes an Ethernet/IPv4 ARP packet from this host into the transmit buffer. */
    private void putArp(final long destination, final int operation, final long targetMac, final int targetIp)
    {
        putEthernet(destination, ETHERTYPE_ARP);
        final int a = ETH;
        tx.putShort(a, (short)1, BE);
        tx.putShort(a + 2, (short)ETHERTYPE_IPV4, BE);
        tx.putByte(a + 4, (byte)6);
        tx.putByte(a + 5, (byte)4);
        tx.putShort(a + 6, (short)operation, BE);
        putMac(tx, a + 8, mac);
        tx.putInt(a + 14, ip, BE);
        putMac(tx, a + 18, targetMac);
        tx.putInt(a + 24, targetIp, BE);
    }

    private void learn(final int peerIp, final long peerMac)
    {
        int slot = arpSlot(peerIp);
        if (slot < 0)
        {
            slot = arpCount < ARP_ENTRIES ? arpCount++ : arpNext++ % ARP_ENTRIES;
            arpIp[slot] = peerIp;
        }
        arpMac[slot] = peerMac;
    }

    private int arpSlot(final int peerIp)
    {
        for (int i = 0; i < arpCount; i++)
        {
            if (arpIp[i] == peerIp)
            {
                return i;
            }
        }
        return -1;
    }

    private UdpHandler handlerOf(final int port)
    {
        for (int i = 0; i < udpCount; i++)
        {
            if (udpPorts[i] == port)
            {
                return udpHandlers[i];
            }
        }
        return null;
    }

    private void putEthernet(final long destination, final int type)
    {
        putMac(tx, 0, destination);
        putMac(tx, 6, mac);
        tx.putShort(12, (short)type, BE);
    }

    private boolean emit(final int length)
    {
        if (sink.send(tx, 0, length))
        {
            return true;
        }
        drop(DropReason.DEVICE_FULL);
        return false;
    }

    private void drop(final DropReason reason)
    {
        drops[reason.ordinal()]++;
    }

    private static int pseudoHeader(final int source, final int destination, final int udpLength)
    {
        return (source >>> 16) + (source & 0xFFFF) + (destination >>> 16) + (destination & 0xFFFF) + PROTOCOL_UDP +
            udpLength;
    }

    /** The ones' complement sum of {@code length} bytes, big-endian 16-bit words, odd byte padded with zero. */
    private static int sum(final DirectBuffer buffer, final int offset, final int length, final int initial)
    {
        long sum = initial & 0xFFFF_FFFFL;
        int i = 0;
        for (; i + 1 < length; i += 2)
        {
            sum += buffer.getShort(offset + i, BE) & 0xFFFF;
        }
        if (i < length)
        {
            sum += (buffer.getByte(offset + i) & 0xFF) << 8;
        }
        while ((sum >>> 16) != 0)
        {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        return (int)sum;
    }

    /** The complement of a folded sum: the checksum to send; zero over received bytes whose checksum is right. */
    private static int fold(final int sum)
    {
        return ~sum & 0xFFFF;
    }

    private static int u8(final DirectBuffer b, final int i)
    {
        return b.getByte(i) & 0xFF;
    }

    private static int u16(final DirectBuffer b, final int i)
    {
        return b.getShort(i, BE) & 0xFFFF;
    }

    private static long mac(final DirectBuffer b, final int i)
    {
        return (long)u16(b, i) << 32 | (b.getInt(i + 2, BE) & 0xFFFF_FFFFL);
    }

    private static void putMac(final UnsafeBuffer b, final int i, final long value)
    {
        b.putShort(i, (short)(value >>> 32), BE);
        b.putInt(i + 2, (int)value, BE);
    }

    /**
     * Frames handed to {@link #receive}.
     *
     * @return the count.
     */
    public long framesReceived()
    {
        return framesReceived;
    }

    /**
     * ARP replies sent for this host's address.
     *
     * @return the count.
     */
    public long arpReplies()
    {
        return arpReplies;
    }

    /**
     * Echo replies sent ({@code ping} answered).
     *
     * @return the count.
     */
    public long echoRepliesSent()
    {
        return echoRepliesSent;
    }

    /**
     * Echo replies received for this host's own requests.
     *
     * @return the count.
     */
    public long echoRepliesReceived()
    {
        return echoRepliesReceived;
    }

    /**
     * UDP datagrams delivered to a bound port.
     *
     * @return the count.
     */
    public long datagramsReceived()
    {
        return datagramsReceived;
    }

    /**
     * UDP datagrams sent.
     *
     * @return the count.
     */
    public long datagramsSent()
    {
        return datagramsSent;
    }

    /**
     * Frames dropped for one reason.
     *
     * @param reason the reason.
     * @return the count.
     */
    public long drops(final DropReason reason)
    {
        return drops[reason.ordinal()];
    }

    /**
     * Whether the ARP cache holds an entry for an address.
     *
     * @param peerIp the address.
     * @return true if resolved.
     */
    public boolean resolved(final int peerIp)
    {
        return arpSlot(peerIp) >= 0;
    }

    /**
     * This host's MAC address.
     *
     * @return the low 48 bits.
     */
    public long mac()
    {
        return mac;
    }

    /**
     * This host's IPv4 address.
     *
     * @return the address.
     */
    public int ip()
    {
        return ip;
    }
}
