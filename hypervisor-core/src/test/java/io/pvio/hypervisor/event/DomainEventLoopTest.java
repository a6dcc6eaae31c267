package io.pvio.hypervisor.event;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.agrona.concurrent.AgentRunner;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.pvio.hypervisor.Domain;
import io.pvio.hypervisor.HypercallKind;

import static io.pvio.hypervisor.event.EventChannelFixture.await;
import static io.pvio.hypervisor.event.EventChannelFixture.awaitParked;
import static io.pvio.hypervisor.event.EventChannelFixture.channels;
import static io.pvio.hypervisor.event.EventChannelFixture.connect;
import static io.pvio.hypervisor.event.EventChannelFixture.ops;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Delivery: which thread runs handlers, coalescing, masking, the bind event, waking a parked loop, and close against
 * a running handler. Most tests step the loop by hand with {@link DomainEventLoop#doWork()}.
 */
class DomainEventLoopTest
{
    private final EventChannelFixture fixture = new EventChannelFixture();
    private final Domain a = fixture.a;
    private final Domain b = fixture.b;
    private final DomainEventLoop loopA = channels(a).eventLoop();
    private final DomainEventLoop loopB = channels(b).eventLoop();

    @AfterEach
    void close() throws InterruptedException
    {
        fixture.close();
    }

    @Test
    void shouldRunHandlerOnReceiversLoopThreadWhenSent() throws InterruptedException
    {
        final int[] ports = connect(a, b);
        final AtomicReference<Thread> ranOn = new AtomicReference<>();
        final CountDownLatch ran = new CountDownLatch(1);
        channels(b).bindHandler(ports[1], (port) ->
        {
            ranOn.set(Thread.currentThread());
            ran.countDown();
        });
        final Thread loopThread = fixture.startLoop(b);
        awaitParked(loopThread, loopB);

        ops(a).send(ports[0]);

        assertTrue(ran.await(5, TimeUnit.SECONDS), "handler never ran: " + loopB);
        assertSame(loopThread, ranOn.get());
        assertNotSame(Thread.currentThread(), ranOn.get());
    }

    @Test
    void shouldCoalesceSendsWhenPortAlreadyPending()
    {
        final int[] ports = connect(a, b);
        final AtomicInteger calls = new AtomicInteger();
        channels(b).bindHandler(ports[1], (port) -> calls.incrementAndGet());

        ops(a).send(ports[0]);
        ops(a).send(ports[0]);
        ops(a).send(ports[0]);

        assertEquals(1, loopB.doWork());
        assertEquals(1, calls.get());
        assertEquals(0, loopB.doWork());
        assertEquals(3, a.counters().get(HypercallKind.EVTCHN_SEND));

        ops(a).send(ports[0]);
        assertEquals(1, loopB.doWork(), "a send after the handler ran is a new event");
        assertEquals(2, loopB.handled());
    }

    @Test
    void shouldNotDeliverMaskedPortUntilUnmaskedThenDeliverOnce()
    {
        final int[] ports = connect(a, b);
        final AtomicInteger calls = new AtomicInteger();
        channels(b).bindHandler(ports[1], (port) -> calls.incrementAndGet());
        channels(b).mask(ports[1]);

        ops(a).send(ports[0]);
        ops(a).send(ports[0]);

        assertEquals(0, loopB.doWork());
        assertTrue(channels(b).isPending(ports[1]));
        ops(b).unmask(ports[1]);
        assertEquals(1, loopB.doWork());
        assertEquals(1, calls.get());
        assertFalse(channels(b).isPending(ports[1]));
    }

    @Test
    void shouldNotDeliverOnUnmaskWhenNothingPending()
    {
        final int[] ports = connect(a, b);
        channels(b).bindHandler(ports[1], (port) -> { });
        channels(b).mask(ports[1]);

        ops(b).unmask(ports[1]);

        assertEquals(0, loopB.doWork());
    }

    @Test
    void shouldDeliverMaskedPendingPortOnceUnmaskedWhenLoopParked() throws InterruptedException
    {
        final int[] ports = connect(a, b);
        final CountDownLatch ran = new CountDownLatch(1);
        channels(b).bindHandler(ports[1], (port) -> ran.countDown());
        channels(b).mask(ports[1]);
        final Thread loopThread = fixture.startLoop(b);
        awaitParked(loopThread, loopB);

        ops(a).send(ports[0]);
        assertFalse(ran.await(50, TimeUnit.MILLISECONDS), "delivered while masked");
        ops(b).unmask(ports[1]);

        assertTrue(ran.await(5, TimeUnit.SECONDS), "unmask did not re-deliver: " + loopB);
    }

    @Test
    void shouldDeliverBindEventOnceHandlerIsBound()
    {
        final int bPort = ops(b).allocUnbound(a.id());
        final int aPort = ops(a).bindInterdomain(b.id(), bPort);
        final AtomicInteger calls = new AtomicInteger();

        assertEquals(0, loopA.doWork(), "no handler yet: the event waits");
        assertTrue(channels(a).isPending(aPort));

        channels(a).bindHandler(aPort, (port) -> calls.incrementAndGet());
        assertEquals(1, loopA.doWork());
        assertEquals(1, calls.get());
    }

    @Test
    void shouldRunHandlerAgainInSamePassWhenSentWhileHandling()
    {
        final int[] ports = connect(a, b);
        final AtomicInteger calls = new AtomicInteger();
        channels(b).bindHandler(ports[1], (port) ->
        {
            if (1 == calls.incrementAndGet())
            {
                ops(a).send(ports[0]);
            }
        });

        ops(a).send(ports[0]);

        assertEquals(2, loopB.doWork(), "the upcall was raised again during the pass");
        assertEquals(2, calls.get());
    }

    @Test
    void shouldDeliverEveryPendingPortInOnePass()
    {
        final List<Integer> seen = new ArrayList<>();
        final int[] bPorts = new int[130];
        for (int i = 0; i < bPorts.length; i++)
        {
            final int[] ports = connect(a, b);
            bPorts[i] = ports[1];
            channels(b).bindHandler(ports[1], seen::add);
            ops(a).send(ports[0]);
        }

        assertEquals(bPorts.length, loopB.doWork());

        assertEquals(bPorts.length, seen.size());
        for (int i = 0; i < bPorts.length; i++)
        {
            assertEquals(bPorts[i], seen.get(i), "ports in ascending order, word by word");
        }
    }

    @Test
    void shouldReportErrorAndCarryOnWhenHandlerThrows()
    {
        final int[] first = connect(a, b);
        final int[] second = connect(a, b);
        final List<Throwable> errors = new ArrayList<>();
        final AtomicInteger calls = new AtomicInteger();
        loopB.errorHandler(errors::add);
        channels(b).bindHandler(first[1], (port) ->
        {
            throw new IllegalStateException("boom on " + port);
        });
        channels(b).bindHandler(second[1], (port) -> calls.incrementAndGet());

        ops(a).send(first[0]);
        ops(a).send(second[0]);

        assertEquals(2, loopB.doWork());
        assertEquals(1, calls.get());
        assertEquals(1, errors.size());
        assertEquals("boom on " + first[1], errors.get(0).getMessage());
        assertEquals(1, loopB.handlerErrors());
        assertThrows(NullPointerException.class, () -> loopB.errorHandler(null));
    }

    @Test
    void shouldRedeliverAfterUnmaskWhenSentWhileHandlerHeldPortMasked()
    {
        final int[] ports = connect(a, b);
        final AtomicInteger calls = new AtomicInteger();
        final AtomicInteger drained = new AtomicInteger();
        final AtomicInteger work = new AtomicInteger();
        channels(b).bindHandler(ports[1], (port) ->
        {
            calls.incrementAndGet();
            channels(b).mask(port);
            drained.addAndGet(work.getAndSet(0));
            if (1 == calls.get())
            {
                work.incrementAndGet();
                ops(a).send(ports[0]);
                assertTrue(channels(b).isPending(port), "sent while masked: pending, no upcall");
            }
            ops(b).unmask(port);
        });

        work.incrementAndGet();
        ops(a).send(ports[0]);

        assertEquals(2, loopB.doWork(), "unmask re-delivered the event that came in while masked");
        assertEquals(2, drained.get(), "the late-EOI re-check drained the work that came with it");
        assertFalse(channels(b).isMasked(ports[1]));
    }

    @Test
    void shouldWakeParkedLoopForEverySendWhenLoopParksBetweenThem() throws InterruptedException
    {
        final int[] ports = connect(a, b);
        final AtomicInteger calls = new AtomicInteger();
        channels(b).bindHandler(ports[1], (port) -> calls.incrementAndGet());
        final Thread loopThread = fixture.startLoop(b);

        for (int i = 1; i <= 100; i++)
        {
            awaitParked(loopThread, loopB);
            ops(a).send(ports[0]);
            final int expected = i;
            await(() -> calls.get() == expected, () -> "send " + expected + " not handled: " + loopB);
        }

        assertTrue(loopB.parks() >= 100, "parks=" + loopB.parks());
    }

    @Test
    void shouldReturnFromRunWhenStopped() throws InterruptedException
    {
        final Thread loopThread = fixture.startLoop(b);
        awaitParked(loopThread, loopB);

        loopB.stop();

        loopThread.join(TimeUnit.SECONDS.toMillis(5));
        assertFalse(loopThread.isAlive());
        assertFalse(loopB.isRunning());
    }

    @Test
    void shouldReturnFromRunWhenDomainDestroyed() throws InterruptedException
    {
        final Thread loopThread = fixture.startLoop(b);
        awaitParked(loopThread, loopB);

        fixture.dom0.hypercalls().destroyDomain(b.id());

        loopThread.join(TimeUnit.SECONDS.toMillis(5));
        assertFalse(loopThread.isAlive());
    }

    @Test
    void shouldWaitForRunningHandlerAndNeverCallItAgainWhenClosed() throws InterruptedException
    {
        final int[] ports = connect(a, b);
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        final AtomicBoolean closeReturned = new AtomicBoolean();
        final AtomicBoolean ranAfterClose = new AtomicBoolean();
        final AtomicInteger calls = new AtomicInteger();
        channels(b).bindHandler(ports[1], (port) ->
        {
            if (closeReturned.get())
            {
                ranAfterClose.set(true);
            }
            calls.incrementAndGet();
            entered.countDown();
            awaitQuietly(release);
        });
        fixture.startLoop(b);
        ops(a).send(ports[0]);
        assertTrue(entered.await(5, TimeUnit.SECONDS));

        final Thread closer = new Thread(() ->
        {
            ops(b).close(ports[1]);
            closeReturned.set(true);
        });
        closer.start();
        Thread.sleep(50);
        assertFalse(closeReturned.get(), "close returned while the handler was still running");
        release.countDown();
        closer.join(TimeUnit.SECONDS.toMillis(5));
        assertTrue(closeReturned.get());

        ops(a).send(ports[0]);
        Thread.sleep(20);
        assertFalse(ranAfterClose.get());
        assertEquals(1, calls.get());
    }

    @Test
    void shouldCloseOwnPortFromHandlerWithoutWaiting()
    {
        final int[] ports = connect(a, b);
        final AtomicInteger calls = new AtomicInteger();
        channels(b).bindHandler(ports[1], (port) ->
        {
            calls.incrementAndGet();
            ops(b).close(port);
        });
        ops(a).send(ports[0]);

        assertEquals(1, loopB.doWork());

        assertEquals(PortState.FREE, channels(b).portState(ports[1]));
        assertEquals(PortState.UNBOUND, channels(a).portState(ports[0]));
        ops(a).send(ports[0]);
        assertEquals(0, loopB.doWork());
        assertEquals(1, calls.get());
    }

    @Test
    void shouldRunUnderAgentRunnerWithParkingIdleStrategy() throws InterruptedException
    {
        final int[] ports = connect(a, b);
        final AtomicReference<Thread> ranOn = new AtomicReference<>();
        final CountDownLatch ran = new CountDownLatch(1);
        channels(b).bindHandler(ports[1], (port) ->
        {
            ranOn.set(Thread.currentThread());
            ran.countDown();
        });
        final AgentRunner runner = new AgentRunner(loopB.idleStrategy(10, 10), Throwable::printStackTrace, null, loopB);
        final Thread thread = AgentRunner.startOnThread(runner);
        try
        {
            awaitParked(thread, loopB);
            ops(a).send(ports[0]);
            assertTrue(ran.await(5, TimeUnit.SECONDS));
            assertSame(thread, ranOn.get());
            assertEquals("evtchn-d2", loopB.roleName());
        }
        finally
        {
            loopB.stop();
            runner.close();
        }
        assertFalse(thread.isAlive());
        assertThrows(IllegalArgumentException.class, () -> loopB.idleStrategy(-1, 0));
    }

    private static void awaitQuietly(final CountDownLatch latch)
    {
        try
        {
            latch.await(5, TimeUnit.SECONDS);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }
}
