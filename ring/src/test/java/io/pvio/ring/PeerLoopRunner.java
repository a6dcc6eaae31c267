package io.pvio.ring;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

import org.agrona.concurrent.AtomicBuffer;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Runs a front-end loop and a back-end loop on two threads and watches them. The run fails, rather than hangs, when
 * either loop throws, when neither makes progress for the stall limit (a lost wake-up leaves both sides waiting),
 * or when the deadline passes. The failure names each thread's state and what it is parked on, the loops' counters
 * and the ring's indexes.
 */
final class PeerLoopRunner
{
    private static final long POLL_MS = 10;

    private PeerLoopRunner()
    {
    }

    /**
     * Runs both loops to completion.
     *
     * @param scenario  name for the threads and the failure message.
     * @param front     the front end's loop.
     * @param back      the back end's loop.
     * @param ringState describes the shared and private indexes; called only on failure.
     * @param timeoutNs the whole run must finish within this.
     * @param stallNs   the run fails if neither loop reports progress for this long.
     */
    static void run(
        final String scenario,
        final PeerLoop front,
        final PeerLoop back,
        final Supplier<String> ringState,
        final long timeoutNs,
        final long stallNs)
    {
        final Thread frontThread = new Thread(front, scenario + "-front");
        final Thread backThread = new Thread(back, scenario + "-back");
        frontThread.setDaemon(true);
        backThread.setDaemon(true);

        final long startNs = System.nanoTime();
        final long deadlineNs = startNs + timeoutNs;
        long lastProgress = -1;
        long lastChangeNs = startNs;

        backThread.start();
        frontThread.start();
        try
        {
            while (frontThread.isAlive() || backThread.isAlive())
            {
                (frontThread.isAlive() ? frontThread : backThread).join(POLL_MS);
                if (null != front.failure() || null != back.failure())
                {
                    failRun(scenario, "a loop threw", front, frontThread, back, backThread, ringState);
                }
                final long nowNs = System.nanoTime();
                final long progress = front.progress() + back.progress();
                if (progress != lastProgress)
                {
                    lastProgress = progress;
                    lastChangeNs = nowNs;
                }
                else if (nowNs - lastChangeNs > stallNs)
                {
                    failRun(scenario, "no progress for " + TimeUnit.NANOSECONDS.toMillis(nowNs - lastChangeNs) +
                        " ms (lost wake-up?)", front, frontThread, back, backThread, ringState);
                }
                if (nowNs - deadlineNs > 0)
                {
                    failRun(scenario, "deadline of " + TimeUnit.NANOSECONDS.toMillis(timeoutNs) + " ms passed",
                        front, frontThread, back, backThread, ringState);
                }
            }
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            failRun(scenario, "interrupted", front, frontThread, back, backThread, ringState);
        }
        if (null != front.failure() || null != back.failure())
        {
            failRun(scenario, "a loop threw", front, frontThread, back, backThread, ringState);
        }
    }

    /**
     * The four shared indexes, read with volatile loads, and both ends' private indexes, read racily.
     *
     * @param front the front end.
     * @param back  the back end over the same buffer.
     * @return name=value pairs, indexes unsigned.
     */
    static String ringIndexes(final FrontRing front, final BackRing back)
    {
        final AtomicBuffer buffer = front.buffer();
        return "req_prod=" + unsigned(buffer.getIntVolatile(SharedRingDescriptor.REQ_PROD_OFFSET)) +
            " req_event=" + unsigned(buffer.getIntVolatile(SharedRingDescriptor.REQ_EVENT_OFFSET)) +
            " rsp_prod=" + unsigned(buffer.getIntVolatile(SharedRingDescriptor.RSP_PROD_OFFSET)) +
            " rsp_event=" + unsigned(buffer.getIntVolatile(SharedRingDescriptor.RSP_EVENT_OFFSET)) +
            " front{req_prod_pvt=" + unsigned(front.requestProducerIndex()) +
            " rsp_cons=" + unsigned(front.responseConsumerIndex()) + "}" +
            " back{req_cons=" + unsigned(back.requestConsumerIndex()) +
            " rsp_prod_pvt=" + unsigned(back.responseProducerIndex()) + "}" +
            " size=" + front.size();
    }

    private static String unsigned(final int index)
    {
        return Integer.toUnsignedString(index);
    }

    private static void failRun(
        final String scenario,
        final String why,
        final PeerLoop front,
        final Thread frontThread,
        final PeerLoop back,
        final Thread backThread,
        final Supplier<String> ringState)
    {
        // snapshot first: who is parked and where the indexes stand while the stall is still in place
        final String threads = describe(front, frontThread) + "\n  " + describe(back, backThread);
        final String ring = ringState.get();

        front.requestStop();
        back.requestStop();
        LockSupport.unpark(frontThread);
        LockSupport.unpark(backThread);
        joinQuietly(frontThread);
        joinQuietly(backThread);

        final String message = scenario + ": " + why + "\n  " + threads + "\n  ring: " + ring +
            "\n  after stop: " + front.role() + " {" + front.counters() + "}, " + back.role() + " {" +
            back.counters() + "}";
        final Throwable cause = null != front.failure() ? front.failure() : back.failure();
        if (null != cause)
        {
            fail(message, cause);
        }
        fail(message);
    }

    private static String describe(final PeerLoop loop, final Thread thread)
    {
        final Object blocker = LockSupport.getBlocker(thread);
        final StackTraceElement[] stack = thread.getStackTrace();
        final StringBuilder text = new StringBuilder()
            .append(loop.role()).append(": thread=").append(thread.getState())
            .append(null == blocker ? "" : " parked on " + blocker.getClass().getSimpleName())
            .append(" failure=").append(loop.failure())
            .append(" {").append(loop.counters()).append('}');
        for (int i = 0; i < Math.min(4, stack.length); i++)
        {
            text.append("\n      at ").append(stack[i]);
        }
        return text.toString();
    }

    private static void joinQuietly(final Thread thread)
    {
        try
        {
            thread.join(TimeUnit.SECONDS.toMillis(2));
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }
}
