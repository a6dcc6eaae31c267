package io.pvio.backend;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A back end's live counters, kept in slabs: each writer (a queue's agent, a receive path, a xenbus thread) counts in
 * a slab of its own with opaque stores and no fence on the hot path, and any thread sums a counter over every slab
 * with opaque loads, so a reader sees every counter move forward, possibly a few increments late. A counter written
 * by more than one thread uses {@link #addShared}. Slabs are padded so two writers never share a cache line.
 * <p>
 * A writer that stops for good (a queue torn down at a disconnect) hands its slab back with {@link #recycle}; the
 * next {@link #newSlab()} reuses it, counting on from the values it holds, so the sums stay totals over every
 * connection and never step back, and a front end that reconnects again and again does not grow the slab list.
 */
public final class CounterSlabs
{
    // 16 longs of padding on each side keep two writers' counters off each other's cache lines
    private static final int PAD = 16;
    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(long[].class);

    private final int count;
    private final CopyOnWriteArrayList<long[]> slabs = new CopyOnWriteArrayList<>();
    private final ConcurrentLinkedQueue<long[]> spare = new ConcurrentLinkedQueue<>();

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
     * A slab for one writer: a recycled one if there is one (its counts stay and go on), otherwise a new one, summed
     * from now on.
     *
     * @return the slab.
     */
    public long[] newSlab()
    {
        // the recycler's writes happen-before its offer, which happens-before this poll: the new writer's opaque
        // read-modify-writes start from the last values
        final long[] reused = spare.poll();
        if (null != reused)
        {
            return reused;
        }
        final long[] slab = new long[PAD + count + PAD];
        slabs.add(slab);
        return slab;
    }

    /**
     * Hands back a slab none of whose writers will write again (their threads have stopped, or have been shown the
     * slab's last use through a happens-before edge), for a later {@link #newSlab()}. Its counts stay in the sums.
     *
     * @param slab a slab from this instance's {@link #newSlab()}, in use.
     * @throws IllegalArgumentException if the slab is not one of this instance's.
     * @throws IllegalStateException    if it is spare already (a second recycle would give two writers one slab).
     */
    public void recycle(final long[] slab)
    {
        // arrays compare by identity, so contains finds this very slab
        if (!slabs.contains(slab))
        {
            throw new IllegalArgumentException("not a slab of these counters");
        }
        if (spare.contains(slab))
        {
            throw new IllegalStateException("slab recycled twice");
        }
        spare.offer(slab);
    }

    /**
     * The slabs made so far, in use or spare: bounded by the most writers ever alive at once.
     *
     * @return the count.
     */
    public int slabCount()
    {
        return slabs.size();
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
