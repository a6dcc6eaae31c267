package io.pvio.ring;

import java.util.concurrent.atomic.AtomicLong;

/**
 * One end's loop in a two-thread ring test, run by {@link PeerLoopRunner}. The loop publishes a progress count so a
 * stall can be told apart from slow progress, checks {@link #stopRequested()} on every pass so the runner can end it,
 * and describes its counters for the failure message. Anything it throws fails the test.
 */
abstract class PeerLoop implements Runnable
{
    private final String role;
    private final AtomicLong progress = new AtomicLong();
    private volatile Thread thread;
    private volatile boolean stopRequested;
    private volatile Throwable failure;

    PeerLoop(final String role)
    {
        this.role = role;
    }

    /**
     * The loop body: returns when its work is done or when {@link #stopRequested()} turns true.
     *
     * @throws Exception anything that went wrong; it fails the test.
     */
    abstract void work() throws Exception;

    /**
     * Counters for a failure message. Called from the runner's thread, so the values may be slightly stale.
     *
     * @return name=value pairs.
     */
    abstract String counters();

    @Override
    public final void run()
    {
        thread = Thread.currentThread();
        try
        {
            work();
        }
        catch (final Throwable ex)
        {
            failure = ex;
        }
    }

    final String role()
    {
        return role;
    }

    /**
     * The thread running this loop.
     *
     * @return the thread, or null before the loop starts.
     */
    final Thread thread()
    {
        return thread;
    }

    final boolean stopRequested()
    {
        return stopRequested;
    }

    final void requestStop()
    {
        stopRequested = true;
    }

    final void reportProgress(final long count)
    {
        // lazySet: a plain store on x86, so the harness adds no fence that could hide a missing one in the ring
        progress.lazySet(count);
    }

    final long progress()
    {
        return progress.get();
    }

    final Throwable failure()
    {
        return failure;
    }
}
