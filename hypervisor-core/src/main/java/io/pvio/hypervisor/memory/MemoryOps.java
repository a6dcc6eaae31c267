package io.pvio.hypervisor.memory;

import io.pvio.hypervisor.Domain;
import io.pvio.hypervisor.Hypercalls;
import io.pvio.hypervisor.HypercallKind;

/**
 * {@code HYPERVISOR_memory_op} for the calling domain: the reservation calls a balloon driver makes. Guest frame
 * numbers come from the guest and are checked one by one; a call stops at the first frame it cannot take and returns
 * how many it did, as Xen's do.
 */
public final class MemoryOps
{
    private final Hypercalls hypercalls;
    private final Domain caller;
    private final MemoryManager manager;

    /**
     * Memory operations of one domain.
     *
     * @param hypercalls the caller's hypercall entry (counts each call).
     * @param caller     the calling domain.
     * @param manager    the hypervisor's memory manager.
     */
    public MemoryOps(final Hypercalls hypercalls, final Domain caller, final MemoryManager manager)
    {
        this.hypercalls = hypercalls;
        this.caller = caller;
        this.manager = manager;
    }

    /**
     * {@code XENMEM_decrease_reservation}: gives guest frames back to the hypervisor; their machine frames (or swap
     * slots, or shares) are released and the guest frames become unpopulated.
     *
     * @param gfns  the guest frames.
     * @param count how many of {@code gfns}.
     * @return frames released; fewer than {@code count} if one was out of range or not populated.
     */
    public int decreaseReservation(final long[] gfns, final int count)
    {
        hypercalls.enter(HypercallKind.MEMORY_OP);
        checkCount(gfns, count);
        return manager.decreaseReservation(caller, gfns, count);
    }

    /**
     * {@code XENMEM_populate_physmap}: asks for machine frames behind unpopulated guest frames (zeroed).
     *
     * @param gfns  the guest frames.
     * @param count how many of {@code gfns}.
     * @return frames populated; fewer than {@code count} if one was out of range, already populated, or the machine
     *         ran out of memory.
     */
    public int populatePhysmap(final long[] gfns, final int count)
    {
        hypercalls.enter(HypercallKind.MEMORY_OP);
        checkCount(gfns, count);
        return manager.populatePhysmap(caller, gfns, count);
    }

    /**
     * {@code XENMEM_current_reservation}: frames the domain holds (populated, shared or swapped by the hypervisor).
     *
     * @return frames.
     */
    public int currentReservation()
    {
        hypercalls.enter(HypercallKind.MEMORY_OP);
        final MemoryStats stats = manager.stats(caller);
        return stats.populated() + stats.swapped();
    }

    /**
     * {@code XENMEM_maximum_reservation}: the most frames the domain can hold.
     *
     * @return frames.
     */
    public int maximumReservation()
    {
        hypercalls.enter(HypercallKind.MEMORY_OP);
        return caller.p2m().size();
    }

    private static void checkCount(final long[] gfns, final int count)
    {
        if (count < 0 || count > gfns.length)
        {
            throw new IllegalArgumentException("count out of range: count=" + count + ", gfns.length=" +
                gfns.length);
        }
    }
}
