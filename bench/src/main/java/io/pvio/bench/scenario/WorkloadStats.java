package io.pvio.bench.scenario;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * What a workload engine has completed: counts for the whole run, I/Os, bytes and latencies for the measured window
 * (I/Os started after the warm-up), and verification results. Written from the threads that complete I/O without
 * allocating (atomic counters and an HdrHistogram {@link Recorder}), read live from any thread.
 */
final class WorkloadStats
{
    /** Latencies above this are recorded as this. */
    static final long MAX_LATENCY_NANOS = TimeUnit.SECONDS.toNanos(60);

    private final Recorder recorder = new Recorder(1, MAX_LATENCY_NANOS, 3);
    private final Histogram latency = new Histogram(1, MAX_LATENCY_NANOS, 3);
    private final AtomicLong completed = new AtomicLong();
    private final AtomicLong measured = new AtomicLong();
    private final AtomicLong measuredBytes = new AtomicLong();
    private final AtomicLong lastMeasuredNanos = new AtomicLong();
    private final AtomicLong readsChecked = new AtomicLong();
    private final AtomicLong mismatches = new AtomicLong();
    private final AtomicLong errors = new AtomicLong();
    private volatile String firstError;
    private volatile long measureFromNanos;
    private volatile boolean measuring;

    /**
     * Opens the measured window.
     *
     * @param nanos {@link System#nanoTime()} from which started I/Os are measured.
     */
    void measureFrom(final long nanos)
    {
        measureFromNanos = nanos;
        lastMeasuredNanos.set(nanos);
        measuring = true;
    }

    long measureFromNanos()
    {
        return measureFromNanos;
    }

    /** Counts an I/O that completed, successfully or not, and times it if it started in the measured window. */
    void completed(final long startNanos, final long endNanos, final int bytes)
    {
        completed.incrementAndGet();
        if (measuring && startNanos - measureFromNanos >= 0)
        {
            measured.incrementAndGet();
            measuredBytes.addAndGet(bytes);
            recorder.recordValue(Math.max(1, Math.min(endNanos - startNanos, MAX_LATENCY_NANOS)));
            lastMeasuredNanos.accumulateAndGet(endNanos, Math::max);
        }
    }

    /** Counts a read checked against the expected content. */
    void checked(final boolean matched)
    {
        readsChecked.incrementAndGet();
        if (!matched)
        {
            mismatches.incrementAndGet();
        }
    }

    /** Counts a failed I/O, keeping the first message. */
    void error(final String message)
    {
        if (1 == errors.incrementAndGet())
        {
            firstError = message;
        }
    }

    long completed()
    {
        return completed.get();
    }

    long measured()
    {
        return measured.get();
    }

    long measuredBytes()
    {
        return measuredBytes.get();
    }

    /** Nanoseconds from the start of the measured window to the last measured completion. */
    long measuredNanos()
    {
        return lastMeasuredNanos.get() - measureFromNanos;
    }

    long readsChecked()
    {
        return readsChecked.get();
    }

    long mismatches()
    {
        return mismatches.get();
    }

    long errors()
    {
        return errors.get();
    }

    String firstError()
    {
        return firstError;
    }

    /**
     * The latencies of every measured I/O so far (allocates; for readers, not the I/O threads).
     *
     * @return a copy, in nanoseconds.
     */
    synchronized Histogram latency()
    {
        latency.add(recorder.getIntervalHistogram());
        return latency.copy();
    }
}
