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
 * The Xen shape: a front end keeps up to {@code depth} requests outstanding (the I/O depth) and a back end answers
 * each one. Read {@code completed}, the request/response pairs the front end finished per microsecond; the group
 * score counts calls. {@code frontIdle} and {@code backIdle} count calls that found nothing to do.
 * <p>
 * Each {@code front} call consumes every response that has arrived, then tops the outstanding requests up to
 * {@code depth} and publishes them at once; each {@code back} call answers every request that has arrived and
 * publishes the responses at once. Requests are {@code requestBytes} long (112 is a blkif request; 64 a small one):
 * an id, then a body copied from a prepared buffer. Responses are 16 bytes: the id and a status word, as a blkif
 * response. The back end reads the first and last words of each request; the front end reads both response words.
 * <ul>
 *   <li>pvio: one ring of {@code ringPages} pages (one page holds 32 entries of 64 or 112 bytes); each response goes
 *       into the slot of the request it answers.</li>
 *   <li>JCTools: a request queue and a response queue, each with pvio's entry count, carrying pre-allocated
 *       {@link Message}s; the front uses {@code fill}/{@code drain}, the back {@code drain} and one {@code offer} per
 *       response.</li>
 *   <li>Agrona: a request ring and a response ring, each with a data area of {@code ringPages} pages.</li>
 * </ul>
 */
@State(Scope.Group)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class RingRequestResponseBenchmark extends AbstractRingBenchmark
{
    /** Bytes of every response: id and status. */
    public static final int RESPONSE_BYTES = 16;

    /** Implementation under test, see {@link Impl}. */
    @Param({Impl.PVIO, Impl.JCTOOLS_SPSC, Impl.JCTOOLS_SPSC_VH, Impl.AGRONA_O2O})
    public String impl;

    /** Most requests outstanding at once. */
    @Param({"1", "32"})
    public int depth;

    /** Bytes per request: 112 as blkif, or 64. */
    @Param({"112", "64"})
    public int requestBytes;

    /** Pages of pvio's ring, and of each Agrona ring. */
    @Param({"1"})
    public int ringPages;

    /**
     * When pvio's back end publishes responses: {@code each} after every response, as Xen's blkback
     * ({@code make_response}) does and as the peers' per-message {@code offer}/{@code write} do; {@code batch} once
     * after all the requests one call found. The peers ignore it.
     */
    @Param({"each", "batch"})
    public String responsePush;

    private Front front;
    private Back back;

    /**
     * Builds the implementation named by {@link #impl}.
     */
    @Setup(Level.Trial)
    public void setUp()
    {
        RingMemory.checkPayload(requestBytes);
        final RingGeometry geometry = RingGeometry.ofPages(ringPages, requestBytes, RESPONSE_BYTES, Long.BYTES);
        if (depth < 1 || depth > geometry.size())
        {
            throw new IllegalArgumentException("depth must be 1.." + geometry.size() + ": depth=" + depth);
        }
        switch (impl)
        {
            case Impl.PVIO:
            {
                final AtomicBuffer memory = RingMemory.allocate(geometry.ringBytes());
                front = new PvioFront(FrontRing.init(memory, geometry), requestBytes, depth);
                back = new PvioBack(BackRing.attach(memory, geometry), requestBytes, "each".equals(responsePush));
                break;
            }
            case Impl.JCTOOLS_SPSC:
            case Impl.JCTOOLS_SPSC_VH:
            {
                final boolean unsafe = Impl.JCTOOLS_SPSC.equals(impl);
                final MessagePassingQueue<Message> requests = unsafe ?
                    new SpscArrayQueue<>(geometry.size()) : new SpscVarHandleArrayQueue<>(geometry.size());
                final MessagePassingQueue<Message> responses = unsafe ?
                    new SpscArrayQueue<>(geometry.size()) : new SpscVarHandleArrayQueue<>(geometry.size());
                front = new JctoolsFront(requests, responses, requestBytes, depth);
                back = new JctoolsBack(requests, responses);
                break;
            }
            case Impl.AGRONA_O2O:
            {
                final int ringBytes = ringPages * SharedRingDescriptor.PAGE_SIZE;
                final OneToOneRingBuffer requests = RingMemory.agronaRing(ringBytes);
                final OneToOneRingBuffer responses = RingMemory.agronaRing(ringBytes);
                front = new AgronaFront(requests, responses, requestBytes, depth);
                back = new AgronaBack(requests, responses);
                break;
            }
            default:
                throw Impl.unknown(impl);
        }
    }

    /**
     * Answers and consumes everything in flight, with both threads stopped, so each iteration starts idle.
     */
    @TearDown(Level.Iteration)
    public void drain()
    {
        while (front.outstanding > 0)
        {
            back.answer();
            front.outstanding -= front.complete();
        }
    }

    /**
     * Consumes arrived responses and tops the outstanding requests up to {@link #depth}.
     *
     * @param counters the front end's counters.
     */
    @Benchmark
    @Group("rr")
    @GroupThreads(1)
    public void front(final FrontCounters counters)
    {
        final int completed = front.cycle();
        if (0 == completed)
        {
            counters.frontIdle++;
        }
        else
        {
            counters.completed += completed;
        }
    }

    /**
     * Answers every arrived request.
     *
     * @param counters the back end's counters.
     */
    @Benchmark
    @Group("rr")
    @GroupThreads(1)
    public void back(final BackCounters counters)
    {
        final int answered = back.answerAll();
        if (0 == answered)
        {
            counters.backIdle++;
        }
        else
        {
            counters.answered += answered;
        }
    }

    /**
     * The front end's counters, reported per microsecond.
     */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class FrontCounters
    {
        /** Request/response pairs completed: the figure this benchmark is about. */
        public long completed;

        /** Front calls that found no response. */
        public long frontIdle;

        /**
         * Zeroes the counters before each iteration.
         */
        @Setup(Level.Iteration)
        public void reset()
        {
            completed = 0;
            frontIdle = 0;
        }
    }

    /**
     * The back end's counters, reported per microsecond.
     */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class BackCounters
    {
        /** Requests answered. */
        public long answered;

        /** Back calls that found no request. */
        public long backIdle;

        /**
         * Zeroes the counters before each iteration.
         */
        @Setup(Level.Iteration)
        public void reset()
        {
            answered = 0;
            backIdle = 0;
        }
    }

    abstract static class Front extends PaddedSide
    {
        /**
         * Consumes arrived responses, then sends requests until {@code depth} are outstanding.
         *
         * Compiled on its own (not inlined into JMH's loop), so each fork compiles the ring code with the same, mature
         * profile; without this the inlining into the loop varied between forks and so did the score, by up to 3x.
         *
         * @return responses consumed.
         */
        @CompilerControl(CompilerControl.Mode.DONT_INLINE)
        final int cycle()
        {
            final int completed = complete();
            final int outstanding = this.outstanding - completed;
            this.outstanding = outstanding + send(depth() - outstanding);
            return completed;
        }

        abstract int depth();

        /**
         * Consumes every response that has arrived.
         *
         * @return responses consumed.
         */
        abstract int complete();

        /**
         * Sends and publishes up to {@code count} requests. There is room for all of them unless a peer frees its
         * request space only after the responses are visible (Agrona advances its head after the whole read).
         *
         * @param count requests to send, possibly zero.
         * @return requests sent.
         */
        abstract int send(int count);
    }

    abstract static class Back extends PaddedSide
    {
        /**
         * {@link #answer()} compiled on its own, as {@link Front#cycle()}.
         *
         * @return requests answered.
         */
        @CompilerControl(CompilerControl.Mode.DONT_INLINE)
        final int answerAll()
        {
            return answer();
        }

        /**
         * Answers every request that has arrived and publishes the responses.
         *
         * @return requests answered.
         */
        abstract int answer();
    }

    static final class PvioFront extends Front implements EntryHandler
    {
        private final FrontRing ring;
        private final AtomicBuffer buffer;
        private final UnsafeBuffer body;
        private final int bodyBytes;
        private final int depth;

        PvioFront(final FrontRing ring, final int requestBytes, final int depth)
        {
            this.ring = ring;
            this.buffer = ring.buffer();
            this.body = RingMemory.payload(requestBytes);
            this.bodyBytes = requestBytes - Long.BYTES;
            this.depth = depth;
        }

        @Override
        int depth()
        {
            return depth;
        }

        @Override
        int complete()
        {
            return ring.readResponses(this, Integer.MAX_VALUE);
        }

        @Override
        public void onEntry(final DirectBuffer buffer, final int offset)
        {
            sink += buffer.getLong(offset) + buffer.getLong(offset + Long.BYTES);
        }

        @Override
        int send(final int count)
        {
            if (count <= 0)
            {
                return 0;
            }
            final FrontRing ring = this.ring;
            final AtomicBuffer buffer = this.buffer;
            final UnsafeBuffer body = this.body;
            final int bodyBytes = this.bodyBytes;
            final long sequence = this.sequence;
            int sent = 0;
            while (sent < count)
            {
                final int offset = ring.claimRequest();
                if (RingEnd.RING_FULL == offset)
                {
                    break;
                }
                buffer.putLong(offset, sequence + sent);
                buffer.putBytes(offset + Long.BYTES, body, Long.BYTES, bodyBytes);
                sent++;
            }
            if (sent > 0)
            {
                ring.pushRequests();
                this.sequence = sequence + sent;
            }
            return sent;
        }
    }

    static final class PvioBack extends Back implements EntryHandler
    {
        private final BackRing ring;
        private final AtomicBuffer buffer;
        private final int lastWord;
        private final boolean pushEach;

        PvioBack(final BackRing ring, final int requestBytes, final boolean pushEach)
        {
            this.ring = ring;
            this.buffer = ring.buffer();
            this.lastWord = requestBytes - Long.BYTES;
            this.pushEach = pushEach;
        }

        @Override
        int answer()
        {
            final BackRing ring = this.ring;
            final int answered = ring.readRequests(this, Integer.MAX_VALUE);
            if (answered > 0 && !pushEach)
            {
                ring.pushResponses();
            }
            return answered;
        }

        @Override
        public void onEntry(final DirectBuffer request, final int offset)
        {
            final long id = request.getLong(offset);
            final long last = request.getLong(offset + lastWord);
            sink += last;
            final int response = ring.claimResponse();
            final AtomicBuffer buffer = this.buffer;
            buffer.putLong(response, id);
            buffer.putLong(response + Long.BYTES, last & 0xFF);
            if (pushEach)
            {
                ring.pushResponses();
            }
        }
    }

    static final class JctoolsFront extends Front
        implements MessagePassingQueue.Supplier<Message>, MessagePassingQueue.Consumer<Message>
    {
        private final MessagePassingQueue<Message> requests;
        private final MessagePassingQueue<Message> responses;
        private final Message[] pool;
        private final int poolMask;
        private final long[] body;
        private final int depth;

        JctoolsFront(
            final MessagePassingQueue<Message> requests,
            final MessagePassingQueue<Message> responses,
            final int requestBytes,
            final int depth)
        {
            this.requests = requests;
            this.responses = responses;
            this.pool = Message.pool(requests.capacity(), requestBytes);
            this.poolMask = pool.length - 1;
            this.body = RingMemory.bodyWords(requestBytes);
            this.depth = depth;
        }

        @Override
        int depth()
        {
            return depth;
        }

        @Override
        int complete()
        {
            return responses.drain(this, Integer.MAX_VALUE);
        }

        @Override
        public void accept(final Message response)
        {
            sink += response.read();
        }

        @Override
        int send(final int count)
        {
            if (count <= 0)
            {
                return 0;
            }
            return requests.fill(this, count);
        }

        @Override
        public Message get()
        {
            final long sequence = this.sequence;
            final Message request = pool[(int)sequence & poolMask];
            request.write(sequence, body);
            this.sequence = sequence + 1;
            return request;
        }
    }

    static final class JctoolsBack extends Back implements MessagePassingQueue.Consumer<Message>
    {
        private final MessagePassingQueue<Message> requests;
        private final MessagePassingQueue<Message> responses;
        private final Message[] pool;
        private final int poolMask;

        JctoolsBack(final MessagePassingQueue<Message> requests, final MessagePassingQueue<Message> responses)
        {
            this.requests = requests;
            this.responses = responses;
            this.pool = Message.pool(responses.capacity(), RESPONSE_BYTES);
            this.poolMask = pool.length - 1;
        }

        @Override
        int answer()
        {
            return requests.drain(this, Integer.MAX_VALUE);
        }

        @Override
        public void accept(final Message request)
        {
            final long[] body = request.body;
            final long last = body[body.length - 1];
            sink += last;
            final long sequence = this.sequence;
            final Message response = pool[(int)sequence & poolMask];
            response.sequence = request.sequence;
            response.body[0] = last & 0xFF;
            this.sequence = sequence + 1;
            if (!responses.offer(response))
            {
                throw new IllegalStateException("response queue full");
            }
        }
    }

    static final class AgronaFront extends Front implements MessageHandler
    {
        private final OneToOneRingBuffer requests;
        private final OneToOneRingBuffer responses;
        private final UnsafeBuffer payload;
        private final int requestBytes;
        private final int depth;

        AgronaFront(
            final OneToOneRingBuffer requests,
            final OneToOneRingBuffer responses,
            final int requestBytes,
            final int depth)
        {
            this.requests = requests;
            this.responses = responses;
            this.payload = RingMemory.payload(requestBytes);
            this.requestBytes = requestBytes;
            this.depth = depth;
        }

        @Override
        int depth()
        {
            return depth;
        }

        @Override
        int complete()
        {
            return responses.read(this, Integer.MAX_VALUE);
        }

        @Override
        public void onMessage(final int msgTypeId, final MutableDirectBuffer buffer, final int index, final int length)
        {
            sink += buffer.getLong(index) + buffer.getLong(index + Long.BYTES);
        }

        @Override
        int send(final int count)
        {
            final OneToOneRingBuffer requests = this.requests;
            final UnsafeBuffer payload = this.payload;
            final int requestBytes = this.requestBytes;
            final long sequence = this.sequence;
            int sent = 0;
            while (sent < count)
            {
                payload.putLong(0, sequence + sent);
                if (!requests.write(RingMemory.MSG_TYPE_ID, payload, 0, requestBytes))
                {
                    break;
                }
                sent++;
            }
            this.sequence = sequence + sent;
            return sent;
        }
    }

    static final class AgronaBack extends Back implements MessageHandler
    {
        private final OneToOneRingBuffer requests;
        private final OneToOneRingBuffer responses;
        private final UnsafeBuffer response;

        AgronaBack(final OneToOneRingBuffer requests, final OneToOneRingBuffer responses)
        {
            this.requests = requests;
            this.responses = responses;
            this.response = RingMemory.allocate(RESPONSE_BYTES);
        }

        @Override
        int answer()
        {
            return requests.read(this, Integer.MAX_VALUE);
        }

        @Override
        public void onMessage(final int msgTypeId, final MutableDirectBuffer request, final int index, final int length)
        {
            final long id = request.getLong(index);
            final long last = request.getLong(index + length - Long.BYTES);
            sink += last;
            final UnsafeBuffer response = this.response;
            response.putLong(0, id);
            response.putLong(Long.BYTES, last & 0xFF);
            if (!responses.write(RingMemory.MSG_TYPE_ID, response, 0, RESPONSE_BYTES))
            {
                throw new IllegalStateException("response ring full");
            }
        }
    }
}
