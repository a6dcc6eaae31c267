package io.pvio.backend;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A back end's live counters, kept in slabs: each writer (a queue's agent, a receive path, a xenbus thread) counts in
 * a slab of its own with opaque stores and no fence on the hot path, and any thread sums a counter over every slab
 * with opaque loads, so a reader sees every counter move forward, possibly a few increments late. A counter written
 * by more than one thread uses {@link #addShared}. Slabs are padded so two writers never share a cache line.
 */
public final class CounterSlabs
{
    // 16 longs of padding on each side keep two writers' counters off each other's cache lines
    private static final int PAD = 16;
    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(long[].class);

    private final int count;
    private final CopyOnWriteArrayList<long[]> slabs = new CopyOnWriteArrayList<>();

    /**
     * Slabs of {@code count} counters each.
     *
     * @param count counters per slab.
     */
    public CounterSlabs(final int count)
    {
        this.count = count;
    }

    /**
     * A new slab for one writer, summed from now on.
     *
     * @return the slab.
     */
    public long[] newSlab()
    {
        final long[] slab = new long[PAD + count + PAD];
        slabs.add(slab);
        return slab;
    }

    /**
     * Adds to a counter of a slab written by the calling thread only. Allocates nothing.
     *
     * @param slab    the writer's slab.
     * @param counter the counter's index.
     * @param delta   what to add.
     */
    public static void add(final long[] slab, final int counter, final long delta)
    {
        final int index = PAD + counter;
        SLOT.setOpaque(slab, index, (long)SLOT.getOpaque(slab, index) + delta);
    }

    /**
     * Adds from any thread, atomically; for counters written by more than one thread.
     *
     * @param slab    the slab.
     * @param counter the counter's index.
     * @param delta   what to add.
     */
    public static void addShared(final long[] slab, final int counter, final long delta)
    {
        SLOT.getAndAdd(slab, PAD + counter, delta);
    }

    /**
     * A counter summed over every slab.
     *
     * @param counter the counter's index.
     * @return the total.
     */
    public long sum(final int counter)
    {
        long total = 0;
        for (final long[] slab : slabs)
        {
            total += (long)SLOT.getOpaque(slab, PAD + counter);
        }
        return total;
    }
}
