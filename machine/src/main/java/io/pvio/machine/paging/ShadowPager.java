package io.pvio.machine.paging;

import org.agrona.collections.Long2LongHashMap;
import org.agrona.collections.LongArrayList;
import org.agrona.collections.LongHashSet;
import org.agrona.concurrent.UnsafeBuffer;

import io.pvio.machine.CostModel;
import io.pvio.machine.memory.MachineMemory;

import static io.pvio.machine.paging.PageTableEntry.ACCESSED;
import static io.pvio.machine.paging.PageTableEntry.DIRTY;
import static io.pvio.machine.paging.PageTableEntry.ENTRY_BYTES;
import static io.pvio.machine.paging.PageTableEntry.LEVELS;
import static io.pvio.machine.paging.PageTableEntry.PAGE_SHIFT;
import static io.pvio.machine.paging.PageTableEntry.PRESENT;
import static io.pvio.machine.paging.PageTableEntry.USER;
import static io.pvio.machine.paging.PageTableEntry.WRITABLE;

/**
 * Full virtualization of one vCPU's paging by shadow page tables. The unmodified guest's tables live in its own
 * frames and map virtual to guest-physical frames; the hypervisor keeps, for each guest table frame it has seen, a
 * shadow table frame of its own holding machine frames (through the P2M), and the MMU walks only the shadows.
 * <ul>
 *   <li><b>Hidden faults</b>: shadows start empty and are filled lazily. When the MMU faults, {@link #access} walks the
 *       guest's tables; if they allow the access it fills the shadow path (a hidden fault, priced as a shadow fill)
 *       and retries, otherwise the fault is the guest's own ({@link #GUEST_FAULT}).</li>
 *   <li><b>Write protection</b>: a leaf that maps a guest page-table page is shadowed read-only, so the guest cannot
 *       change its tables behind the shadow: {@link #writeGuestPte} (the guest kernel's store to its table) traps and
 *       is emulated, dropping the shadow entry it made stale; a write through any other mapping of a table page also
 *       traps.</li>
 *   <li><b>Accessed and dirty bits</b> are set in the guest's entries as the guest's own MMU would: accessed on the
 *       fill, dirty on the first write, for which a clean page is shadowed read-only.</li>
 *   <li><b>CR3 loads and INVLPG</b> trap: a CR3 load switches to the shadow of the new guest root, which stays
 *       cached (its guest tables still write-protected) across loads up to a set number of frames, after which all
 *       are dropped; INVLPG drops the shadow leaf of one address.</li>
 *   <li><b>Reuse</b>: a store into a shadowed table page the guest is reusing ({@link #guestReusedPage}) traps and
 *       the page stops being shadowed.</li>
 * </ul>
 * Every trap and fill is counted and priced with the {@link CostModel}. One vCPU; not thread-safe.
 */
public final class ShadowPager
{
    /** Returned by {@link #access} when the guest's own tables refuse the access. */
    public static final long GUEST_FAULT = -1;

    /** Shadow frames kept across CR3 loads by default. */
    public static final int DEFAULT_CACHE_FRAMES = 1024;

    private static final long FILLED = -2;
    private static final long FILL_REFUSED = -3;

    private final MachineMemory memory;
    private final int owner;
    private final GuestPhysicalMap p2m;
    private final Mmu mmu;
    private final CostModel cost;
    private final Long2LongHashMap shadowOfGuestTable = new Long2LongHashMap(-1);
    private final LongHashSet guestTables = new LongHashSet();
    private final LongArrayList shadowFrames = new LongArrayList();
    private final LongHashSet upperShadows = new LongHashSet();
    private final int cacheFrames;
    private final UnsafeBuffer view = new UnsafeBuffer(0, 0);
    private long guestRoot = -1;
    private long hiddenFaults;
    private long guestFaults;
    private long pteWriteTraps;
    private long cr3Traps;
    private long invlpgTraps;
    private long modeledCycles;

    /**
     * A shadow pager for one vCPU.
     *
     * @param memory machine memory.
     * @param owner  the domain id that owns the shadow frames (the hypervisor's).
     * @param p2m    the guest's physical map.
     * @param mmu    the vCPU's MMU, which will walk the shadows.
     * @param cost   what traps and fills cost.
     */
    public ShadowPager(
        final MachineMemory memory, final int owner, final GuestPhysicalMap p2m, final Mmu mmu, final CostModel cost)
    {
        this(memory, owner, p2m, mmu, cost, DEFAULT_CACHE_FRAMES);
    }

    /**
     * A shadow pager for one vCPU with a shadow cache of a given size.
     *
     * @param memory      machine memory.
     * @param owner       the domain id that owns the shadow frames (the hypervisor's).
     * @param p2m         the guest's physical map.
     * @param mmu         the vCPU's MMU, which will walk the shadows.
     * @param cost        what traps and fills cost.
     * @param cacheFrames shadow frames kept across CR3 loads before all are dropped; 0 drops them on every load.
     */
    public ShadowPager(
        final MachineMemory memory, final int owner, final GuestPhysicalMap p2m, final Mmu mmu, final CostModel cost,
        final int cacheFrames)
    {
        if (cacheFrames < 0)
        {
            throw new IllegalArgumentException("cacheFrames must not be negative: " + cacheFrames);
        }
        this.memory = memory;
        this.owner = owner;
        this.p2m = p2m;
        this.mmu = mmu;
        this.cost = cost;
        this.cacheFrames = cacheFrames;
    }

    /**
     * The guest loads CR3 with the guest frame of its root table: traps; the root's shadow (kept from an earlier load,
     * or a fresh one) is loaded into the MMU. Shadows stay cached across loads, their guest tables still
     * write-protected, until the cache holds more than its size of frames; then all are dropped.
     *
     * @param rootGfn the guest's PML4 frame.
     */
    public void guestLoadCr3(final long rootGfn)
    {
        cr3Traps++;
        modeledCycles += cost.vmExit();
        if (shadowFrames.size() > cacheFrames)
        {
            dropAllShadows();
        }
        guestRoot = rootGfn;
        mmu.loadCr3(shadowFor(rootGfn, LEVELS));
    }

    /**
     * The guest kernel stores into a page it is about to reuse (zeroing or copying into a page it allocated). If the
     * page is a guest table the pager still shadows (one the guest freed), the store traps, and the pager stops
     * shadowing it: every shadow entry that led to its shadow is cleared and the shadow frame freed.
     *
     * @param gfn the page.
     */
    public void guestReusedPage(final long gfn)
    {
        if (!guestTables.contains(gfn))
        {
            return;
        }
        pteWriteTraps++;
        modeledCycles += cost.trappedPteWrite();
        final long shadow = shadowOfGuestTable.remove(gfn);
        guestTables.remove(gfn);
        if (shadow < 0)
        {
            return;
        }
        upperShadows.remove(shadow);
        final LongHashSet.LongIterator uppers = upperShadows.iterator();
        while (uppers.hasNext())
        {
            final long upper = uppers.nextValue();
            for (int i = 0; i < PageTableEntry.ENTRIES_PER_TABLE; i++)
            {
                final long entry = readMachine(upper, i);
                if (0 != (entry & PRESENT) && PageTableEntry.frame(entry) == shadow)
                {
                    writeMachine(upper, i, 0);
                }
            }
        }
        shadowFrames.removeLong(shadow);
        memory.free(shadow, owner);
        if (gfn == guestRoot)
        {
            mmu.loadCr3(shadowFor(gfn, LEVELS)); // the guest is rewriting its own live root: start it afresh
        }
        mmu.flushAll();
    }

    /**
     * The guest invalidates one address: traps; the shadow leaf of that page is dropped along with the TLB entry.
     *
     * @param virtualAddress the address.
     */
    public void guestInvlpg(final long virtualAddress)
    {
        invlpgTraps++;
        modeledCycles += cost.vmExit();
        final long leafTable = shadowLeafTable(virtualAddress);
        if (leafTable >= 0)
        {
            writeMachine(leafTable, PageTableEntry.index(virtualAddress, 1), 0);
        }
        mmu.invlpg(virtualAddress);
    }

    /**
     * The guest kernel stores a page-table entry into one of its tables (through its direct map). Table pages are
     * write-protected, so the store traps and is emulated: the entry is written to the guest's frame and the shadow
     * entry made from it is dropped, to be refilled from the new value on the next hidden fault.
     *
     * @param tableGfn the guest table's frame.
     * @param index    the entry, 0 to 511.
     * @param entry    the new entry (guest frame numbers).
     */
    public void writeGuestPte(final long tableGfn, final int index, final long entry)
    {
        if (guestTables.contains(tableGfn))
        {
            pteWriteTraps++;
            modeledCycles += cost.trappedPteWrite();
            final long shadow = shadowOfGuestTable.get(tableGfn);
            if (shadow >= 0)
            {
                writeMachine(shadow, index, 0);
            }
        }
        writeGuest(tableGfn, index, entry);
    }

    /**
     * A guest memory access: translates through the shadows, filling them on hidden faults.
     *
     * @param virtualAddress the address.
     * @param access         {@link Mmu#ACCESS_WRITE} and/or {@link Mmu#ACCESS_USER}.
     * @return the machine address, or {@link #GUEST_FAULT} for a fault the guest must handle.
     */
    public long access(final long virtualAddress, final int access)
    {
        for (int attempt = 0; attempt < 2; attempt++)
        {
            final long address = mmu.translate(virtualAddress, access);
            if (address >= 0)
            {
                return address;
            }
            final long filled = fill(virtualAddress, access);
            if (FILL_REFUSED == filled)
            {
                guestFaults++;
                modeledCycles += cost.vmExit();
                return GUEST_FAULT;
            }
            if (filled >= 0)
            {
                return filled;
            }
        }
        throw new IllegalStateException("shadow fill did not take for va 0x" + Long.toHexString(virtualAddress));
    }

    /**
     * Fills the shadow path of an address from the guest's tables.
     *
     * @return {@link #FILLED} to retry the MMU, {@link #FILL_REFUSED} for a guest fault, or a machine address when a
     *         store into a page-table page was emulated (the shadow stays read-only so the next one traps too).
     */
    private long fill(final long virtualAddress, final int access)
    {
        final boolean write = 0 != (access & Mmu.ACCESS_WRITE);
        final boolean user = 0 != (access & Mmu.ACCESS_USER);
        long guestTable = guestRoot;
        long shadowTable = shadowFor(guestRoot, LEVELS);
        for (int level = LEVELS; level >= 1; level--)
        {
            final int index = PageTableEntry.index(virtualAddress, level);
            final long entry = readGuest(guestTable, index);
            if (0 == (entry & PRESENT) || (write && 0 == (entry & WRITABLE)) || (user && 0 == (entry & USER)))
            {
                return FILL_REFUSED;
            }
            final long target = PageTableEntry.frame(entry);
            if (level > 1)
            {
                if (0 == (entry & ACCESSED))
                {
                    writeGuest(guestTable, index, entry | ACCESSED);
                }
                final long childShadow = shadowFor(target, level - 1);
                writeMachine(shadowTable, index, PageTableEntry.make(childShadow, entry & (PRESENT | WRITABLE | USER)));
                guestTable = target;
                shadowTable = childShadow;
                continue;
            }
            final long machineFrame = p2m.machineFrame(target);
            if (GuestPhysicalMap.NOT_POPULATED == machineFrame)
            {
                return FILL_REFUSED;
            }
            if (guestTables.contains(target) && write)
            {
                // a store into a page-table page through an ordinary mapping: trap, emulate this one store (the
                // shadow made from that table is dropped, the store goes to the returned address), stay read-only
                pteWriteTraps++;
                modeledCycles += cost.trappedPteWrite();
                dropShadowOf(target);
                if (0 == (entry & DIRTY))
                {
                    writeGuest(guestTable, index, entry | ACCESSED | DIRTY);
                }
                return (machineFrame << PAGE_SHIFT) | (virtualAddress & ((1L << PAGE_SHIFT) - 1));
            }
            final long guestFlags = entry | ACCESSED | (write ? DIRTY : 0);
            if (guestFlags != entry)
            {
                writeGuest(guestTable, index, guestFlags);
            }
            // read-only in the shadow while the page is clean (so the first write sets dirty) or holds a table
            final boolean shadowWritable = 0 != (entry & WRITABLE) && 0 != (guestFlags & DIRTY) &&
                !guestTables.contains(target);
            writeMachine(shadowTable, index, PageTableEntry.make(machineFrame,
                PRESENT | (entry & USER) | (shadowWritable ? WRITABLE : 0)));
            mmu.tlb().invalidate(virtualAddress >>> PAGE_SHIFT);
            hiddenFaults++;
            modeledCycles += cost.shadowFill();
            return FILLED;
        }
        return FILL_REFUSED;
    }

    private long shadowFor(final long guestTableGfn, final int level)
    {
        long shadow = shadowOfGuestTable.get(guestTableGfn);
        if (shadow < 0)
        {
            shadow = memory.allocate(owner);
            memory.wrapFrame(shadow, view).setMemory(0, MachineMemory.FRAME_SIZE, (byte)0);
            shadowFrames.addLong(shadow);
            shadowOfGuestTable.put(guestTableGfn, shadow);
            guestTables.add(guestTableGfn);
        }
        if (level > 1)
        {
            upperShadows.add(shadow); // may point at other shadows: searched when one of those goes away
        }
        return shadow;
    }

    private long shadowLeafTable(final long virtualAddress)
    {
        if (guestRoot < 0)
        {
            return -1;
        }
        long table = shadowOfGuestTable.get(guestRoot);
        for (int level = LEVELS; level > 1 && table >= 0; level--)
        {
            final long entry = readMachine(table, PageTableEntry.index(virtualAddress, level));
            table = 0 == (entry & PRESENT) ? -1 : PageTableEntry.frame(entry);
        }
        return table;
    }

    private void dropShadowOf(final long guestTableGfn)
    {
        final long shadow = shadowOfGuestTable.get(guestTableGfn);
        if (shadow >= 0)
        {
            memory.wrapFrame(shadow, view).setMemory(0, MachineMemory.FRAME_SIZE, (byte)0);
            mmu.flushAll();
        }
    }

    private void dropAllShadows()
    {
        for (int i = 0; i < shadowFrames.size(); i++)
        {
            memory.free(shadowFrames.getLong(i), owner);
        }
        shadowFrames.clear();
        shadowOfGuestTable.clear();
        guestTables.clear();
        upperShadows.clear();
    }

    /**
     * Frees every shadow frame.
     */
    public void close()
    {
        dropAllShadows();
        mmu.flushAll();
        guestRoot = -1;
    }

    private long readGuest(final long gfn, final int index)
    {
        return readMachine(machineFrameOf(gfn), index);
    }

    private void writeGuest(final long gfn, final int index, final long entry)
    {
        writeMachine(machineFrameOf(gfn), index, entry);
    }

    private long machineFrameOf(final long gfn)
    {
        final long mfn = p2m.machineFrame(gfn);
        if (GuestPhysicalMap.NOT_POPULATED == mfn)
        {
            throw new IllegalStateException("guest table frame " + gfn + " is not populated");
        }
        return mfn;
    }

    private long readMachine(final long mfn, final int index)
    {
        return memory.wrapFrame(mfn, view).getLong(index * ENTRY_BYTES);
    }

    private void writeMachine(final long mfn, final int index, final long entry)
    {
        memory.wrapFrame(mfn, view).putLong(index * ENTRY_BYTES, entry);
    }

    /**
     * Hidden faults: shadow fills.
     *
     * @return the count.
     */
    public long hiddenFaults()
    {
        return hiddenFaults;
    }

    /**
     * Faults the guest's own tables raised.
     *
     * @return the count.
     */
    public long guestFaults()
    {
        return guestFaults;
    }

    /**
     * Trapped writes to guest page-table pages.
     *
     * @return the count.
     */
    public long pteWriteTraps()
    {
        return pteWriteTraps;
    }

    /**
     * Trapped CR3 loads.
     *
     * @return the count.
     */
    public long cr3Traps()
    {
        return cr3Traps;
    }

    /**
     * Trapped INVLPGs.
     *
     * @return the count.
     */
    public long invlpgTraps()
    {
        return invlpgTraps;
    }

    /**
     * Shadow table frames held.
     *
     * @return the count.
     */
    public int shadowFrames()
    {
        return shadowFrames.size();
    }

    /**
     * Modeled cycles of every trap and fill so far (not of the MMU's own hits and walks).
     *
     * @return cycles, from the {@link CostModel}.
     */
    public long modeledCycles()
    {
        return modeledCycles;
    }
}
