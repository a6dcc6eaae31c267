package io.pvio.backend.block;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * Lets a store's operations run concurrently with each other but not with the release of its resources: each
 * operation {@linkplain #tryEnter() enters} and {@linkplain #exit() exits}; {@link #close()} shuts the door and
 * waits until every operation that got in has left. One atomic word: the sign bit is "closed", the rest counts the
 * operations inside.
 */
final class InFlightGuard
{
    private static final int CLOSED = Integer.MIN_VALUE;
    private static final int USERS_MASK = Integer.MAX_VALUE;
    private static final int SPINS_BEFORE_PARKING = 1_000;
    private static final long PARK_NS = 50_000;

    private final AtomicInteger state = new AtomicInteger();

    /**
     * Enters an operation; pair every successful call with {@link #exit()} in a {@code finally}.
     *
     * @return true if the store is open and the caller may proceed, false if it is closed.
     */
    boolean tryEnter()
    {
        if (state.getAndIncrement() < 0)
        {
            state.getAndDecrement();
            return false;
        }
        return true;
    }

    /**
     * Leaves an operation entered with {@link #tryEnter()}.
     */
    void exit()
    {
        state.getAndDecrement();
    }

    /**
     * Refuses new operations, then waits for those inside to leave.
     *
     * @return true for the call that closed the guard, false if it was already closed.
     */
    boolean close()
    {
        int current;
        do
        {
            current = state.get();
            if (current < 0)
            {
                return false;
            }
        }
        while (!state.compareAndSet(current, current | CLOSED));

        int spins = 0;
        while (0 != (state.get() & USERS_MASK))
        {
            if (++spins < SPINS_BEFORE_PARKING)
            {
                Thread.onSpinWait();
            }
            else
            {
                LockSupport.parkNanos(PARK_NS);
            }
        }
        return true;
    }

    /**
     * Whether {@link #close()} has been called.
     *
     * @return true once closed.
     */
    boolean isClosed()
    {
        return state.get() < 0;
    }
}
