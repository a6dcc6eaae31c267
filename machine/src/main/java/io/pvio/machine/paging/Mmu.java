package io.pvio.machine.paging;

import org.agrona.concurrent.UnsafeBuffer;

import io.pvio.machine.memory.MachineMemory;

import static io.pvio.machine.paging.PageTableEntry.ACCESSED;
import static io.pvio.machine.paging.PageTableEntry.DIRTY;
import static io.pvio.machine.paging.PageTableEntry.ENTRY_BYTES;
import static io.pvio.machine.paging.PageTableEntry.FRAMES_PER_LARGE_PAGE;
import static io.pvio.machine.paging.PageTableEntry.PAGE_SHIFT;
import static io.pvio.machine.paging.PageTableEntry.PAGE_SIZE;
import static io.pvio.machine.paging.PageTableEntry.PRESENT;
import static io.pvio.machine.paging.PageTableEntry.USER;
import static io.pvio.machine.paging.PageTableEntry.WRITABLE;

/**
 * The memory management unit of one vCPU: translates virtual addresses through the 4-level tables rooted at CR3,
 * stored in machine frames, with a {@link Tlb} in front.
 * <p>
 * <b>A translation</b> ({@link #translate(long, int)}): a TLB hit whose permissions allow the access returns at once.
 * Otherwise the MMU walks: it reads one entry per level (4, or 3 for a 2 MiB page), each a memory reference it counts,
 * faults if an entry is not present or the combined permissions (writable and user must be set at every level; writes
 * from supervisor mode obey them too, as with CR0.WP) refuse the access, sets the accessed bit of every entry it used
 * and, for a write, the dirty bit of the leaf, exactly as hardware does, and caches the translation.
 * <p>
 * <b>Faults</b> return {@link #FAULT}; {@link #faultAddress()}, {@link #faultErrorCode()} (x86 error code bits:
 * present/protection, write, user) and {@link #faultLevel()} say what happened. Nothing allocates; one thread uses an
 * MMU.
 */
public final class Mmu
{
    /** Access flag: the access is a write. */
    public static final int ACCESS_WRITE = 1;

    /** Access flag: the access comes from user mode. */
    public static final int ACCESS_USER = 1 << 1;

    /** Returned by {@link #translate(long, int)} on a page fault. */
    public static final long FAULT = -1;

    /** Error code bit: the page was present (a protection fault); clear for a not-present fault. */
    public static final int ERROR_PROTECTION = 1;

    /** Error code bit: the access was a write. */
    public static final int ERROR_WRITE = 1 << 1;

    /** Error code bit: the access came from user mode. */
    public static final int ERROR_USER = 1 << 2;

    /** Error code bit (pvio's own): the address is not canonical or a table frame is not machine memory. */
    public static final int ERROR_BAD_ADDRESS = 1 << 16;

    private static final long PAGE_OFFSET_MASK = (1L << PAGE_SHIFT) - 1;

    private final MachineMemory memory;
    private final Tlb tlb;
    private final PageWalkCache walkCache;
    private final UnsafeBuffer table = new UnsafeBuffer(0, 0);
    private final long[] walkEntryAddress = new long[PageTableEntry.LEVELS];
    private long cr3;
    private long hits;
    private long misses;
    private long walks;
    private long walkReferences;
    private long faults;
    private long cr3Loads;
    private long invlpgs;
    private long faultAddress;
    private int faultErrorCode;
    private int faultLevel;

    /**
     * An MMU over machine memory.
     *
     * @param memory     where the tables and pages live.
     * @param tlbEntries TLB size, a power of two.
     */
    public Mmu(final MachineMemory memory, final int tlbEntries)
    {
        this(memory, tlbEntries, 0);
    }

    /**
     * An MMU with a TLB and a paging-structure cache.
     *
     * @param memory         the machine memory the tables live in.
     * @param tlbEntries     TLB size, a power of two.
     * @param walkCacheEntries paging-structure cache size, 0 (none) or a power of two.
     */
    public Mmu(final MachineMemory memory, final int tlbEntries, final int walkCacheEntries)
    {
        this.memory = memory;
        this.tlb = new Tlb(tlbEntries);
        this.walkCache = new PageWalkCache(walkCacheEntries);
    }

    /**
     * Loads CR3: the root table's frame, and a flush of every non-global TLB entry.
     *
     * @param rootFrame the machine frame of the PML4 table.
     */
    public void loadCr3(final long rootFrame)
    {
        cr3 = rootFrame;
        cr3Loads++;
        tlb.flush(false);
        walkCache.flush();
    }

    /**
     * CR3: the root table's frame.
     *
     * @return the machine frame number.
     */
    public long cr3()
    {
        return cr3;
    }

    /**
     * {@code INVLPG}: drops the cached translation of one address.
     *
     * @param virtualAddress any address in the page.
     */
    public void invlpg(final long virtualAddress)
    {
        invlpgs++;
        tlb.invalidate(virtualAddress >>> PAGE_SHIFT);
        walkCache.flush();
    }

    /**
     * Drops every cached translation, global ones too, and the paging-structure cache: what a hypervisor does after
     * changing upper-level entries under the vCPU.
     */
    public void flushAll()
    {
        tlb.flush(true);
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
     * The TLB.
     *
     * @return this MMU's TLB.
     */
    public Tlb tlb()
    {
        return tlb;
    }

    /**
     * Translates a virtual address.
     *
     * @param virtualAddress the address.
     * @param access         {@link #ACCESS_WRITE} and/or {@link #ACCESS_USER}, or 0 for a supervisor read.
     * @return the machine address, or {@link #FAULT}.
     */
    public long translate(final long virtualAddress, final int access)
    {
        final long page = virtualAddress >>> PAGE_SHIFT;
        final Tlb tlb = this.tlb;
        final int slot = tlb.slot(page);
        if (tlb.matches(slot, page))
        {
            final int flags = tlb.flags(slot);
            if (allowed(flags, access) && (0 == (access & ACCESS_WRITE) || 0 != (flags & Tlb.DIRTY)))
            {
                hits++;
                return (tlb.frame(slot) << PAGE_SHIFT) | (virtualAddress & PAGE_OFFSET_MASK);
            }
        }
        misses++;
        return walk(virtualAddress, access);
    }

    private static boolean allowed(final int flags, final int access)
    {
        return (0 == (access & ACCESS_WRITE) || 0 != (flags & Tlb.WRITABLE)) &&
            (0 == (access & ACCESS_USER) || 0 != (flags & Tlb.USER));
    }

    private long walk(final long virtualAddress, final int access)
    {
        walks++;
        if (!PageTableEntry.isCanonical(virtualAddress))
        {
            return fault(virtualAddress, access, ERROR_BAD_ADDRESS, PageTableEntry.LEVELS);
        }
        long tableFrame = cr3;
        boolean writable = true;
        boolean user = true;
        long leafFrame = -1;
        long leaf = 0;
        int used = 0;
        int startLevel = PageTableEntry.LEVELS;
        long cachedTable = -1;
        int cachedFlags = 0;
        if (walkCache.lookup(virtualAddress))
        {
            // the upper three entries were read, allowed and marked accessed by the walk that made this entry
            tableFrame = walkCache.table();
            writable = 0 != (walkCache.flags() & PageWalkCache.WRITABLE);
            user = 0 != (walkCache.flags() & PageWalkCache.USER);
            startLevel = 1;
        }
        for (int level = startLevel; level >= 1; level--)
        {
            if (tableFrame < 0 || tableFrame >= memory.frameCount())
            {
                return fault(virtualAddress, access, ERROR_BAD_ADDRESS, level);
            }
            final long entryAddress = memory.frameAddress(tableFrame) +
                (long)PageTableEntry.index(virtualAddress, level) * ENTRY_BYTES;
            table.wrap(entryAddress, ENTRY_BYTES);
            final long entry = table.getLong(0);
            walkReferences++;
            if (0 == (entry & PRESENT))
            {
                return fault(virtualAddress, access, 0, level);
            }
            walkEntryAddress[used++] = entryAddress;
            writable &= 0 != (entry & WRITABLE);
            user &= 0 != (entry & USER);
            if (1 == level || (2 == level && 0 != (entry & PAGE_SIZE)))
            {
                leaf = entry;
                leafFrame = PageTableEntry.frame(entry);
                if (2 == level)
                {
                    leafFrame = (leafFrame & ~(long)(FRAMES_PER_LARGE_PAGE - 1)) +
                        ((virtualAddress >>> PAGE_SHIFT) & (FRAMES_PER_LARGE_PAGE - 1));
                }
                break;
            }
            tableFrame = PageTableEntry.frame(entry);
            if (2 == level)
            {
                cachedTable = tableFrame;
                cachedFlags = (writable ? PageWalkCache.WRITABLE : 0) | (user ? PageWalkCache.USER : 0);
            }
        }
        final int flags = (writable ? Tlb.WRITABLE : 0) | (user ? Tlb.USER : 0) |
            (0 != (leaf & PageTableEntry.GLOBAL) ? Tlb.GLOBAL : 0);
        if (!allowed(flags, access))
        {
            return fault(virtualAddress, access, ERROR_PROTECTION, 0);
        }
        final boolean write = 0 != (access & ACCESS_WRITE);
        for (int i = 0; i < used; i++)
        {
            table.wrap(walkEntryAddress[i], ENTRY_BYTES);
            final long entry = table.getLong(0);
            final long wanted = entry | ACCESSED | (write && i == used - 1 ? DIRTY : 0);
            if (wanted != entry)
            {
                table.putLong(0, wanted);
            }
        }
        if (cachedTable >= 0)
        {
            walkCache.insert(virtualAddress, cachedTable, cachedFlags);
        }
        final boolean dirty = write || 0 != (leaf & DIRTY);
        tlb.insert(virtualAddress >>> PAGE_SHIFT, leafFrame, flags | (dirty ? Tlb.DIRTY : 0));
        return (leafFrame << PAGE_SHIFT) | (virtualAddress & PAGE_OFFSET_MASK);
    }

    private long fault(final long virtualAddress, final int access, final int errorCode, final int level)
    {
        faults++;
        faultAddress = virtualAddress;
        faultLevel = level;
        faultErrorCode = errorCode | (0 != (access & ACCESS_WRITE) ? ERROR_WRITE : 0) |
            (0 != (access & ACCESS_USER) ? ERROR_USER : 0);
        return FAULT;
    }

    /**
     * The address of the last page fault (CR2).
     *
     * @return the virtual address.
     */
    public long faultAddress()
    {
        return faultAddress;
    }

    /**
     * The error code of the last page fault.
     *
     * @return {@link #ERROR_PROTECTION}, {@link #ERROR_WRITE}, {@link #ERROR_USER}, {@link #ERROR_BAD_ADDRESS} bits.
     */
    public int faultErrorCode()
    {
        return faultErrorCode;
    }

    /**
     * The level whose entry was not present in the last page fault (4 = PML4 .. 1 = PT), or 0 for a protection fault.
     *
     * @return the level.
     */
    public int faultLevel()
    {
        return faultLevel;
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
     * TLB misses (including accesses that hit but needed a walk to set the dirty bit or to fault).
     *
     * @return the count.
     */
    public long misses()
    {
        return misses;
    }

    /**
     * Page walks.
     *
     * @return the count.
     */
    public long walks()
    {
        return walks;
    }

    /**
     * Page-table entries read by walks: the memory references a walk costs.
     *
     * @return the count.
     */
    public long walkReferences()
    {
        return walkReferences;
    }

    /**
     * Page faults raised.
     *
     * @return the count.
     */
    public long faults()
    {
        return faults;
    }

    /**
     * CR3 loads.
     *
     * @return the count.
     */
    public long cr3Loads()
    {
        return cr3Loads;
    }

    /**
     * {@code INVLPG}s.
     *
     * @return the count.
     */
    public long invlpgs()
    {
        return invlpgs;
    }
}
