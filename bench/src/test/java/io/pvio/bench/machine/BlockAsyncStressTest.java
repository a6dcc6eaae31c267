package io.pvio.bench.machine;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.pvio.backend.block.BlockBackOptions;
import io.pvio.backend.block.BlockStore;
import io.pvio.backend.block.BlockStoreCounters;
import io.pvio.backend.block.MemoryBlockStore;
import io.pvio.frontend.block.BlockFront;
import io.pvio.frontend.block.BlockFrontOptions;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * blkback's asynchronous serving under stress: I/O workers whose image I/O takes a random 0 to 50 us complete (and
 * push their responses on the ring) in any order, beside flushes the ring's agent answers itself, before or after the
 * ring's agent has gone to sleep (its vCPU blocked, or its thread parked), over many
 * rounds; every I/O completes exactly once with the right data, nothing waits for a wake-up that never comes, and
 * nothing of the guest stays mapped afterwards.
 */
class BlockAsyncStressTest
{
    private static final int DISK_BYTES = 4 << 20;
    private static final int ROUNDS = 40;
    private static final int DEPTH = 32;

    @ParameterizedTest(name = "execution {0}")
    @ValueSource(strings = {"VCPUS", "THREADS"})
    void workersCompletingInAnyOrderLoseNoRequestAndNoWakeUp(final String execution) throws Exception
    {
        final Random random = new Random(execution.hashCode());
        final byte[] expected = new byte[DISK_BYTES];
        try (PvMachine machine = PvMachine.start(16_384, 2048,
            new MachineOptions().execution(MachineOptions.Execution.valueOf(execution)));
            SlowStore store = new SlowStore(new MemoryBlockStore(DISK_BYTES)))
        {
            final PvDisk disk = machine.attachDisk(machine.createGuest("guest", 4096), 51712, store,
                new BlockBackOptions().ioWorkers(8), new BlockFrontOptions());
            final BlockFront front = disk.front();
            final int blocks = DISK_BYTES / 4096;
            final long startedAt = System.nanoTime();
            for (int round = 0; round < ROUNDS; round++)
            {
                // a burst of writes to distinct blocks, then reads of them, all in flight together
                final List<CompletableFuture<Void>> writes = new ArrayList<>();
                final int[] chosen = random.ints(0, blocks).distinct().limit(DEPTH).toArray();
                for (final int block : chosen)
                {
                    final byte[] data = new byte[4096];
                    random.nextBytes(data);
                    System.arraycopy(data, 0, expected, block * 4096, 4096);
                    writes.add(front.write(block * 8L, new UnsafeBuffer(data), 0, 4096));
                    if (0 == writes.size() % 5)
                    {
                        // answered by the agent itself while workers answer the writes around it
                        writes.add(front.flush());
                    }
                }
                CompletableFuture.allOf(writes.toArray(new CompletableFuture<?>[0])).get(30, TimeUnit.SECONDS);
                final List<CompletableFuture<Void>> reads = new ArrayList<>();
                final UnsafeBuffer[] targets = new UnsafeBuffer[chosen.length];
                for (int i = 0; i < chosen.length; i++)
                {
                    targets[i] = new UnsafeBuffer(new byte[4096]);
                    reads.add(front.read(chosen[i] * 8L, targets[i], 0, 4096));
                }
                CompletableFuture.allOf(reads.toArray(new CompletableFuture<?>[0])).get(30, TimeUnit.SECONDS);
                for (int i = 0; i < chosen.length; i++)
                {
                    final byte[] want = new byte[4096];
                    System.arraycopy(expected, chosen[i] * 4096, want, 0, 4096);
                    assertArrayEquals(want, targets[i].byteArray(), "round " + round + " block " + chosen[i]);
                }
                if (0 == round % 8)
                {
                    Thread.sleep(5); // let the agent and the workers go to sleep between some rounds
                }
            }
            assertEquals(2L * ROUNDS * DEPTH, disk.back().counters().asyncRequests(), "every I/O went to a worker");
            // each submission sees itself and at most the rest of the front end's queue in flight at the workers
            final long depthSum = disk.back().counters().asyncDepthSum();
            assertTrue(depthSum >= 2L * ROUNDS * DEPTH && depthSum <= 2L * ROUNDS * DEPTH * DEPTH,
                "depth sum " + depthSum);
            // every image I/O is slowed by 25 us on average, so the workers' measured service time cannot be less
            // than about that; jobs overlap at most DEPTH at a time, so their times fit in DEPTH times the wall clock
            final long requests = disk.back().counters().asyncRequests();
            final long service = disk.back().counters().asyncServiceNanos();
            final long wait = disk.back().counters().asyncWaitNanos();
            assertTrue(service / requests >= 10_000, "mean service " + service / requests + " ns");
            assertTrue(wait >= 0, "wait " + wait);
            assertTrue(wait + service <= (System.nanoTime() - startedAt) * DEPTH, "wait " + wait + " service " +
                service);
            final double meanDepth = disk.back().counters().meanAsyncDepth();
            assertTrue(meanDepth > 1.0 && meanDepth <= DEPTH,
                "a queue of " + DEPTH + " reached the workers: " + meanDepth);
            // the workers' counts and the agent's add up exactly
            assertEquals((long)ROUNDS * DEPTH, disk.back().counters().writes());
            assertEquals((long)ROUNDS * DEPTH, disk.back().counters().reads());
            assertEquals((long)ROUNDS * DEPTH * 4096, disk.back().counters().bytesRead());
            assertEquals((long)ROUNDS * DEPTH * 4096, disk.back().counters().bytesWritten());
            assertTrue(disk.back().counters().flushes() > 0, "flushes were served beside the workers");
            assertEquals(disk.back().counters().requests(), disk.back().counters().reads() +
                disk.back().counters().writes() + disk.back().counters().flushes(), "every request answered once");
            assertEquals(0, front.counters().errors());
            assertEquals(0, disk.back().counters().errorsIo());
            final PvGuest guest = disk.guest();
            disk.close();
            assertEquals(0, guest.domain().grantTable().mappingCount(), "no grant stays mapped");
            assertTrue(store.slowed > 0);
        }
    }

    /** A store whose every read and write takes 0 to 50 us longer, so completions come in any order. */
    private static final class SlowStore implements BlockStore
    {
        private final BlockStore inner;
        private volatile long slowed;

        SlowStore(final BlockStore inner)
        {
            this.inner = inner;
        }

        private void delay()
        {
            final long end = System.nanoTime() + ThreadLocalRandom.current().nextLong(50_000);
            while (System.nanoTime() < end)
            {
                Thread.onSpinWait();
            }
            slowed = slowed + 1; // racy count: only tested for non-zero
        }

        @Override
        public int sectorSize()
        {
            return inner.sectorSize();
        }

        @Override
        public long sectors()
        {
            return inner.sectors();
        }

        @Override
        public boolean isReadOnly()
        {
            return inner.isReadOnly();
        }

        @Override
        public boolean isClosed()
        {
            return inner.isClosed();
        }

        @Override
        public void read(final long sector, final MutableDirectBuffer dst, final int dstOffset, final int length)
        {
            delay();
            inner.read(sector, dst, dstOffset, length);
        }

        @Override
        public void write(final long sector, final DirectBuffer src, final int srcOffset, final int length)
        {
            delay();
            inner.write(sector, src, srcOffset, length);
        }

        @Override
        public void flush()
        {
            inner.flush();
        }

        @Override
        public void discard(final long sector, final long count)
        {
            inner.discard(sector, count);
        }

        @Override
        public BlockStoreCounters counters()
        {
            return inner.counters();
        }

        @Override
        public void close()
        {
            inner.close();
        }
    }
}
