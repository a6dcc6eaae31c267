package io.pvio.bench.ring;

import java.util.concurrent.TimeUnit;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.MessageHandler;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;
import org.jctools.queues.MessagePassingQueue;
import org.jctools.queues.MpscBlockingConsumerArrayQueue;
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
import org.openjdk.jmh.infra.Blackhole;

import io.pvio.ring.BackRing;
import io.pvio.ring.EntryHandler;
import io.pvio.ring.FrontRing;
import io.pvio.ring.ParkingIdleStrategy;
import io.pvio.ring.RingEnd;
import io.pvio.ring.RingGeometry;
import io.pvio.ring.SharedRingDescriptor;

/**
 * Streaming to a consumer that sleeps when it runs out of work, and what waking it costs. Counters, per microsecond:
 * {@code sent} and {@code received} messages; {@code notifications}, the wake-ups the producer sent; {@code waits},
 * the times the consumer found nothing and went to wait. Notifications per message is
 * {@code notifications / received}; the group score counts calls.
 * <ul>
 *   <li>pvio: the back end, out of work, calls {@code finalCheckForRequests()} (which sets {@code req_event}) and
 *       parks in a {@link ParkingIdleStrategy} only if that finds nothing; the front end publishes each batch with
 *       {@code pushRequestsAndCheckNotify()} and unparks the back end only when told to. Event-index suppression
 *       means a busy consumer costs no notifications.</li>
 *   <li>JCTools {@code MpscBlockingConsumerArrayQueue}: the consumer blocks in the queue, whose {@code offer} wakes
 *       it; the queue does not say how often, so {@code waits} (blocking calls, each needing at most one wake-up)
 *       stands in for it and {@code notifications} stays 0.</li>
 *   <li>Agrona {@code OneToOneRingBuffer} with {@code BackoffIdleStrategy}: the consumer spins, yields, then parks
 *       for growing periods and never needs a notification; it pays in latency and in CPU instead.</li>
 * </ul>
 * Both waits are bounded ({@link #WAIT_LIMIT_NS}) so a consumer whose producer has stopped at the end of an
 * iteration returns. {@code producerTokens} of {@link Blackhole#consumeCPU(long)} after each batch slows the producer
 * so the consumer does run dry; at 0 it mostly does not. Payload: 8 bytes; ring: {@code ringPages} pages for pvio and
 * Agrona, pvio's entry count for JCTools.
 */
@State(Scope.Group)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class RingNotifyBenchmark extends AbstractRingBenchmark
{
    /** Longest single wait of a consumer, so that it notices the end of an iteration. */
    public static final long WAIT_LIMIT_NS = TimeUnit.MILLISECONDS.toNanos(1);

    private static final int PAYLOAD_BYTES = Long.BYTES;

    /** Implementation under test, see {@link Impl}. */
    @Param({Impl.PVIO, Impl.JCTOOLS_MPSC_BLOCKING, Impl.AGRONA_O2O_BACKOFF})
    public String impl;

    /** Messages per producer publication. */
    @Param({"1", "32"})
    public int batch;

    /** Work the producer does between batches, in {@link Blackhole#consumeCPU(long)} tokens. */
    @Param({"0", "256"})
    public int producerTokens;

    /** Pages of pvio's and Agrona's ring. */
    @Param({"1"})
    public int ringPages;

    private Producer producer;
    private Consumer consumer;

    /**
     * Builds the implementation named by {@link #impl}.
     */
    @Setup(Level.Trial)
    public void setUp()
    {
        final RingGeometry geometry = RingGeometry.ofPages(ringPages, PAYLOAD_BYTES, PAYLOAD_BYTES, Long.BYTES);
        switch (impl)
        {
            case Impl.PVIO:
            {
                final AtomicBuffer memory = RingMemory.allocate(geometry.ringBytes());
                final ParkingIdleStrategy idle = new ParkingIdleStrategy(0, 0, WAIT_LIMIT_NS);
                final FrontRing front = FrontRing.init(memory, geometry);
                producer = new PvioProducer(front, idle, batch);
                consumer = new PvioConsumer(BackRing.attach(memory, geometry), front, idle, batch);
                break;
            }
            case Impl.JCTOOLS_MPSC_BLOCKING:
            {
                final MpscBlockingConsumerArrayQueue<Message> queue =
                    new MpscBlockingConsumerArrayQueue<>(geometry.size());
                producer = new JctoolsProducer(queue, batch);
                consumer = new JctoolsConsumer(queue, batch);
                break;
            }
            case Impl.AGRONA_O2O_BACKOFF:
            {
                final OneToOneRingBuffer ring = RingMemory.agronaRing(ringPages * SharedRingDescriptor.PAGE_SIZE);
                producer = new AgronaProducer(ring, batch);
                consumer = new AgronaConsumer(ring, batch);
                break;
            }
            default:
                throw Impl.unknown(impl);
        }
    }

    /**
     * Empties the ring between iterations, with both threads stopped.
     */
    @TearDown(Level.Iteration)
    public void drain()
    {
        consumer.drainAll();
    }

    /**
     * Publishes up to {@link #batch} messages, notifying if asked, then does {@link #producerTokens} of work.
     *
     * @param counters the producer's counters.
     */
    @Benchmark
    @Group("notify")
    @GroupThreads(1)
    public void produce(final ProducerCounters counters)
    {
        final int sent = producer.produceBatch(counters);
        if (0 == sent)
        {
            counters.offersFailed++;
        }
        else
        {
            counters.sent += sent;
        }
        Blackhole.consumeCPU(producerTokens);
    }

    /**
     * Consumes what has arrived, or waits.
     *
     * @param counters the consumer's counters.
     */
    @Benchmark
    @Group("notify")
    @GroupThreads(1)
    public void consume(final ConsumerCounters counters)
    {
        final int received = consumer.consumeBatch(counters);
        counters.received += received;
    }

    /**
     * The producer's counters, reported per microsecond.
     */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class ProducerCounters
    {
        /** Messages published. */
        public long sent;

        /** Produce calls that found the ring full. */
        public long offersFailed;

        /** Wake-ups sent to the consumer. */
        public long notifications;

        /**
         * Zeroes the counters before each iteration.
         */
        @Setup(Level.Iteration)
        public void reset()
        {
            sent = 0;
            offersFailed = 0;
            notifications = 0;
        }
    }

    /**
     * The consumer's counters, reported per microsecond.
     */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class ConsumerCounters
    {
        /** Messages consumed. */
        public long received;

        /** Times the consumer found no work after its final check and went to wait. */
        public long waits;

        /**
         * Zeroes the counters before each iteration.
         */
        @Setup(Level.Iteration)
        public void reset()
        {
            received = 0;
            waits = 0;
        }
    }

    abstract static class Producer extends PaddedSide
    {
        /**
         * {@link #produce(ProducerCounters)} compiled on its own rather than inlined into JMH's loop, so that every
         * fork compiles it with a mature profile.
         *
         * @param counters the producer's counters.
         * @return messages sent.
         */
        @CompilerControl(CompilerControl.Mode.DONT_INLINE)
        final int produceBatch(final ProducerCounters counters)
        {
            return produce(counters);
        }

        abstract int produce(ProducerCounters counters);
    }

    abstract static class Consumer extends PaddedSide
    {
        /**
         * {@link #consume(ConsumerCounters)} compiled on its own, as {@link Producer#produceBatch(ProducerCounters)}.
         *
         * @param counters the consumer's counters.
         * @return messages received.
         */
        @CompilerControl(CompilerControl.Mode.DONT_INLINE)
        final int consumeBatch(final ConsumerCounters counters)
        {
            return consume(counters);
        }

        abstract int consume(ConsumerCounters counters);

        abstract int poll();

        void drainAll()
        {
            boolean more = true;
            while (more)
            {
                more = poll() > 0;
            }
        }
    }

    static final class PvioProducer extends Producer
    {
        private final FrontRing front;
        private final AtomicBuffer ring;
        private final ParkingIdleStrategy notifier;
        private final int batch;

        PvioProducer(final FrontRing front, final ParkingIdleStrategy notifier, final int batch)
        {
            this.front = front;
            this.ring = front.buffer();
            this.notifier = notifier;
            this.batch = batch;
        }

        @Override
        int produce(final ProducerCounters counters)
        {
            final FrontRing front = this.front;
            final AtomicBuffer ring = this.ring;
            final int batch = this.batch;
            final long sequence = this.sequence;
            int sent = 0;
            while (sent < batch)
            {
                final int offset = RingThroughputBenchmark.PvioSender.claim(front);
                if (RingEnd.RING_FULL == offset)
                {
                    break;
                }
                ring.putLong(offset, sequence + sent);
                sent++;
            }
            if (sent > 0)
            {
                this.sequence = sequence + sent;
                if (front.pushRequestsAndCheckNotify())
                {
                    notifier.notifyPeer();
                    counters.notifications++;
                }
            }
            return sent;
        }
    }

    static final class PvioConsumer extends Consumer implements EntryHandler
    {
        private final BackRing back;
        private final FrontRing front;
        private final ParkingIdleStrategy idle;
        private final int batch;

        PvioConsumer(final BackRing back, final FrontRing front, final ParkingIdleStrategy idle, final int batch)
        {
            this.back = back;
            this.front = front;
            this.idle = idle;
            this.batch = batch;
        }

        @Override
        int consume(final ConsumerCounters counters)
        {
            final int received = poll();
            if (0 == received && !back.finalCheckForRequests())
            {
                counters.waits++;
                idle.idle();
            }
            return received;
        }

        @Override
        int poll()
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
            sink += buffer.getLong(offset);
            back.claimResponse();
        }

        @Override
        void drainAll()
        {
            super.drainAll();
            front.discardResponses(Integer.MAX_VALUE);
        }
    }

    static final class JctoolsProducer extends Producer
    {
        private final MpscBlockingConsumerArrayQueue<Message> queue;
        private final Message[] pool;
        private final int poolMask;
        private final long[] body;
        private final int batch;

        JctoolsProducer(final MpscBlockingConsumerArrayQueue<Message> queue, final int batch)
        {
            this.queue = queue;
            this.pool = Message.pool(queue.capacity(), PAYLOAD_BYTES);
            this.poolMask = pool.length - 1;
            this.body = RingMemory.bodyWords(PAYLOAD_BYTES);
            this.batch = batch;
        }

        @Override
        int produce(final ProducerCounters counters)
        {
            final MpscBlockingConsumerArrayQueue<Message> queue = this.queue;
            final int batch = this.batch;
            final long sequence = this.sequence;
            int sent = 0;
            while (sent < batch)
            {
                final Message message = pool[(int)(sequence + sent) & poolMask];
                message.write(sequence + sent, body);
                if (!queue.offer(message))
                {
                    break;
                }
                sent++;
            }
            this.sequence = sequence + sent;
            return sent;
        }
    }

    static final class JctoolsConsumer extends Consumer implements MessagePassingQueue.Consumer<Message>
    {
        private final MpscBlockingConsumerArrayQueue<Message> queue;
        private final int batch;

        JctoolsConsumer(final MpscBlockingConsumerArrayQueue<Message> queue, final int batch)
        {
            this.queue = queue;
            this.batch = batch;
        }

        @Override
        int consume(final ConsumerCounters counters)
        {
            final int received = poll();
            if (received > 0)
            {
                return received;
            }
            counters.waits++;
            try
            {
                return queue.drain(this, batch, WAIT_LIMIT_NS, TimeUnit.NANOSECONDS);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
                return 0;
            }
        }

        @Override
        int poll()
        {
            return queue.drain(this, batch);
        }

        @Override
        public void accept(final Message message)
        {
            sink += message.read();
        }
    }

    static final class AgronaProducer extends Producer
    {
        private final OneToOneRingBuffer ring;
        private final UnsafeBuffer payload;
        private final int batch;

        AgronaProducer(final OneToOneRingBuffer ring, final int batch)
        {
            this.ring = ring;
            this.payload = RingMemory.payload(PAYLOAD_BYTES);
            this.batch = batch;
        }

        @Override
        int produce(final ProducerCounters counters)
        {
            final OneToOneRingBuffer ring = this.ring;
            final UnsafeBuffer payload = this.payload;
            final int batch = this.batch;
            final long sequence = this.sequence;
            int sent = 0;
            while (sent < batch)
            {
                payload.putLong(0, sequence + sent);
                if (!ring.write(RingMemory.MSG_TYPE_ID, payload, 0, PAYLOAD_BYTES))
                {
                    break;
                }
                sent++;
            }
            this.sequence = sequence + sent;
            return sent;
        }
    }

    static final class AgronaConsumer extends Consumer implements MessageHandler
    {
        private final OneToOneRingBuffer ring;
        private final BackoffIdleStrategy idle = new BackoffIdleStrategy(
            BackoffIdleStrategy.DEFAULT_MAX_SPINS, BackoffIdleStrategy.DEFAULT_MAX_YIELDS,
            BackoffIdleStrategy.DEFAULT_MIN_PARK_PERIOD_NS, WAIT_LIMIT_NS);
        private final int batch;

        AgronaConsumer(final OneToOneRingBuffer ring, final int batch)
        {
            this.ring = ring;
            this.batch = batch;
        }

        @Override
        int consume(final ConsumerCounters counters)
        {
            final int received = poll();
            if (0 == received)
            {
                counters.waits++;
            }
            idle.idle(received);
            return received;
        }

        @Override
        int poll()
        {
            return ring.read(this, batch);
        }

        @Override
        public void onMessage(final int msgTypeId, final MutableDirectBuffer buffer, final int index, final int length)
        {
            sink += buffer.getLong(index);
        }
    }
}
