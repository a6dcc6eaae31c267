package io.pvio.machine.paging;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.pvio.machine.CostModel;
import io.pvio.machine.memory.MachineMemory;

import static io.pvio.machine.paging.PageTableEntry.ACCESSED;
import static io.pvio.machine.paging.PageTableEntry.DIRTY;
import static io.pvio.machine.paging.PageTableEntry.PRESENT;
import static io.pvio.machine.paging.PageTableEntry.USER;
import static io.pvio.machine.paging.PageTableEntry.WRITABLE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Shadow paging against guest tables that hold guest frame numbers, with a P2M that scatters guest frames over
 * machine memory in reverse order.
 */
class ShadowPagerTest
{
    private static final int GUEST = 1;
    private static final int HYPERVISOR = 0;
    private static final int GUEST_FRAMES = 256;
    private static final long VA = 0x0000_7F00_0040_2000L;

    private MachineMemory memory;
    private long[] p2m;
    private int nextGfn;
    private Mmu mmu;
    private ShadowPager pager;
    private final CostModel cost = new CostModel();

    @BeforeEach
    void setUp()
    {
        memory = new MachineMemory(4096L * MachineMemory.FRAME_SIZE);
        p2m = new long[GUEST_FRAMES];
        for (int gfn = GUEST_FRAMES - 1; gfn >= 0; gfn--)
        {
            p2m[gfn] = memory.allocate(GUEST);
        }
        mmu = new Mmu(memory, 64);
        pager = new ShadowPager(memory, HYPERVISOR, (gfn) -> gfn >= 0 && gfn < GUEST_FRAMES ? p2m[(int)gfn] :
            GuestPhysicalMap.NOT_POPULATED, mmu, cost);
        nextGfn = 0;
    }

    @AfterEach
    void tearDown()
    {
        pager.close();
        memory.close();
    }

    @Test
    void accessesTranslateThroughTheP2mAndFillTheShadowOnce()
    {
        final long root = newTable();
        map(root, VA, 200, WRITABLE | USER);
        pager.guestLoadCr3(root);
        assertEquals((p2m[200] << 12) + 0x5A, pager.access(VA + 0x5A, Mmu.ACCESS_USER));
        assertEquals(1, pager.hiddenFaults());
        assertEquals((p2m[200] << 12) + 0x10, pager.access(VA + 0x10, Mmu.ACCESS_USER));
        assertEquals(1, pager.hiddenFaults(), "the second access hits");
        assertTrue(PageTableEntry.has(leaf(root, VA), ACCESSED), "accessed propagated to the guest's entry");
        assertFalse(PageTableEntry.has(leaf(root, VA), DIRTY));
        assertEquals(cost.vmExit() + cost.shadowFill(), pager.modeledCycles());
    }

    @Test
    void theFirstWriteFaultsAgainToSetTheGuestsDirtyBit()
    {
        final long root = newTable();
        map(root, VA, 200, WRITABLE);
        pager.guestLoadCr3(root);
        pager.access(VA, 0);
        final long address = pager.access(VA, Mmu.ACCESS_WRITE);
        assertEquals(p2m[200] << 12, address);
        assertEquals(2, pager.hiddenFaults());
        assertTrue(PageTableEntry.has(leaf(root, VA), DIRTY));
        pager.access(VA + 8, Mmu.ACCESS_WRITE);
        assertEquals(2, pager.hiddenFaults(), "now shadowed writable");
    }

    @Test
    void aFaultTheGuestsTablesRaiseIsTheGuests()
    {
        final long root = newTable();
        map(root, VA, 200, 0);
        pager.guestLoadCr3(root);
        assertEquals(ShadowPager.GUEST_FAULT, pager.access(VA + 4096, 0), "not mapped by the guest");
        assertEquals(ShadowPager.GUEST_FAULT, pager.access(VA, Mmu.ACCESS_WRITE), "read-only for the guest");
        assertEquals(ShadowPager.GUEST_FAULT, pager.access(VA, Mmu.ACCESS_USER), "supervisor only");
        assertEquals(3, pager.guestFaults());
        assertEquals(0, pager.hiddenFaults());
    }

    @Test
    void aGuestPteWriteTrapsAndTheNewMappingIsUsedAfterInvlpg()
    {
        final long root = newTable();
        final long table = map(root, VA, 200, WRITABLE);
        pager.guestLoadCr3(root);
        assertEquals(p2m[200] << 12, pager.access(VA, 0));
        pager.writeGuestPte(table, PageTableEntry.index(VA, 1), PageTableEntry.make(201, PRESENT | WRITABLE));
        assertEquals(1, pager.pteWriteTraps());
        assertEquals(p2m[200] << 12, pager.access(VA, 0), "the TLB still holds the old translation");
        pager.guestInvlpg(VA);
        assertEquals(p2m[201] << 12, pager.access(VA, 0));
        assertEquals(1, pager.invlpgTraps());
        assertTrue(pager.modeledCycles() >= cost.trappedPteWrite() + 2 * cost.shadowFill());
    }

    @Test
    void storesIntoAPageTablePageThroughAnyMappingTrap()
    {
        final long root = newTable();
        final long table = map(root, VA, 200, WRITABLE);
        // the guest also maps its own leaf table at another address, writable
        final long alias = VA + 4096;
        map(root, alias, table, WRITABLE);
        pager.guestLoadCr3(root);
        pager.access(VA, 0);
        assertEquals(p2m[(int)table] << 12, pager.access(alias, 0), "reads of a table page are fine");
        assertEquals(0, pager.pteWriteTraps());
        assertEquals((p2m[(int)table] << 12) + 16, pager.access(alias + 16, Mmu.ACCESS_WRITE));
        assertEquals(1, pager.pteWriteTraps());
        pager.access(alias + 24, Mmu.ACCESS_WRITE);
        assertEquals(2, pager.pteWriteTraps(), "every store traps: the shadow stays read-only");
    }

    @Test
    void aCr3LoadTrapsAndSwitchesAddressSpacesKeepingTheShadowsCached()
    {
        final long first = newTable();
        final long firstLeaf = map(first, VA, 200, WRITABLE);
        final long second = newTable();
        map(second, VA, 210, WRITABLE);
        pager.guestLoadCr3(first);
        assertEquals(p2m[200] << 12, pager.access(VA, 0));
        pager.guestLoadCr3(second);
        assertEquals(p2m[210] << 12, pager.access(VA, 0));
        final long fills = pager.hiddenFaults();
        pager.guestLoadCr3(first);
        assertEquals(p2m[200] << 12, pager.access(VA, 0));
        assertEquals(fills, pager.hiddenFaults(), "back to a cached shadow: no fill");
        assertEquals(3, pager.cr3Traps());
        // a cached, not current, table is still write-protected: the guest's store traps and the stale entry goes
        pager.guestLoadCr3(second);
        pager.writeGuestPte(firstLeaf, PageTableEntry.index(VA, 1), PageTableEntry.make(201, PRESENT | WRITABLE));
        assertEquals(1, pager.pteWriteTraps());
        pager.guestLoadCr3(first);
        assertEquals(p2m[201] << 12, pager.access(VA, 0), "the new mapping, not the cached one");
        pager.close();
        assertEquals(4096 - GUEST_FRAMES, memory.freeFrames(), "closing frees every shadow frame");
    }

    @Test
    void withoutACacheEveryCr3LoadDropsTheShadows()
    {
        pager.close();
        pager = new ShadowPager(memory, HYPERVISOR, (gfn) -> p2m[(int)gfn], mmu, cost, 0);
        final long first = newTable();
        map(first, VA, 200, WRITABLE);
        final long second = newTable();
        map(second, VA, 210, WRITABLE);
        pager.guestLoadCr3(first);
        pager.access(VA, 0);
        final int held = pager.shadowFrames();
        pager.guestLoadCr3(second);
        assertEquals(1, pager.shadowFrames(), "only the new root's shadow, the " + held + " old ones freed");
        pager.guestLoadCr3(first);
        pager.access(VA, 0);
        assertEquals(2, pager.hiddenFaults(), "filled again");
    }

    @Test
    void aFreedTableReusedByTheGuestIsUnshadowed()
    {
        final long root = newTable();
        final long leaf = map(root, VA, 200, WRITABLE);
        pager.guestLoadCr3(root);
        pager.access(VA, 0);
        final int held = pager.shadowFrames();
        // the guest unlinks and frees the leaf table, then reuses its page as a new leaf table somewhere else
        final long l2 = parentOf(root, VA, 2);
        pager.writeGuestPte(l2, PageTableEntry.index(VA, 2), 0);
        pager.guestInvlpg(VA);
        memory.frame(p2m[(int)leaf]).setMemory(0, MachineMemory.FRAME_SIZE, (byte)0);
        pager.guestReusedPage(leaf);
        assertEquals(held - 1, pager.shadowFrames(), "its shadow is gone");
        assertEquals(2, pager.pteWriteTraps(), "the unlink and the first store of the reuse trapped");
        final long other = VA + (1L << 21);
        pager.writeGuestPte(l2, PageTableEntry.index(other, 2), PageTableEntry.make(leaf, PRESENT | WRITABLE));
        pager.writeGuestPte(leaf, PageTableEntry.index(other, 1), PageTableEntry.make(220, PRESENT | WRITABLE));
        assertEquals(3, pager.pteWriteTraps(), "the link into the shadowed parent traps, the store into the " +
            "no longer shadowed page does not");
        assertEquals(p2m[220] << 12, pager.access(other, 0), "the reused table is shadowed afresh");
        assertEquals(ShadowPager.GUEST_FAULT, pager.access(VA, 0), "the old mapping is gone");
        pager.guestReusedPage(250);
        assertEquals(3, pager.pteWriteTraps(), "a page that was never a table does not trap");
    }

    private long parentOf(final long root, final long va, final int level)
    {
        long table = root;
        for (int l = 4; l > level; l--)
        {
            table = PageTableEntry.frame(memory.frame(p2m[(int)table]).getLong(PageTableEntry.index(va, l) * 8));
        }
        return table;
    }

    private long newTable()
    {
        final long gfn = nextGfn++;
        memory.frame(p2m[(int)gfn]).setMemory(0, MachineMemory.FRAME_SIZE, (byte)0);
        return gfn;
    }

    /** Maps va to a guest frame in the guest's tables; returns the leaf table's gfn. */
    private long map(final long root, final long va, final long gfn, final long flags)
    {
        long table = root;
        for (int level = 4; level > 1; level--)
        {
            final int index = PageTableEntry.index(va, level);
            final long entry = memory.frame(p2m[(int)table]).getLong(index * 8);
            if (0 == (entry & PRESENT))
            {
                final long child = newTable();
                pager.writeGuestPte(table, index, PageTableEntry.make(child, PRESENT | WRITABLE | USER));
                table = child;
            }
            else
            {
                table = PageTableEntry.frame(entry);
            }
        }
        pager.writeGuestPte(table, PageTableEntry.index(va, 1), PageTableEntry.make(gfn, PRESENT | flags));
        return table;
    }

    private long leaf(final long root, final long va)
    {
        long table = root;
        for (int level = 4; level > 1; level--)
        {
            table = PageTableEntry.frame(memory.frame(p2m[(int)table]).getLong(PageTableEntry.index(va, level) * 8));
        }
        return memory.frame(p2m[(int)table]).getLong(PageTableEntry.index(va, 1) * 8);
    }
}
