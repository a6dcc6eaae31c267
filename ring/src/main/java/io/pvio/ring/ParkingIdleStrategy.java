package io.pvio.ring;

import java.util.concurrent.locks.LockSupport;

import org.agrona.concurrent.IdleStrategy;

/**
 * An idle strategy that spins, then yields, then parks until a {@linkplain #notifyPeer() notification}: the
 * in-process way to wait on a ring without burning a core. It is both the consumer's {@link IdleStrategy} and the
 * producer's {@link Notifier}.
 * <p>
 * No wake-up is lost if the consumer follows the ring's rule: when out of work, call the final check
 * ({@link BackRing#finalCheckForRequests()} or {@link FrontRing#finalCheckForResponses()}) and idle only if it
 * returns false. The final check publishes the event index behind a full fence, so a producer pushing at the same
 * time either is seen by the re-check or sees the event index and notifies; {@link LockSupport#unpark(Thread)}
 * leaves a permit, so a notification that lands between the final check and the park makes the park return at once.
 * <p>
 * The first {@link #idle()} call binds the calling thread as the one to wake and returns without parking, so the
 * caller's next final check happens after the binding is visible to notifiers.
 */
public final class ParkingIdleStrategy implements IdleStrategy, Notifier
{
    /** Alias reported by {@link #alias()}. */
    public static final String ALIAS = "parking";

    private final int maxSpins;
    private final int maxYields;
    private final long parkTimeoutNs;
    private volatile Thread waiter;
    private int spins;
    private int yields;
    private long parks;

    /**
     * Parks as soon as the consumer runs out of work, with no timeout.
     */
    public ParkingIdleStrategy()
    {
        this(0, 0, 0);
    }

    /**
     * Creates the strategy.
     *
     * @param maxSpins      idle calls that spin before yielding.
     * @param maxYields     idle calls that yield before parking.
     * @param parkTimeoutNs longest park in nanoseconds; 0 parks until notified.
     */
    public ParkingIdleStrategy(final int maxSpins, final int maxYields, final long parkTimeoutNs)
    {
        if (maxSpins < 0 || maxYields < 0 || parkTimeoutNs < 0)
        {
            throw new IllegalArgumentException("negative setting: maxSpins=" + maxSpins + ", maxYields=" + maxYields +
                ", parkTimeoutNs=" + parkTimeoutNs);
        }
        this.maxSpins = maxSpins;
        this.maxYields = maxYields;
        this.parkTimeoutNs = parkTimeoutNs;
    }

    /**
     * Wakes the bound thread, or leaves it a permit if it is not parked. Safe from any thread.
     */
    @Override
    public void notifyPeer()
    {
        final Thread waiter = this.waiter;
        if (null != waiter)
        {
            LockSupport.unpark(waiter);
        }
    }

    /**
     * {@inheritDoc}
     */
    @Override
    public void idle(final int workCount)
    {
        if (workCount > 0)
        {
            reset();
        }
        else
        {
            idle();
        }
    }

    /**
     * {@inheritDoc}
     */
    @Override
    public void idle()
    {
        if (null == waiter)
        {
            waiter = Thread.currentThread();
            return;
        }
        if (spins < maxSpins)
        {
            spins++;
            Thread.onSpinWait();
        }
        else if (yields < maxYields)
        {
            yields++;
            Thread.yield();
        }
        else
        {
            parks++;
            if (0 == parkTimeoutNs)
            {
                LockSupport.park(this);
            }
            else
            {
                LockSupport.parkNanos(this, parkTimeoutNs);
            }
        }
    }

    /**
     * {@inheritDoc}
     */
    @Override
    public void reset()
    {
        spins = 0;
        yields = 0;
    }

    /**
     * Times the bound thread has parked. Read it from that thread, or after it stopped. It can exceed the
     * notifications received by a little: a park may return early without one (the JVM allows spurious returns, and
     * an unpark racing a park can leave a permit that ends the next park too); the caller just checks again.
     *
     * @return park count.
     */
    public long parks()
    {
        return parks;
    }

    /**
     * {@inheritDoc}
     */
    @Override
    public String alias()
    {
        return ALIAS;
    }
}
