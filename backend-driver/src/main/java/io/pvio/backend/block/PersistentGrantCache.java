package io.pvio.backend.block;

import org.agrona.collections.Int2IntHashMap;
import org.agrona.concurrent.UnsafeBuffer;

import io.pvio.hypervisor.grant.GrantTableOps;

/**
 * The persistent grants of one queue: grant reference to a mapping kept across requests, bounded, least recently
 * used evicted first (Linux keeps at most 1056 per ring). Mappings are read-write: a front end grants its persistent
 * pages read-write because the same page carries reads and writes. One thread; allocates nothing after construction.
 */
final class PersistentGrantCache
{
    static final int NONE = -1;

    private final GrantTableOps ops;
    private final int granter;
    private final long[] slab;
    private final Int2IntHashMap slotOfRef;
    private final int[] refs;
    private final int[] handles;
    private final long[] lastUse;
    private final UnsafeBuffer[] views;
    private int size;
    private long clock;
    private int lastStatus;

    PersistentGrantCache(final GrantTableOps ops, final int granter, final int capacity, final long[] slab)
    {
        this.ops = ops;
        this.granter = granter;
        this.slab = slab;
        this.slotOfRef = new Int2IntHashMap(capacity * 2, 0.65f, NONE);
        this.refs = new int[capacity];
        this.handles = new int[capacity];
        this.lastUse = new long[capacity];
        this.views = new UnsafeBuffer[capacity];
        for (int i = 0; i < capacity; i++)
        {
            views[i] = new UnsafeBuffer(0, 0);
        }
    }

    /**
     * The mapping of {@code ref}, made now if it is not cached.
     *
     * @param ref the grant reference.
     * @return a view of the granted frame, or null if the map failed ({@link #lastStatus()}).
     */
    UnsafeBuffer acquire(final int ref)
    {
        int slot = slotOfRef.get(ref);
        if (NONE != slot)
        {
            lastUse[slot] = ++clock;
            return views[slot];
        }
        slot = size < refs.length ? size : evict();
        final int handle = ops.map(granter, ref, false, views[slot]);
        BlockBackCounters.add(slab, BlockBackCounters.GRANT_MAPS, 1);
        if (handle < 0)
        {
            lastStatus = handle;
            if (slot == size)
            {
                return null;
            }
            compact(slot);
            return null;
        }
        if (slot == size)
        {
            size++;
        }
        refs[slot] = ref;
        handles[slot] = handle;
        lastUse[slot] = ++clock;
        slotOfRef.put(ref, slot);
        BlockBackCounters.add(slab, BlockBackCounters.PERSISTENT_MAPPED, 1);
        return views[slot];
    }

    /**
     * Whether acquiring {@code ref} would leave every other mapping in place: it is mapped already, or there is room.
     *
     * @param ref the grant reference.
     * @return false if it would evict (unmap) another grant.
     */
    boolean acquiresWithoutEviction(final int ref)
    {
        return NONE != slotOfRef.get(ref) || size < refs.length;
    }

    int lastStatus()
    {
        return lastStatus;
    }

    int size()
    {
        return size;
    }

    /**
     * Unmaps every cached grant.
     */
    void unmapAll()
    {
        for (int i = 0; i < size; i++)
        {
            ops.unmap(handles[i]);
            BlockBackCounters.add(slab, BlockBackCounters.GRANT_UNMAPS, 1);
            BlockBackCounters.add(slab, BlockBackCounters.PERSISTENT_MAPPED, -1);
        }
        slotOfRef.clear();
        size = 0;
    }

    private int evict()
    {
        int victim = 0;
        for (int i = 1; i < size; i++)
        {
            if (lastUse[i] < lastUse[victim])
            {
                victim = i;
            }
        }
        slotOfRef.remove(refs[victim]);
        ops.unmap(handles[victim]);
        BlockBackCounters.add(slab, BlockBackCounters.GRANT_UNMAPS, 1);
        BlockBackCounters.add(slab, BlockBackCounters.PERSISTENT_MAPPED, -1);
        return victim;
    }

    private void compact(final int freedSlot)
    {
        // an evicted slot whose new map failed: move the last entry into it
        final int last = size - 1;
        if (freedSlot != last)
        {
            refs[freedSlot] = refs[last];
            handles[freedSlot] = handles[last];
            lastUse[freedSlot] = lastUse[last];
            final UnsafeBuffer view = views[freedSlot];
            views[freedSlot] = views[last];
            views[last] = view;
            slotOfRef.put(refs[freedSlot], freedSlot);
        }
        size--;
    }
}
