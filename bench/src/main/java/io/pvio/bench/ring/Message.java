package io.pvio.bench.ring;

import org.agrona.BitUtil;

/**
 * A pre-allocated message for the queue peers, which pass references: the payload is a {@code long} sequence plus a
 * body of {@code payloadBytes - 8} bytes, written by the sender before the offer and read by the receiver after the
 * poll, so the peers move the same bytes as the rings do.
 */
public final class Message
{
    /** First eight payload bytes. */
    long sequence;

    /** The rest of the payload, empty for an 8-byte payload. */
    final long[] body;

    Message(final int payloadBytes)
    {
        this.body = new long[(payloadBytes - Long.BYTES) / Long.BYTES];
    }

    /**
     * A pool of messages large enough that the sender never rewrites one the receiver may still read: a message is
     * reused only {@code 2 * capacity} sends later, by which time the queue has handed its slot on at least once.
     *
     * @param capacity     the queue's capacity.
     * @param payloadBytes payload size, a multiple of 8 and at least 8.
     * @return the pool, whose length is a power of two.
     */
    static Message[] pool(final int capacity, final int payloadBytes)
    {
        final Message[] pool = new Message[2 * BitUtil.findNextPositivePowerOfTwo(capacity)];
        for (int i = 0; i < pool.length; i++)
        {
            pool[i] = new Message(payloadBytes);
        }
        return pool;
    }

    void write(final long sequence, final long[] body)
    {
        this.sequence = sequence;
        final long[] dst = this.body;
        if (dst.length > 0)
        {
            System.arraycopy(body, 0, dst, 0, dst.length);
        }
    }

    /**
     * What a receiver reads: the first and the last eight payload bytes, as the ring receivers do.
     *
     * @return the sum of the two words.
     */
    long read()
    {
        final long[] body = this.body;
        final int last = body.length - 1;
        return last < 0 ? sequence : sequence + body[last];
    }
}
