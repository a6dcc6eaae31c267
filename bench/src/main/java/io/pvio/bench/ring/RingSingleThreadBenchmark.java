package io.pvio.bench.ring;

import java.util.concurrent.TimeUnit;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.MessageHandler;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;
import org.jctools.queues.MessagePassingQueue;
import org.jctools.queues.SpscArrayQueue;
import org.jctools.queues.varhandle.SpscVarHandleArrayQueue;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import io.pvio.ring.BackRing;
import io.pvio.ring.EntryHandler;
import io.pvio.ring.FrontRing;
import io.pvio.ring.RingEnd;
import io.pvio.ring.RingGeometry;
import io.pvio.ring.SharedRingDescriptor;

/**
 * Instruction cost with no coherence traffic: one thread sends a message and takes it out again, in nanoseconds per
 * message. {@code one} moves a single message per operation; {@code burst} sends {@link #BURST} and then takes them
 * all, reported per message. For pvio a message's trip includes the Xen bookkeeping that frees its slot: the back end
 * claims and pushes a response and the front end discards it.
 * <p>
 * Memory: pvio one page, Agrona a one-page data area, JCTools pvio's entry count.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class RingSingleThreadBenchmark extends AbstractRingBenchmark
{
    /** Messages per {@code burst} operation. */
    public static final int BURST = 32;

    /** Implementation under test, see {@link Impl}. */
    @Param({Impl.PVIO, Impl.JCTOOLS_SPSC, Impl.JCTOOLS_SPSC_VH, Impl.AGRONA_O2O})
    public String impl;

    /** Bytes per message. */
    @Param({"8", "64"})
    public int payloadBytes;

    private Loop loop;

    /**
     * Builds the implementation named by {@link #impl}.
     */
    @Setup(Level.Trial)
    public void setUp()
    {
        RingMemory.checkPayload(payloadBytes);
        final RingGeometry geometry = RingGeometry.ofPages(1, payloadBytes, Long.BYTES, Long.BYTES);
        switch (impl)
        {
            case Impl.PVIO:
                loop = new PvioLoop(RingMemory.allocate(geometry.ringBytes()), geometry, payloadBytes);
                break;
            case Impl.JCTOOLS_SPSC:
                loop = new JctoolsLoop(new SpscArrayQueue<>(geometry.size()), payloadBytes);
                break;
            case Impl.JCTOOLS_SPSC_VH:
                loop = new JctoolsLoop(new SpscVarHandleArrayQueue<>(geometry.size()), payloadBytes);
                break;
            case Impl.AGRONA_O2O:
                loop = new AgronaLoop(RingMemory.agronaRing(SharedRingDescriptor.PAGE_SIZE), payloadBytes);
                break;
            default:
                throw Impl.unknown(impl);
        }
        if (loop.capacity() < BURST)
        {
            throw new IllegalStateException("ring holds fewer than " + BURST + " messages: " + loop.capacity());
        }
    }

    /**
     * Sends one message and takes it out.
     *
     * @return the sum of the words read so far.
     */
    @Benchmark
    public long one()
    {
        final Loop loop = this.loop;
        loop.send(1);
        loop.take(1);
        return loop.sink;
    }

    /**
     * Sends {@link #BURST} messages, then takes them all out.
     *
     * @return the sum of the words read so far.
     */
    @Benchmark
    @OperationsPerInvocation(BURST)
    public long burst()
    {
        final Loop loop = this.loop;
        loop.send(BURST);
        loop.take(BURST);
        return loop.sink;
    }

    abstract static class Loop extends PaddedSide
    {
        abstract int capacity();

        abstract void send(int count);

        abstract void take(int count);

        static IllegalStateException lost(final String what, final int count)
        {
            return new IllegalStateException(what + " failed on a ring with room: count=" + count);
        }
    }

    static final class PvioLoop extends Loop implements EntryHandler
    {
        private final FrontRing front;
        private final BackRing back;
        private final AtomicBuffer ring;
        private final UnsafeBuffer body;
        private final int bodyBytes;
        private final int lastWord;

        PvioLoop(final AtomicBuffer memory, final RingGeometry geometry, final int payloadBytes)
        {
            this.front = FrontRing.init(memory, geometry);
            this.back = BackRing.attach(memory, geometry);
            this.ring = memory;
            this.body = RingMemory.payload(payloadBytes);
            this.bodyBytes = payloadBytes - Long.BYTES;
            this.lastWord = payloadBytes - Long.BYTES;
        }

        @Override
        int capacity()
        {
            return front.size();
        }

        @Override
        void send(final int count)
        {
            final FrontRing front = this.front;
            final AtomicBuffer ring = this.ring;
            final int bodyBytes = this.bodyBytes;
            final long sequence = this.sequence;
            for (int i = 0; i < count; i++)
            {
                final int offset = front.claimRequest();
                if (RingEnd.RING_FULL == offset)
                {
                    throw lost("claimRequest", count);
                }
                ring.putLong(offset, sequence + i);
                if (bodyBytes > 0)
                {
                    ring.putBytes(offset + Long.BYTES, body, Long.BYTES, bodyBytes);
                }
            }
            front.pushRequests();
            this.sequence = sequence + count;
        }

        @Override
        void take(final int count)
        {
            final BackRing back = this.back;
            if (back.readRequests(this, count) != count)
            {
                throw lost("readRequests", count);
            }
            back.pushResponses();
            front.discardResponses(count);
        }

        @Override
        public void onEntry(final DirectBuffer buffer, final int offset)
        {
            final int lastWord = this.lastWord;
            final long first = buffer.getLong(offset);
            sink += 0 == lastWord ? first : first + buffer.getLong(offset + lastWord);
            back.claimResponse();
        }
    }

    static final class JctoolsLoop extends Loop implements MessagePassingQueue.Consumer<Message>
    {
        private final MessagePassingQueue<Message> queue;
        private final Message[] pool;
        private final int poolMask;
        private final long[] body;

        JctoolsLoop(final MessagePassingQueue<Message> queue, final int payloadBytes)
        {
            this.queue = queue;
            this.pool = Message.pool(queue.capacity(), payloadBytes);
            this.poolMask = pool.length - 1;
            this.body = RingMemory.bodyWords(payloadBytes);
        }

        @Override
        int capacity()
        {
            return queue.capacity();
        }

        @Override
        void send(final int count)
        {
            final MessagePassingQueue<Message> queue = this.queue;
            final long sequence = this.sequence;
            for (int i = 0; i < count; i++)
            {
                final Message message = pool[(int)(sequence + i) & poolMask];
                message.write(sequence + i, body);
                if (!queue.offer(message))
                {
                    throw lost("offer", count);
                }
            }
            this.sequence = sequence + count;
        }

        @Override
        void take(final int count)
        {
            final MessagePassingQueue<Message> queue = this.queue;
            for (int i = 0; i < count; i++)
            {
                final Message message = queue.poll();
                if (null == message)
                {
                    throw lost("poll", count);
                }
                accept(message);
            }
        }

        @Override
        public void accept(final Message message)
        {
            sink += message.read();
        }
    }

    static final class AgronaLoop extends Loop implements MessageHandler
    {
        private final OneToOneRingBuffer ring;
        private final UnsafeBuffer payload;
        private final int payloadBytes;

        AgronaLoop(final OneToOneRingBuffer ring, final int payloadBytes)
        {
            this.ring = ring;
            this.payload = RingMemory.payload(payloadBytes);
            this.payloadBytes = payloadBytes;
        }

        @Override
        int capacity()
        {
            return ring.capacity() / (payloadBytes + Long.BYTES);
        }

        @Override
        void send(final int count)
        {
            final OneToOneRingBuffer ring = this.ring;
            final UnsafeBuffer payload = this.payload;
            final int payloadBytes = this.payloadBytes;
            final long sequence = this.sequence;
            for (int i = 0; i < count; i++)
            {
                payload.putLong(0, sequence + i);
                if (!ring.write(RingMemory.MSG_TYPE_ID, payload, 0, payloadBytes))
                {
                    throw lost("write", count);
                }
            }
            this.sequence = sequence + count;
        }

        @Override
        void take(final int count)
        {
            final OneToOneRingBuffer ring = this.ring;
            int taken = 0;
            int emptyReads = 0;
            while (taken < count)
            {
                // a read stops at the end of the buffer, and one that meets only the padding record returns 0
                final int read = ring.read(this, count - taken);
                if (0 == read && ++emptyReads > 1)
                {
                    throw lost("read", count);
                }
                taken += read;
            }
        }

        @Override
        public void onMessage(final int msgTypeId, final MutableDirectBuffer buffer, final int index, final int length)
        {
            final long first = buffer.getLong(index);
            sink += Long.BYTES == length ? first : first + buffer.getLong(index + length - Long.BYTES);
        }
    }
}
