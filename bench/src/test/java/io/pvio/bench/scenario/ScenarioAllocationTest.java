package io.pvio.bench.scenario;

import java.lang.management.ManagementFactory;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import io.pvio.backend.block.BlockBackOptions;
import io.pvio.backend.block.MemoryBlockStore;
import io.pvio.bench.machine.PvDisk;
import io.pvio.bench.machine.PvGuest;
import io.pvio.bench.machine.PvMachine;
import io.pvio.frontend.block.BlockFrontOptions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The verified split-driver workload allocates nothing per I/O on the physical CPUs that run the guest's event loop
 * (its vCPU 0's upcall handler), where its completion callbacks check each read and set up and resubmit the next I/O;
 * the same CPUs run dom0's back end and the scheduler, which are measured with it.
 */
class ScenarioAllocationTest
{
    private static final long DISK = 16L << 20;

    @Test
    void shouldAllocateNothingOnTheGuestEventLoopOnceWarm() throws Exception
    {
        final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        try (PvMachine machine = PvMachine.start(16_384, 2048))
        {
            final PvGuest guest = machine.createGuest("alloc", 4096);
            final PvDisk disk = machine.attachDisk(guest, 51712, new MemoryBlockStore(DISK), new BlockBackOptions(),
                new BlockFrontOptions());
            final Scenario.Workload workload =
                new Scenario.Workload(true, 4096, 32, 0.7, 60_000_000_000L, 0, 0, true, 9, false);
            final PvDiskWorkload engine = new PvDiskWorkload(disk.front()::submit, workload, DISK, 0,
                new BlockVersions(DISK / 4096, true));
            engine.start(System.nanoTime());
            awaitCompleted(engine, 150_000);
            engine.stats().latency();
            final long[] pcpus = machine.scheduler().physicalCpuThreadIds();
            assertTrue(pcpus.length > 0, "no physical CPU threads");
            final long before = allocated(threads, pcpus);
            final long from = engine.stats().completed();
            awaitCompleted(engine, from + 50_000);
            final long allocated = allocated(threads, pcpus) - before;
            final long ios = engine.stats().completed() - from;
            engine.stop();
            assertTrue(engine.awaitFinished(30, TimeUnit.SECONDS));
            assertEquals(0, engine.stats().errors(), engine.stats().firstError());
            assertEquals(0, engine.stats().mismatches());
            assertTrue(engine.stats().readsChecked() > 100_000);
            // one 16-byte object per I/O would be 800 KB; the bound leaves room for a one-off JIT deoptimisation
            assertTrue(allocated < 1024, "bytes allocated by the physical CPUs over " + ios + " I/Os: " +
                allocated);
        }
    }

    private static long allocated(final com.sun.management.ThreadMXBean threads, final long[] ids)
    {
        long sum = 0;
        for (final long allocated : threads.getThreadAllocatedBytes(ids))
        {
            sum += allocated;
        }
        return sum;
    }

    private static void awaitCompleted(final PvDiskWorkload engine, final long target) throws InterruptedException
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (engine.stats().completed() < target)
        {
            assertTrue(System.nanoTime() - deadline < 0, "stalled at " + engine.stats().completed());
            Thread.sleep(1);
        }
    }
}
