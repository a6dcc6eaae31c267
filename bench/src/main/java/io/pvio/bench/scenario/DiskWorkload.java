package io.pvio.bench.scenario;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A workload engine driving one disk: through the split driver ({@link PvDiskWorkload}) or directly on the image
 * ({@link NativeDiskWorkload}). It issues I/O from {@link #start} until its count is reached or {@link #stop} is
 * called, and counts and times what completes in {@link #stats()}. Each of its {@link #inFlight()} I/O streams counts
 * {@link #finished} down once when it ends.
 */
abstract class DiskWorkload
{
    /** What has completed so far. */
    final WorkloadStats stats = new WorkloadStats();

    /** Counted down once by each stream when it issues nothing more. */
    final CountDownLatch finished;

    /** Set by {@link #stop()}: issue no more I/O. */
    volatile boolean stopping;

    private final int inFlight;

    DiskWorkload(final int inFlight)
    {
        this.inFlight = inFlight;
        this.finished = new CountDownLatch(inFlight);
    }

    /**
     * Starts issuing I/O. I/Os started at or after {@code measureFromNanos} are measured; earlier ones are warm-up.
     *
     * @param measureFromNanos {@link System#nanoTime()} at which the measured window opens.
     */
    abstract void start(long measureFromNanos);

    /**
     * Asks the engine to issue no more I/O; I/Os in flight still complete and are counted.
     */
    void stop()
    {
        stopping = true;
    }

    /**
     * Waits until every I/O issued has completed and nothing more will be issued.
     *
     * @param timeout how long to wait.
     * @param unit    unit of {@code timeout}.
     * @return true if finished, false on timeout.
     * @throws InterruptedException if interrupted.
     */
    boolean awaitFinished(final long timeout, final TimeUnit unit) throws InterruptedException
    {
        return finished.await(timeout, unit);
    }

    /**
     * What has completed so far; live.
     *
     * @return the counters and latencies.
     */
    WorkloadStats stats()
    {
        return stats;
    }

    /**
     * I/Os kept in flight at once.
     *
     * @return the depth: the queue depth through the split driver, the thread count natively.
     */
    int inFlight()
    {
        return inFlight;
    }
}
