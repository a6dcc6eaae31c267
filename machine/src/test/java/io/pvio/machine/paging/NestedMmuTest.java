package io.pvio.machine.paging;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.pvio.machine.memory.MachineMemory;

import static io.pvio.machine.paging.PageTableEntry.ACCESSED;
import static io.pvio.machine.paging.PageTableEntry.DIRTY;
import static io.pvio.machine.paging.PageTableEntry.PRESENT;
import static io.pvio.machine.paging.PageTableEntry.USER;
import static io.pvio.machine.paging.PageTableEntry.WRITABLE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NestedMmuTest
{
    private static final int GUEST = 1;
    private static final int HOST = 0;
    private static final int GUEST_FRAMES = 64;
    private static final long VA = 0x0000_0040_1234_5000L;

    private MachineMemory memory;
    private long[] p2m;
    private PageTableBuilder host;
    private NestedMmu mmu;
    private int nextGfn;

    @BeforeEach
    void setUp()
    {
        memory = new MachineMemory(2048L * MachineMemory.FRAME_SIZE);
        p2m = new long[GUEST_FRAMES];
        host = new PageTableBuilder(memory, HOST);
        for (int gfn = GUEST_FRAMES - 1; gfn >= 0; gfn--)
        {
            p2m[gfn] = memory.allocate(GUEST);
            memory.frame(p2m[gfn]).setMemory(0, MachineMemory.FRAME_SIZE, (byte)0);
            if (gfn != 50)
            {
                host.map((long)gfn << 12, p2m[gfn], WRITABLE | USER);
            }
        }
        mmu = new NestedMmu(memory, 64);
        mmu.setHostRoot(host.root());
    }

    @AfterEach
    void tearDown()
    {
        memory.close();
    }

    @Test
    void aColdWalkReadsTwentyFourEntriesAndAHitNone()
    {
        final long root = guestTables(VA, 40, WRITABLE | USER);
        mmu.loadGuestCr3(root);
        assertEquals((p2m[40] << 12) + 0x77, mmu.translate(VA + 0x77, Mmu.ACCESS_USER));
        assertEquals(24, mmu.walkReferences(), "(4 + 1) x (4 + 1) - 1");
        assertEquals((p2m[40] << 12) + 8, mmu.translate(VA + 8, Mmu.ACCESS_USER));
        assertEquals(24, mmu.walkReferences());
        assertEquals(1, mmu.hits());
        assertTrue(PageTableEntry.has(guestLeaf(root, VA), ACCESSED));
        mmu.translate(VA, Mmu.ACCESS_WRITE);
        assertTrue(PageTableEntry.has(guestLeaf(root, VA), DIRTY));
    }

    @Test
    void guestFaultsAndHostFaultsAreTold()
    {
        final long root = guestTables(VA, 40, 0);
        mmu.loadGuestCr3(root);
        assertEquals(NestedMmu.FAULT, mmu.translate(VA, Mmu.ACCESS_WRITE), "read-only for the guest");
        assertEquals(NestedMmu.FAULT, mmu.translate(VA + 4096, 0), "not mapped by the guest");
        assertEquals(2, mmu.guestFaults());
        final long second = guestTables(VA, 50, 0);
        mmu.loadGuestCr3(second);
        assertEquals(NestedMmu.HOST_FAULT, mmu.translate(VA, 0), "gfn 50 has no machine frame");
        assertEquals(50, mmu.hostFaultFrame());
        assertEquals(1, mmu.hostFaults());
    }

    private long guestTables(final long va, final long dataGfn, final long flags)
    {
        final long root = nextGfn++;
        long table = root;
        for (int level = 4; level > 1; level--)
        {
            final long child = nextGfn++;
            memory.frame(p2m[(int)table]).putLong(PageTableEntry.index(va, level) * 8,
                PageTableEntry.make(child, PRESENT | WRITABLE | USER));
            table = child;
        }
        memory.frame(p2m[(int)table]).putLong(PageTableEntry.index(va, 1) * 8,
            PageTableEntry.make(dataGfn, PRESENT | flags));
        return root;
    }

    private long guestLeaf(final long root, final long va)
    {
        long table = root;
        for (int level = 4; level > 1; level--)
        {
            table = PageTableEntry.frame(memory.frame(p2m[(int)table]).getLong(PageTableEntry.index(va, level) * 8));
        }
        return memory.frame(p2m[(int)table]).getLong(PageTableEntry.index(va, 1) * 8);
    }
}
