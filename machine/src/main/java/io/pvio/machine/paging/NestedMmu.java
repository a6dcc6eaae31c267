package io.pvio.machine.paging;

import org.agrona.concurrent.UnsafeBuffer;

import io.pvio.machine.memory.MachineMemory;

import static io.pvio.machine.paging.PageTableEntry.ACCESSED;
import static io.pvio.machine.paging.PageTableEntry.DIRTY;
import static io.pvio.machine.paging.PageTableEntry.ENTRY_BYTES;
import static io.pvio.machine.paging.PageTableEntry.FRAMES_PER_LARGE_PAGE;
import static io.pvio.machine.paging.PageTableEntry.LEVELS;
import static io.pvio.machine.paging.PageTableEntry.PAGE_SHIFT;
import static io.pvio.machine.paging.PageTableEntry.PAGE_SIZE;
import static io.pvio.machine.paging.PageTableEntry.PRESENT;
import static io.pvio.machine.paging.PageTableEntry.USER;
import static io.pvio.machine.paging.PageTableEntry.WRITABLE;

/**
 * Hardware-assisted (nested) paging, as EPT/NPT: the guest's own tables map virtual to guest-physical frames and the
 * guest loads its CR3 and edits its tables without any trap; the hypervisor's host tables, in the same entry format
 * here, map guest-physical to machine frames. On a TLB miss the MMU does the two-dimensional walk: every guest-physical
 * address it meets (the guest CR3, each guest table, the final data page) is itself walked through the host tables,
 * so a cold walk reads (4 + 1) x (4 + 1) - 1 = 24 entries against 4 natively. 2 MiB pages are allowed on both sides
 * (a guest large page leaves (3 + 1) x (4 + 1) - 1 = 19, a host one shortens every host walk by one). The TLB caches
 * the combined virtual to machine translation; an optional paging-structure cache ({@link PageWalkCache}) remembers
 * where a region's guest level-1 table is in machine memory.
 * <p>
 * A fault in the guest's tables is the guest's ({@link #FAULT}); a guest-physical frame the host tables do not map is
 * the hypervisor's ({@link #HOST_FAULT}, an EPT violation). The walk sets accessed and dirty bits in the guest's
 * entries. One vCPU; allocates nothing.
 */
public final class NestedMmu
{
    /** A fault the guest's tables raised. */
    public static final long FAULT = -1;

    /** A guest-physical frame the host tables do not map (an EPT violation, handled by the hypervisor). */
    public static final long HOST_FAULT = -2;

    private static final long OFFSET_MASK = (1L << PAGE_SHIFT) - 1;

    private final MachineMemory memory;
    private final Tlb tlb;
    private final PageWalkCache walkCache;
    private final UnsafeBuffer view = new UnsafeBuffer(0, 0);
    private final long[] guestEntryMachineAddress = new long[LEVELS];
    private long guestCr3;
    private long hostRoot;
    private long hits;
    private long walks;
    private long walkReferences;
    private long guestFaults;
    private long hostFaults;
    private long hostFaultFrame;

    /**
     * A nested MMU.
     *
     * @param memory     machine memory holding both sets of tables.
     * @param tlbEntries TLB size, a power of two.
     */
    public NestedMmu(final MachineMemory memory, final int tlbEntries)
    {
        this(memory, tlbEntries, 0);
    }

    /**
     * A nested MMU with a paging-structure cache over the guest dimension: a hit skips the guest's upper three levels
     * and the host walks of their tables, leaving the level-1 entry and the host walk of the data page.
     *
     * @param memory           the machine memory both sets of tables live in.
     * @param tlbEntries       TLB size, a power of two.
     * @param walkCacheEntries paging-structure cache size, 0 (none) or a power of two.
     */
    public NestedMmu(final MachineMemory memory, final int tlbEntries, final int walkCacheEntries)
    {
        this.memory = memory;
        this.tlb = new Tlb(tlbEntries);
        this.walkCache = new PageWalkCache(walkCacheEntries);
    }

    /**
     * The hypervisor sets the root of the host tables (the EPT pointer) and flushes the TLB.
     *
     * @param rootFrame the machine frame of the host PML4.
     */
    public void setHostRoot(final long rootFrame)
    {
        hostRoot = rootFrame;
        tlb.flush(true);
        walkCache.flush();
    }

    /**
     * The guest loads CR3 with a guest frame, without a trap.
     *
     * @param rootGfn the guest's PML4 frame.
     */
    public void loadGuestCr3(final long rootGfn)
    {
        guestCr3 = rootGfn;
        tlb.flush(false);
        walkCache.flush();
    }

    /**
     * The guest's {@code INVLPG}, without a trap.
     *
     * @param virtualAddress the address.
     */
    public void invlpg(final long virtualAddress)
    {
        tlb.invalidate(virtualAddress >>> PAGE_SHIFT);
        walkCache.flush();
    }

    /**
     * The paging-structure cache.
     *
     * @return the cache (size 0 if disabled).
     */
    public PageWalkCache walkCache()
    {
        return walkCache;
    }

    /**
     * Translates a guest virtual address to a machine address.
     *
     * @param virtualAddress the address.
     * @param access         {@link Mmu#ACCESS_WRITE} and/or {@link Mmu#ACCESS_USER}.
     * @return the machine address, {@link #FAULT} or {@link #HOST_FAULT}.
     */
    public long translate(final long virtualAddress, final int access)
    {
        final long page = virtualAddress >>> PAGE_SHIFT;
        final int slot = tlb.slot(page);
        final boolean write = 0 != (access & Mmu.ACCESS_WRITE);
        final boolean user = 0 != (access & Mmu.ACCESS_USER);
        if (tlb.matches(slot, page))
        {
            final int flags = tlb.flags(slot);
            if ((!write || (0 != (flags & Tlb.WRITABLE) && 0 != (flags & Tlb.DIRTY))) &&
                (!user || 0 != (flags & Tlb.USER)))
            {
                hits++;
                return (tlb.frame(slot) << PAGE_SHIFT) | (virtualAddress & OFFSET_MASK);
            }
        }
        walks++;
        if (!PageTableEntry.isCanonical(virtualAddress))
        {
            guestFaults++;
            return FAULT;
        }
        long guestTable = guestCr3;
        boolean writable = true;
        boolean userOk = true;
        long dataGfn = -1;
        int used = 0;
        int startLevel = LEVELS;
        long cachedTableMachine = -1;
        int cachedFlags = 0;
        if (walkCache.lookup(virtualAddress))
        {
            // the guest's upper three entries and the host walks of their tables were done by an earlier walk
            cachedTableMachine = walkCache.table();
            writable = 0 != (walkCache.flags() & PageWalkCache.WRITABLE);
            userOk = 0 != (walkCache.flags() & PageWalkCache.USER);
            startLevel = 1;
        }
        for (int level = startLevel; level >= 1; level--)
        {
            final long tableMachine = level == startLevel && cachedTableMachine >= 0 ?
                cachedTableMachine : hostTranslate(guestTable);
            if (tableMachine < 0)
            {
                return HOST_FAULT;
            }
            final long entryAddress = (tableMachine << PAGE_SHIFT) +
                (long)PageTableEntry.index(virtualAddress, level) * ENTRY_BYTES;
            final long entry = readAt(entryAddress);
            walkReferences++;
            if (0 == (entry & PRESENT))
            {
                guestFaults++;
                return FAULT;
            }
            guestEntryMachineAddress[used++] = entryAddress;
            writable &= 0 != (entry & WRITABLE);
            userOk &= 0 != (entry & USER);
            if (1 == level)
            {
                dataGfn = PageTableEntry.frame(entry);
                break;
            }
            if (2 == level && 0 != (entry & PAGE_SIZE))
            {
                dataGfn = (PageTableEntry.frame(entry) & ~(long)(FRAMES_PER_LARGE_PAGE - 1)) +
                    (page & (FRAMES_PER_LARGE_PAGE - 1));
                break;
            }
            guestTable = PageTableEntry.frame(entry);
            if (2 == level)
            {
                cachedFlags = (writable ? PageWalkCache.WRITABLE : 0) | (userOk ? PageWalkCache.USER : 0);
            }
        }
        if ((write && !writable) || (user && !userOk))
        {
            guestFaults++;
            return FAULT;
        }
        final long dataMachine = hostTranslate(dataGfn);
        if (dataMachine < 0)
        {
            return HOST_FAULT;
        }
        for (int i = 0; i < used; i++)
        {
            final long address = guestEntryMachineAddress[i];
            final long entry = readAt(address);
            final long wanted = entry | ACCESSED | (write && used - 1 == i ? DIRTY : 0);
            if (wanted != entry)
            {
                writeAt(address, wanted);
            }
        }
        if (LEVELS == startLevel && LEVELS == used)
        {
            // a full 4-level guest walk: cache where its level-1 table is in machine memory
            walkCache.insert(virtualAddress, guestEntryMachineAddress[LEVELS - 1] >>> PAGE_SHIFT, cachedFlags);
        }
        final long leaf = readAt(guestEntryMachineAddress[used - 1]);
        tlb.insert(page, dataMachine, (writable ? Tlb.WRITABLE : 0) | (userOk ? Tlb.USER : 0) |
            (0 != (leaf & DIRTY) ? Tlb.DIRTY : 0));
        return (dataMachine << PAGE_SHIFT) | (virtualAddress & OFFSET_MASK);
    }

    private long hostTranslate(final long gfn)
    {
        final long gpa = gfn << PAGE_SHIFT;
        long table = hostRoot;
        for (int level = LEVELS; level >= 1; level--)
        {
            if (table < 0 || table >= memory.frameCount())
            {
                return hostFault(gfn);
            }
            final long entry = readAt((table << PAGE_SHIFT) + (long)PageTableEntry.index(gpa, level) * ENTRY_BYTES);
            walkReferences++;
            if (0 == (entry & PRESENT))
            {
                return hostFault(gfn);
            }
            if (2 == level && 0 != (entry & PAGE_SIZE))
            {
                return (PageTableEntry.frame(entry) & ~(long)(FRAMES_PER_LARGE_PAGE - 1)) +
                    (gfn & (FRAMES_PER_LARGE_PAGE - 1));
            }
            table = PageTableEntry.frame(entry);
        }
        return table;
    }

    private long hostFault(final long gfn)
    {
        hostFaults++;
        hostFaultFrame = gfn;
        return -1;
    }

    private long readAt(final long machineAddress)
    {
        memory.wrapFrame(machineAddress >>> PAGE_SHIFT, view);
        return view.getLong((int)(machineAddress & OFFSET_MASK));
    }

    private void writeAt(final long machineAddress, final long value)
    {
        memory.wrapFrame(machineAddress >>> PAGE_SHIFT, view);
        view.putLong((int)(machineAddress & OFFSET_MASK), value);
    }

    /**
     * TLB hits.
     *
     * @return the count.
     */
    public long hits()
    {
        return hits;
    }

    /**
     * Two-dimensional walks.
     *
     * @return the count.
     */
    public long walks()
    {
        return walks;
    }

    /**
     * Entries read by walks, guest and host tables together.
     *
     * @return the count.
     */
    public long walkReferences()
    {
        return walkReferences;
    }

    /**
     * Faults raised by the guest's tables.
     *
     * @return the count.
     */
    public long guestFaults()
    {
        return guestFaults;
    }

    /**
     * Guest-physical frames the host tables did not map.
     *
     * @return the count.
     */
    public long hostFaults()
    {
        return hostFaults;
    }

    /**
     * The guest frame of the last host fault.
     *
     * @return the gfn.
     */
    public long hostFaultFrame()
    {
        return hostFaultFrame;
    }
}
