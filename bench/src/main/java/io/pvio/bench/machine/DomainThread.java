package io.pvio.bench.machine;

import org.agrona.concurrent.IdleStrategy;

import io.pvio.hypervisor.Domain;
import io.pvio.hypervisor.event.DomainEventLoop;

/**
 * A domain's vCPU 0: its event loop on a daemon thread named after the domain.
 */
final class DomainThread
{
    private static final long JOIN_MILLIS = 10_000;

    /**
     * Spins before an idle vCPU yields, then yields before it parks: a vCPU that has just handled an event is likely
     * to get the next one soon, and a sender that finds it awake only sets a pending bit instead of paying for a
     * wake-up (a futex call of a microsecond or more).
     */
    private static final int IDLE_SPINS = 1_000;
    private static final int IDLE_YIELDS = 10;

    private final DomainEventLoop loop;
    private final Thread thread;

    private DomainThread(final DomainEventLoop loop, final Thread thread)
    {
        this.loop = loop;
        this.thread = thread;
    }

    static DomainThread start(final Domain domain)
    {
        final DomainEventLoop loop = domain.eventChannels().eventLoop();
        final IdleStrategy idle = loop.idleStrategy(IDLE_SPINS, IDLE_YIELDS);
        final Thread thread = new Thread(() -> loop.run(idle), "vcpu0-d" + domain.id() + '-' + domain.name());
        thread.setDaemon(true);
        thread.start();
        return new DomainThread(loop, thread);
    }

    boolean isRunning()
    {
        return thread.isAlive();
    }

    void stop()
    {
        loop.stop();
        if (Thread.currentThread() == thread)
        {
            return;
        }
        try
        {
            thread.join(JOIN_MILLIS);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive())
        {
            throw new IllegalStateException(thread.getName() + " did not stop in " + JOIN_MILLIS + " ms");
        }
    }
}
