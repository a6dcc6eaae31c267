package io.pvio.hypervisor;

import java.util.BitSet;

import io.pvio.machine.memory.MachineMemory;

/**
 * A domain's kernel page allocator ({@link Domain#pageAllocator()}): hands out the domain's own guest frame numbers
 * (gfns) for rings, data pages, bounce buffers and indirect descriptor pages, so that every driver of one domain draws
 * from one pool. A freed page is scrubbed
 * (zeroed) before it goes back, so nothing a device saw leaks into the next use.
 * <p>
 * Thread-safe; allocation is a bitmap scan under a lock, meant for set-up and pool refills, not per I/O.
 */
public final class PageAllocator
{
    private final Domain domain;
    private final int firstGfn;
    private final int endGfn;
    private final BitSet used;
    private int next;
    private int inUse;

    /**
     * An allocator over every frame of the domain.
     *
     * @param domain the guest.
     */
    public PageAllocator(final Domain domain)
    {
        this(domain, 0, domain.p2m().size());
    }

    /**
     * An allocator over the gfns {@code [firstGfn, endGfn)} of the domain.
     *
     * @param domain   the guest.
     * @param firstGfn first gfn handed out.
     * @param endGfn   one past the last gfn handed out.
     * @throws IllegalArgumentException if the range is empty or outside the domain's memory.
     */
    public PageAllocator(final Domain domain, final int firstGfn, final int endGfn)
    {
        if (firstGfn < 0 || endGfn > domain.p2m().size() || firstGfn >= endGfn)
        {
            throw new IllegalArgumentException("gfn range [" + firstGfn + ", " + endGfn + ") is empty or outside the " +
                domain.p2m().size() + " frames of " + domain);
        }
        this.domain = domain;
        this.firstGfn = firstGfn;
        this.endGfn = endGfn;
        this.used = new BitSet(endGfn - firstGfn);
    }

    /**
     * The domain whose pages this allocator hands out.
     *
     * @return the guest.
     */
    public Domain domain()
    {
        return domain;
    }

    /**
     * Takes a free page.
     *
     * @return its gfn.
     * @throws IllegalStateException if every page is in use.
     */
    public long allocate()
    {
        final long gfn = tryAllocate();
        if (gfn < 0)
        {
            throw new IllegalStateException("guest " + domain.id() + " has no free page: " + inUse() + " of " +
                capacity() + " in use");
        }
        return gfn;
    }

    /**
     * Takes a free page if there is one.
     *
     * @return its gfn, or -1 if every page is in use.
     */
    public synchronized long tryAllocate()
    {
        final int size = endGfn - firstGfn;
        int index = used.nextClearBit(next);
        if (index >= size)
        {
            index = used.nextClearBit(0);
            if (index >= size)
            {
                return -1;
            }
        }
        used.set(index);
        next = index + 1;
        inUse++;
        return firstGfn + (long)index;
    }

    /**
     * Zeroes a page and gives it back.
     *
     * @param gfn a page from {@link #allocate()}.
     * @throws IllegalArgumentException if the page is outside this allocator's range or not allocated.
     */
    public void free(final long gfn)
    {
        if (gfn < firstGfn || gfn >= endGfn)
        {
            throw new IllegalArgumentException("gfn " + gfn + " is outside [" + firstGfn + ", " + endGfn + ")");
        }
        domain.guestFrame(gfn).setMemory(0, MachineMemory.FRAME_SIZE, (byte)0);
        synchronized (this)
        {
            final int index = (int)(gfn - firstGfn);
            if (!used.get(index))
            {
                throw new IllegalArgumentException("gfn " + gfn + " is not allocated");
            }
            used.clear(index);
            inUse--;
        }
    }

    /**
     * Takes a run of free pages whose machine frames are address-consecutive, so that one buffer can span them (a
     * multi-page ring: real kernels map the pages at consecutive virtual addresses, which pvio's dom0 cannot do yet).
     *
     * @param pages how many, 1 or more.
     * @return the first gfn of the run; the others follow it.
     * @throws IllegalStateException if no such run is free.
     */
    public synchronized long allocateContiguous(final int pages)
    {
        if (pages < 1)
        {
            throw new IllegalArgumentException("pages must be positive: " + pages);
        }
        final MachineMemory memory = domain.memory();
        final int size = endGfn - firstGfn;
        for (int start = used.nextClearBit(0); start + pages <= size; start = used.nextClearBit(start + 1))
        {
            final long base = memory.frameAddress(domain.mfnOf(firstGfn + (long)start));
            int run = 1;
            while (run < pages && !used.get(start + run) &&
                memory.frameAddress(domain.mfnOf(firstGfn + (long)start + run)) == base + (long)run * MachineMemory.FRAME_SIZE)
            {
                run++;
            }
            if (run == pages)
            {
                used.set(start, start + pages);
                inUse += pages;
                return firstGfn + (long)start;
            }
        }
        throw new IllegalStateException("domain " + domain.id() + " has no run of " + pages +
            " machine-contiguous free pages");
    }

    /**
     * Pages handed out and not yet freed.
     *
     * @return the count.
     */
    public synchronized int inUse()
    {
        return inUse;
    }

    /**
     * Pages this allocator manages.
     *
     * @return the size of its range.
     */
    public int capacity()
    {
        return endGfn - firstGfn;
    }

    @Override
    public String toString()
    {
        return "PageAllocator{domain=" + domain.id() + ", inUse=" + inUse() + ", capacity=" + capacity() + '}';
    }
}
