package io.pvio.bench.event;

import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * A count of completions that one waiting thread can block on: the machine's threads (a vCPU's handler, a
 * completion callback) call {@link #complete()}, the benchmark thread calls {@link #awaitMore(int)}, which spins
 * briefly and then parks until that many more have completed. Neither side allocates.
 * <p>
 * No lost wake-up: the completer increments the count (a full fence), then reads the waiter; the waiter stores
 * itself, fences, then re-reads the count. Whichever runs second sees the other's store, so either the waiter sees
 * the count and does not park, or the completer sees the waiter and unparks it.
 */
public final class CompletionCounter
{
    private static final int SPINS_BEFORE_PARK = 100;

    private final AtomicLong count = new AtomicLong();
    private volatile long awaited;
    private volatile Thread waiter;

    /**
     * A counter at zero.
     */
    public CompletionCounter()
    {
    }

    /**
     * Counts one completion and wakes the waiter once its target is reached.
     *
     * @return the count after this completion.
     */
    public long complete()
    {
        final long now = count.incrementAndGet();
        final Thread parked = waiter;
        if (null != parked && now >= awaited)
        {
            LockSupport.unpark(parked);
        }
        return now;
    }

    /**
     * Waits until {@code more} completions beyond the last target have been counted. One waiting thread only.
     *
     * @param more completions to wait for.
     * @return the new target.
     */
    public long awaitMore(final int more)
    {
        final long target = awaited + more;
        awaited = target;
        int spins = 0;
        while (count.get() < target)
        {
            if (++spins < SPINS_BEFORE_PARK)
            {
                Thread.onSpinWait();
                continue;
            }
            waiter = Thread.currentThread();
            VarHandle.fullFence();
            if (count.get() < target)
            {
                LockSupport.park(this);
            }
            waiter = null;
        }
        return target;
    }

    /**
     * The completions counted so far.
     *
     * @return the count.
     */
    public long count()
    {
        return count.get();
    }
}
