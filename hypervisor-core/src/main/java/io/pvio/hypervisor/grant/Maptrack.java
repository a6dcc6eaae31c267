package io.pvio.hypervisor.grant;

import java.util.concurrent.atomic.AtomicIntegerArray;

import io.pvio.machine.memory.MachineMemory;

/**
 * One domain's mappings of other domains' grants, Xen's maptrack: a fixed number of slots found by handle. A handle
 * is the slot index in its low 16 bits and the slot's generation above, so a handle that was unmapped is refused even
 * after its slot is reused (until the 15-bit generation wraps).
 * <p>
 * A slot is FREE, BUSY (being filled or emptied by one thread) or holds its live handle. Filling publishes the
 * handle with a release store after the mapping's fields; unmapping takes the handle with a CAS, so exactly one
 * unmap of a handle succeeds and it sees those fields.
 */
final class Maptrack
{
    private static final int SLOT_FREE = -1;
    private static final int SLOT_BUSY = -2;
    private static final int SLOT_BITS = 16;
    private static final int SLOT_MASK = (1 << SLOT_BITS) - 1;
    private static final int GENERATION_MASK = 0x7FFF;

    private final MachineMemory memory;
    private final int limit;
    private final GrantTable[] granters;
    private final int[] refs;
    private final long[] mfns;
    private final boolean[] writable;
    private final int[] generations;
    private final AtomicIntegerArray states;
    private final int[] freeSlots;
    private int freeCount;
    private int highWater;

    Maptrack(final MachineMemory memory, final int limit)
    {
        this.memory = memory;
        this.limit = limit;
        granters = new GrantTable[limit];
        refs = new int[limit];
        mfns = new long[limit];
        writable = new boolean[limit];
        generations = new int[limit];
        freeSlots = new int[limit];
        states = new AtomicIntegerArray(limit);
        for (int i = 0; i < limit; i++)
        {
            states.set(i, SLOT_FREE);
        }
    }

    int limit()
    {
        return limit;
    }

    synchronized boolean isPristine()
    {
        return 0 == highWater;
    }

    /**
     * Takes a slot for a new mapping.
     *
     * @return the slot, or {@link GrantStatus#NO_SPACE} if every slot is in use.
     */
    synchronized int allocate()
    {
        if (freeCount > 0)
        {
            return freeSlots[--freeCount];
        }
        if (highWater < limit)
        {
            return highWater++;
        }
        return GrantStatus.NO_SPACE;
    }

    /**
     * Records a mapping in a slot from {@link #allocate()} and makes its handle live.
     *
     * @return the handle, 0 or more.
     */
    int publish(final int slot, final GrantTable granter, final int ref, final long mfn, final boolean write)
    {
        granters[slot] = granter;
        refs[slot] = ref;
        mfns[slot] = mfn;
        writable[slot] = write;
        final int handle = (generations[slot] << SLOT_BITS) | slot;
        // Release store: an unmap whose CAS takes this handle sees the fields above.
        states.setRelease(slot, handle);
        return handle;
    }

    /**
     * Returns a slot, filled or not, to the free list; its next handle is a new generation.
     */
    void free(final int slot)
    {
        granters[slot] = null;
        generations[slot] = (generations[slot] + 1) & GENERATION_MASK;
        // Release store: the slot's fields are cleared before anyone can take it again (under the lock below).
        states.setRelease(slot, SLOT_FREE);
        synchronized (this)
        {
            freeSlots[freeCount++] = slot;
        }
    }

    /**
     * Removes a mapping: drops its pin in the granter's table unless that table is being torn down, then releases the
     * machine frame, which returns to the allocator scrubbed if its owner has freed it meanwhile.
     *
     * @param handle a handle from {@link #publish}, untrusted.
     * @return {@link GrantStatus#OKAY} or {@link GrantStatus#BAD_HANDLE}.
     */
    int unmap(final int handle)
    {
        final int slot = handle & SLOT_MASK;
        if (handle < 0 || slot >= limit)
        {
            return GrantStatus.BAD_HANDLE;
        }
        // Volatile CAS: exactly one unmap of a live handle wins, and it sees what publish recorded.
        if (!states.compareAndSet(slot, handle, SLOT_BUSY))
        {
            return GrantStatus.BAD_HANDLE;
        }
        final GrantTable granter = granters[slot];
        final long mfn = mfns[slot];
        if (granter.enterGuard())
        {
            try
            {
                granter.unpin(refs[slot], writable[slot]);
            }
            finally
            {
                granter.exitGuard();
            }
        }
        memory.release(mfn);
        free(slot);
        return GrantStatus.OKAY;
    }

    /**
     * Removes every mapping; the owner's guard is closed, so no other operation runs on this maptrack.
     */
    void unmapAll()
    {
        final int high;
        synchronized (this)
        {
            high = highWater;
        }
        for (int slot = 0; slot < high; slot++)
        {
            final int handle = states.get(slot);
            if (handle >= 0)
            {
                unmap(handle);
            }
        }
    }

    /**
     * Live mappings, counted by scanning the slots used so far.
     *
     * @return the count.
     */
    int count()
    {
        final int high;
        synchronized (this)
        {
            high = highWater;
        }
        int count = 0;
        for (int slot = 0; slot < high; slot++)
        {
            if (states.get(slot) >= 0)
            {
                count++;
            }
        }
        return count;
    }
}
