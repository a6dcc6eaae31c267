package io.pvio.machine.vm;

import java.util.SplittableRandom;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import io.pvio.machine.CostModel;
import io.pvio.machine.memory.MachineMemory;
import io.pvio.machine.vm.GuestKernel.AddressSpace;

import static io.pvio.machine.vm.GuestWorkloads.HEAP;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GuestKernelTest
{
    private static final int PAGE = MachineMemory.FRAME_SIZE;

    private MachineMemory memory;
    private final CostModel cost = new CostModel();

    @BeforeEach
    void setUp()
    {
        memory = new MachineMemory(8192L * PAGE);
    }

    @AfterEach
    void tearDown()
    {
        memory.close();
    }

    private GuestKernel kernel(final PagingMode mode, final KernelOptions options)
    {
        return new GuestKernel(mode, memory, 1, 2048, cost, null, options);
    }

    @ParameterizedTest
    @EnumSource(PagingMode.class)
    void everyWorkloadRunsAndChecksItsDataInEveryMode(final PagingMode mode)
    {
        final int free = memory.freeFrames();
        try (GuestKernel kernel = kernel(mode, new KernelOptions()))
        {
            final AddressSpace init = GuestWorkloads.startProcess(kernel, 64);
            final int baseline = kernel.frames().inUse();
            for (int i = 0; i < 5; i++)
            {
                GuestWorkloads.forkExec(kernel, init, 8, 16, 4);
            }
            assertEquals(baseline, kernel.frames().inUse(), "fork/exec/exit leaked guest frames");
            final SplittableRandom random = new SplittableRandom(7);
            for (final GuestWorkloads.Pattern pattern : GuestWorkloads.Pattern.values())
            {
                GuestWorkloads.touch(kernel, pattern, 128, 2_000, random);
            }
            final AddressSpace[] processes = {init, GuestWorkloads.startProcess(kernel, 32)};
            GuestWorkloads.contextSwitches(kernel, processes, 32, 50, 20, random);
            GuestWorkloads.mmapChurn(kernel, processes[1], 5, 16);
            final VirtCounters c = kernel.counters();
            assertTrue(c.guestPageFaults() > 0 && c.pteWrites() > 0 && c.tlbHits() > 0, c.toString());
        }
        assertEquals(free, memory.freeFrames(), "close returns every frame to the machine");
    }

    @ParameterizedTest
    @EnumSource(PagingMode.class)
    void copyOnWriteKeepsParentAndChildApart(final PagingMode mode)
    {
        try (GuestKernel kernel = kernel(mode, new KernelOptions()))
        {
            final AddressSpace parent = GuestWorkloads.startProcess(kernel, 4);
            final AddressSpace child = kernel.fork(parent);
            assertEquals(parent.frameAt(HEAP), child.frameAt(HEAP), "shared after fork");
            kernel.switchTo(child);
            kernel.access(HEAP, true, 42);
            assertTrue(parent.frameAt(HEAP) != child.frameAt(HEAP), "copied on write");
            assertEquals(42, kernel.access(HEAP, false, 0));
            assertEquals(GuestWorkloads.stamp(HEAP + PAGE, 0), kernel.access(HEAP + PAGE, false, 0));
            kernel.switchTo(parent);
            assertEquals(GuestWorkloads.stamp(HEAP, 0), kernel.access(HEAP, false, 0));
            kernel.access(HEAP, true, 7); // the last sharer: made writable in place
            assertEquals(7, kernel.access(HEAP, false, 0));
            kernel.switchTo(child);
            assertEquals(42, kernel.access(HEAP, false, 0));
        }
    }

    @ParameterizedTest
    @EnumSource(PagingMode.class)
    void anAccessOutsideEveryMappingIsASegfault(final PagingMode mode)
    {
        try (GuestKernel kernel = kernel(mode, new KernelOptions()))
        {
            GuestWorkloads.startProcess(kernel, 2);
            final GuestSegfault fault = assertThrows(GuestSegfault.class, () -> kernel.access(0x1000, false, 0));
            assertEquals(0x1000, fault.address());
            final AddressSpace ro = kernel.current();
            kernel.map(ro, 0x2000_0000L, false);
            assertEquals(0, kernel.access(0x2000_0000L, false, 0));
            assertThrows(GuestSegfault.class, () -> kernel.access(0x2000_0000L, true, 1));
        }
    }

    @Test
    void pteWritesTrapInFullModeAndAreBatchedInParaMode()
    {
        final long[] traps = new long[PagingMode.values().length];
        final long[] hypercalls = new long[PagingMode.values().length];
        for (final PagingMode mode : PagingMode.values())
        {
            try (GuestKernel kernel = kernel(mode, new KernelOptions()))
            {
                final AddressSpace parent = GuestWorkloads.startProcess(kernel, 64);
                final VirtCounters before = kernel.counters();
                kernel.fork(parent); // write-protects 64 parent PTEs, fills 64 child PTEs
                final VirtCounters d = kernel.counters().minus(before);
                traps[mode.ordinal()] = d.pteWriteTraps();
                hypercalls[mode.ordinal()] = d.hypercalls();
            }
        }
        assertEquals(0, traps[PagingMode.NATIVE.ordinal()]);
        assertEquals(0, traps[PagingMode.NESTED.ordinal()]);
        assertEquals(0, traps[PagingMode.PARA.ordinal()]);
        assertEquals(64, traps[PagingMode.FULL.ordinal()], "every write to the running parent's shadowed table");
        // pin of the child's root, then 64 + 64 + 3 table links in 128-entry batches, plus the TLB flush
        assertTrue(hypercalls[PagingMode.PARA.ordinal()] <= 4,
            "para batches: " + hypercalls[PagingMode.PARA.ordinal()]);
        assertEquals(0, hypercalls[PagingMode.NATIVE.ordinal()]);
    }

    @Test
    void unbatchedParaModePaysOneHypercallPerEntry()
    {
        try (GuestKernel kernel = kernel(PagingMode.PARA, new KernelOptions().withBatching(false)))
        {
            final AddressSpace parent = GuestWorkloads.startProcess(kernel, 16);
            final VirtCounters before = kernel.counters();
            kernel.fork(parent);
            final VirtCounters d = kernel.counters().minus(before);
            assertEquals(d.pteWrites() + 2, d.hypercalls(), "one per entry, plus the pin and the TLB flush");
        }
    }

    @Test
    void hiddenFaultsOnlyInFullModeAndParaFaultsBounceOnce()
    {
        for (final PagingMode mode : PagingMode.values())
        {
            try (GuestKernel kernel = kernel(mode, new KernelOptions()))
            {
                final AddressSpace space = kernel.createAddressSpace();
                kernel.demandRegion(space, HEAP, HEAP + 100L * PAGE);
                kernel.switchTo(space);
                final VirtCounters before = kernel.counters();
                for (int i = 0; i < 100; i++)
                {
                    kernel.access(HEAP + (long)i * PAGE, true, i);
                    kernel.syscall();
                }
                final VirtCounters d = kernel.counters().minus(before);
                assertEquals(100, d.guestPageFaults(), mode.name());
                assertEquals(PagingMode.FULL == mode ? 100 : 0, d.syscallTraps(), mode.name());
                assertEquals(PagingMode.PARA == mode ? 100 : 0, d.faultBounces(), mode.name());
                assertEquals(PagingMode.FULL == mode ? 100 : 0, d.faultReflections(), mode.name());
                if (PagingMode.FULL == mode)
                {
                    assertTrue(d.hiddenFaults() >= 100, d.toString());
                }
                else
                {
                    assertEquals(0, d.hiddenFaults(), mode.name());
                }
                if (PagingMode.NATIVE == mode || PagingMode.NESTED == mode)
                {
                    assertEquals(0, d.hypervisorEntries(), mode.name());
                }
            }
        }
    }

    @Test
    void nestedWalksAreLongAndShrinkWithTheWalkCacheAndLargePages()
    {
        final KernelOptions base = new KernelOptions().withTlbEntries(1).withContiguousMemory(true);
        final double cold = referencesPerMiss(base, false);
        final double cached = referencesPerMiss(base.withWalkCacheEntries(16), false);
        final double hostLarge = referencesPerMiss(base.withHostLargePages(true), false);
        final double bothLarge = referencesPerMiss(base.withHostLargePages(true), true);
        assertEquals(24.0, cold, 0.01);
        assertEquals(5.0, cached, 0.5);
        assertEquals(19.0, hostLarge, 0.01);
        assertEquals(15.0, bothLarge, 0.01);
    }

    private double referencesPerMiss(final KernelOptions options, final boolean guestLarge)
    {
        try (MachineMemory fresh = new MachineMemory(8192L * PAGE);
            GuestKernel kernel = new GuestKernel(PagingMode.NESTED, fresh, 1, 4096, cost, null, options))
        {
            final AddressSpace space = kernel.createAddressSpace();
            if (guestLarge)
            {
                kernel.mapLarge(space, HEAP);
            }
            else
            {
                for (int i = 0; i < 64; i++)
                {
                    kernel.map(space, HEAP + (long)i * PAGE, true);
                }
            }
            kernel.switchTo(space);
            kernel.access(HEAP, true, 1); // warm the walk cache and the accessed bits
            final VirtCounters before = kernel.counters();
            for (int i = 0; i < 1000; i++)
            {
                kernel.access(HEAP + (long)(i % 64) * PAGE, false, 0);
            }
            return kernel.counters().minus(before).referencesPerMiss();
        }
    }
}
