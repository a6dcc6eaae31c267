package io.pvio.frontend.memory;

import java.util.SplittableRandom;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.pvio.hypervisor.Domain;
import io.pvio.hypervisor.Hypervisor;
import io.pvio.hypervisor.memory.MemoryManager;
import io.pvio.machine.memory.MachineMemory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GuestPagerTest
{
    private final Hypervisor hypervisor = new Hypervisor(new MachineMemory(2048L * MachineMemory.FRAME_SIZE), 64, 1);

    @AfterEach
    void tearDown()
    {
        hypervisor.close();
    }

    @Test
    void guestPagingOverHypervisorSwappingDoublePagesAndKeepsEveryByte()
    {
        final Domain guest = hypervisor.dom0().hypercalls().createDomain("guest", 256, 1);
        final MemoryManager manager = hypervisor.memoryManager();
        final GuestPager pager = new GuestPager(guest, guest.pageAllocator(), manager, 400);
        manager.setHostLimit(guest, 160, new SplittableRandom(1));
        final SplittableRandom random = new SplittableRandom(2);
        for (int i = 0; i < 20_000; i++)
        {
            pager.touch(random.nextInt(400), random.nextInt(4) == 0);
        }
        assertTrue(pager.pageOuts() > 1000, "the guest pages: 400 pages in 256 frames");
        assertTrue(manager.stats(guest).hostSwapIns() > 1000, "and the hypervisor swaps under it");
        assertTrue(pager.doublePaging() > 0, "some guest page-outs hit pages the hypervisor had swapped out");
        assertTrue(pager.doublePaging() <= pager.pageOuts());
        assertEquals(20_000, pager.accesses());
    }

    @Test
    void withoutPressureNothingIsPaged()
    {
        final Domain guest = hypervisor.dom0().hypercalls().createDomain("guest", 256, 1);
        final GuestPager pager = new GuestPager(guest, guest.pageAllocator(), hypervisor.memoryManager(), 200);
        final SplittableRandom random = new SplittableRandom(3);
        for (int i = 0; i < 10_000; i++)
        {
            pager.touch(random.nextInt(200), random.nextBoolean());
        }
        assertEquals(0, pager.pageOuts());
        assertEquals(0, pager.pageIns());
        assertEquals(200, pager.residentPages());
    }
}
