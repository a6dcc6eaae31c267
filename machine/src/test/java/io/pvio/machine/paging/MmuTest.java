package io.pvio.machine.paging;

import java.lang.management.ManagementFactory;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.pvio.machine.memory.MachineMemory;

import static io.pvio.machine.paging.PageTableEntry.ACCESSED;
import static io.pvio.machine.paging.PageTableEntry.DIRTY;
import static io.pvio.machine.paging.PageTableEntry.GLOBAL;
import static io.pvio.machine.paging.PageTableEntry.USER;
import static io.pvio.machine.paging.PageTableEntry.WRITABLE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MmuTest
{
    private static final int OWNER = 1;
    private static final long VA = 0x0000_7F12_3456_7000L;

    private MachineMemory memory;
    private PageTableBuilder tables;
    private Mmu mmu;

    @BeforeEach
    void setUp()
    {
        memory = new MachineMemory(4096L * MachineMemory.FRAME_SIZE);
        tables = new PageTableBuilder(memory, OWNER);
        mmu = new Mmu(memory, 64);
        mmu.loadCr3(tables.root());
    }

    @AfterEach
    void tearDown()
    {
        memory.close();
    }

    @Test
    void aMappedPageTranslatesWithItsOffsetAndTheWalkSetsAccessedEverywhere()
    {
        final long frame = memory.allocate(OWNER);
        tables.map(VA, frame, WRITABLE | USER);
        final long address = mmu.translate(VA + 0x123, Mmu.ACCESS_USER);
        assertEquals((frame << 12) + 0x123, address);
        assertEquals(4, mmu.walkReferences());
        assertTrue(PageTableEntry.has(tables.entry(VA), ACCESSED));
        assertFalse(PageTableEntry.has(tables.entry(VA), DIRTY), "a read does not dirty the page");
        assertIntermediateAccessed(VA);
        // the bytes really are in that frame
        new UnsafeBuffer(memory.frameAddress(frame), 4096).putInt(0x123, 42);
        assertEquals(42, memory.frame(address >>> 12).getInt((int)(address & 0xFFF)));
    }

    @Test
    void aWriteAfterAReadWalksAgainToSetDirty()
    {
        tables.map(VA, memory.allocate(OWNER), WRITABLE);
        mmu.translate(VA, 0);
        assertEquals(1, mmu.walks());
        mmu.translate(VA, 0);
        assertEquals(1, mmu.hits());
        mmu.translate(VA, Mmu.ACCESS_WRITE);
        assertEquals(2, mmu.walks(), "the cached entry was clean");
        assertTrue(PageTableEntry.has(tables.entry(VA), DIRTY));
        mmu.translate(VA, Mmu.ACCESS_WRITE);
        assertEquals(2, mmu.walks(), "now cached dirty");
        assertEquals(2, mmu.hits());
    }

    @Test
    void notPresentFaultsNameTheLevel()
    {
        assertEquals(Mmu.FAULT, mmu.translate(VA, 0));
        assertEquals(4, mmu.faultLevel());
        assertEquals(0, mmu.faultErrorCode());
        tables.map(VA, memory.allocate(OWNER), WRITABLE | USER);
        assertEquals(Mmu.FAULT, mmu.translate(VA + 4096, Mmu.ACCESS_WRITE | Mmu.ACCESS_USER));
        assertEquals(1, mmu.faultLevel());
        assertEquals(Mmu.ERROR_WRITE | Mmu.ERROR_USER, mmu.faultErrorCode());
        assertEquals(VA + 4096, mmu.faultAddress());
        assertEquals(Mmu.FAULT, mmu.translate(VA + (1L << 30), 0));
        assertEquals(3, mmu.faultLevel());
        assertEquals(3, mmu.faults());
    }

    @Test
    void permissionsAreCombinedOverEveryLevel()
    {
        tables.map(VA, memory.allocate(OWNER), 0);
        assertEquals(Mmu.FAULT, mmu.translate(VA, Mmu.ACCESS_WRITE));
        assertEquals(Mmu.ERROR_PROTECTION | Mmu.ERROR_WRITE, mmu.faultErrorCode());
        assertEquals(Mmu.FAULT, mmu.translate(VA, Mmu.ACCESS_USER));
        assertEquals(Mmu.ERROR_PROTECTION | Mmu.ERROR_USER, mmu.faultErrorCode());
        assertTrue(mmu.translate(VA, 0) >= 0, "a supervisor read is allowed");
        assertFalse(PageTableEntry.has(tables.entry(VA), DIRTY), "a refused write sets nothing");

        final long other = VA + (1L << 21);
        tables.map(other, memory.allocate(OWNER), WRITABLE | USER);
        // clear the writable bit of the page directory entry above it: the write must now fault
        final long pml4e = memory.frame(tables.root()).getLong(PageTableEntry.index(other, 4) * 8);
        final long pdpte = memory.frame(PageTableEntry.frame(pml4e)).getLong(PageTableEntry.index(other, 3) * 8);
        final UnsafeBuffer pd = memory.frame(PageTableEntry.frame(pdpte));
        final int pdIndex = PageTableEntry.index(other, 2) * 8;
        pd.putLong(pdIndex, pd.getLong(pdIndex) & ~WRITABLE);
        assertEquals(Mmu.FAULT, mmu.translate(other, Mmu.ACCESS_WRITE));
        assertEquals(Mmu.ERROR_PROTECTION | Mmu.ERROR_WRITE, mmu.faultErrorCode());
    }

    @Test
    void theTlbKeepsStaleTranslationsUntilInvlpgOrCr3()
    {
        final long first = memory.allocate(OWNER);
        tables.map(VA, first, WRITABLE);
        assertEquals(first << 12, mmu.translate(VA, 0));
        tables.unmap(VA);
        assertEquals(first << 12, mmu.translate(VA, 0), "hardware keeps using the cached translation");
        mmu.invlpg(VA);
        assertEquals(Mmu.FAULT, mmu.translate(VA, 0));

        final long second = memory.allocate(OWNER);
        tables.map(VA, second, WRITABLE);
        assertEquals(second << 12, mmu.translate(VA, 0));
        tables.map(VA, first, WRITABLE);
        mmu.loadCr3(tables.root());
        assertEquals(first << 12, mmu.translate(VA, 0), "a CR3 load flushes the TLB");
        assertEquals(2, mmu.cr3Loads());
        assertEquals(1, mmu.invlpgs());
    }

    @Test
    void globalTranslationsSurviveACr3Load()
    {
        tables.map(VA, memory.allocate(OWNER), WRITABLE | GLOBAL);
        tables.map(VA + 4096, memory.allocate(OWNER), WRITABLE);
        mmu.translate(VA, 0);
        mmu.translate(VA + 4096, 0);
        mmu.loadCr3(tables.root());
        assertTrue(mmu.tlb().contains(VA >>> 12));
        assertFalse(mmu.tlb().contains((VA + 4096) >>> 12));
        mmu.tlb().flush(true);
        assertFalse(mmu.tlb().contains(VA >>> 12));
    }

    @Test
    void aLargePageTakesThreeReferencesAndCoversTwoMegabytes()
    {
        final long va = 0x4000_0000L;
        tables.mapLarge(va, 1024, WRITABLE | USER);
        assertEquals((1024L << 12) + 0x1F_F123, mmu.translate(va + 0x1F_F123, Mmu.ACCESS_USER));
        assertEquals(3, mmu.walkReferences());
        assertEquals((1024L << 12) + 0x5000, mmu.translate(va + 0x5000, Mmu.ACCESS_WRITE));
        assertThrows(IllegalArgumentException.class, () -> tables.mapLarge(va + 4096, 1024, 0));
        assertThrows(IllegalArgumentException.class, () -> tables.mapLarge(va, 1025, 0));
    }

    @Test
    void nonCanonicalAddressesAndTablesOutsideMemoryFault()
    {
        assertEquals(Mmu.FAULT, mmu.translate(0x0000_8000_0000_0000L, 0));
        assertEquals(Mmu.ERROR_BAD_ADDRESS, mmu.faultErrorCode());
        mmu.loadCr3(1L << 30);
        assertEquals(Mmu.FAULT, mmu.translate(VA, 0));
        assertEquals(Mmu.ERROR_BAD_ADDRESS, mmu.faultErrorCode());
    }

    @Test
    void freeingTheTablesGivesEveryFrameBack()
    {
        final int before = memory.freeFrames();
        final PageTableBuilder space = new PageTableBuilder(memory, OWNER);
        for (int i = 0; i < 600; i++)
        {
            space.map(VA + (long)i * 4096, 7, WRITABLE);
        }
        assertEquals(4 + 1, space.tableFrames(), "root, PDPT, PD and two PTs for 600 pages");
        space.free();
        assertEquals(before, memory.freeFrames());
    }

    @Test
    void translationAllocatesNothing()
    {
        for (int i = 0; i < 256; i++)
        {
            tables.map(VA + (long)i * 4096, memory.allocate(OWNER), WRITABLE | USER);
        }
        final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        long sink = 0;
        for (int round = 0; round < 4; round++)
        {
            final long before = threads.getThreadAllocatedBytes(Thread.currentThread().getId());
            for (int i = 0; i < 1_000_000; i++)
            {
                sink += mmu.translate(VA + (long)(i & 31) * 4096 + (i & 0xFFF), i & 3);
                if (0 == (i & 1023))
                {
                    mmu.loadCr3(tables.root());
                }
            }
            final long allocated = threads.getThreadAllocatedBytes(Thread.currentThread().getId()) - before;
            if (3 == round)
            {
                // three rounds first so the JIT has settled (a deoptimization in the second once allocated 96 bytes)
                assertEquals(0, allocated, "bytes allocated by 1M translations (hits, misses, walks)");
            }
        }
        assertTrue(sink != 0);
        assertTrue(mmu.walks() > 1000 && mmu.hits() > 1_000_000);
    }

    private void assertIntermediateAccessed(final long va)
    {
        long table = tables.root();
        for (int level = 4; level > 1; level--)
        {
            final long entry = memory.frame(table).getLong(PageTableEntry.index(va, level) * 8);
            assertTrue(PageTableEntry.has(entry, ACCESSED), "level " + level + " accessed");
            table = PageTableEntry.frame(entry);
        }
    }
}
