package io.pvio.hypervisor.sched;

import io.pvio.hypervisor.Domain;
import io.pvio.hypervisor.Hypervisor;
import io.pvio.machine.memory.MachineMemory;
import io.pvio.machine.vm.PagingMode;

import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * A hypervisor with a started credit scheduler for tests; closing it stops the physical CPUs and frees the memory.
 */
final class SchedFixture implements AutoCloseable
{
    final Hypervisor hypervisor;
    final CreditScheduler scheduler;

    SchedFixture(final SchedulerConfig config)
    {
        hypervisor = new Hypervisor(new MachineMemory(4096L * MachineMemory.FRAME_SIZE), 256, 1);
        scheduler = new CreditScheduler(hypervisor, config);
    }

    SchedFixture start()
    {
        scheduler.start();
        return this;
    }

    Domain domain(final String name, final int vcpus, final PagingMode mode)
    {
        final Domain domain = hypervisor.dom0().hypercalls().createDomain(name, 64, vcpus, mode);
        scheduler.addDomain(domain);
        return domain;
    }

    Vcpu vcpu0(final Domain domain)
    {
        return scheduler.vcpu(domain, 0);
    }

    /** Sleeps, failing the test if interrupted. */
    static void sleep(final long millis)
    {
        try
        {
            Thread.sleep(millis);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new AssertionError(ex);
        }
    }

    /** Spins until a condition holds (for races that a sleep would hide); fails after 10 s. */
    static void spinUntil(final BooleanSupplier condition, final String what)
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() - deadline > 0)
            {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.onSpinWait();
        }
    }

    static void await(final BooleanSupplier condition, final String what)
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() - deadline > 0)
            {
                throw new AssertionError("timed out waiting for " + what);
            }
            try
            {
                Thread.sleep(1); // not yield: the physical CPUs need the host's cores
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted waiting for " + what, ex);
            }
        }
    }

    @Override
    public void close()
    {
        hypervisor.close();
    }
}
