package io.pvio.frontend.memory;

import org.agrona.collections.LongArrayList;

import io.pvio.hypervisor.Domain;
import io.pvio.hypervisor.PageAllocator;
import io.pvio.hypervisor.memory.MemoryOps;
import io.pvio.hypervisor.memory.MemoryTarget;
import io.pvio.hypervisor.xenstore.XenStoreConnection;
import io.pvio.hypervisor.xenstore.XenStoreException;
import io.pvio.hypervisor.xenstore.XenbusValues;

/**
 * The guest's balloon driver, as Linux's {@code xen-balloon}: it watches {@code memory/target} in XenStore and moves
 * the domain toward it a batch at a time. <b>Inflating</b> takes pages from the guest's own page allocator (asking the
 * kernel to reclaim, which may page out, when the allocator is empty) and gives them to the hypervisor with
 * {@code XENMEM_decrease_reservation}; <b>deflating</b> asks for them back with {@code XENMEM_populate_physmap} and
 * frees them into the allocator. The guest picks its own victims, so it gives up free memory first.
 * <p>
 * The target is input from outside the guest: a value that is not a decimal number of KiB is refused and counted
 * (the old target stays), one above the domain's maximum is clamped to it, one below the driver's floor to the floor.
 * Drive it with {@link #poll()} and {@link #step(int)} from the guest's own thread; not thread-safe.
 */
public final class BalloonDriver implements AutoCloseable
{
    private static final String TOKEN = "balloon";
    private static final int BATCH = 64;

    private final Domain domain;
    private final PageAllocator allocator;
    private final XenStoreConnection store;
    private final PageReclaimer reclaimer;
    private final MemoryOps memoryOps;
    private final String targetPath;
    private final int maxPages;
    private final int floorPages;
    private final LongArrayList ballooned = new LongArrayList();
    private final long[] batch = new long[BATCH];
    private long targetPages;
    private long inflated;
    private long deflated;
    private long reclaims;
    private long rejectedTargets;
    private long clampedTargets;
    private String lastRejection;
    private boolean watching;

    /**
     * A balloon driver for a domain that starts fully populated.
     *
     * @param domain     the guest.
     * @param allocator  the guest kernel's page allocator.
     * @param store      the guest's XenStore connection.
     * @param reclaimer  the kernel's reclaim, used when the allocator is empty.
     * @param floorPages the least memory the driver leaves the guest.
     */
    public BalloonDriver(
        final Domain domain, final PageAllocator allocator, final XenStoreConnection store,
        final PageReclaimer reclaimer, final int floorPages)
    {
        this.domain = domain;
        this.allocator = allocator;
        this.store = store;
        this.reclaimer = reclaimer;
        this.memoryOps = domain.hypercalls().memoryOp();
        this.maxPages = memoryOps.maximumReservation();
        this.floorPages = Math.max(1, Math.min(floorPages, maxPages));
        this.targetPath = MemoryTarget.path(domain.id());
        this.targetPages = maxPages;
        store.watch(targetPath, TOKEN);
        watching = true;
    }

    /**
     * Reads the target again if the watch fired.
     *
     * @return true if a watch event was seen.
     */
    public boolean poll()
    {
        final int events = store.pollWatchEvents((path, token) ->
        {
        }, Integer.MAX_VALUE);
        if (events > 0)
        {
            readTarget();
        }
        return events > 0;
    }

    private void readTarget()
    {
        final String value;
        try
        {
            value = store.readString(targetPath);
        }
        catch (final XenStoreException ex)
        {
            return; // no target written yet, or removed: keep the current one
        }
        final long kib;
        try
        {
            kib = XenbusValues.parseDecimal(value, MemoryTarget.TARGET, 0, Long.MAX_VALUE);
        }
        catch (final IllegalArgumentException ex)
        {
            rejectedTargets++;
            lastRejection = ex.getMessage();
            return;
        }
        long pages = kib / MemoryTarget.KIB_PER_PAGE;
        if (pages > maxPages || pages < floorPages)
        {
            clampedTargets++;
            pages = Math.max(floorPages, Math.min(maxPages, pages));
        }
        targetPages = pages;
    }

    /**
     * Moves up to {@code maxPages} pages toward the target.
     *
     * @param maxPages the most pages to move now.
     * @return pages given to the hypervisor (positive) or taken back (negative).
     */
    public int step(final int maxPages)
    {
        final long current = currentPages();
        if (current > targetPages)
        {
            return inflate((int)Math.min(maxPages, current - targetPages));
        }
        if (current < targetPages)
        {
            return -deflate((int)Math.min(maxPages, targetPages - current));
        }
        return 0;
    }

    private int inflate(final int pages)
    {
        int done = 0;
        while (done < pages)
        {
            int n = 0;
            while (n < BATCH && done + n < pages)
            {
                long gfn = allocator.tryAllocate();
                if (gfn < 0)
                {
                    if (!reclaimer.reclaimOne())
                    {
                        break;
                    }
                    reclaims++;
                    gfn = allocator.tryAllocate();
                    if (gfn < 0)
                    {
                        break;
                    }
                }
                batch[n++] = gfn;
            }
            if (0 == n)
            {
                break;
            }
            final int released = memoryOps.decreaseReservation(batch, n);
            for (int i = 0; i < released; i++)
            {
                ballooned.addLong(batch[i]);
            }
            for (int i = released; i < n; i++)
            {
                allocator.free(batch[i]); // the hypervisor refused it: keep the page
            }
            inflated += released;
            done += released;
            if (released < n)
            {
                break;
            }
        }
        return done;
    }

    private int deflate(final int pages)
    {
        int done = 0;
        while (done < pages && !ballooned.isEmpty())
        {
            int n = 0;
            while (n < BATCH && done + n < pages && n < ballooned.size())
            {
                batch[n] = ballooned.getLong(ballooned.size() - 1 - n);
                n++;
            }
            final int populated = memoryOps.populatePhysmap(batch, n);
            for (int i = 0; i < populated; i++)
            {
                ballooned.removeAt(ballooned.size() - 1);
                allocator.free(batch[i]);
            }
            deflated += populated;
            done += populated;
            if (populated < n)
            {
                break; // the machine is out of memory for now
            }
        }
        return done;
    }

    /**
     * The target in pages the driver is moving toward.
     *
     * @return pages.
     */
    public long targetPages()
    {
        return targetPages;
    }

    /**
     * Pages the guest holds: its maximum less the balloon.
     *
     * @return pages.
     */
    public long currentPages()
    {
        return maxPages - (long)ballooned.size();
    }

    /**
     * Pages in the balloon (given to the hypervisor).
     *
     * @return pages.
     */
    public int balloonPages()
    {
        return ballooned.size();
    }

    /**
     * Pages given to the hypervisor so far.
     *
     * @return pages.
     */
    public long inflated()
    {
        return inflated;
    }

    /**
     * Pages taken back so far.
     *
     * @return pages.
     */
    public long deflated()
    {
        return deflated;
    }

    /**
     * Pages the kernel had to reclaim (possibly paging out) so the balloon could take them.
     *
     * @return pages.
     */
    public long reclaims()
    {
        return reclaims;
    }

    /**
     * Targets refused as malformed.
     *
     * @return the count.
     */
    public long rejectedTargets()
    {
        return rejectedTargets;
    }

    /**
     * Targets clamped to the floor or the maximum.
     *
     * @return the count.
     */
    public long clampedTargets()
    {
        return clampedTargets;
    }

    /**
     * Why the last target was refused.
     *
     * @return the message, null if none was.
     */
    public String lastRejection()
    {
        return lastRejection;
    }

    /**
     * Stops watching the target; the balloon stays as it is.
     */
    @Override
    public void close()
    {
        if (watching)
        {
            watching = false;
            if (!store.isClosed())
            {
                store.unwatch(targetPath, TOKEN);
            }
        }
    }

    @Override
    public String toString()
    {
        return "BalloonDriver{domain=" + domain.id() + ", target=" + targetPages + ", current=" + currentPages() +
            ", balloon=" + ballooned.size() + '}';
    }
}
