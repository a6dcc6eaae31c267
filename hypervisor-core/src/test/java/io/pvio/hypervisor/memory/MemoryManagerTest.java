package io.pvio.hypervisor.memory;

import java.util.SplittableRandom;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.pvio.hypervisor.Domain;
import io.pvio.hypervisor.DomainId;
import io.pvio.hypervisor.HypercallKind;
import io.pvio.hypervisor.Hypervisor;
import io.pvio.hypervisor.P2M;
import io.pvio.machine.memory.MachineMemory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MemoryManagerTest
{
    private final MachineMemory memory = new MachineMemory(1024L * MachineMemory.FRAME_SIZE);
    private final Hypervisor hypervisor = new Hypervisor(memory, 64, 1);
    private final MemoryManager manager = hypervisor.memoryManager();

    @AfterEach
    void tearDown()
    {
        hypervisor.close();
    }

    private Domain guest(final String name, final int frames)
    {
        return hypervisor.dom0().hypercalls().createDomain(name, frames, 1);
    }

    private static void fill(final Domain domain, final long gfn, final long seed)
    {
        final UnsafeBuffer frame = domain.guestFrame(gfn);
        for (int offset = 0; offset < MachineMemory.FRAME_SIZE; offset += 8)
        {
            frame.putLong(offset, seed * 1_000_003L + offset);
        }
    }

    private long word(final Domain domain, final long gfn, final int offset)
    {
        return memory.frame(manager.access(domain, gfn, false)).getLong(offset);
    }

    @Test
    void decreaseAndPopulateReservationMoveFramesBetweenGuestAndMachine()
    {
        final Domain guest = guest("g", 100);
        final MemoryOps ops = guest.hypercalls().memoryOp();
        final int free = memory.freeFrames();
        fill(guest, 5, 1);
        assertEquals(3, ops.decreaseReservation(new long[] {5, 6, 7}, 3));
        assertEquals(free + 3, memory.freeFrames());
        assertEquals(97, ops.currentReservation());
        assertEquals(P2M.INVALID_MFN, guest.p2m().lookup(5));
        assertThrows(IllegalArgumentException.class, () -> manager.access(guest, 5, false));
        // stops at the first frame it cannot take: out of range, then already given back
        assertEquals(1, ops.decreaseReservation(new long[] {8, 1000, 9}, 3));
        assertEquals(0, ops.decreaseReservation(new long[] {6}, 1));
        assertEquals(2, ops.populatePhysmap(new long[] {5, 6, 10}, 3), "10 is still populated");
        assertEquals(0, word(guest, 5, 0), "populated frames are zeroed");
        assertEquals(98, ops.currentReservation());
        assertTrue(guest.counters().get(HypercallKind.MEMORY_OP) >= 6);
        final MemoryStats stats = manager.stats(guest);
        assertEquals(4, stats.decreased());
        assertEquals(2, stats.increased());
    }

    @Test
    void hypervisorSwappingKeepsADomainWithinItsLimitAndItsDataIntact()
    {
        final Domain guest = guest("g", 200);
        for (int gfn = 0; gfn < 200; gfn++)
        {
            fill(guest, gfn, gfn);
        }
        final int free = memory.freeFrames();
        assertEquals(50, manager.setHostLimit(guest, 150, new SplittableRandom(1)));
        assertEquals(free + 50, memory.freeFrames());
        assertEquals(50, manager.swappedPages());
        final SplittableRandom random = new SplittableRandom(2);
        for (int i = 0; i < 2_000; i++)
        {
            final int gfn = random.nextInt(200);
            assertEquals(gfn * 1_000_003L + 64, word(guest, gfn, 64), "gfn " + gfn);
            assertTrue(manager.stats(guest).populated() <= 150);
        }
        final MemoryStats stats = manager.stats(guest);
        assertTrue(stats.hostSwapIns() > 100, stats.toString());
        assertEquals(200, stats.populated() + stats.swapped());
        hypervisor.dom0().hypercalls().destroyDomain(guest.id());
        assertEquals(0, manager.swappedPages(), "destroy frees the swap slots");
        assertEquals(free + 200, memory.freeFrames(), "and every frame");
    }

    @Test
    void samplingCountsTouchesOfTheSampledPagesOnly()
    {
        final Domain guest = guest("g", 400);
        final SplittableRandom random = new SplittableRandom(3);
        assertEquals(100, manager.startSamplingPeriod(guest, 100, random));
        for (int gfn = 0; gfn < 100; gfn++)
        {
            manager.access(guest, gfn, false); // a quarter of the memory
            manager.access(guest, gfn, true);  // a second touch is not a second fault
        }
        final int touched = manager.estimator(guest).touchedThisPeriod();
        assertTrue(touched > 10 && touched < 45, "about a quarter of 100 samples: " + touched);
        assertEquals(touched, manager.stats(guest).sampleFaults(), "at most one induced fault per sampled page");
        final double estimate = manager.endSamplingPeriod(guest);
        assertEquals(touched / 100.0, estimate, 1e-9);
    }

    @Test
    void identicalPagesAreSharedAcrossAndWithinDomainsAndAWriteBreaksTheSharing()
    {
        final int start = memory.freeFrames();
        final Domain a = guest("a", 64);
        final Domain b = guest("b", 64);
        for (int gfn = 0; gfn < 32; gfn++)
        {
            fill(a, gfn, gfn); // 32 pages identical in a and b
            fill(b, gfn, gfn);
        }
        for (int gfn = 32; gfn < 48; gfn++)
        {
            fill(a, gfn, 1000 + gfn); // unique
            fill(b, gfn, 2000 + gfn);
        }
        // a and b: 16 zero pages each
        final int free = memory.freeFrames();
        final SplittableRandom random = new SplittableRandom(4);
        final PageSharing sharing = manager.sharing();
        for (int pass = 0; pass < 2; pass++)
        {
            sharing.scan(a, 64, random);
            sharing.scan(b, 64, random);
        }
        assertEquals(32 + 31, sharing.reclaimedFrames(), "32 page pairs, and 32 zero pages into one frame");
        assertEquals(free + 63, memory.freeFrames());
        assertEquals(32, sharing.zeroPages());
        assertEquals(48, manager.stats(a).sharedPages());
        final long sharedMfn = a.p2m().lookup(3);
        assertEquals(sharedMfn, b.p2m().lookup(3));
        assertEquals(DomainId.COW, memory.owner(sharedMfn));
        // a write breaks it: b gets a private copy, a keeps the contents
        final long copy = manager.access(b, 3, true);
        assertNotEquals(sharedMfn, copy);
        memory.frame(copy).putLong(0, 42);
        assertEquals(3 * 1_000_003L, word(a, 3, 0));
        assertEquals(42, word(b, 3, 0));
        // the last sharer takes the frame back without a copy
        assertEquals(sharedMfn, manager.access(a, 3, true));
        assertEquals(a.id(), memory.owner(sharedMfn));
        assertEquals(2, sharing.breaks());
        // a foreign write through the grant path unshares too
        final long zero = a.resolveFrame(60, true);
        assertFalse(0 != (a.p2m().entry(60) & P2M.SHARED));
        assertEquals(zero, a.p2m().lookup(60));
        hypervisor.dom0().hypercalls().destroyDomain(a.id());
        hypervisor.dom0().hypercalls().destroyDomain(b.id());
        assertEquals(start, memory.freeFrames(), "every frame back, shared ones with their last sharer");
        assertEquals(0, sharing.sharedFrames());
    }

    @Test
    void framesMappedByAnotherDomainAreNeitherSharedNorSwapped()
    {
        final Domain a = guest("a", 16);
        final Domain b = guest("b", 16);
        for (int gfn = 0; gfn < 16; gfn++)
        {
            fill(a, gfn, 7);
            fill(b, gfn, 7);
        }
        // what a grant map does to the frame: dom0 writes into it through its own mapping
        final long mapped = a.p2m().lookup(0);
        memory.retain(mapped);
        final SplittableRandom random = new SplittableRandom(9);
        manager.sharing().scan(a, 16, random);
        manager.sharing().scan(b, 16, random);
        assertEquals(mapped, a.p2m().entry(0), "still a's own, unshared frame");
        assertEquals(15, manager.stats(a).sharedPages());
        manager.setHostLimit(a, 1, random);
        assertEquals(mapped, a.p2m().entry(0), "and never swapped out");
        memory.release(mapped);
    }
}
