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
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.CompilerControl;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import io.pvio.ring.BackRing;
import io.pvio.ring.EntryHandler;
import io.pvio.ring.FrontRing;
import io.pvio.ring.RingEnd;
import io.pvio.ring.RingGeometry;
import io.pvio.ring.SharedRingDescriptor;

/**
 * One-way streaming: a {@code send} thread and a {@code receive} thread ({@code -tg 1,1}) move messages of
 * {@code payloadBytes} through one implementation. Read the {@code received} counter (messages delivered per
 * microsecond), never the group score, which counts calls; {@code offersFailed} and {@code pollsFailed} count calls
 * that found the ring full or empty and say which regime the run was in.
 * <p>
 * Every call of {@code send} tries {@code batch} messages and every call of {@code receive} takes up to {@code batch}:
 * <ul>
 *   <li>pvio: the front claims up to {@code batch} request slots, writes the sequence at offset 0 and copies the rest
 *       of the payload from a prepared buffer, then pushes {@code req_prod} once; when the ring is full it first
 *       reclaims answered slots with {@code discardResponses}. The back end reads up to {@code batch} requests in
 *       place, claims a response for each (the stream needs no response bytes) and pushes {@code rsp_prod} once.</li>
 *   <li>JCTools: {@code offer}/{@code poll} at batch 1, {@code fill}/{@code drain} otherwise, carrying pre-allocated
 *       {@link Message}s whose payload the sender writes before the offer.</li>
 *   <li>Agrona: {@code batch} calls of {@code write} from the prepared buffer; {@code read(handler, batch)}.</li>
 * </ul>
 * Every receiver reads the first and the last eight payload bytes of each message into a sum.
 * <p>
 * Memory: pvio gets {@code ringPages} 4 KiB pages, Agrona a data area of the same bytes, JCTools a capacity equal to
 * pvio's entry count (at 8 bytes: 1024 entries in 4 pages; at 64 and 112 bytes: 128).
 */
@State(Scope.Group)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class RingThroughputBenchmark extends AbstractRingBenchmark
{
    /** Implementation under test, see {@link Impl}. */
    @Param({Impl.PVIO, Impl.JCTOOLS_SPSC, Impl.JCTOOLS_SPSC_VH, Impl.AGRONA_O2O})
    public String impl;

    /** Bytes per message: a sequence and {@code payloadBytes - 8} bytes of body. */
    @Param({"8", "64", "112"})
    public int payloadBytes;

    /** Messages per send call and the most taken per receive call. */
    @Param({"1", "32"})
    public int batch;

    /** Size of pvio's shared ring in 4 KiB pages; the peers get the same bytes or entries. */
    @Param({"4"})
    public int ringPages;

    private Sender sender;
    private Receiver receiver;

    /**
     * Builds the implementation named by {@link #impl}.
     */
    @Setup(Level.Trial)
    public void setUp()
    {
        RingMemory.checkPayload(payloadBytes);
        final int ringBytes = ringPages * SharedRingDescriptor.PAGE_SIZE;
        final RingGeometry geometry = RingGeometry.ofPages(ringPages, payloadBytes, Long.BYTES, Long.BYTES);
        switch (impl)
        {
            case Impl.PVIO:
            {
                final AtomicBuffer memory = RingMemory.allocate(ringBytes);
                final FrontRing front = FrontRing.init(memory, geometry);
                sender = new PvioSender(front, payloadBytes, batch);
                receiver = new PvioReceiver(BackRing.attach(memory, geometry), front, payloadBytes, batch);
                break;
            }
            case Impl.JCTOOLS_SPSC:
            case Impl.JCTOOLS_SPSC_VH:
            {
                final MessagePassingQueue<Message> queue = Impl.JCTOOLS_SPSC.equals(impl) ?
                    new SpscArrayQueue<>(geometry.size()) : new SpscVarHandleArrayQueue<>(geometry.size());
                sender = new JctoolsSender(queue, payloadBytes, batch);
                receiver = new JctoolsReceiver(queue, batch);
                break;
            }
            case Impl.AGRONA_O2O:
            {
                final OneToOneRingBuffer ring = RingMemory.agronaRing(ringBytes);
                sender = new AgronaSender(ring, payloadBytes, batch);
                receiver = new AgronaReceiver(ring, batch);
                break;
            }
            default:
                throw Impl.unknown(impl);
        }
    }

    /**
     * Empties the ring between iterations, with both threads stopped, so every iteration starts from an empty ring.
     */
    @TearDown(Level.Iteration)
    public void drain()
    {
        receiver.drainAll();
    }

    /**
     * Sends up to {@link #batch} messages.
     *
     * @param counters the sender's counters.
     */
    @Benchmark
    @Group("tpt")
    @GroupThreads(1)
    public void send(final SendCounters counters)
    {
        final int sent = sender.sendBatch();
        if (0 == sent)
        {
            counters.offersFailed++;
        }
        else
        {
            counters.sent += sent;
        }
    }

    /**
     * Receives up to {@link #batch} messages.
     *
     * @param counters the receiver's counters.
     */
    @Benchmark
    @Group("tpt")
    @GroupThreads(1)
    public void receive(final ReceiveCounters counters)
    {
        final int received = receiver.receiveBatch();
        if (0 == received)
        {
            counters.pollsFailed++;
        }
        else
        {
            counters.received += received;
        }
    }

    /**
     * The sending thread's counters, reported per microsecond.
     */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class SendCounters
    {
        /** Messages sent. */
        public long sent;

        /** Send calls that found the ring full. */
        public long offersFailed;

        /**
         * Zeroes the counters before each iteration.
         */
        @Setup(Level.Iteration)
        public void reset()
        {
            sent = 0;
            offersFailed = 0;
        }
    }

    /**
     * The receiving thread's counters, reported per microsecond.
     */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class ReceiveCounters
    {
        /** Messages delivered: the figure this benchmark is about. */
        public long received;

        /** Receive calls that found the ring empty. */
        public long pollsFailed;

        /**
         * Zeroes the counters before each iteration.
         */
        @Setup(Level.Iteration)
        public void reset()
        {
            received = 0;
            pollsFailed = 0;
        }
    }

    abstract static class Sender extends PaddedSide
    {
        /**
         * {@link #send()} compiled on its own rather than inlined into JMH's loop, so that every fork compiles the
         * implementation's code with a mature profile and forks agree.
         *
         * @return messages sent.
         */
        @CompilerControl(CompilerControl.Mode.DONT_INLINE)
        final int sendBatch()
        {
            return send();
        }

        abstract int send();
    }

    abstract static class Receiver extends PaddedSide
    {
        /**
         * {@link #receive()} compiled on its own, as {@link Sender#sendBatch()}.
         *
         * @return messages received.
         */
        @CompilerControl(CompilerControl.Mode.DONT_INLINE)
        final int receiveBatch()
        {
            return receive();
        }

        abstract int receive();

        void drainAll()
        {
            boolean more = true;
            while (more)
            {
                more = receive() > 0;
            }
        }
    }

    static final class PvioSender extends Sender
    {
        private final FrontRing front;
        private final AtomicBuffer ring;
        private final UnsafeBuffer body;
        private final int bodyBytes;
        private final int batch;

        PvioSender(final FrontRing front, final int payloadBytes, final int batch)
        {
            this.front = front;
            this.ring = front.buffer();
            this.body = RingMemory.payload(payloadBytes);
            this.bodyBytes = payloadBytes - Long.BYTES;
            this.batch = batch;
        }

        @Override
        int send()
        {
            final FrontRing front = this.front;
            final AtomicBuffer ring = this.ring;
            final UnsafeBuffer body = this.body;
            final int bodyBytes = this.bodyBytes;
            final int batch = this.batch;
            final long sequence = this.sequence;
            int sent = 0;
            while (sent < batch)
            {
                final int offset = claim(front);
                if (RingEnd.RING_FULL == offset)
                {
                    break;
                }
                ring.putLong(offset, sequence + sent);
                if (bodyBytes > 0)
                {
                    ring.putBytes(offset + Long.BYTES, body, Long.BYTES, bodyBytes);
                }
                sent++;
            }
            if (sent > 0)
            {
                front.pushRequests();
                this.sequence = sequence + sent;
            }
            return sent;
        }

        static int claim(final FrontRing front)
        {
            final int offset = front.claimRequest();
            if (RingEnd.RING_FULL != offset)
            {
                return offset;
            }
            front.discardResponses(Integer.MAX_VALUE);
            return front.claimRequest();
        }
    }

    static final class PvioReceiver extends Receiver implements EntryHandler
    {
        private final BackRing back;
        private final FrontRing front;
        private final int lastWord;
        private final int batch;

        PvioReceiver(final BackRing back, final FrontRing front, final int payloadBytes, final int batch)
        {
            this.back = back;
            this.front = front;
            this.lastWord = payloadBytes - Long.BYTES;
            this.batch = batch;
        }

        @Override
        int receive()
        {
            final BackRing back = this.back;
            final int received = back.readRequests(this, batch);
            if (received > 0)
            {
                back.pushResponses();
            }
            return received;
        }

        @Override
        public void onEntry(final DirectBuffer buffer, final int offset)
        {
            final int lastWord = this.lastWord;
            final long first = buffer.getLong(offset);
            sink += 0 == lastWord ? first : first + buffer.getLong(offset + lastWord);
            back.claimResponse();
        }

        @Override
        void drainAll()
        {
            super.drainAll();
            front.discardResponses(Integer.MAX_VALUE);
        }
    }

    static final class JctoolsSender extends Sender implements MessagePassingQueue.Supplier<Message>
    {
        private final MessagePassingQueue<Message> queue;
        private final Message[] pool;
        private final int poolMask;
        private final long[] body;
        private final int batch;

        JctoolsSender(final MessagePassingQueue<Message> queue, final int payloadBytes, final int batch)
        {
            this.queue = queue;
            this.pool = Message.pool(queue.capacity(), payloadBytes);
            this.poolMask = pool.length - 1;
            this.body = RingMemory.bodyWords(payloadBytes);
            this.batch = batch;
        }

        @Override
        int send()
        {
            if (1 == batch)
            {
                final long sequence = this.sequence;
                final Message message = pool[(int)sequence & poolMask];
                message.write(sequence, body);
                if (queue.offer(message))
                {
                    this.sequence = sequence + 1;
                    return 1;
                }
                return 0;
            }
            return queue.fill(this, batch);
        }

        @Override
        public Message get()
        {
            final long sequence = this.sequence;
            final Message message = pool[(int)sequence & poolMask];
            message.write(sequence, body);
            this.sequence = sequence + 1;
            return message;
        }
    }

    static final class JctoolsReceiver extends Receiver implements MessagePassingQueue.Consumer<Message>
    {
        private final MessagePassingQueue<Message> queue;
        private final int batch;

        JctoolsReceiver(final MessagePassingQueue<Message> queue, final int batch)
        {
            this.queue = queue;
            this.batch = batch;
        }

        @Override
        int receive()
        {
            if (1 == batch)
            {
                final Message message = queue.poll();
                if (null == message)
                {
                    return 0;
                }
                sink += message.read();
                return 1;
            }
            return queue.drain(this, batch);
        }

        @Override
        public void accept(final Message message)
        {
            sink += message.read();
        }
    }

    static final class AgronaSender extends Sender
    {
        private final OneToOneRingBuffer ring;
        private final UnsafeBuffer payload;
        private final int payloadBytes;
        private final int batch;

        AgronaSender(final OneToOneRingBuffer ring, final int payloadBytes, final int batch)
        {
            this.ring = ring;
            this.payload = RingMemory.payload(payloadBytes);
            this.payloadBytes = payloadBytes;
            this.batch = batch;
        }

        @Override
        int send()
        {
            final OneToOneRingBuffer ring = this.ring;
            final UnsafeBuffer payload = this.payload;
            final int payloadBytes = this.payloadBytes;
            final int batch = this.batch;
            final long sequence = this.sequence;
            int sent = 0;
            while (sent < batch)
            {
                payload.putLong(0, sequence + sent);
                if (!ring.write(RingMemory.MSG_TYPE_ID, payload, 0, payloadBytes))
                {
                    break;
                }
                sent++;
            }
            this.sequence = sequence + sent;
            return sent;
        }
    }

    static final class AgronaReceiver extends Receiver implements MessageHandler
    {
        private final OneToOneRingBuffer ring;
        private final int batch;

        AgronaReceiver(final OneToOneRingBuffer ring, final int batch)
        {
            this.ring = ring;
            this.batch = batch;
        }

        @Override
        int receive()
        {
            return ring.read(this, batch);
        }

        @Override
        public void onMessage(final int msgTypeId, final MutableDirectBuffer buffer, final int index, final int length)
        {
            final long first = buffer.getLong(index);
            sink += Long.BYTES == length ? first : first + buffer.getLong(index + length - Long.BYTES);
        }
    }
}
