package io.pvio.machine.paging;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.pvio.machine.CostModel;
import io.pvio.machine.memory.MachineMemory;

import static io.pvio.machine.paging.PageTableEntry.PRESENT;
import static io.pvio.machine.paging.PageTableEntry.USER;
import static io.pvio.machine.paging.PageTableEntry.WRITABLE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Direct paging: a para guest builds its tables from its own machine frames and changes them only through validated,
 * batched {@code mmu_update}s.
 */
class DirectPagingTest
{
    private static final int GUEST = 1;
    private static final int OTHER = 2;
    private static final long VA = 0x0000_7F00_0000_0000L;
    private static final long TABLE_FLAGS = PRESENT | WRITABLE | USER;

    private MachineMemory memory;
    private DirectPaging paging;
    private final CostModel cost = new CostModel();
    private long l4;
    private long l3;
    private long l2;
    private long l1;

    @BeforeEach
    void setUp()
    {
        memory = new MachineMemory(1024L * MachineMemory.FRAME_SIZE);
        paging = new DirectPaging(memory, cost);
        // the guest lays out its tables in its own frames before pinning them, as a PV kernel does at boot
        l4 = zeroed(GUEST);
        l3 = zeroed(GUEST);
        l2 = zeroed(GUEST);
        l1 = zeroed(GUEST);
        put(l4, PageTableEntry.index(VA, 4), PageTableEntry.make(l3, TABLE_FLAGS));
        put(l3, PageTableEntry.index(VA, 3), PageTableEntry.make(l2, TABLE_FLAGS));
        put(l2, PageTableEntry.index(VA, 2), PageTableEntry.make(l1, TABLE_FLAGS));
    }

    @AfterEach
    void tearDown()
    {
        memory.close();
    }

    @Test
    void aPinnedHierarchyIsWalkedAsItIsAfterValidatedUpdates()
    {
        assertEquals(DirectPaging.OK, paging.pin(GUEST, l4, 4));
        assertEquals(4, paging.type(l4));
        assertEquals(1, paging.type(l1));
        final long data = zeroed(GUEST);
        final int done = paging.mmuUpdate(GUEST, new long[] { ptr(l1, VA) },
            new long[] { PageTableEntry.make(data, PRESENT | WRITABLE | USER) }, 1);
        assertEquals(1, done);
        final Mmu mmu = new Mmu(memory, 64);
        assertEquals(DirectPaging.OK, paging.loadCr3(GUEST, l4, mmu));
        assertEquals((data << 12) + 0x10, mmu.translate(VA + 0x10, Mmu.ACCESS_WRITE | Mmu.ACCESS_USER));
        assertEquals(5, paging.type(data), "the data frame is now held writable");
    }

    @Test
    void aBatchIsOneHypercall()
    {
        assertEquals(DirectPaging.OK, paging.pin(GUEST, l4, 4));
        final int count = 100;
        final long[] ptrs = new long[count];
        final long[] values = new long[count];
        for (int i = 0; i < count; i++)
        {
            ptrs[i] = ptr(l1, VA + (long)i * 4096);
            values[i] = PageTableEntry.make(zeroed(GUEST), PRESENT | WRITABLE);
        }
        final long callsBefore = paging.hypercalls();
        final long cyclesBefore = paging.modeledCycles();
        assertEquals(count, paging.mmuUpdate(GUEST, ptrs, values, count));
        assertEquals(callsBefore + 1, paging.hypercalls());
        assertEquals(cost.hypercall() + count * cost.pteValidation(), paging.modeledCycles() - cyclesBefore);
    }

    @Test
    void aPageTableFrameCannotBeMappedWritable()
    {
        assertEquals(DirectPaging.OK, paging.pin(GUEST, l4, 4));
        final int result = paging.mmuUpdate(GUEST, new long[] { ptr(l1, VA) },
            new long[] { PageTableEntry.make(l1, PRESENT | WRITABLE) }, 1);
        assertEquals(DirectPaging.EPERM, result);
        assertEquals(0, paging.refusedIndex());
        assertEquals(0, memory.frame(l1).getLong(PageTableEntry.index(VA, 1) * 8), "nothing was written");
        // read-only is fine: the guest may read its own tables
        assertEquals(1, paging.mmuUpdate(GUEST, new long[] { ptr(l1, VA) },
            new long[] { PageTableEntry.make(l1, PRESENT) }, 1));
    }

    @Test
    void anotherDomainsFrameCannotBeMapped()
    {
        assertEquals(DirectPaging.OK, paging.pin(GUEST, l4, 4));
        final long foreign = zeroed(OTHER);
        assertEquals(DirectPaging.EPERM, paging.mmuUpdate(GUEST, new long[] { ptr(l1, VA) },
            new long[] { PageTableEntry.make(foreign, PRESENT) }, 1));
        assertEquals(DirectPaging.EPERM, paging.pin(OTHER, l4, 4), "nor another domain's table pinned");
    }

    @Test
    void onlyValidatedTablesCanBeUpdated()
    {
        final long data = zeroed(GUEST);
        assertEquals(DirectPaging.EINVAL, paging.mmuUpdate(GUEST, new long[] { ptr(data, 0) },
            new long[] { PageTableEntry.make(data, PRESENT) }, 1));
    }

    @Test
    void aTableHoldingAWritableMappingOfATableIsRefused()
    {
        put(l1, PageTableEntry.index(VA, 1), PageTableEntry.make(l2, PRESENT | WRITABLE));
        assertEquals(DirectPaging.EPERM, paging.pin(GUEST, l4, 4));
        assertEquals(0, paging.type(l4), "a failed validation leaves nothing typed");
        assertEquals(0, paging.type(l1));
    }

    @Test
    void unmappingReleasesAWritableFrameSoItCanBecomeATable()
    {
        assertEquals(DirectPaging.OK, paging.pin(GUEST, l4, 4));
        final long frame = zeroed(GUEST);
        assertEquals(1, paging.mmuUpdate(GUEST, new long[] { ptr(l1, VA) },
            new long[] { PageTableEntry.make(frame, PRESENT | WRITABLE) }, 1));
        assertEquals(DirectPaging.EPERM, paging.pin(GUEST, frame, 1), "still mapped writable");
        assertEquals(1, paging.mmuUpdate(GUEST, new long[] { ptr(l1, VA) }, new long[] { 0 }, 1));
        assertEquals(DirectPaging.OK, paging.pin(GUEST, frame, 1));
        assertTrue(paging.refused() >= 1);
    }

    private long zeroed(final int owner)
    {
        final long mfn = memory.allocate(owner);
        memory.frame(mfn).setMemory(0, MachineMemory.FRAME_SIZE, (byte)0);
        return mfn;
    }

    private void put(final long table, final int index, final long entry)
    {
        memory.frame(table).putLong(index * 8, entry);
    }

    private static long ptr(final long table, final long va)
    {
        return (table << 12) + PageTableEntry.index(va, 1) * 8L;
    }
}
