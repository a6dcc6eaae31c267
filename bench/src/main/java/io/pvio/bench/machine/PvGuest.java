package io.pvio.bench.machine;

import java.util.ArrayList;
import java.util.List;

import io.pvio.hypervisor.Domain;
import io.pvio.hypervisor.PageAllocator;
import io.pvio.hypervisor.sched.CreditScheduler;
import io.pvio.hypervisor.sched.Vcpu;

/**
 * A guest of a {@link PvMachine}: its domain, its vCPUs (or its event-loop thread), its page allocator and its disks.
 */
public final class PvGuest
{
    private final PvMachine machine;
    private final Domain domain;
    private final DomainThread thread;
    private final List<PvDisk> disks = new ArrayList<>();
    private boolean destroyed;

    PvGuest(final PvMachine machine, final Domain domain, final DomainThread thread)
    {
        this.machine = machine;
        this.domain = domain;
        this.thread = thread;
    }

    /**
     * The guest's name.
     *
     * @return the domain's name.
     */
    public String name()
    {
        return domain.name();
    }

    /**
     * The guest's domain.
     *
     * @return the domain.
     */
    public Domain domain()
    {
        return domain;
    }

    /**
     * Runs an action in the guest: once, on its vCPU 0 (or at once on the calling thread when the machine runs domains
     * on threads of their own). Returns before the action runs.
     *
     * @param action what to run.
     */
    public void runOnVcpu(final Runnable action)
    {
        final Vcpu vcpu = domain.vcpu(0);
        if (null == vcpu)
        {
            action.run();
        }
        else
        {
            vcpu.addTask(new OneShotTask(vcpu, action));
        }
    }

    /**
     * The guest's vCPUs on the scheduler.
     *
     * @return its vCPUs, empty when the machine runs domains on threads.
     */
    public Vcpu[] vcpus()
    {
        final CreditScheduler scheduler = machine.scheduler();
        return null == scheduler ? new Vcpu[0] : scheduler.vcpus(domain);
    }

    /**
     * The guest kernel's page allocator, shared by its front ends.
     *
     * @return the allocator.
     */
    public PageAllocator pages()
    {
        return domain.pageAllocator();
    }

    /**
     * The guest's disks.
     *
     * @return a copy of the list.
     */
    public synchronized List<PvDisk> disks()
    {
        return new ArrayList<>(disks);
    }

    /**
     * Whether {@link #destroy()} has run.
     *
     * @return true once destroyed.
     */
    public synchronized boolean isDestroyed()
    {
        return destroyed;
    }

    /**
     * Destroys the guest abruptly, as {@code xl destroy} does: its vCPU stops, the hypervisor destroys the domain
     * (closing its ports and releasing its grant table), XenStore releases it, and the toolstack removes its device
     * directories; each back end sees its front end vanish, unmaps everything and closes. Nothing of the guest stays
     * mapped or allocated afterwards. Idempotent.
     */
    public void destroy()
    {
        synchronized (this)
        {
            if (destroyed)
            {
                return;
            }
            destroyed = true;
        }
        if (null != thread)
        {
            thread.stop();
        }
        machine.dom0().hypercalls().destroyDomain(domain.id());
        machine.xenStore().releaseDomain(domain.id());
        RuntimeException failure = null;
        for (final PvDisk disk : disks())
        {
            try
            {
                disk.detachAfterGuestDeath();
            }
            catch (final RuntimeException ex)
            {
                failure = PvMachine.addSuppressed(failure, ex);
            }
        }
        if (null != failure)
        {
            throw failure;
        }
    }

    void add(final PvDisk disk)
    {
        synchronized (this)
        {
            disks.add(disk);
        }
    }

    void shutdown()
    {
        synchronized (this)
        {
            if (destroyed)
            {
                return;
            }
        }
        RuntimeException failure = null;
        for (final PvDisk disk : disks())
        {
            try
            {
                disk.close();
            }
            catch (final RuntimeException ex)
            {
                failure = PvMachine.addSuppressed(failure, ex);
            }
        }
        try
        {
            destroy();
        }
        catch (final RuntimeException ex)
        {
            failure = PvMachine.addSuppressed(failure, ex);
        }
        if (null != failure)
        {
            throw failure;
        }
    }

    @Override
    public String toString()
    {
        return "PvGuest{" + domain + ", disks=" + disks().size() + '}';
    }
}
