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
    void aCr3LoadTrapsAndSwitchesAddressSpaces()
    {
        final long first = newTable();
        map(first, VA, 200, WRITABLE);
        final long second = newTable();
        map(second, VA, 210, WRITABLE);
        pager.guestLoadCr3(first);
        assertEquals(p2m[200] << 12, pager.access(VA, 0));
        final int framesBefore = memory.freeFrames();
        pager.guestLoadCr3(second);
        assertEquals(p2m[210] << 12, pager.access(VA, 0));
        assertEquals(2, pager.cr3Traps());
        assertTrue(memory.freeFrames() >= framesBefore, "the old shadows were freed");
        pager.close();
        assertEquals(4096 - GUEST_FRAMES, memory.freeFrames(), "closing frees every shadow frame");
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
