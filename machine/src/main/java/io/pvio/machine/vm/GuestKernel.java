package io.pvio.machine.vm;

import java.util.ArrayList;
import java.util.List;

import org.agrona.collections.Long2LongHashMap;
import org.agrona.collections.LongArrayList;
import org.agrona.collections.LongHashSet;
import org.agrona.concurrent.UnsafeBuffer;

import io.pvio.machine.CostModel;
import io.pvio.machine.memory.MachineMemory;
import io.pvio.machine.paging.DirectPaging;
import io.pvio.machine.paging.Mmu;
import io.pvio.machine.paging.NestedMmu;
import io.pvio.machine.paging.PageTableBuilder;
import io.pvio.machine.paging.PageTableEntry;
import io.pvio.machine.paging.ShadowPager;

import static io.pvio.machine.paging.PageTableEntry.FRAMES_PER_LARGE_PAGE;
import static io.pvio.machine.paging.PageTableEntry.LARGE_PAGE_SHIFT;
import static io.pvio.machine.paging.PageTableEntry.PAGE_SHIFT;
import static io.pvio.machine.paging.PageTableEntry.PAGE_SIZE;
import static io.pvio.machine.paging.PageTableEntry.PRESENT;
import static io.pvio.machine.paging.PageTableEntry.USER;
import static io.pvio.machine.paging.PageTableEntry.WRITABLE;

/**
 * The memory-management half of a guest kernel on one vCPU, running the same code in every {@link PagingMode}: it
 * keeps address spaces (4-level tables in its own frames), maps and unmaps pages, forks with copy on write, handles
 * demand and copy-on-write faults, switches address spaces and makes system calls. What differs is only how each of
 * those reaches the hardware:
 * <table>
 *   <caption>one kernel, four modes</caption>
 *   <tr><th></th><th>native</th><th>full (shadow)</th><th>para (direct)</th><th>nested</th></tr>
 *   <tr><td>entries hold</td><td>machine frames</td><td>guest frames</td><td>machine frames</td>
 *       <td>guest frames</td></tr>
 *   <tr><td>PTE write</td><td>store</td><td>store, traps once the table is shadowed</td>
 *       <td>queued {@code mmu_update}, one hypercall per batch</td><td>store</td></tr>
 *   <tr><td>CR3 load, INVLPG</td><td>instruction</td><td>trap</td><td>{@code mmuext_op}, in the batch</td>
 *       <td>instruction</td></tr>
 *   <tr><td>page fault</td><td>to the kernel</td><td>exit, reflected to the kernel</td>
 *       <td>bounced by the hypervisor (CR2)</td><td>to the kernel</td></tr>
 *   <tr><td>system call</td><td>direct</td><td>enters the monitor</td><td>fast handler, direct</td><td>direct</td></tr>
 *   <tr><td>TLB miss</td><td>4-level walk</td><td>4-level walk of the shadow</td><td>4-level walk</td>
 *       <td>2-D walk, 24 references</td></tr>
 * </table>
 * Every event is counted per domain in {@link VirtCounters} and priced with the {@link CostModel}. In para mode the
 * kernel batches table updates the way Linux's lazy MMU mode does and flushes the batch before a CR3 load, a TLB
 * flush, its page-fault handler and any return to user code ({@link #access}).
 * <p>
 * One vCPU; not thread-safe. Close it to return every frame to the machine.
 */
public final class GuestKernel implements AutoCloseable
{
    /** Flags of a user page. */
    private static final long USER_PAGE = PRESENT | USER;
    private static final long TABLE_LINK = PRESENT | WRITABLE | USER;
    private static final long LARGE_MASK = (1L << LARGE_PAGE_SHIFT) - 1;
    private static final long NONE = Long.MIN_VALUE;

    private final PagingMode mode;
    private final int domain;
    private final MachineMemory memory;
    private final CostModel cost;
    private final GuestPhysicalMemory frames;
    private final KernelOptions options;
    private final Mmu mmu;
    private final NestedMmu nestedMmu;
    private final ShadowPager shadow;
    private final DirectPaging directPaging;
    private final PageTableBuilder hostTables;
    private final List<AddressSpace> spaces = new ArrayList<>();
    private final VirtCounters counts = new VirtCounters();
    private final long[] pendingPtrs;
    private final long[] pendingValues;
    private final LongArrayList pendingInvlpg = new LongArrayList();
    private final UnsafeBuffer view = new UnsafeBuffer(0, 0);
    private int pending;
    private boolean pendingFlush;
    private AddressSpace current;
    private boolean closed;

    /**
     * A guest kernel with {@code guestFrames} frames of memory.
     *
     * @param mode         how its paging is virtualized.
     * @param memory       the machine memory.
     * @param domain       its domain id (frame owner).
     * @param guestFrames  frames of guest memory.
     * @param cost         prices.
     * @param directPaging the machine's direct-paging state (para mode, shared by every para guest), or null to make
     *                     one for this guest alone.
     * @param options      TLB, walk cache, batching.
     */
    public GuestKernel(
        final PagingMode mode,
        final MachineMemory memory,
        final int domain,
        final int guestFrames,
        final CostModel cost,
        final DirectPaging directPaging,
        final KernelOptions options)
    {
        this.mode = mode;
        this.domain = domain;
        this.memory = memory;
        this.cost = cost;
        this.options = options;
        this.frames = new GuestPhysicalMemory(memory, domain, guestFrames, !options.contiguousMemory());
        this.pendingPtrs = new long[options.batchSize()];
        this.pendingValues = new long[options.batchSize()];
        Mmu cpu = null;
        NestedMmu nested = null;
        ShadowPager pager = null;
        DirectPaging direct = null;
        PageTableBuilder host = null;
        switch (mode)
        {
            case NATIVE:
                cpu = new Mmu(memory, options.tlbEntries(), options.walkCacheEntries());
                break;
            case FULL:
                cpu = new Mmu(memory, options.tlbEntries(), options.walkCacheEntries());
                pager = new ShadowPager(memory, domain, frames, cpu, cost, options.shadowCacheFrames());
                break;
            case PARA:
                cpu = new Mmu(memory, options.tlbEntries(), options.walkCacheEntries());
                direct = null != directPaging ? directPaging : new DirectPaging(memory, cost);
                break;
            case NESTED:
                nested = new NestedMmu(memory, options.tlbEntries(), options.walkCacheEntries());
                host = buildHostTables(options.hostLargePages());
                nested.setHostRoot(host.root());
                break;
            default:
                throw new IllegalArgumentException("mode " + mode);
        }
        this.mmu = cpu;
        this.nestedMmu = nested;
        this.shadow = pager;
        this.directPaging = direct;
        this.hostTables = host;
    }

    private PageTableBuilder buildHostTables(final boolean largePages)
    {
        final PageTableBuilder host = new PageTableBuilder(memory, domain);
        final int n = frames.frames();
        int gfn = 0;
        while (gfn < n)
        {
            if (largePages && 0 == (gfn & (FRAMES_PER_LARGE_PAGE - 1)) && gfn + FRAMES_PER_LARGE_PAGE <= n &&
                machineContiguous(gfn))
            {
                host.mapLarge((long)gfn << PAGE_SHIFT, frames.machineFrame(gfn), WRITABLE | USER);
                gfn += FRAMES_PER_LARGE_PAGE;
            }
            else
            {
                host.map((long)gfn << PAGE_SHIFT, frames.machineFrame(gfn), WRITABLE | USER);
                gfn++;
            }
        }
        return host;
    }

    private boolean machineContiguous(final long firstPfn)
    {
        final long base = frames.machineFrame(firstPfn);
        if (0 != (base & (FRAMES_PER_LARGE_PAGE - 1)))
        {
            return false;
        }
        for (int i = 1; i < FRAMES_PER_LARGE_PAGE; i++)
        {
            if (frames.machineFrame(firstPfn + i) != base + i)
            {
                return false;
            }
        }
        return true;
    }

    /**
     * The paging mode.
     *
     * @return the mode.
     */
    public PagingMode mode()
    {
        return mode;
    }

    /**
     * The domain id.
     *
     * @return the id.
     */
    public int domain()
    {
        return domain;
    }

    /**
     * The guest's pseudo-physical memory and page allocator.
     *
     * @return the memory.
     */
    public GuestPhysicalMemory frames()
    {
        return frames;
    }

    /**
     * The address space in CR3.
     *
     * @return the current space, null before the first switch.
     */
    public AddressSpace current()
    {
        return current;
    }

    /**
     * Creates an empty address space (a root table; in para mode pinned, which validates it once).
     *
     * @return the space.
     */
    public AddressSpace createAddressSpace()
    {
        checkOpen();
        final long root = allocateFrame();
        final AddressSpace space = new AddressSpace(root);
        space.tables.addLong(root);
        if (PagingMode.PARA == mode)
        {
            hypercall(0);
            check(directPaging.pin(domain, frames.machineFrame(root), PageTableEntry.LEVELS), "pin root");
        }
        spaces.add(space);
        return space;
    }

    /**
     * Loads an address space into CR3.
     *
     * @param space the space.
     */
    public void switchTo(final AddressSpace space)
    {
        checkLive(space);
        counts.cr3Loads++;
        loadCr3(space);
        current = space;
    }

    private void loadCr3(final AddressSpace space)
    {
        switch (mode)
        {
            case NATIVE:
                mmu.loadCr3(frames.machineFrame(space.root));
                break;
            case FULL:
                shadow.guestLoadCr3(space.root);
                break;
            case PARA:
                flush();
                hypercall(0);
                check(directPaging.loadCr3(domain, frames.machineFrame(space.root), mmu), "new_baseptr");
                break;
            default:
                nestedMmu.loadGuestCr3(space.root);
                break;
        }
    }

    /**
     * Declares {@code [start, end)} of a space demand-paged: a fault there maps a fresh zeroed writable page (what
     * {@code mmap} of anonymous memory does). Replaces the space's previous region.
     *
     * @param space the space.
     * @param start first address, page aligned.
     * @param end   end address, page aligned.
     */
    public void demandRegion(final AddressSpace space, final long start, final long end)
    {
        checkLive(space);
        space.demandStart = start;
        space.demandEnd = end;
    }

    /**
     * Maps a fresh zeroed page at {@code virtualAddress}.
     *
     * @param space          the space.
     * @param virtualAddress the page's address.
     * @param writable       whether the page is writable.
     * @return the guest frame mapped.
     */
    public long map(final AddressSpace space, final long virtualAddress, final boolean writable)
    {
        checkLive(space);
        final long vpn = virtualAddress >>> PAGE_SHIFT;
        if (space.pages.containsKey(vpn))
        {
            throw new IllegalStateException("0x" + Long.toHexString(virtualAddress) + " is already mapped");
        }
        final long pfn = allocateFrame();
        space.pages.put(vpn, pfn);
        if (writable)
        {
            space.writable.add(vpn);
        }
        writeEntry(space, tableFor(space, virtualAddress, 1), PageTableEntry.index(virtualAddress, 1),
            PageTableEntry.make(entryFrame(pfn), USER_PAGE | (writable ? WRITABLE : 0)));
        return pfn;
    }

    /**
     * Maps a fresh zeroed 2 MiB page (native and nested mode only: Xen's direct paging refuses large pages and the
     * shadow pager does not split them).
     *
     * @param space          the space.
     * @param virtualAddress a 2 MiB-aligned address.
     * @return the first guest frame of the page.
     */
    public long mapLarge(final AddressSpace space, final long virtualAddress)
    {
        checkLive(space);
        if (PagingMode.FULL == mode || PagingMode.PARA == mode)
        {
            throw new UnsupportedOperationException("2 MiB pages are not supported in " + mode + " mode");
        }
        if (0 != (virtualAddress & LARGE_MASK))
        {
            throw new IllegalArgumentException("not 2 MiB aligned: 0x" + Long.toHexString(virtualAddress));
        }
        final long pfn = frames.allocateAligned(FRAMES_PER_LARGE_PAGE);
        if (PagingMode.NATIVE == mode && !machineContiguous(pfn))
        {
            throw new IllegalStateException("guest frames " + pfn + ".. are not machine-contiguous");
        }
        space.large.put(virtualAddress >>> LARGE_PAGE_SHIFT, pfn);
        writeEntry(space, tableFor(space, virtualAddress, 2), PageTableEntry.index(virtualAddress, 2),
            PageTableEntry.make(entryFrame(pfn), USER_PAGE | WRITABLE | PAGE_SIZE));
        return pfn;
    }

    /**
     * Unmaps a 4 KiB page and frees its frame once no other space shares it.
     *
     * @param space          the space.
     * @param virtualAddress the page's address.
     * @return false if the page was not mapped.
     */
    public boolean unmap(final AddressSpace space, final long virtualAddress)
    {
        checkLive(space);
        final long vpn = virtualAddress >>> PAGE_SHIFT;
        final long pfn = space.pages.remove(vpn);
        if (NONE == pfn)
        {
            return false;
        }
        space.writable.remove(vpn);
        space.cow.remove(vpn);
        writeEntry(space, tableFor(space, virtualAddress, 1), PageTableEntry.index(virtualAddress, 1), 0);
        if (space == current)
        {
            invlpg(virtualAddress);
        }
        frames.release(pfn);
        return true;
    }

    /**
     * Forks a space: the child gets every 4 KiB page of the parent copy-on-write (both sides read-only, shared
     * frames), the parent's TLB is flushed, and the child inherits the demand region.
     *
     * @param parent the space to copy.
     * @return the child.
     */
    public AddressSpace fork(final AddressSpace parent)
    {
        checkLive(parent);
        final AddressSpace child = createAddressSpace();
        child.demandStart = parent.demandStart;
        child.demandEnd = parent.demandEnd;
        final Long2LongHashMap.KeyIterator keys = parent.pages.keySet().iterator();
        while (keys.hasNext())
        {
            final long vpn = keys.nextValue();
            final long pfn = parent.pages.get(vpn);
            final long va = vpn << PAGE_SHIFT;
            final boolean writable = parent.writable.contains(vpn);
            if (writable && !parent.cow.contains(vpn))
            {
                parent.cow.add(vpn);
                writeEntry(parent, tableFor(parent, va, 1), PageTableEntry.index(va, 1),
                    PageTableEntry.make(entryFrame(pfn), USER_PAGE));
            }
            frames.share(pfn);
            child.pages.put(vpn, pfn);
            if (writable)
            {
                child.writable.add(vpn);
                child.cow.add(vpn);
            }
            writeEntry(child, tableFor(child, va, 1), PageTableEntry.index(va, 1),
                PageTableEntry.make(entryFrame(pfn), USER_PAGE));
        }
        if (parent == current)
        {
            flushTlb();
        }
        return child;
    }

    /**
     * Tears an address space down: clears every leaf (in place if it is current, as an exiting process does), frees
     * its pages, switches to {@code next} if it was current, then frees its tables (unpinning first in para mode).
     *
     * @param space the space.
     * @param next  where to switch if {@code space} is current; ignored otherwise.
     */
    public void destroy(final AddressSpace space, final AddressSpace next)
    {
        checkLive(space);
        final Long2LongHashMap.KeyIterator keys = space.pages.keySet().iterator();
        while (keys.hasNext())
        {
            final long vpn = keys.nextValue();
            final long va = vpn << PAGE_SHIFT;
            writeEntry(space, tableFor(space, va, 1), PageTableEntry.index(va, 1), 0);
            frames.release(space.pages.get(vpn));
        }
        final Long2LongHashMap.KeyIterator large = space.large.keySet().iterator();
        while (large.hasNext())
        {
            final long region = large.nextValue();
            final long va = region << LARGE_PAGE_SHIFT;
            writeEntry(space, tableFor(space, va, 2), PageTableEntry.index(va, 2), 0);
            final long pfn = space.large.get(region);
            for (int i = 0; i < FRAMES_PER_LARGE_PAGE; i++)
            {
                frames.release(pfn + i);
            }
        }
        space.pages.clear();
        space.large.clear();
        if (space == current)
        {
            if (null == next || next == space)
            {
                throw new IllegalArgumentException("destroying the current space needs another to switch to");
            }
            switchTo(next);
        }
        if (PagingMode.PARA == mode)
        {
            flush();
            hypercall(0);
            check(directPaging.unpin(domain, frames.machineFrame(space.root)), "unpin root");
        }
        for (int i = 0; i < space.tables.size(); i++)
        {
            frames.release(space.tables.getLong(i));
        }
        space.tables.clear();
        space.live = false;
        spaces.remove(space);
    }

    /**
     * A user-mode access from the current space: translates, handling demand and copy-on-write faults as the kernel
     * does, and reads or writes one long of real memory.
     *
     * @param virtualAddress the address, 8-byte aligned.
     * @param write          true to store {@code value}.
     * @param value          the value to store.
     * @return the value read (or stored).
     * @throws GuestSegfault if the access is not allowed.
     */
    public long access(final long virtualAddress, final boolean write, final long value)
    {
        final long machineAddress = translate(virtualAddress, write);
        memory.wrapFrame(machineAddress >>> PAGE_SHIFT, view);
        final int offset = (int)(machineAddress & (MachineMemory.FRAME_SIZE - 1));
        if (write)
        {
            view.putLong(offset, value);
            return value;
        }
        return view.getLong(offset);
    }

    /**
     * Touches an address from user mode (a read or a write of zero-cost data).
     *
     * @param virtualAddress the address.
     * @param write          whether it is a write.
     * @return the machine address it reached.
     * @throws GuestSegfault if the access is not allowed.
     */
    public long translate(final long virtualAddress, final boolean write)
    {
        flush(); // a return to user mode ends the lazy-MMU batch (a no-op unless para updates wait)
        final int access = Mmu.ACCESS_USER | (write ? Mmu.ACCESS_WRITE : 0);
        for (int attempt = 0; attempt < 3; attempt++)
        {
            final long address = hardwareTranslate(virtualAddress, access);
            if (address >= 0)
            {
                return address;
            }
            if (!pageFault(virtualAddress, write))
            {
                break;
            }
        }
        throw new GuestSegfault(domain, virtualAddress, write);
    }

    private long hardwareTranslate(final long virtualAddress, final int access)
    {
        switch (mode)
        {
            case FULL:
            {
                final long address = shadow.access(virtualAddress, access);
                return ShadowPager.GUEST_FAULT == address ? -1 : address;
            }
            case NESTED:
            {
                final long address = nestedMmu.translate(virtualAddress, access);
                if (NestedMmu.HOST_FAULT == address)
                {
                    counts.hostFaults++;
                    counts.modeledCycles += cost.vmExit();
                    throw new IllegalStateException("host tables do not map gfn " + nestedMmu.hostFaultFrame());
                }
                return address;
            }
            default:
                return mmu.translate(virtualAddress, access);
        }
    }

    /**
     * The kernel's page-fault handler, reached the way the mode delivers faults.
     *
     * @return true if the fault was resolved.
     */
    private boolean pageFault(final long virtualAddress, final boolean write)
    {
        counts.guestPageFaults++;
        counts.modeledCycles += cost.nativePageFault();
        if (PagingMode.PARA == mode)
        {
            counts.faultBounces++; // only the hypervisor can read CR2: it bounces the fault to the guest
            counts.modeledCycles += cost.hypercall();
        }
        final AddressSpace space = current;
        final long vpn = virtualAddress >>> PAGE_SHIFT;
        final long pfn = space.pages.get(vpn);
        final boolean resolved;
        if (NONE != pfn)
        {
            resolved = write && space.cow.contains(vpn) && breakCow(space, virtualAddress, vpn, pfn);
        }
        else if (virtualAddress >= space.demandStart && virtualAddress < space.demandEnd &&
            !space.large.containsKey(virtualAddress >>> LARGE_PAGE_SHIFT))
        {
            map(space, virtualAddress & ~(long)(MachineMemory.FRAME_SIZE - 1), true);
            resolved = true;
        }
        else
        {
            resolved = false;
        }
        flush();
        return resolved;
    }

    private boolean breakCow(final AddressSpace space, final long va, final long vpn, final long pfn)
    {
        long target = pfn;
        if (frames.shareCount(pfn) > 1)
        {
            target = allocateFrame();
            memory.copy(frames.machineFrame(pfn), 0, frames.machineFrame(target), 0, MachineMemory.FRAME_SIZE);
            counts.modeledCycles += cost.pageCopy();
            frames.release(pfn);
            space.pages.put(vpn, target);
        }
        space.cow.remove(vpn);
        writeEntry(space, tableFor(space, va, 1), PageTableEntry.index(va, 1),
            PageTableEntry.make(entryFrame(target), USER_PAGE | WRITABLE));
        invlpg(va);
        return true;
    }

    /**
     * A system call: enters the kernel and returns.
     */
    public void syscall()
    {
        counts.syscalls++;
        if (PagingMode.FULL == mode)
        {
            counts.syscallTraps++; // the monitor handles the privilege change
            counts.modeledCycles += cost.syscallEmulation();
        }
    }

    /**
     * Flushes the whole TLB of the current space (a CR3 reload; in para mode a {@code mmuext_op} in the batch).
     */
    public void flushTlb()
    {
        if (null == current)
        {
            return;
        }
        if (PagingMode.PARA == mode)
        {
            pendingFlush = true;
            if (!options.batching())
            {
                flush();
            }
            return;
        }
        counts.cr3Loads++;
        loadCr3(current);
    }

    /**
     * Issues the pending batch of para-mode updates as one hypercall; a no-op in other modes or when nothing waits.
     */
    public void flush()
    {
        if (PagingMode.PARA != mode || (0 == pending && !pendingFlush && pendingInvlpg.isEmpty()))
        {
            return;
        }
        hypercall(pending);
        if (pending > 0)
        {
            final int done = directPaging.mmuUpdate(domain, pendingPtrs, pendingValues, pending);
            if (done != pending)
            {
                throw new IllegalStateException("mmu_update refused entry " + directPaging.refusedIndex() + ": " +
                    PageTableEntry.describe(pendingValues[directPaging.refusedIndex()]) + " (error " + done + ")");
            }
            pending = 0;
        }
        if (pendingFlush)
        {
            mmu.flushAll();
            pendingFlush = false;
            pendingInvlpg.clear();
        }
        for (int i = 0; i < pendingInvlpg.size(); i++)
        {
            mmu.invlpg(pendingInvlpg.getLong(i));
        }
        pendingInvlpg.clear();
    }

    private void invlpg(final long virtualAddress)
    {
        counts.invlpgs++;
        switch (mode)
        {
            case NATIVE:
                mmu.invlpg(virtualAddress);
                break;
            case FULL:
                shadow.guestInvlpg(virtualAddress);
                break;
            case PARA:
                pendingInvlpg.addLong(virtualAddress);
                if (!options.batching())
                {
                    flush();
                }
                break;
            default:
                nestedMmu.invlpg(virtualAddress);
                break;
        }
    }

    private void writeEntry(final AddressSpace space, final long tablePfn, final int index, final long entry)
    {
        counts.pteWrites++;
        switch (mode)
        {
            case FULL:
                shadow.writeGuestPte(tablePfn, index, entry);
                break;
            case PARA:
                pendingPtrs[pending] = (frames.machineFrame(tablePfn) << PAGE_SHIFT) +
                    (long)index * PageTableEntry.ENTRY_BYTES;
                pendingValues[pending] = entry;
                pending++;
                if (!options.batching() || pending == pendingPtrs.length)
                {
                    flush();
                }
                break;
            default:
                memory.wrapFrame(frames.machineFrame(tablePfn), view).putLong(index * PageTableEntry.ENTRY_BYTES,
                    entry);
                counts.modeledCycles += cost.nativePteWrite();
                break;
        }
    }

    /**
     * The table of {@code level} covering an address, creating the missing ones above it.
     */
    private long tableFor(final AddressSpace space, final long va, final int level)
    {
        long table = space.root;
        for (int l = PageTableEntry.LEVELS - 1; l >= level; l--)
        {
            final long key = tableKey(va, l);
            long child = space.tableOf.get(key);
            if (NONE == child)
            {
                child = allocateFrame();
                space.tables.addLong(child);
                space.tableOf.put(key, child);
                writeEntry(space, table, PageTableEntry.index(va, l + 1),
                    PageTableEntry.make(entryFrame(child), TABLE_LINK));
            }
            table = child;
        }
        return table;
    }

    private static long tableKey(final long va, final int level)
    {
        return ((long)level << 56) | (va >>> (PAGE_SHIFT + 9 * level));
    }

    /**
     * A fresh page from the kernel's allocator, zeroed by the kernel: a store into the page, which traps in full mode
     * if the page is a table the shadow pager still shadows.
     */
    private long allocateFrame()
    {
        final long pfn = frames.allocate();
        if (null != shadow)
        {
            shadow.guestReusedPage(pfn);
        }
        return pfn;
    }

    private long entryFrame(final long pfn)
    {
        return PagingMode.NATIVE == mode || PagingMode.PARA == mode ? frames.machineFrame(pfn) : pfn;
    }

    private void hypercall(final int entries)
    {
        counts.hypercalls++;
        counts.validatedEntries += entries;
        counts.modeledCycles += cost.hypercall() + entries * cost.pteValidation();
    }

    private static void check(final int result, final String what)
    {
        if (DirectPaging.OK != result)
        {
            throw new IllegalStateException(what + " refused by the hypervisor: error " + result);
        }
    }

    private void checkLive(final AddressSpace space)
    {
        checkOpen();
        if (!space.live || !spaces.contains(space))
        {
            throw new IllegalArgumentException("address space is destroyed or not this kernel's");
        }
    }

    private void checkOpen()
    {
        if (closed)
        {
            throw new IllegalStateException("guest kernel is closed");
        }
    }

    /**
     * A snapshot of this domain's counters, translation work and shadow-pager traps included, with the modeled
     * cycles of everything counted.
     *
     * @return a new snapshot.
     */
    public VirtCounters counters()
    {
        final VirtCounters c = counts.copy();
        if (null != nestedMmu)
        {
            c.tlbHits = nestedMmu.hits();
            c.tlbMisses = nestedMmu.walks();
            c.walkReferences = nestedMmu.walkReferences();
            c.walkCacheHits = nestedMmu.walkCache().hits();
        }
        else
        {
            c.tlbHits = mmu.hits();
            c.tlbMisses = mmu.misses();
            c.walkReferences = mmu.walkReferences();
            c.walkCacheHits = mmu.walkCache().hits();
        }
        if (null != shadow)
        {
            c.pteWriteTraps = shadow.pteWriteTraps();
            c.cr3Traps = shadow.cr3Traps();
            c.invlpgTraps = shadow.invlpgTraps();
            c.hiddenFaults = shadow.hiddenFaults();
            c.faultReflections = shadow.guestFaults();
            c.modeledCycles += shadow.modeledCycles();
        }
        c.modeledCycles += c.tlbHits * cost.tlbHit() + c.walkReferences * cost.walkReference();
        return c;
    }

    /**
     * Destroys every address space and returns all frames (guest, shadow, host tables) to the machine.
     */
    @Override
    public void close()
    {
        if (closed)
        {
            return;
        }
        if (null != shadow)
        {
            shadow.close();
        }
        if (PagingMode.PARA == mode)
        {
            pending = 0;
            pendingInvlpg.clear();
            pendingFlush = false;
            for (final AddressSpace space : spaces)
            {
                directPaging.unpin(domain, frames.machineFrame(space.root));
            }
        }
        if (null != hostTables)
        {
            hostTables.free();
        }
        spaces.clear();
        closed = true;
        frames.close();
    }

    /**
     * One address space: a root table and the kernel's bookkeeping of what it maps.
     */
    public static final class AddressSpace
    {
        final long root;
        final LongArrayList tables = new LongArrayList();
        final Long2LongHashMap tableOf = new Long2LongHashMap(NONE);
        final Long2LongHashMap pages = new Long2LongHashMap(NONE);
        final Long2LongHashMap large = new Long2LongHashMap(NONE);
        final LongHashSet writable = new LongHashSet();
        final LongHashSet cow = new LongHashSet();
        long demandStart;
        long demandEnd;
        boolean live = true;

        AddressSpace(final long root)
        {
            this.root = root;
        }

        /**
         * The guest frame of the root table.
         *
         * @return the frame.
         */
        public long root()
        {
            return root;
        }

        /**
         * 4 KiB pages mapped.
         *
         * @return the count.
         */
        public int pages()
        {
            return pages.size();
        }

        /**
         * Table frames, the root included.
         *
         * @return the count.
         */
        public int tableFrames()
        {
            return tables.size();
        }

        /**
         * The guest frame mapped at an address.
         *
         * @param virtualAddress the address.
         * @return the frame, or -1.
         */
        public long frameAt(final long virtualAddress)
        {
            final long pfn = pages.get(virtualAddress >>> PAGE_SHIFT);
            return NONE == pfn ? -1 : pfn;
        }
    }
}
