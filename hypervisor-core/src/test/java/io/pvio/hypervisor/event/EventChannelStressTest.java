package io.pvio.hypervisor.event;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.pvio.hypervisor.Domain;

import static io.pvio.hypervisor.event.EventChannelFixture.channels;
import static io.pvio.hypervisor.event.EventChannelFixture.connect;
import static io.pvio.hypervisor.event.EventChannelFixture.ops;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Send, wake, handle, millions of times: a ping-pong between two domains in which each handler answers by sending
 * back, so exactly one event is in flight and each one must wake a loop that has, usually, just parked with no
 * timeout. One lost wake-up stalls the ping-pong for good; the test then fails within
 * {@value #STALL_SECONDS} seconds, naming both loops and the pending bits, instead of hanging.
 * <p>
 * {@value #ROUND_TRIPS_PROP_NAME} sets the round trips of the free-running tests (two handler calls each).
 */
class EventChannelStressTest
{
    static final String ROUND_TRIPS_PROP_NAME = "pvio.stress.eventRoundTrips";
    static final long STALL_SECONDS = 5;

    private final long roundTrips = Long.getLong(ROUND_TRIPS_PROP_NAME, 500_000);
    private final EventChannelFixture fixture = new EventChannelFixture();
    private final Domain a = fixture.a;
    private final Domain b = fixture.b;
    private final AtomicLong pings = new AtomicLong();
    private final AtomicLong pongs = new AtomicLong();

    @AfterEach
    void close() throws InterruptedException
    {
        fixture.close();
    }

    @Test
    void shouldNeverLoseWakeUpWhenBothLoopsParkAsSoonAsIdle() throws InterruptedException
    {
        final Thread[] threads = startLoops(0, 0);

        pingPong(roundTrips, false, threads);

        assertTrue(channels(a).eventLoop().parks() + channels(b).eventLoop().parks() > roundTrips / 10,
            "the loops hardly parked, so wake-ups were not tested: " + channels(a).eventLoop() + " " +
            channels(b).eventLoop());
    }

    @Test
    void shouldNeverLoseWakeUpWhenLoopsSpinBeforeParking() throws InterruptedException
    {
        final Thread[] threads = startLoops(50, 2);

        pingPong(roundTrips, false, threads);
    }

    @Test
    void shouldWakeEveryTimeWhenEachSendWaitsForReceiverToPark() throws InterruptedException
    {
        final long forced = Math.max(1, roundTrips / 60);
        final Thread[] threads = startLoops(0, 0);

        pingPong(forced, true, threads);

        assertTrue(channels(a).eventLoop().parks() >= forced, "a parks=" + channels(a).eventLoop().parks());
        assertTrue(channels(b).eventLoop().parks() >= forced, "b parks=" + channels(b).eventLoop().parks());
    }

    private Thread[] startLoops(final int maxSpins, final int maxYields)
    {
        final Thread[] threads = new Thread[2];
        int i = 0;
        for (final Domain domain : new Domain[] {a, b})
        {
            final DomainEventLoop loop = channels(domain).eventLoop();
            final Thread thread = new Thread(() -> loop.run(loop.idleStrategy(maxSpins, maxYields)), loop.roleName());
            thread.setDaemon(true);
            thread.start();
            threads[i++] = thread;
        }
        return threads;
    }

    /**
     * Connects a to b; b answers every event by sending back; a counts a round trip per event and sends again until
     * {@code count}. The first event is the one binding raises on a's new port, delivered when a's handler is bound.
     */
    private void pingPong(final long count, final boolean waitForPark, final Thread[] threads)
        throws InterruptedException
    {
        final int[] ports = connect(a, b);
        final EventChannelOps opsA = ops(a);
        final EventChannelOps opsB = ops(b);
        final DomainEventLoop loopA = channels(a).eventLoop();
        final DomainEventLoop loopB = channels(b).eventLoop();
        channels(b).bindHandler(ports[1], (port) ->
        {
            pongs.incrementAndGet();
            if (waitForPark)
            {
                awaitParked(threads[0], loopA);
            }
            opsB.send(port);
        });
        final long startNs = System.nanoTime();
        channels(a).bindHandler(ports[0], (port) ->
        {
            if (pings.incrementAndGet() <= count)
            {
                if (waitForPark)
                {
                    awaitParked(threads[1], loopB);
                }
                opsA.send(port);
            }
        });

        long last = -1;
        long lastChangeNs = System.nanoTime();
        while (pongs.get() < count || pings.get() < count + 1)
        {
            Thread.sleep(20);
            final long now = pings.get() + pongs.get();
            if (now != last)
            {
                last = now;
                lastChangeNs = System.nanoTime();
            }
            else if (System.nanoTime() - lastChangeNs > TimeUnit.SECONDS.toNanos(STALL_SECONDS))
            {
                fail("lost wake-up: no progress for " + STALL_SECONDS + " s at pings=" + pings.get() + " pongs=" +
                    pongs.get() + " of " + count + "; a pending=" + channels(a).isPending(ports[0]) + " b pending=" +
                    channels(b).isPending(ports[1]) + "; " + loopA + " " + threads[0].getState() + "; " + loopB +
                    " " + threads[1].getState());
            }
        }
        final long elapsedNs = System.nanoTime() - startNs;

        assertEquals(count, pongs.get());
        assertEquals(count + 1, pings.get(), "the bind event plus one per answer");
        if (Boolean.getBoolean("pvio.stress.verbose"))
        {
            System.out.printf("%d round trips in %.1f ms (%.2f us each); %s; %s%n", count, elapsedNs / 1e6,
                elapsedNs / 1e3 / count, loopA, loopB);
        }
    }

    /**
     * Spins until {@code thread} parks in {@code loop}; gives up after the stall time, leaving the stall to the
     * progress check.
     */
    private static void awaitParked(final Thread thread, final DomainEventLoop loop)
    {
        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(STALL_SECONDS);
        while (LockSupport.getBlocker(thread) != loop && System.nanoTime() - deadlineNs < 0)
        {
            Thread.onSpinWait();
        }
    }
}
