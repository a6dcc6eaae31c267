package io.pvio.frontend.block;

import java.util.Arrays;

import io.pvio.hypervisor.Domain;
import io.pvio.hypervisor.PageAllocator;
import io.pvio.hypervisor.grant.GrantTable;

/**
 * The front end's data pages: bounce buffers between the guest's I/O buffers and the back end, so that nothing but
 * the bytes of the I/O is ever shared with it. With persistent grants each page is granted read-write once and keeps
 * its grant (a LIFO pool, as Linux's blkfront); otherwise pages are plain and the queue grants them per request.
 * A page is a packed {@code long}: the gfn in the low 32 bits, the persistent grant reference (or -1) in the high.
 */
final class FrontPagePool
{
    static final long NONE = -1;

    private final Domain domain;
    private final PageAllocator allocator;
    private final GrantTable grants;
    private final int backendId;
    private final boolean persistent;
    private final BlockFrontCounters counters;
    private long[] free = new long[64];
    private int freeCount;
    private int outstanding;

    FrontPagePool(final Domain domain, final int backendId, final boolean persistent, final BlockFrontCounters counters)
    {
        this.domain = domain;
        this.allocator = domain.pageAllocator();
        this.grants = domain.grantTable();
        this.backendId = backendId;
        this.persistent = persistent;
        this.counters = counters;
    }

    static long gfn(final long page)
    {
        return page & 0xFFFF_FFFFL;
    }

    static int ref(final long page)
    {
        return (int)(page >>> 32);
    }

    boolean isPersistent()
    {
        return persistent;
    }

    /**
     * Takes a page, granting it if the pool is persistent and the page is new.
     *
     * @return the packed page, or {@link #NONE} if the guest has no page or grant left.
     */
    synchronized long take()
    {
        if (freeCount > 0)
        {
            outstanding++;
            return free[--freeCount];
        }
        final long gfn = allocator.tryAllocate();
        if (gfn < 0)
        {
            return NONE;
        }
        int ref = -1;
        if (persistent)
        {
            ref = grants.grantAccess(backendId, gfn, false);
            if (ref < 0)
            {
                allocator.free(gfn);
                return NONE;
            }
            counters.add(BlockFrontCounters.GRANTS_ISSUED, 1);
            counters.add(BlockFrontCounters.PERSISTENT_GRANTS, 1);
        }
        outstanding++;
        return ((long)ref << 32) | gfn;
    }

    /**
     * Gives a page back.
     *
     * @param page a page from {@link #take()}.
     */
    synchronized void give(final long page)
    {
        if (freeCount == free.length)
        {
            free = Arrays.copyOf(free, free.length * 2);
        }
        free[freeCount++] = page;
        outstanding--;
    }

    /**
     * Gives up a page that must never be reused: its grant could not be ended.
     */
    synchronized void leak()
    {
        outstanding--;
        counters.add(BlockFrontCounters.LEAKED_PAGES, 1);
    }

    /**
     * Ends every pooled page's grant and frees the pages; pages whose grant cannot be ended are leaked. Pages still
     * out are the caller's to give back first. Without hypercalls (a dead domain) the pool just forgets them.
     *
     * @param hypercallsAllowed false once the domain is dead.
     */
    synchronized void releaseAll(final boolean hypercallsAllowed)
    {
        for (int i = 0; i < freeCount; i++)
        {
            final long page = free[i];
            if (!hypercallsAllowed)
            {
                continue;
            }
            if (persistent)
            {
                if (!grants.endAccess(ref(page)))
                {
                    counters.add(BlockFrontCounters.LEAKED_PAGES, 1);
                    continue;
                }
                counters.add(BlockFrontCounters.GRANTS_ENDED, 1);
                counters.add(BlockFrontCounters.PERSISTENT_GRANTS, -1);
            }
            allocator.free(gfn(page));
        }
        freeCount = 0;
    }

    synchronized int outstanding()
    {
        return outstanding;
    }

    Domain domain()
    {
        return domain;
    }
}
