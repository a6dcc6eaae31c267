package io.pvio.hypervisor.grant;

import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * Keeps a grant table's memory in place while operations use it, and lets its dying owner wait them out: a count of
 * users plus a closed bit in one word. {@link #enter()} fails once {@link #close()} has begun; {@code close} returns
 * when every user that entered before it has left. Users never block inside, so the wait is short.
 */
final class TeardownGuard
{
    private static final int CLOSED = 1 << 31;
    private static final int USERS_MASK = ~CLOSED;
    private static final int SPINS_BEFORE_YIELD = 256;

    /** The word sits 64 bytes from either end of its array, so its writes do not evict the table's other fields. */
    private static final int INDEX = 16;

    private final AtomicIntegerArray cell = new AtomicIntegerArray(2 * INDEX + 1);

    /**
     * Enters, unless closed.
     *
     * @return true if entered: call {@link #exit()} when done.
     */
    boolean enter()
    {
        // Volatile add: pairs with close's CAS, so this user is either counted before the close or sees it.
        if (cell.getAndIncrement(INDEX) < 0)
        {
            cell.getAndDecrement(INDEX);
            return false;
        }
        return true;
    }

    /**
     * Leaves after a successful {@link #enter()}.
     */
    void exit()
    {
        // Volatile add: everything this user did happens before a closer sees the count drop.
        cell.getAndDecrement(INDEX);
    }

    /**
     * Refuses new users and waits for the current ones to leave. Idempotent.
     */
    void close()
    {
        int value = cell.get(INDEX);
        while (value >= 0)
        {
            // Volatile CAS: users that entered before it are in value; later ones see the closed bit.
            final int witness = cell.compareAndExchange(INDEX, value, value | CLOSED);
            if (witness == value)
            {
                break;
            }
            value = witness;
        }
        int spins = 0;
        while (0 != (cell.get(INDEX) & USERS_MASK))
        {
            if (++spins < SPINS_BEFORE_YIELD)
            {
                Thread.onSpinWait();
            }
            else
            {
                Thread.yield();
            }
        }
    }
}
