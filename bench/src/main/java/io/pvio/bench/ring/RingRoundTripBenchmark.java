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
import org.openjdk.jmh.infra.Control;

import io.pvio.ring.BackRing;
import io.pvio.ring.EntryHandler;
import io.pvio.ring.FrontRing;
import io.pvio.ring.RingEnd;
import io.pvio.ring.RingGeometry;
import io.pvio.ring.SharedRingDescriptor;

/**
 * Round trip with one request in flight, both ends spinning: {@code ping} sends a request of {@code payloadBytes}
 * and spins until its response arrives; {@code pong} answers each request with the value it carried. Report the
 * {@code rtt:ping} score, the round trip; the group score averages in {@code pong}, whose calls return at once when
 * idle, and means nothing.
 * <p>
 * pvio uses one ring, the Xen shape: the request and its response travel through the same slot and the same header
 * line. The peers use two queues or two rings, one each way. Memory: pvio one page, Agrona one page per direction,
 * JCTools queues as long as pvio's entry count.
 * <p>
 * {@code ping} leaves its spin through {@link Control#stopMeasurement} when the iteration ends, possibly with a
 * request unanswered; {@link #drain()} empties both directions between iterations.
 */
@State(Scope.Group)
@BenchmarkMode({Mode.AverageTime, Mode.SampleTime})
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class RingRoundTripBenchmark extends AbstractRingBenchmark
{
    /** Implementation under test, see {@link Impl}. */
    @Param({Impl.PVIO, Impl.JCTOOLS_SPSC, Impl.JCTOOLS_SPSC_VH, Impl.AGRONA_O2O})
    public String impl;

    /** Bytes per request and per response. */
    @Param({"8"})
    public int payloadBytes;

    private Pinger pinger;
    private Ponger ponger;

    /**
     * Builds the implementation named by {@link #impl}.
     */
    @Setup(Level.Trial)
    public void setUp()
    {
        RingMemory.checkPayload(payloadBytes);
        final RingGeometry geometry = RingGeometry.ofPages(1, payloadBytes, payloadBytes, Long.BYTES);
        switch (impl)
        {
            case Impl.PVIO:
            {
                final AtomicBuffer memory = RingMemory.allocate(geometry.ringBytes());
                final FrontRing front = FrontRing.init(memory, geometry);
                final BackRing back = BackRing.attach(memory, geometry);
                pinger = new PvioPinger(front, payloadBytes);
                ponger = new PvioPonger(back);
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
                pinger = new JctoolsPinger(requests, responses, payloadBytes);
                ponger = new JctoolsPonger(requests, responses, payloadBytes);
                break;
            }
            case Impl.AGRONA_O2O:
            {
                final OneToOneRingBuffer requests = RingMemory.agronaRing(SharedRingDescriptor.PAGE_SIZE);
                final OneToOneRingBuffer responses = RingMemory.agronaRing(SharedRingDescriptor.PAGE_SIZE);
                pinger = new AgronaPinger(requests, responses, payloadBytes);
                ponger = new AgronaPonger(requests, responses);
                break;
            }
            default:
                throw Impl.unknown(impl);
        }
    }

    /**
     * Answers and consumes whatever is still in flight, with both threads stopped.
     */
    @TearDown(Level.Iteration)
    public void drain()
    {
        boolean more = true;
        while (more)
        {
            more = ponger.pong();
        }
        pinger.discard();
    }

    /**
     * One round trip.
     *
     * @param control JMH control, to leave the spin when the iteration ends.
     * @return the value the response carried.
     */
    @Benchmark
    @Group("rtt")
    @GroupThreads(1)
    public long ping(final Control control)
    {
        return pinger.ping(control);
    }

    /**
     * Answers the pending request, if there is one.
     *
     * @return true if a request was answered.
     */
    @Benchmark
    @Group("rtt")
    @GroupThreads(1)
    public boolean pong()
    {
        return ponger.pongOnce();
    }

    abstract static class Pinger extends PaddedSide
    {
        /**
         * Sends the next request and spins for its response.
         *
         * @param control JMH control.
         * Compiled on its own rather than inlined into JMH's loop, so every fork compiles it with a mature profile.
         *
         * @return the response value, or -1 if the measurement ended first.
         */
        @CompilerControl(CompilerControl.Mode.DONT_INLINE)
        final long ping(final Control control)
        {
            if (control.stopMeasurement)
            {
                return -1;
            }
            final long sequence = this.sequence;
            send(sequence);
            this.sequence = sequence + 1;
            while (!receive())
            {
                if (control.stopMeasurement)
                {
                    return -1;
                }
            }
            return sink;
        }

        abstract void send(long sequence);

        /**
         * Consumes a response if one is there, leaving its value in {@code sink}.
         *
         * @return true if a response was consumed.
         */
        abstract boolean receive();

        void discard()
        {
            boolean more = true;
            while (more)
            {
                more = receive();
            }
        }
    }

    abstract static class Ponger extends PaddedSide
    {
        /**
         * {@link #pong()} compiled on its own, as {@link Pinger#ping(Control)}.
         *
         * @return true if a request was answered.
         */
        @CompilerControl(CompilerControl.Mode.DONT_INLINE)
        final boolean pongOnce()
        {
            return pong();
        }

        abstract boolean pong();
    }

    static final class PvioPinger extends Pinger implements EntryHandler
    {
        private final FrontRing front;
        private final AtomicBuffer ring;
        private final UnsafeBuffer body;
        private final int bodyBytes;

        PvioPinger(final FrontRing front, final int payloadBytes)
        {
            this.front = front;
            this.ring = front.buffer();
            this.body = RingMemory.payload(payloadBytes);
            this.bodyBytes = payloadBytes - Long.BYTES;
        }

        @Override
        void send(final long sequence)
        {
            final FrontRing front = this.front;
            final int offset = front.claimRequest();
            if (RingEnd.RING_FULL == offset)
            {
                throw new IllegalStateException("ring full with one request in flight: " + front.freeRequests());
            }
            final AtomicBuffer ring = this.ring;
            ring.putLong(offset, sequence);
            if (bodyBytes > 0)
            {
                ring.putBytes(offset + Long.BYTES, body, Long.BYTES, bodyBytes);
            }
            front.pushRequests();
        }

        @Override
        boolean receive()
        {
            return front.readResponses(this, 1) > 0;
        }

        @Override
        public void onEntry(final DirectBuffer buffer, final int offset)
        {
            sink = buffer.getLong(offset);
        }
    }

    static final class PvioPonger extends Ponger implements EntryHandler
    {
        private final BackRing back;
        private final AtomicBuffer ring;

        PvioPonger(final BackRing back)
        {
            this.back = back;
            this.ring = back.buffer();
        }

        @Override
        boolean pong()
        {
            final BackRing back = this.back;
            if (back.readRequests(this, 1) > 0)
            {
                back.pushResponses();
                return true;
            }
            return false;
        }

        @Override
        public void onEntry(final DirectBuffer buffer, final int offset)
        {
            // the response takes the request's slot (Xen's in-order use), so the echoed body is already in place
            final long value = buffer.getLong(offset);
            ring.putLong(back.claimResponse(), value);
        }
    }

    static final class JctoolsPinger extends Pinger
    {
        private final MessagePassingQueue<Message> requests;
        private final MessagePassingQueue<Message> responses;
        private final Message request;
        private final long[] body;

        JctoolsPinger(
            final MessagePassingQueue<Message> requests,
            final MessagePassingQueue<Message> responses,
            final int payloadBytes)
        {
            this.requests = requests;
            this.responses = responses;
            this.request = new Message(payloadBytes);
            this.body = RingMemory.bodyWords(payloadBytes);
        }

        @Override
        void send(final long sequence)
        {
            final Message request = this.request;
            request.write(sequence, body);
            if (!requests.offer(request))
            {
                throw new IllegalStateException("request queue full with one request in flight");
            }
        }

        @Override
        boolean receive()
        {
            final Message response = responses.poll();
            if (null == response)
            {
                return false;
            }
            sink = response.sequence;
            return true;
        }
    }

    static final class JctoolsPonger extends Ponger
    {
        private final MessagePassingQueue<Message> requests;
        private final MessagePassingQueue<Message> responses;
        private final Message response;

        JctoolsPonger(
            final MessagePassingQueue<Message> requests,
            final MessagePassingQueue<Message> responses,
            final int payloadBytes)
        {
            this.requests = requests;
            this.responses = responses;
            this.response = new Message(payloadBytes);
        }

        @Override
        boolean pong()
        {
            final Message request = requests.poll();
            if (null == request)
            {
                return false;
            }
            final Message response = this.response;
            response.write(request.sequence, request.body);
            responses.offer(response);
            return true;
        }
    }

    static final class AgronaPinger extends Pinger implements MessageHandler
    {
        private final OneToOneRingBuffer requests;
        private final OneToOneRingBuffer responses;
        private final UnsafeBuffer payload;
        private final int payloadBytes;

        AgronaPinger(final OneToOneRingBuffer requests, final OneToOneRingBuffer responses, final int payloadBytes)
        {
            this.requests = requests;
            this.responses = responses;
            this.payload = RingMemory.payload(payloadBytes);
            this.payloadBytes = payloadBytes;
        }

        @Override
        void send(final long sequence)
        {
            final UnsafeBuffer payload = this.payload;
            payload.putLong(0, sequence);
            if (!requests.write(RingMemory.MSG_TYPE_ID, payload, 0, payloadBytes))
            {
                throw new IllegalStateException("request ring full with one request in flight");
            }
        }

        @Override
        boolean receive()
        {
            return responses.read(this, 1) > 0;
        }

        @Override
        public void onMessage(final int msgTypeId, final MutableDirectBuffer buffer, final int index, final int length)
        {
            sink = buffer.getLong(index);
        }
    }

    static final class AgronaPonger extends Ponger implements MessageHandler
    {
        private final OneToOneRingBuffer requests;
        private final OneToOneRingBuffer responses;

        AgronaPonger(final OneToOneRingBuffer requests, final OneToOneRingBuffer responses)
        {
            this.requests = requests;
            this.responses = responses;
        }

        @Override
        boolean pong()
        {
            return requests.read(this, 1) > 0;
        }

        @Override
        public void onMessage(final int msgTypeId, final MutableDirectBuffer buffer, final int index, final int length)
        {
            responses.write(RingMemory.MSG_TYPE_ID, buffer, index, length);
        }
    }
}
