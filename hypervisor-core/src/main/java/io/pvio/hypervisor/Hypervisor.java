package io.pvio.hypervisor;

import io.pvio.hypervisor.sched.CreditScheduler;
import io.pvio.machine.vm.PagingMode;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReferenceArray;

import io.pvio.hypervisor.memory.MemoryManager;
import io.pvio.machine.memory.MachineMemory;
import io.pvio.machine.memory.OutOfMachineMemoryException;

/**
 * The hypervisor: owns the machine memory and the domains. Domain 0 exists from construction; other domains are
 * created and destroyed through dom0's {@link Hypercalls}.
 * <p>
 * Destroying a domain closes its event channels, releases every grant mapping it holds, and frees its frames; a frame
 * another domain still maps is retained by that mapping and returns to the allocator only when unmapped.
 */
public final class Hypervisor implements AutoCloseable
{
    /** Name of domain 0. */
    public static final String DOM0_NAME = "Domain-0";

    private final MachineMemory memory;
    private final MemoryManager memoryManager;
    private final AtomicReferenceArray<Domain> domains = new AtomicReferenceArray<>(DomainId.MAX_DOMAIN_ID + 1);
    private int nextDomainId = 1;
    private boolean closed;
    private volatile CreditScheduler scheduler;

    /**
     * Boots the hypervisor on {@code memory} with a dom0 of {@code dom0Frames} frames.
     *
     * @param memory     the machine memory, owned (and closed) by this hypervisor from now on.
     * @param dom0Frames dom0's memory reservation in frames.
     * @param dom0Vcpus  dom0's vCPU count.
     */
    public Hypervisor(final MachineMemory memory, final int dom0Frames, final int dom0Vcpus)
    {
        this.memory = memory;
        this.memoryManager = new MemoryManager(memory);
        final Domain dom0 = build(DomainId.DOM0, DOM0_NAME, dom0Frames, dom0Vcpus, PagingMode.PARA);
        dom0.state(DomainState.RUNNING);
    }

    /**
     * The memory manager: reservations, hypervisor swapping, page sharing, working-set sampling.
     *
     * @return the manager.
     */
    public MemoryManager memoryManager()
    {
        return memoryManager;
    }

    /**
     * The machine memory.
     *
     * @return the memory.
     */
    public MachineMemory memory()
    {
        return memory;
    }

    /**
     * Domain 0.
     *
     * @return dom0.
     */
    public Domain dom0()
    {
        return domains.get(DomainId.DOM0);
    }

    /**
     * Looks a domain up by an untrusted id.
     *
     * @param id the domain id, any value.
     * @return the live or dying domain, or null if there is none with that id.
     */
    public Domain domain(final int id)
    {
        return DomainId.isValid(id) ? domains.get(id) : null;
    }

    /**
     * Every domain not yet dead, in id order.
     *
     * @return a snapshot list.
     */
    public List<Domain> domains()
    {
        final List<Domain> list = new ArrayList<>();
        for (int i = 0; i < domains.length(); i++)
        {
            final Domain domain = domains.get(i);
            if (null != domain)
            {
                list.add(domain);
            }
        }
        return list;
    }

    /**
     * The scheduler attached to this hypervisor, if any.
     *
     * @return the scheduler, or null while domains run on threads of their own.
     */
    public CreditScheduler scheduler()
    {
        return scheduler;
    }

    /**
     * Attaches the scheduler whose vCPUs run the domains; the hypervisor then takes a dying domain's vCPUs offline
     * before it frees anything of the domain, and stops the scheduler first when it closes. Called by the scheduler.
     *
     * @param scheduler the scheduler.
     * @throws IllegalStateException if one is attached already.
     */
    public synchronized void attachScheduler(final CreditScheduler scheduler)
    {
        checkOpen();
        if (null != this.scheduler)
        {
            throw new IllegalStateException("a scheduler is attached already");
        }
        this.scheduler = scheduler;
    }

    synchronized Domain createDomain(final String name, final int frames, final int vcpus, final PagingMode mode)
    {
        checkOpen();
        if (nextDomainId > DomainId.MAX_DOMAIN_ID)
        {
            throw new HypercallException(Errno.ENOSPC, "no domain ids left");
        }
        return build(nextDomainId++, name, frames, vcpus, mode);
    }

    private synchronized Domain build(
        final int id, final String name, final int frames, final int vcpus, final PagingMode mode)
    {
        if (null == name || name.isEmpty() || frames <= 0 || vcpus <= 0)
        {
            throw new HypercallException(Errno.EINVAL, "createdomain: name=" + name + " frames=" + frames +
                " vcpus=" + vcpus + " (expected: a name, frames > 0, vcpus > 0)");
        }
        if (frames > memory.freeFrames())
        {
            throw new HypercallException(Errno.ENOMEM, "createdomain " + name + ": " + frames + " frames asked, " +
                memory.freeFrames() + " of " + memory.frameCount() + " free");
        }
        if (null == mode)
        {
            throw new HypercallException(Errno.EINVAL, "createdomain " + name + ": no mode");
        }
        final Domain domain = new Domain(this, id, name, frames, vcpus, mode);
        final long[] mfns = new long[frames];
        try
        {
            memory.allocate(id, frames, mfns);
        }
        catch (final OutOfMachineMemoryException ex)
        {
            throw new HypercallException(Errno.ENOMEM, "createdomain " + name + ": " + ex.getMessage());
        }
        for (int gfn = 0; gfn < frames; gfn++)
        {
            domain.p2m().set(gfn, mfns[gfn]);
        }
        domains.set(id, domain);
        return domain;
    }

    synchronized void destroyDomain(final Domain domain)
    {
        if (!domain.isAlive())
        {
            return;
        }
        domain.state(DomainState.DYING);
        final CreditScheduler scheduler = this.scheduler;
        if (null != scheduler)
        {
            scheduler.offline(domain); // no vCPU of the domain runs past this point
        }
        domain.eventChannels().closeAll();
        domain.grantTable().releaseAll();
        memoryManager.releaseDomain(domain);
        domain.state(DomainState.DEAD);
        domains.compareAndSet(domain.id(), domain, null);
    }

    /**
     * Destroys every domain, dom0 last, then frees the machine memory.
     */
    @Override
    public synchronized void close()
    {
        if (closed)
        {
            return;
        }
        if (null != scheduler)
        {
            scheduler.close();
        }
        for (int i = domains.length() - 1; i >= 0; i--)
        {
            final Domain domain = domains.get(i);
            if (null != domain)
            {
                destroyDomain(domain);
            }
        }
        closed = true;
        memory.close();
    }

    private void checkOpen()
    {
        if (closed)
        {
            throw new IllegalStateException("hypervisor is closed");
        }
    }
}
