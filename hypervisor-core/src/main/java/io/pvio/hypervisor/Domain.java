package io.pvio.hypervisor;

import io.pvio.hypervisor.sched.CreditScheduler;
import io.pvio.hypervisor.sched.Vcpu;
import io.pvio.machine.vm.PagingMode;

import org.agrona.concurrent.UnsafeBuffer;

import io.pvio.hypervisor.event.EventChannels;
import io.pvio.hypervisor.grant.GrantTable;
import io.pvio.machine.memory.MachineMemory;

/**
 * A domain: an id, a name, its memory reservation (machine frames reached through its {@link P2M}), vCPUs, a
 * lifecycle, and its per-domain hypervisor state (grant table, event channels, hypercall counters).
 * <p>
 * Code running <em>in</em> the domain uses {@link #hypercalls()} for everything it asks of the hypervisor and
 * {@link #guestFrame(long)} for its own memory; everything else here is the hypervisor's view.
 */
public final class Domain
{
    private final Hypervisor hypervisor;
    private final int id;
    private final String name;
    private final int vcpus;
    private final PagingMode mode;
    private final P2M p2m;
    private final HypercallCounters counters = new HypercallCounters();
    private final Hypercalls hypercalls;
    private final GrantTable grantTable;
    private final EventChannels eventChannels;
    private volatile DomainState state = DomainState.CREATED;
    private PageAllocator pageAllocator;

    Domain(
        final Hypervisor hypervisor, final int id, final String name, final int frames, final int vcpus,
        final PagingMode mode)
    {
        this.mode = mode;
        this.hypervisor = hypervisor;
        this.id = id;
        this.name = name;
        this.vcpus = vcpus;
        this.p2m = new P2M(frames);
        this.hypercalls = new Hypercalls(hypervisor, this);
        this.grantTable = new GrantTable(hypervisor, this);
        this.eventChannels = new EventChannels(hypervisor, this);
    }

    /**
     * The domain id; 0 is the privileged driver domain.
     *
     * @return the id.
     */
    public int id()
    {
        return id;
    }

    /**
     * The name given at creation.
     *
     * @return the name.
     */
    public String name()
    {
        return name;
    }

    /**
     * Number of vCPUs.
     *
     * @return vCPU count.
     */
    public int vcpus()
    {
        return vcpus;
    }

    /**
     * How the domain is virtualized: the memory mode, and through {@link io.pvio.machine.cpu.CpuMode#of} the CPU
     * mode of its vCPUs.
     *
     * @return the mode given at creation.
     */
    public PagingMode mode()
    {
        return mode;
    }

    /**
     * One of the domain's vCPUs on the hypervisor's scheduler, for code running in the domain to put its tasks on.
     *
     * @param index 0 to {@link #vcpus()} - 1.
     * @return the vCPU, or null if no scheduler runs this domain (its code then runs on threads of its own).
     */
    public Vcpu vcpu(final int index)
    {
        final CreditScheduler scheduler = hypervisor.scheduler();
        return null == scheduler ? null : scheduler.vcpu(this, index);
    }

    /**
     * Whether this is the privileged domain, allowed to create and destroy domains and act for others.
     *
     * @return true for dom0.
     */
    public boolean isPrivileged()
    {
        return DomainId.DOM0 == id;
    }

    /**
     * The lifecycle state.
     *
     * @return the state.
     */
    public DomainState state()
    {
        return state;
    }

    /**
     * Whether the domain can still make hypercalls and be the target of grants and events.
     *
     * @return true unless dying or dead.
     */
    public boolean isAlive()
    {
        final DomainState state = this.state;
        return DomainState.DYING != state && DomainState.DEAD != state;
    }

    /**
     * The guest-frame to machine-frame map.
     *
     * @return the P2M.
     */
    public P2M p2m()
    {
        return p2m;
    }

    /**
     * Hypercall counts by kind.
     *
     * @return the counters.
     */
    public HypercallCounters counters()
    {
        return counters;
    }

    /**
     * The hypercall entry point for code running in this domain; every call is made as this domain.
     *
     * @return the domain's hypercall interface.
     */
    public Hypercalls hypercalls()
    {
        return hypercalls;
    }

    /**
     * This domain's grant table (the entries it writes to share its frames).
     *
     * @return the grant table.
     */
    public GrantTable grantTable()
    {
        return grantTable;
    }

    /**
     * The domain kernel's page allocator over all of its frames, created on first use; every driver of the domain
     * takes its pages here.
     *
     * @return the allocator.
     */
    public synchronized PageAllocator pageAllocator()
    {
        if (null == pageAllocator)
        {
            pageAllocator = new PageAllocator(this);
        }
        return pageAllocator;
    }

    /**
     * This domain's event channel ports.
     *
     * @return the event channels.
     */
    public EventChannels eventChannels()
    {
        return eventChannels;
    }

    /**
     * A new view of one of this domain's own frames, as the guest kernel reaches its memory.
     *
     * @param gfn guest frame number.
     * @return a 4 KiB view.
     * @throws IllegalArgumentException if the frame is not populated.
     */
    public UnsafeBuffer guestFrame(final long gfn)
    {
        return hypervisor.memory().frame(mfnOf(gfn));
    }

    /**
     * Points a view at one of this domain's own frames, allocating nothing.
     *
     * @param gfn  guest frame number.
     * @param view the view to re-point.
     * @return {@code view}.
     * @throws IllegalArgumentException if the frame is not populated.
     */
    public UnsafeBuffer wrapGuestFrame(final long gfn, final UnsafeBuffer view)
    {
        return hypervisor.memory().wrapFrame(mfnOf(gfn), view);
    }

    /**
     * The machine frame behind a guest frame of this domain.
     *
     * @param gfn guest frame number.
     * @return the MFN.
     * @throws IllegalArgumentException if the frame is not populated.
     */
    public long mfnOf(final long gfn)
    {
        final long mfn = resolveFrame(gfn, true);
        if (P2M.INVALID_MFN == mfn)
        {
            throw new IllegalArgumentException("domain " + id + " has no frame at gfn=" + gfn + " (size " +
                p2m.size() + ")");
        }
        return mfn;
    }

    /**
     * The machine frame behind one of this domain's guest frames for a foreign or own access: a swapped frame is
     * swapped in and, for a write, a shared frame is unshared.
     *
     * @param gfn   the guest frame, range-checked.
     * @param write whether the frame will be written.
     * @return the machine frame, or {@link P2M#INVALID_MFN} if out of range or not populated.
     */
    public long resolveFrame(final long gfn, final boolean write)
    {
        final long entry = gfn >= 0 && gfn < p2m.size() ? p2m.entry(gfn) : P2M.INVALID_MFN;
        if (entry >= 0 && (!write || 0 == (entry & P2M.SHARED)))
        {
            return entry & ~P2M.SHARED;
        }
        return P2M.INVALID_MFN == entry ? entry : hypervisor.memoryManager().resolve(this, gfn, write);
    }

    void state(final DomainState state)
    {
        this.state = state;
    }

    MachineMemory memory()
    {
        return hypervisor.memory();
    }

    /**
     * {@inheritDoc}
     */
    @Override
    public String toString()
    {
        return "Domain{id=" + id + ", name=" + name + ", state=" + state + '}';
    }
}
