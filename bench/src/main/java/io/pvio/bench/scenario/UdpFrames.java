package io.pvio.bench.scenario;

import java.nio.ByteOrder;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The datagrams of a network workload: an Ethernet/IPv4/UDP frame built once, into which {@link #stamp} writes each
 * datagram's sequence number and send time, updating the UDP checksum incrementally, so that sending allocates
 * nothing and touches 16 bytes. The payload is the sequence number (8 bytes), the send time ({@link System#nanoTime},
 * 8 bytes) and then {@link #patternByte}s, which the receiver checks ({@link #matches}).
 * <pre>
 *  0 Ethernet (14)  14 IPv4 (20, DF, TTL 64, no options)  34 UDP (8)  42 sequence (8)  50 send time (8)  58 pattern
 * </pre>
 * Frames shorter than 60 bytes cannot happen: the smallest payload, {@link ScenarioParser#MIN_PAYLOAD}, makes 60.
 */
final class UdpFrames
{
    /** Bytes of the Ethernet, IPv4 and UDP headers. */
    static final int HEADERS = 42;
    /** Where the UDP header starts. */
    static final int UDP = 34;
    /** Bytes of the payload's own header: sequence number and send time. */
    static final int STAMP = 16;

    private static final ByteOrder BE = ByteOrder.BIG_ENDIAN;
    private static final UnsafeBuffer PATTERN = pattern();

    private final UnsafeBuffer frame;
    private final int frameBytes;
    private final int payload;
    private final long baseSum;

    /**
     * The frame from one address to another.
     *
     * @param sourceMac       the sender's MAC.
     * @param destinationMac  the receiver's MAC.
     * @param sourceIp        the sender's IPv4 address.
     * @param destinationIp   the receiver's.
     * @param sourcePort      the sender's UDP port.
     * @param destinationPort the receiver's.
     * @param payload         UDP payload bytes, {@link ScenarioParser#MIN_PAYLOAD} to
     *                        {@link ScenarioParser#MAX_PAYLOAD}.
     */
    UdpFrames(
        final long sourceMac, final long destinationMac, final int sourceIp, final int destinationIp,
        final int sourcePort, final int destinationPort, final int payload)
    {
        if (payload < ScenarioParser.MIN_PAYLOAD || payload > ScenarioParser.MAX_PAYLOAD)
        {
            throw new IllegalArgumentException("payload=" + payload);
        }
        this.payload = payload;
        this.frameBytes = HEADERS + payload;
        this.frame = new UnsafeBuffer(new byte[frameBytes]);
        putMac(frame, 0, destinationMac);
        putMac(frame, 6, sourceMac);
        frame.putShort(12, (short)0x0800, BE);
        frame.putByte(14, (byte)0x45);
        frame.putShort(16, (short)(20 + 8 + payload), BE);
        frame.putShort(20, (short)0x4000, BE); // don't fragment; id 0 as RFC 6864 allows for atomic datagrams
        frame.putByte(22, (byte)64);
        frame.putByte(23, (byte)17);
        frame.putInt(26, sourceIp, BE);
        frame.putInt(30, destinationIp, BE);
        frame.putShort(24, (short)fold(sum(frame, 14, 20, 0)), BE);
        frame.putShort(UDP, (short)sourcePort, BE);
        frame.putShort(UDP + 2, (short)destinationPort, BE);
        frame.putShort(UDP + 4, (short)(8 + payload), BE);
        frame.putBytes(HEADERS + STAMP, PATTERN, STAMP, payload - STAMP);
        final long pseudo = (sourceIp >>> 16) + (sourceIp & 0xFFFF) + (destinationIp >>> 16) +
            (destinationIp & 0xFFFF) + 17 + 8 + payload;
        this.baseSum = sum(frame, UDP, 8 + payload, pseudo); // the stamp is zero here
    }

    /**
     * Writes a datagram's sequence number and send time and its UDP checksum. Allocates nothing.
     *
     * @param sequence  the sequence number.
     * @param sendNanos the send time.
     */
    void stamp(final long sequence, final long sendNanos)
    {
        final UnsafeBuffer frame = this.frame;
        frame.putLong(HEADERS, sequence, BE);
        frame.putLong(HEADERS + 8, sendNanos, BE);
        final long sum = baseSum + words(sequence) + words(sendNanos);
        final int checksum = fold(sum);
        frame.putShort(UDP + 6, (short)(0 == checksum ? 0xFFFF : checksum), BE);
    }

    /**
     * The frame, from offset 0.
     *
     * @return the buffer.
     */
    DirectBuffer frame()
    {
        return frame;
    }

    /**
     * Bytes of the frame.
     *
     * @return Ethernet header to the payload's end.
     */
    int frameBytes()
    {
        return frameBytes;
    }

    /**
     * UDP payload bytes.
     *
     * @return the payload.
     */
    int payload()
    {
        return payload;
    }

    /**
     * The payload byte at {@code index} past the stamp.
     *
     * @param index from {@link #STAMP}.
     * @return the byte.
     */
    static byte patternByte(final int index)
    {
        return (byte)((index * 151) ^ (index >>> 8) ^ 0xA5);
    }

    /**
     * Whether a payload's bytes past the stamp are the pattern.
     *
     * @param payload the buffer holding it.
     * @param offset  where the payload starts.
     * @param length  its bytes.
     * @return true if every byte matches.
     */
    static boolean matches(final DirectBuffer payload, final int offset, final int length)
    {
        int i = STAMP;
        for (; i + 8 <= length; i += 8)
        {
            if (payload.getLong(offset + i) != PATTERN.getLong(i))
            {
                return false;
            }
        }
        for (; i < length; i++)
        {
            if (payload.getByte(offset + i) != PATTERN.getByte(i))
            {
                return false;
            }
        }
        return true;
    }

    /**
     * The sequence number of a payload.
     *
     * @param payload the buffer.
     * @param offset  where the payload starts.
     * @return the number.
     */
    static long sequence(final DirectBuffer payload, final int offset)
    {
        return payload.getLong(offset, BE);
    }

    /**
     * The send time of a payload.
     *
     * @param payload the buffer.
     * @param offset  where the payload starts.
     * @return {@link System#nanoTime} when it was stamped.
     */
    static long sendNanos(final DirectBuffer payload, final int offset)
    {
        return payload.getLong(offset + 8, BE);
    }

    /**
     * The ones'-complement sum of big-endian 16-bit words, not folded, plus {@code initial}.
     *
     * @param buffer  the bytes.
     * @param offset  where they start.
     * @param length  how many; an odd last byte is padded with zero.
     * @param initial added in.
     * @return the sum.
     */
    static long sum(final DirectBuffer buffer, final int offset, final int length, final long initial)
    {
        long sum = initial;
        int i = 0;
        for (; i + 1 < length; i += 2)
        {
            sum += ((buffer.getByte(offset + i) & 0xFF) << 8) | (buffer.getByte(offset + i + 1) & 0xFF);
        }
        if (i < length)
        {
            sum += (buffer.getByte(offset + i) & 0xFF) << 8;
        }
        return sum;
    }

    /**
     * Folds a sum to 16 bits and complements it: the Internet checksum.
     *
     * @param sum the unfolded sum.
     * @return the checksum, 0 to 0xFFFF.
     */
    static int fold(final long sum)
    {
        long s = sum;
        while (0 != (s >>> 16))
        {
            s = (s & 0xFFFF) + (s >>> 16);
        }
        return (int)(~s & 0xFFFF);
    }

    /**
     * Writes a MAC address.
     *
     * @param buffer where.
     * @param offset at which byte.
     * @param mac    48 bits, first byte most significant.
     */
    static void putMac(final MutableDirectBuffer buffer, final int offset, final long mac)
    {
        for (int i = 0; i < 6; i++)
        {
            buffer.putByte(offset + i, (byte)(mac >>> (40 - 8 * i)));
        }
    }

    private static long words(final long value)
    {
        return (value >>> 48) + ((value >>> 32) & 0xFFFF) + ((value >>> 16) & 0xFFFF) + (value & 0xFFFF);
    }

    private static UnsafeBuffer pattern()
    {
        final UnsafeBuffer pattern = new UnsafeBuffer(new byte[ScenarioParser.MAX_PAYLOAD]);
        for (int i = STAMP; i < ScenarioParser.MAX_PAYLOAD; i++)
        {
            pattern.putByte(i, patternByte(i));
        }
        return pattern;
    }
}
