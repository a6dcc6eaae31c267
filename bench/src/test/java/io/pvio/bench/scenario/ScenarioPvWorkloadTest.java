package io.pvio.bench.scenario;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import io.pvio.frontend.block.BlockFrontException;
import io.pvio.frontend.block.BlockIo;
import io.pvio.ring.blkif.BlkifOp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The split-driver workload engine against an in-memory device that completes I/O in a random order on the test
 * thread: exact counts, exact verification (and detection of data changed behind the engine's back), no two
 * verified I/Os in flight on one block, failures, stopping, and no allocation in the steady state.
 */
class ScenarioPvWorkloadTest
{
    private static final int BLOCK = 4096;
    private static final long DISK = 1L << 20;

    @Test
    void shouldIssueExactlyTheCountAndVerifyEveryRead() throws InterruptedException
    {
        final FakeDisk disk = new FakeDisk(DISK, 8);
        final BlockVersions versions = new BlockVersions(DISK / BLOCK, true);
        final PvDiskWorkload engine = disk.engine(workload(true, 8, 0.5, 5000), versions);
        engine.start(System.nanoTime());
        disk.drainAll();

        assertTrue(engine.awaitFinished(0, TimeUnit.SECONDS));
        final WorkloadStats stats = engine.stats();
        assertEquals(5000, stats.completed());
        assertEquals(5000, stats.measured());
        assertEquals(5000L * BLOCK, stats.measuredBytes());
        assertEquals(disk.reads, stats.readsChecked(), "every read of a sparse image is checked");
        assertTrue(disk.reads > 2000 && disk.writes > 2000, disk.reads + " reads, " + disk.writes + " writes");
        assertEquals(0, stats.mismatches());
        assertEquals(0, stats.errors());
        assertTrue(disk.maxInFlight <= 8 && disk.maxInFlight > 1, "in flight: " + disk.maxInFlight);
        assertEquals(5000, stats.latency().getTotalCount());
        for (long block = 0; block < versions.blocks(); block++)
        {
            assertTrue(BlockPattern.matches(disk.bytes, (int)(block * BLOCK), BLOCK, 1, block, versions.get(block)),
                "block " + block + " holds its last acknowledged version " + versions.get(block));
        }
    }

    @Test
    void shouldCountEveryReadOfDataChangedBehindItsBack() throws InterruptedException
    {
        final FakeDisk disk = new FakeDisk(DISK, 8);
        final BlockVersions versions = new BlockVersions(DISK / BLOCK, true);
        final PvDiskWorkload writer = disk.engine(workload(true, 8, 0.0, 600), versions);
        writer.start(System.nanoTime());
        disk.drainAll();
        assertEquals(0, writer.stats().mismatches());

        for (int i = 0; i < DISK; i += BLOCK)
        {
            disk.bytes.putByte(i + 100, (byte)~disk.bytes.getByte(i + 100));
        }
        final PvDiskWorkload reader = disk.engine(workload(true, 8, 1.0, 500), versions);
        reader.start(System.nanoTime());
        disk.drainAll();
        assertEquals(500, reader.stats().readsChecked());
        assertEquals(500, reader.stats().mismatches());
    }

    @Test
    void shouldCountOneMismatchForOneCorruptedRead() throws InterruptedException
    {
        final FakeDisk disk = new FakeDisk(DISK, 4);
        final PvDiskWorkload engine = disk.engine(workload(true, 4, 0.5, 3000), new BlockVersions(DISK / BLOCK,
            true));
        disk.corruptReadNumber = 1000;
        engine.start(System.nanoTime());
        disk.drainAll();
        assertEquals(3000, engine.stats().completed());
        assertEquals(1, engine.stats().mismatches());
    }

    @Test
    void shouldEndTheSlotOfAFailedWriteAndNeverCheckItsBlockUntilRewritten() throws InterruptedException
    {
        final FakeDisk disk = new FakeDisk(DISK, 4);
        final BlockVersions versions = new BlockVersions(DISK / BLOCK, true);
        final PvDiskWorkload engine = disk.engine(workload(true, 4, 0.5, 2000), versions);
        disk.failWriteNumber = 10;
        engine.start(System.nanoTime());
        disk.drainAll();

        assertTrue(engine.awaitFinished(0, TimeUnit.SECONDS));
        assertEquals(1, engine.stats().errors());
        assertEquals("IO_ERROR: injected failure", engine.stats().firstError());
        assertEquals(0, engine.stats().mismatches(), "the failed block's content is unknown, not wrong");
        assertEquals(2000, engine.stats().completed(), "the other slots carry on to the count");
        assertTrue(BlockVersions.UNKNOWN == versions.get(disk.failedBlock) || versions.get(disk.failedBlock) > 0);
    }

    @Test
    void shouldWriteBlocksInOrderWhenSequential() throws InterruptedException
    {
        final FakeDisk disk = new FakeDisk(DISK, 1);
        final BlockVersions versions = new BlockVersions(DISK / BLOCK, true);
        final PvDiskWorkload engine = disk.engine(workload(false, 1, 0.0, DISK / BLOCK + 3), versions);
        engine.start(System.nanoTime());
        disk.drainAll();
        for (long block = 0; block < versions.blocks(); block++)
        {
            assertEquals(block < 3 ? 2 : 1, versions.get(block), "block " + block);
        }
    }

    @Test
    void shouldFinishOnceStoppedAndDrained() throws InterruptedException
    {
        final FakeDisk disk = new FakeDisk(DISK, 16);
        final PvDiskWorkload engine = disk.engine(workload(true, 16, 0.7, 0), null);
        engine.start(System.nanoTime());
        disk.drain(10_000);
        assertFalse(engine.awaitFinished(0, TimeUnit.SECONDS));
        engine.stop();
        disk.drainAll();
        assertTrue(engine.awaitFinished(0, TimeUnit.SECONDS));
        assertTrue(engine.stats().completed() >= 10_000);
        assertEquals(0, engine.stats().readsChecked(), "not verified");
    }

    @Test
    void shouldMeasureOnlyIosStartedAfterTheWarmup() throws InterruptedException
    {
        final FakeDisk disk = new FakeDisk(DISK, 4);
        final PvDiskWorkload engine = disk.engine(workload(true, 4, 0.5, 1000), null);
        engine.start(System.nanoTime() + TimeUnit.HOURS.toNanos(1));
        disk.drainAll();
        assertEquals(1000, engine.stats().completed());
        assertEquals(0, engine.stats().measured());
        assertEquals(0, engine.stats().latency().getTotalCount());
    }

    @Test
    void shouldAllocateNothingPerIoOnceWarm() throws InterruptedException
    {
        final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        final FakeDisk disk = new FakeDisk(DISK, 16);
        final PvDiskWorkload engine = disk.engine(workload(true, 16, 0.7, 0), new BlockVersions(DISK / BLOCK, true));
        engine.start(System.nanoTime());
        disk.drain(200_000);
        engine.stats().latency();
        final long before = threads.getThreadAllocatedBytes(Thread.currentThread().getId());
        disk.drain(100_000);
        final long allocated = threads.getThreadAllocatedBytes(Thread.currentThread().getId()) - before;
        engine.stop();
        disk.drainAll();
        assertEquals(0, engine.stats().mismatches());
        // one object per I/O would be at least 1.6 MB; the bound leaves room for a one-off JIT deoptimisation
        assertTrue(allocated < 1024, "bytes allocated over 100,000 I/Os: " + allocated);
    }

    private static Scenario.Workload workload(final boolean random, final int depth, final double readShare,
        final long count)
    {
        return new Scenario.Workload(random, BLOCK, depth, readShare, 0 == count ? 1_000_000_000L : 0, count, 0,
            true, 1, false);
    }

    /**
     * A disk in memory: I/Os submitted wait in a pool and complete, on {@link #drain}, in a random order; a block
     * with an I/O in flight must not get another one.
     */
    private static final class FakeDisk implements Consumer<BlockIo>
    {
        final UnsafeBuffer bytes;
        final BlockIo[] pending;
        final boolean[] inFlight;
        int pendingCount;
        int maxInFlight;
        long reads;
        long writes;
        long corruptReadNumber = -1;
        long failWriteNumber = -1;
        long failedBlock = -1;
        long random = 42;
        boolean strict;
        PvDiskWorkload engine;

        FakeDisk(final long size, final int depth)
        {
            this.bytes = new UnsafeBuffer(ByteBuffer.allocateDirect((int)size));
            this.pending = new BlockIo[depth];
            this.inFlight = new boolean[(int)(size / BLOCK)];
        }

        PvDiskWorkload engine(final Scenario.Workload workload, final BlockVersions versions)
        {
            engine = new PvDiskWorkload(this, workload, bytes.capacity(), 7, versions);
            strict = null != versions;
            return engine;
        }

        @Override
        public void accept(final BlockIo io)
        {
            final int block = (int)(io.sector() * 512 / BLOCK);
            if (strict && inFlight[block])
            {
                throw new AssertionError("two I/Os in flight on block " + block);
            }
            inFlight[block] = true;
            pending[pendingCount++] = io;
            maxInFlight = Math.max(maxInFlight, pendingCount);
        }

        void drainAll()
        {
            while (pendingCount > 0)
            {
                drain(1);
            }
        }

        void drain(final long ios)
        {
            for (long i = 0; i < ios && pendingCount > 0; i++)
            {
                random = random * 6364136223846793005L + 1442695040888963407L;
                final int pick = (int)((random >>> 33) % pendingCount);
                final BlockIo io = pending[pick];
                pending[pick] = pending[--pendingCount];
                final int offset = (int)(io.sector() * 512);
                inFlight[offset / BLOCK] = false;
                BlockFrontException error = null;
                if (BlkifOp.WRITE == io.operation())
                {
                    if (writes++ == failWriteNumber)
                    {
                        failedBlock = offset / BLOCK;
                        error = new BlockFrontException(BlockFrontException.Reason.IO_ERROR, "injected failure");
                    }
                    bytes.putBytes(offset, engine.buffer(io), 0, io.length());
                }
                else
                {
                    engine.buffer(io).putBytes(0, bytes, offset, io.length());
                    if (reads++ == corruptReadNumber)
                    {
                        engine.buffer(io).putByte(7, (byte)~engine.buffer(io).getByte(7));
                    }
                }
                engine.onComplete(io, error);
            }
        }
    }
}
