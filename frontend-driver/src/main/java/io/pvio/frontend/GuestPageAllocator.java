package io.pvio.frontend;

import java.util.BitSet;

import io.pvio.hypervisor.Domain;
import io.pvio.ring.SharedRingDescriptor;

/**
 * The guest kernel's page allocator: hands out the domain's own guest frame numbers (gfns) for rings, data pages and
 * indirect descriptor pages, so that every front end of one guest draws from one pool. A freed page is scrubbed
 * (zeroed) before it goes back, so nothing a device saw leaks into the next use.
 * <p>
 * Thread-safe; allocation is a bitmap scan under a lock, meant for set-up and pool refills, not per I/O.
 */
public final class GuestPageAllocator
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
    public GuestPageAllocator(final Domain domain)
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
    public GuestPageAllocator(final Domain domain, final int firstGfn, final int endGfn)
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
        domain.guestFrame(gfn).setMemory(0, SharedRingDescriptor.PAGE_SIZE, (byte)0);
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
        return "GuestPageAllocator{domain=" + domain.id() + ", inUse=" + inUse() + ", capacity=" + capacity() + '}';
    }
}
