package io.pvio.hypervisor;

import io.pvio.hypervisor.sched.CreditScheduler;
import io.pvio.machine.vm.PagingMode;

import io.pvio.hypervisor.memory.MemoryOps;
import io.pvio.hypervisor.event.EventChannelOps;
import io.pvio.hypervisor.grant.GrantTableOps;

/**
 * The one hypercall entry point of a domain. It is bound to its domain at creation, so every call is made as that
 * domain and no call can name another caller; each call is counted in the caller's {@link HypercallCounters}.
 * <p>
 * Domain control is here; grant table and event channel operations are reached through {@link #grantTableOp()} and
 * {@link #eventChannelOp()}, which are bound to the same caller.
 */
public final class Hypercalls
{
    private final Hypervisor hypervisor;
    private final Domain caller;
    // created on first use, after the domain is fully built; a racing second creation is harmless: the ops hold
    // only final references to the same objects, and final fields make an unsafely published copy safe to use
    private GrantTableOps grantTableOps;
    private EventChannelOps eventChannelOps;
    private MemoryOps memoryOps;

    Hypercalls(final Hypervisor hypervisor, final Domain caller)
    {
        this.hypervisor = hypervisor;
        this.caller = caller;
    }

    /**
     * The domain every call is made as.
     *
     * @return the caller.
     */
    public Domain caller()
    {
        return caller;
    }

    /**
     * {@code grant_table_op}: map, unmap, copy and table queries, as the caller.
     *
     * @return the caller's grant table operations.
     */
    public GrantTableOps grantTableOp()
    {
        GrantTableOps ops = grantTableOps;
        if (null == ops)
        {
            ops = new GrantTableOps(hypervisor, caller);
            grantTableOps = ops;
        }
        return ops;
    }

    /**
     * {@code event_channel_op}: allocate, bind, send, close, unmask, as the caller.
     *
     * @return the caller's event channel operations.
     */
    public EventChannelOps eventChannelOp()
    {
        EventChannelOps ops = eventChannelOps;
        if (null == ops)
        {
            ops = new EventChannelOps(hypervisor, caller);
            eventChannelOps = ops;
        }
        return ops;
    }

    /**
     * {@code domctl createdomain}: builds a new domain with its memory populated. Privileged.
     *
     * @param name   the domain's name.
     * @param frames memory reservation in frames.
     * @param vcpus  vCPU count.
     * @return the new domain, in state {@link DomainState#CREATED}.
     * @throws HypercallException EPERM if the caller is not privileged, EINVAL or ENOMEM.
     */
    public Domain createDomain(final String name, final int frames, final int vcpus)
    {
        return createDomain(name, frames, vcpus, PagingMode.PARA);
    }

    /**
     * {@code domctl createdomain} with a virtualization mode: the domain's memory and CPU both run in it. Privileged.
     *
     * @param name   the domain's name.
     * @param frames memory reservation in frames.
     * @param vcpus  vCPU count.
     * @param mode   native, full, para or nested (full CPU, nested paging).
     * @return the new domain, in state {@link DomainState#CREATED}.
     * @throws HypercallException EPERM if the caller is not privileged, EINVAL or ENOMEM.
     */
    public Domain createDomain(final String name, final int frames, final int vcpus, final PagingMode mode)
    {
        enter(HypercallKind.DOMCTL_CREATE);
        requirePrivileged("createdomain");
        return hypervisor.createDomain(name, frames, vcpus, mode);
    }

    /**
     * {@code XEN_DOMCTL_scheduler_op} (putinfo) for the credit scheduler: a domain's weight and cap. Privileged.
     *
     * @param domainId the domain.
     * @param weight   1 to 65535 (256 by default).
     * @param cap      0 for none, else percent of one physical CPU.
     * @throws HypercallException EPERM, ESRCH if there is no such live domain, EINVAL for a bad value or when no
     *                            scheduler runs the domain.
     */
    public void setSchedulerParameters(final int domainId, final int weight, final int cap)
    {
        enter(HypercallKind.DOMCTL_SCHEDULER_OP);
        requirePrivileged("scheduler_op");
        final Domain target = target(domainId, "scheduler_op");
        final CreditScheduler scheduler = hypervisor.scheduler();
        if (null == scheduler)
        {
            throw new HypercallException(Errno.EINVAL, "scheduler_op: no scheduler runs domain " + domainId);
        }
        try
        {
            scheduler.setParameters(target, weight, cap);
        }
        catch (final IllegalArgumentException ex)
        {
            throw new HypercallException(Errno.EINVAL, "scheduler_op: " + ex.getMessage());
        }
    }

    /**
     * {@code domctl unpausedomain}: lets a created or paused domain run. Privileged.
     *
     * @param domainId the domain.
     * @throws HypercallException EPERM, or ESRCH if there is no such live domain.
     */
    public void unpauseDomain(final int domainId)
    {
        enter(HypercallKind.DOMCTL_UNPAUSE);
        requirePrivileged("unpausedomain");
        target(domainId, "unpausedomain").state(DomainState.RUNNING);
    }

    /**
     * {@code domctl pausedomain}: holds a running domain. Privileged.
     *
     * @param domainId the domain.
     * @throws HypercallException EPERM, or ESRCH if there is no such live domain.
     */
    public void pauseDomain(final int domainId)
    {
        enter(HypercallKind.DOMCTL_PAUSE);
        requirePrivileged("pausedomain");
        target(domainId, "pausedomain").state(DomainState.PAUSED);
    }

    /**
     * {@code domctl destroydomain}: closes the domain's ports, releases its mappings and frees its memory. Privileged;
     * dom0 cannot destroy itself.
     *
     * @param domainId the domain.
     * @throws HypercallException EPERM, EINVAL for dom0, or ESRCH if there is no such live domain.
     */
    public void destroyDomain(final int domainId)
    {
        enter(HypercallKind.DOMCTL_DESTROY);
        requirePrivileged("destroydomain");
        if (DomainId.DOM0 == domainId)
        {
            throw new HypercallException(Errno.EINVAL, "destroydomain: dom0 cannot be destroyed");
        }
        hypervisor.destroyDomain(target(domainId, "destroydomain"));
    }

    /**
     * {@code HYPERVISOR_memory_op} for this domain.
     *
     * @return the memory operations.
     */
    public MemoryOps memoryOp()
    {
        MemoryOps ops = memoryOps;
        if (null == ops)
        {
            ops = new MemoryOps(this, caller, hypervisor.memoryManager());
            memoryOps = ops;
        }
        return ops;
    }

    /**
     * Counts a call of {@code kind} and checks the caller may still make calls. Every hypercall starts here.
     *
     * @param kind the hypercall.
     * @throws HypercallException ESRCH if the caller is dying or dead.
     */
    public void enter(final HypercallKind kind)
    {
        caller.counters().increment(kind);
        if (!caller.isAlive())
        {
            throw new HypercallException(Errno.ESRCH, "domain " + caller.id() + " is " + caller.state());
        }
    }

    private void requirePrivileged(final String call)
    {
        if (!caller.isPrivileged())
        {
            throw new HypercallException(Errno.EPERM, call + ": domain " + caller.id() + " is not privileged");
        }
    }

    private Domain target(final int domainId, final String call)
    {
        final Domain domain = hypervisor.domain(domainId);
        if (null == domain || !domain.isAlive())
        {
            throw new HypercallException(Errno.ESRCH, call + ": no live domain " + domainId);
        }
        return domain;
    }
}
