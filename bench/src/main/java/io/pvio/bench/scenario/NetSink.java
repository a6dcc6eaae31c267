package io.pvio.bench.scenario;

import java.util.concurrent.atomic.AtomicLong;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import org.agrona.DirectBuffer;

/**
 * Where a network workload's datagrams arrive: a stream's receiver, a request/response server (requests) or its
 * client (responses). Counts every datagram, checks its payload against {@link UdpFrames}' pattern when verifying,
 * and, for datagrams sent in the measured window, counts their frame bytes and records the time since their send
 * stamp (one way for a stream, the round trip for responses). Written by one receiving thread at a time (a guest's
 * vCPU or the uplink's peer) without allocating; read live from any thread.
 */
final class NetSink
{
    private final Recorder recorder = new Recorder(1, WorkloadStats.MAX_LATENCY_NANOS, 3);
    private final AtomicLong received = new AtomicLong();
    private final AtomicLong measured = new AtomicLong();
    private final AtomicLong measuredBytes = new AtomicLong();
    private final AtomicLong lastMeasuredNanos = new AtomicLong();
    private final AtomicLong checked = new AtomicLong();
    private final AtomicLong mismatches = new AtomicLong();
    private final boolean verify;
    private final boolean timed;
    private final int frameBytes;
    private volatile long measureFromNanos = Long.MAX_VALUE;
    private volatile long stopAtNanos = Long.MAX_VALUE;
    private volatile NetGenerator waiter;

    /**
     * A sink.
     *
     * @param verify     whether to check every payload.
     * @param timed      whether to record the time since the send stamp.
     * @param frameBytes bytes of each datagram's frame, counted per measured datagram.
     */
    NetSink(final boolean verify, final boolean timed, final int frameBytes)
    {
        this.verify = verify;
        this.timed = timed;
        this.frameBytes = frameBytes;
    }

    /**
     * Sets the measured window: datagrams stamped from {@code measureFromNanos} until {@code stopAtNanos}.
     *
     * @param measureFromNanos its start.
     * @param stopAtNanos      its end.
     */
    void window(final long measureFromNanos, final long stopAtNanos)
    {
        lastMeasuredNanos.set(measureFromNanos);
        this.stopAtNanos = stopAtNanos;
        this.measureFromNanos = measureFromNanos;
    }

    /**
     * One datagram's payload. Allocates nothing.
     *
     * @param payload the buffer holding it.
     * @param offset  where it starts.
     * @param length  its bytes.
     */
    void onPayload(final DirectBuffer payload, final int offset, final int length)
    {
        final long now = System.nanoTime();
        if (verify)
        {
            checked.lazySet(checked.get() + 1);
            if (length < UdpFrames.STAMP || !UdpFrames.matches(payload, offset, length))
            {
                mismatches.incrementAndGet();
            }
        }
        if (length >= UdpFrames.STAMP)
        {
            final long sent = UdpFrames.sendNanos(payload, offset);
            if (sent - measureFromNanos >= 0 && sent - stopAtNanos < 0)
            {
                measured.lazySet(measured.get() + 1);
                measuredBytes.lazySet(measuredBytes.get() + frameBytes);
                lastMeasuredNanos.lazySet(now);
                if (timed)
                {
                    recorder.recordValue(Math.max(1, Math.min(WorkloadStats.MAX_LATENCY_NANOS, now - sent)));
                }
            }
        }
        // last, and volatile: a reader that sees the count sees what came before it, and the store is ordered before
        // the read of the sender's parked flag (StoreLoad), which it pairs with
        received.set(received.get() + 1);
        final NetGenerator waiter = this.waiter;
        if (null != waiter)
        {
            waiter.wake();
        }
    }

    /**
     * Names the sender that waits for this sink's arrivals, to be woken on each.
     *
     * @param waiter the sender, or null.
     */
    void waiter(final NetGenerator waiter)
    {
        this.waiter = waiter;
    }

    /**
     * Counts a datagram that failed its checksum where it arrived, so it never reached {@link #onPayload}.
     */
    void onCorrupt()
    {
        mismatches.incrementAndGet();
    }

    long received()
    {
        return received.get();
    }

    long measured()
    {
        return measured.get();
    }

    long measuredBytes()
    {
        return measuredBytes.get();
    }

    long measureFromNanos()
    {
        return measureFromNanos;
    }

    long lastMeasuredNanos()
    {
        return lastMeasuredNanos.get();
    }

    long checked()
    {
        return checked.get();
    }

    long mismatches()
    {
        return mismatches.get();
    }

    boolean verify()
    {
        return verify;
    }

    /**
     * The times recorded so far, taken out of the recorder: call once, at the end.
     *
     * @return the histogram.
     */
    Histogram latency()
    {
        return recorder.getIntervalHistogram();
    }
}
