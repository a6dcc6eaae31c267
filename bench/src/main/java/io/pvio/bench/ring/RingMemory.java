package io.pvio.bench.ring;

import java.nio.ByteBuffer;

import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;

import io.pvio.ring.SharedRingDescriptor;

/**
 * Off-heap memory for the benchmarks: page-aligned shared areas for the rings and the prepared payload bodies the
 * senders copy from.
 */
final class RingMemory
{
    /** Message type id every Agrona record carries. */
    static final int MSG_TYPE_ID = 1;

    private RingMemory()
    {
    }

    /**
     * Zeroed, page-aligned off-heap memory.
     *
     * @param bytes size in bytes.
     * @return a buffer over the memory.
     */
    static UnsafeBuffer allocate(final int bytes)
    {
        final ByteBuffer memory = BufferUtil.allocateDirectAligned(bytes, SharedRingDescriptor.PAGE_SIZE);
        return new UnsafeBuffer(memory);
    }

    /**
     * An Agrona one-to-one ring whose data area is {@code dataBytes} long, plus Agrona's trailer.
     *
     * @param dataBytes a power of two.
     * @return the ring.
     */
    static OneToOneRingBuffer agronaRing(final int dataBytes)
    {
        return new OneToOneRingBuffer(allocate(dataBytes + RingBufferDescriptor.TRAILER_LENGTH));
    }

    /**
     * The body a sender copies after the 8-byte sequence: {@code payloadBytes - 8} bytes of a recognisable pattern.
     *
     * @param payloadBytes payload size, a multiple of 8 and at least 8.
     * @return the body words.
     */
    static long[] bodyWords(final int payloadBytes)
    {
        final long[] body = new long[(payloadBytes - Long.BYTES) / Long.BYTES];
        for (int i = 0; i < body.length; i++)
        {
            body[i] = 0x0101_0101_0101_0101L * (i + 1);
        }
        return body;
    }

    /**
     * A full payload in off-heap memory: room for the sequence at offset 0, then {@link #bodyWords(int)}.
     *
     * @param payloadBytes payload size, a multiple of 8 and at least 8.
     * @return the buffer, exactly {@code payloadBytes} long.
     */
    static UnsafeBuffer payload(final int payloadBytes)
    {
        checkPayload(payloadBytes);
        final UnsafeBuffer payload = allocate(payloadBytes);
        final long[] body = bodyWords(payloadBytes);
        for (int i = 0; i < body.length; i++)
        {
            payload.putLong(Long.BYTES * (i + 1), body[i]);
        }
        return payload;
    }

    /**
     * Checks that a payload size is usable by every implementation.
     *
     * @param payloadBytes payload size.
     * @throws IllegalArgumentException unless a positive multiple of 8.
     */
    static void checkPayload(final int payloadBytes)
    {
        if (payloadBytes < Long.BYTES || payloadBytes % Long.BYTES != 0)
        {
            throw new IllegalArgumentException("payloadBytes must be a positive multiple of 8: payloadBytes=" +
                payloadBytes);
        }
    }
}
