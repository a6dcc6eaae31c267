package io.pvio.frontend.memory;

import java.util.SplittableRandom;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.pvio.hypervisor.Domain;
import io.pvio.hypervisor.Hypervisor;
import io.pvio.hypervisor.PageAllocator;
import io.pvio.hypervisor.memory.MemoryTarget;
import io.pvio.hypervisor.xenstore.XenStore;
import io.pvio.hypervisor.xenstore.XenStoreConnection;
import io.pvio.hypervisor.xenstore.XenStoreException;
import io.pvio.machine.memory.MachineMemory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BalloonDriverTest
{
    private static final int PAGES = 512;

    private final MachineMemory memory = new MachineMemory(2048L * MachineMemory.FRAME_SIZE);
    private final Hypervisor hypervisor = new Hypervisor(memory, 64, 1);
    private final XenStore xenStore = new XenStore();
    private Domain guest;
    private XenStoreConnection toolstack;
    private XenStoreConnection guestStore;
    private PageAllocator allocator;
    private GuestPager pager;
    private BalloonDriver balloon;

    @BeforeEach
    void setUp()
    {
        guest = hypervisor.dom0().hypercalls().createDomain("guest", PAGES, 1);
        xenStore.introduceDomain(guest.id());
        toolstack = xenStore.connect(0);
        guestStore = xenStore.connect(guest.id());
        allocator = guest.pageAllocator();
        pager = new GuestPager(guest, allocator, hypervisor.memoryManager(), 1024);
        balloon = new BalloonDriver(guest, allocator, guestStore, pager, 64);
    }

    @AfterEach
    void tearDown()
    {
        balloon.close();
        guestStore.close();
        toolstack.close();
        hypervisor.close();
    }

    private void target(final long pages)
    {
        MemoryTarget.write(toolstack, guest.id(), pages, PAGES);
        balloon.poll();
    }

    private void settle()
    {
        while (0 != balloon.step(100))
        {
            // move in steps of 100 pages until the target is reached
        }
    }

    @Test
    void inflatesToTheTargetAndDeflatesBack()
    {
        final int free = memory.freeFrames();
        target(384);
        assertEquals(384, balloon.targetPages());
        settle();
        assertEquals(128, balloon.balloonPages());
        assertEquals(free + 128, memory.freeFrames(), "the hypervisor got the frames back");
        assertEquals(384, guest.hypercalls().memoryOp().currentReservation());
        target(PAGES);
        settle();
        assertEquals(0, balloon.balloonPages());
        assertEquals(free, memory.freeFrames());
        assertEquals(0, allocator.inUse(), "every page back in the guest's allocator");
    }

    @Test
    void aGuestShortOfFreePagesPagesOutToInflateAndKeepsItsData()
    {
        final SplittableRandom random = new SplittableRandom(5);
        for (int page = 0; page < 400; page++)
        {
            pager.touch(page, true);
        }
        target(256);
        settle();
        assertEquals(256, balloon.currentPages());
        assertTrue(balloon.reclaims() > 100, "the kernel paged out to feed the balloon: " + balloon.reclaims());
        assertTrue(pager.pageOuts() >= balloon.reclaims());
        for (int i = 0; i < 5_000; i++)
        {
            pager.touch(random.nextInt(400), random.nextBoolean()); // checks every page's stamp
        }
        assertTrue(pager.residentPages() <= 256);
        assertTrue(pager.pageIns() > 0);
    }

    @Test
    void malformedTargetsAreRefusedAndOutOfRangeOnesClamped()
    {
        toolstack.write(MemoryTarget.path(guest.id()), "lots");
        balloon.poll();
        assertEquals(PAGES, balloon.targetPages(), "the old target stays");
        assertEquals(1, balloon.rejectedTargets());
        assertTrue(balloon.lastRejection().contains("memory/target=\"lots\""), balloon.lastRejection());
        toolstack.write(MemoryTarget.path(guest.id()), "-4");
        balloon.poll();
        assertEquals(2, balloon.rejectedTargets());
        toolstack.write(MemoryTarget.path(guest.id()), "99999999999");
        balloon.poll();
        assertEquals(PAGES, balloon.targetPages(), "clamped to the maximum");
        toolstack.write(MemoryTarget.path(guest.id()), "4");
        balloon.poll();
        assertEquals(64, balloon.targetPages(), "clamped to the floor");
        assertEquals(2, balloon.clampedTargets());
    }

    @Test
    void theGuestCannotSetItsOwnTarget()
    {
        target(400);
        assertThrows(XenStoreException.class, () -> guestStore.write(MemoryTarget.path(guest.id()), "4"));
        assertThrows(XenStoreException.class, () -> guestStore.rm("/local/domain/" + guest.id() + "/memory"));
        assertEquals(String.valueOf(400 * MemoryTarget.KIB_PER_PAGE),
            guestStore.readString(MemoryTarget.path(guest.id())));
    }
}
