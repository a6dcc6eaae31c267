package io.pvio.hypervisor.event;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

import io.pvio.hypervisor.Domain;
import io.pvio.hypervisor.Hypervisor;
import io.pvio.machine.memory.MachineMemory;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * A hypervisor with dom0 and two guests, helpers to connect ports and run event loops, and clean-up.
 */
final class EventChannelFixture
{
    final Hypervisor hypervisor = new Hypervisor(new MachineMemory(128 * 4096), 32, 1);
    final Domain dom0 = hypervisor.dom0();
    final Domain a = dom0.hypercalls().createDomain("a", 4, 1);
    final Domain b = dom0.hypercalls().createDomain("b", 4, 1);
    private final List<Thread> loopThreads = new ArrayList<>();

    static EventChannelOps ops(final Domain domain)
    {
        return domain.hypercalls().eventChannelOp();
    }

    static EventChannels channels(final Domain domain)
    {
        return domain.eventChannels();
    }

    /**
     * Connects a new port of {@code from} to a new port of {@code to}: {@code to} allocates, {@code from} binds.
     *
     * @return {@code {fromPort, toPort}}.
     */
    static int[] connect(final Domain from, final Domain to)
    {
        final int toPort = ops(to).allocUnbound(from.id());
        final int fromPort = ops(from).bindInterdomain(to.id(), toPort);
        return new int[] {fromPort, toPort};
    }

    /**
     * Starts {@code domain}'s event loop on a new daemon thread that parks when idle.
     */
    Thread startLoop(final Domain domain)
    {
        final DomainEventLoop loop = channels(domain).eventLoop();
        final Thread thread = new Thread(loop, loop.roleName());
        thread.setDaemon(true);
        loopThreads.add(thread);
        thread.start();
        return thread;
    }

    /**
     * Spins until {@code thread} is parked in {@code loop}, failing after a few seconds.
     */
    static void awaitParked(final Thread thread, final DomainEventLoop loop)
    {
        await(() -> LockSupport.getBlocker(thread) == loop, () -> thread.getName() + " never parked: " + loop);
    }

    static void await(final BooleanSupplier condition, final Supplier<String> failure)
    {
        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() - deadlineNs > 0)
            {
                fail(failure.get());
            }
            Thread.yield();
        }
    }

    /**
     * Destroys every domain (which stops their loops) and waits for the loop threads started here to end.
     */
    void close() throws InterruptedException
    {
        hypervisor.close();
        for (final Thread thread : loopThreads)
        {
            thread.join(TimeUnit.SECONDS.toMillis(5));
            if (thread.isAlive())
            {
                fail(thread.getName() + " still running after its domain was destroyed");
            }
        }
    }
}
