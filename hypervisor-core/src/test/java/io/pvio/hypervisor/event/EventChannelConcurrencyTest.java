package io.pvio.hypervisor.event;

import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

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
 * Sends from two threads racing masks and unmasks from a third and a close-and-rebind churn from a fourth, with the
 * receiver's loop running on its own thread.
 * <p>
 * Outcomes, per live port: FORBIDDEN "lost event", the last send's sequence never seen by a handler once the race has
 * stopped and every port is unmasked; ACCEPTABLE "coalesced", many sends seen by one handler call. For the churned
 * port: FORBIDDEN "handler after close", a handler call that starts after the {@code close} of its binding returned;
 * ACCEPTABLE "spurious", a call with nothing new to see (the bind event, or a stale send landing on a rebound port).
 * Everywhere: FORBIDDEN "wrong thread", a handler on any thread but the receiver's loop thread.
 */
class EventChannelConcurrencyTest
{
    private static final int LIVE_PORTS = 6;
    private static final long RACE_NS = TimeUnit.MILLISECONDS.toNanos(
        Long.getLong("pvio.stress.eventRaceMillis", 1500));

    private final EventChannelFixture fixture = new EventChannelFixture();
    private final Domain a = fixture.a;
    private final Domain b = fixture.b;
    private final AtomicBoolean stop = new AtomicBoolean();
    private final Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
    private final AtomicLong wrongThread = new AtomicLong();
    private final AtomicLong afterClose = new AtomicLong();
    private final AtomicLong closes = new AtomicLong();

    @AfterEach
    void close() throws InterruptedException
    {
        fixture.close();
    }

    @Test
    void shouldDeliverLastSendAndRunNoHandlerAfterCloseWhenSendsRaceMasksAndCloses() throws InterruptedException
    {
        final int[] aPorts = new int[LIVE_PORTS];
        final int[] bPorts = new int[LIVE_PORTS];
        final AtomicLongArray sent = new AtomicLongArray(LIVE_PORTS);
        final AtomicLongArray seen = new AtomicLongArray(LIVE_PORTS);
        for (int i = 0; i < LIVE_PORTS; i++)
        {
            final int[] ports = connect(a, b);
            aPorts[i] = ports[0];
            bPorts[i] = ports[1];
            skipToNextWord(ports[1]);
            final int index = i;
            channels(b).bindHandler(bPorts[i], (port) ->
            {
                checkThread();
                // volatile read after the loop's test-and-clear: the sends this call answers are all counted
                seen.set(index, sent.get(index));
            });
        }
        final int[] churn = connect(a, b);
        final int aChurn = churn[0];
        fixture.startLoop(b);

        final List<Thread> threads = new ArrayList<>();
        for (int s = 0; s < 2; s++)
        {
            threads.add(start("sender-" + s, () ->
            {
                while (!stop.get())
                {
                    for (int i = 0; i < LIVE_PORTS; i++)
                    {
                        sent.incrementAndGet(i);
                        ops(a).send(aPorts[i]);
                    }
                    ops(a).send(aChurn);
                }
            }));
        }
        threads.add(start("masker", () ->
        {
            final ThreadLocalRandom random = ThreadLocalRandom.current();
            while (!stop.get())
            {
                final int port = bPorts[random.nextInt(LIVE_PORTS)];
                channels(b).mask(port);
                if (random.nextBoolean())
                {
                    Thread.yield();
                }
                ops(b).unmask(port);
            }
        }));
        threads.add(start("closer", () ->
        {
            int bPort = churn[1];
            while (!stop.get())
            {
                final AtomicBoolean closed = new AtomicBoolean();
                channels(b).bindHandler(bPort, (port) ->
                {
                    checkThread();
                    if (closed.get())
                    {
                        afterClose.incrementAndGet();
                    }
                });
                for (int i = ThreadLocalRandom.current().nextInt(200); i > 0; i--)
                {
                    Thread.onSpinWait();
                }
                ops(b).close(bPort);
                closed.set(true);
                closes.incrementAndGet();
                bPort = ops(b).bindInterdomain(a.id(), aChurn);
            }
        }));

        final long deadlineNs = System.nanoTime() + RACE_NS;
        while (System.nanoTime() - deadlineNs < 0 && failures.isEmpty())
        {
            Thread.sleep(10);
        }
        stop.set(true);
        for (final Thread thread : threads)
        {
            thread.join(TimeUnit.SECONDS.toMillis(10));
            assertTrue(!thread.isAlive(), thread.getName() + " did not stop");
        }
        if (!failures.isEmpty())
        {
            throw new AssertionError("a racing thread failed", failures.peek());
        }
        for (final int port : bPorts)
        {
            ops(b).unmask(port);
        }

        final long settleDeadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        for (int i = 0; i < LIVE_PORTS; i++)
        {
            while (seen.get(i) != sent.get(i))
            {
                if (System.nanoTime() - settleDeadlineNs > 0)
                {
                    fail("lost event on port " + bPorts[i] + ": last send " + sent.get(i) + ", handler saw " +
                        seen.get(i) + ", pending=" + channels(b).isPending(bPorts[i]) + ", masked=" +
                        channels(b).isMasked(bPorts[i]) + ", " + channels(b).eventLoop());
                }
                Thread.yield();
            }
        }
        assertEquals(0, wrongThread.get(), "handler calls off the loop thread");
        assertEquals(0, afterClose.get(), "handler calls after close returned, of " + closes.get() + " closes");
        assertTrue(closes.get() > 100, "closes=" + closes.get());
        long total = 0;
        for (int i = 0; i < LIVE_PORTS; i++)
        {
            total += sent.get(i);
        }
        assertTrue(channels(b).eventLoop().handled() < total, "sends coalesced: handled=" +
            channels(b).eventLoop().handled() + " sent=" + total);
    }

    /**
     * Fills the rest of the receiver's pending word after {@code port} with unused ports, so the next live port sits
     * alone in its word: a port left pending without delivery cannot then be rescued by a neighbour's event.
     */
    private void skipToNextWord(final int port)
    {
        final int lastOfWord = port | (SharedInfoDescriptor.BITS_PER_WORD - 1);
        int filler = port;
        while (filler < lastOfWord)
        {
            filler = ops(b).allocUnbound(a.id());
        }
    }

    private void checkThread()
    {
        // the loop thread is named after the loop's role; handlers may run before start() returns here
        if (!channels(b).eventLoop().roleName().equals(Thread.currentThread().getName()))
        {
            wrongThread.incrementAndGet();
        }
    }

    private Thread start(final String name, final Runnable body)
    {
        final Thread thread = new Thread(() ->
        {
            try
            {
                body.run();
            }
            catch (final Throwable ex)
            {
                failures.add(ex);
            }
        }, name);
        thread.setDaemon(true);
        thread.start();
        return thread;
    }
}
