package io.pvio.frontend.memory;

import java.util.Arrays;

import io.pvio.hypervisor.Domain;
import io.pvio.hypervisor.PageAllocator;
import io.pvio.hypervisor.memory.MemoryManager;
import io.pvio.machine.memory.MachineMemory;

/**
 * The guest kernel's own paging for one process's virtual pages: a resident page sits in a guest frame from the
 * kernel's page allocator; when the allocator is empty the clock algorithm (a referenced bit per frame) picks a victim
 * that is written to the guest's swap device and its frame reused. Every access goes through the hypervisor's fault
 * path ({@link MemoryManager#readLong} and its kin, translation and access under one lock), so pages the hypervisor swapped out come back in, and a guest page-out of such
 * a page is <b>double paging</b> (the hypervisor reads it in only for the guest to write it out), which is counted.
 * <p>
 * Data is real and checked: each page's first word holds a stamp of its page number and write generation, carried
 * through guest and hypervisor swapping; a mismatch throws. Implements {@link PageReclaimer} for the balloon driver.
 * One guest thread; not thread-safe.
 */
public final class GuestPager implements PageReclaimer
{
    private final Domain domain;
    private final PageAllocator allocator;
    private final MemoryManager memoryManager;
    private final long[] gfnOf;
    private final int[] generation;
    private final byte[][] swapped;
    private final int[] pageIn;
    private final boolean[] referenced;
    private int hand;
    private int resident;
    private long accesses;
    private long pageIns;
    private long pageOuts;
    private long doublePaging;

    /**
     * A pager for {@code virtualPages} pages of one process.
     *
     * @param domain        the guest.
     * @param allocator     the guest kernel's page allocator.
     * @param memoryManager the hypervisor's memory manager (the hardware's way into the fault path).
     * @param virtualPages  pages the process can touch.
     */
    public GuestPager(
        final Domain domain, final PageAllocator allocator, final MemoryManager memoryManager, final int virtualPages)
    {
        this.domain = domain;
        this.allocator = allocator;
        this.memoryManager = memoryManager;
        this.gfnOf = new long[virtualPages];
        this.generation = new int[virtualPages];
        this.swapped = new byte[virtualPages][];
        final int frames = domain.p2m().size();
        this.pageIn = new int[frames];
        this.referenced = new boolean[frames];
        Arrays.fill(gfnOf, -1);
        Arrays.fill(pageIn, -1);
    }

    /**
     * The process touches one of its pages: faults it in if it is not resident, then reads its stamp and, for a write,
     * stores the next one.
     *
     * @param page  the virtual page.
     * @param write whether it writes.
     * @throws IllegalStateException if the page's data is not what was last written, or the guest is out of memory.
     */
    public void touch(final int page, final boolean write)
    {
        accesses++;
        long gfn = gfnOf[page];
        if (gfn < 0)
        {
            gfn = fault(page);
        }
        referenced[(int)gfn] = true;
        final long expected = stamp(page, generation[page]);
        final long actual = memoryManager.readLong(domain, gfn, 0);
        if (actual != expected)
        {
            throw new IllegalStateException("domain " + domain.id() + " page " + page + " (gfn " + gfn + ") holds 0x" +
                Long.toHexString(actual) + ", expected 0x" + Long.toHexString(expected));
        }
        if (write)
        {
            memoryManager.writeLong(domain, gfn, 0, stamp(page, ++generation[page]));
        }
    }

    private long fault(final int page)
    {
        long gfn = allocator.tryAllocate();
        if (gfn < 0)
        {
            if (!reclaimOne() || (gfn = allocator.tryAllocate()) < 0)
            {
                throw new IllegalStateException("domain " + domain.id() + " is out of memory: nothing to reclaim");
            }
        }
        final byte[] saved = swapped[page];
        if (null != saved)
        {
            memoryManager.copyIn(domain, gfn, saved);
            pageIns++;
        }
        gfnOf[page] = gfn;
        pageIn[(int)gfn] = page;
        resident++;
        return gfn;
    }

    @Override
    public boolean reclaimOne()
    {
        final int frames = pageIn.length;
        for (int steps = 0; steps < 2 * frames && resident > 0; steps++)
        {
            final int gfn = hand;
            hand = (hand + 1) % frames;
            final int page = pageIn[gfn];
            if (page < 0)
            {
                continue;
            }
            if (referenced[gfn])
            {
                referenced[gfn] = false;
                continue;
            }
            pageOut(page, gfn);
            return true;
        }
        return false;
    }

    private void pageOut(final int page, final int gfn)
    {
        byte[] saved = swapped[page];
        if (null == saved)
        {
            saved = new byte[MachineMemory.FRAME_SIZE];
            swapped[page] = saved;
        }
        final long swapInsBefore = memoryManager.hostSwapIns(domain);
        memoryManager.copyOut(domain, gfn, saved);
        if (memoryManager.hostSwapIns(domain) != swapInsBefore)
        {
            doublePaging++; // the hypervisor had swapped this page out: it came in only to go out again
        }
        pageOuts++;
        gfnOf[page] = -1;
        pageIn[gfn] = -1;
        referenced[gfn] = false;
        resident--;
        allocator.free(gfn);
    }

    /**
     * The stamp a page holds at a write generation (0 before its first write: a fresh zero page).
     *
     * @param page       the page.
     * @param generation the generation.
     * @return the stamp.
     */
    public static long stamp(final int page, final int generation)
    {
        return 0 == generation ? 0 : ((long)page << 32) | generation;
    }

    /**
     * Pages resident in guest frames.
     *
     * @return the count.
     */
    public int residentPages()
    {
        return resident;
    }

    /**
     * Accesses made.
     *
     * @return the count.
     */
    public long accesses()
    {
        return accesses;
    }

    /**
     * Pages read back from the guest's swap device.
     *
     * @return the count.
     */
    public long pageIns()
    {
        return pageIns;
    }

    /**
     * Pages written to the guest's swap device.
     *
     * @return the count.
     */
    public long pageOuts()
    {
        return pageOuts;
    }

    /**
     * Guest page-outs of pages the hypervisor had swapped out.
     *
     * @return the count.
     */
    public long doublePaging()
    {
        return doublePaging;
    }
}
