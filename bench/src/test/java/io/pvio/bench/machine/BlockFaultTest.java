package io.pvio.bench.machine;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.pvio.backend.block.BlockBackOptions;
import io.pvio.backend.block.FileBlockStore;
import io.pvio.frontend.block.BlockFront;
import io.pvio.frontend.block.BlockFrontException;
import io.pvio.frontend.block.BlockFrontOptions;
import io.pvio.frontend.block.BlockIo;
import io.pvio.hypervisor.xenstore.XenbusState;
import io.pvio.ring.blkif.BlkifOp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Faults in the middle of a verified workload: the back end restarts (no acknowledged write may be lost or corrupted,
 * and callers see no error), and a guest is destroyed (everything it had is released while another guest carries on).
 */
class BlockFaultTest
{
    private static final int DISK_BYTES = 16 << 20;
    private static final int SLOTS = 16;
    private static final int BLOCK = 8192;

    @TempDir
    Path dir;

    @Test
    void backEndRestartsLoseNoAcknowledgedWrite() throws Exception
    {
        final Path image = dir.resolve("restart.img");
        try (PvMachine machine = PvMachine.start(16_384, 2048))
        {
            final PvDisk disk = machine.attachDisk(machine.createGuest("guest", 4096), 51712,
                FileBlockStore.createSparse(image, DISK_BYTES), new BlockBackOptions(),
                new BlockFrontOptions().queues(2));
            final VerifiedWorkload workload = new VerifiedWorkload(disk.front(), 7);
            workload.start();
            for (int restart = 0; restart < 3; restart++)
            {
                workload.awaitCompletions(workload.completions() + 300);
                disk.restartBackend();
            }
            workload.awaitCompletions(workload.completions() + 300);
            workload.stopAndAwait();

            assertNull(workload.failure.get(), () -> "an I/O failed: " + workload.failure.get());
            assertEquals(0, workload.mismatches.get(), "reads returned what was acknowledged");
            assertEquals(3, disk.front().counters().reconnects(), "the front end reconnected after each restart");
            disk.front().flushBlocking();
            assertArrayEquals(workload.expected, BlockEndToEndTest.readIndependently(image),
                "the image holds every acknowledged write");
        }
    }

    @Test
    void aFrontEndReconnectingAgainAndAgainDoesNotGrowTheBackEndsCountersAndTheirTotalsGoOn() throws Exception
    {
        final Path image = dir.resolve("reconnect.img");
        try (PvMachine machine = PvMachine.start(16_384, 2048))
        {
            final BlockFrontOptions options = new BlockFrontOptions().queues(2);
            final PvDisk disk = machine.attachDisk(machine.createGuest("guest", 4096), 51712,
                FileBlockStore.createSparse(image, DISK_BYTES), new BlockBackOptions().ioWorkers(2), options);
            final UnsafeBuffer block = new UnsafeBuffer(ByteBuffer.allocateDirect(4096));
            int slabs = -1;
            for (int connection = 0; connection < 12; connection++)
            {
                if (connection > 0)
                {
                    disk.front().close();
                    disk.startFront(options);
                    assertTrue(disk.front().awaitConnected(30, TimeUnit.SECONDS), "connection " + connection);
                }
                block.setMemory(0, 4096, (byte)connection);
                disk.front().writeBlocking(8L * connection, block, 0, 4096);
                disk.front().readBlocking(8L * connection, block, 0, 4096);
                assertEquals((byte)connection, block.getByte(4095));
                if (1 == connection)
                {
                    slabs = disk.back().counters().slabs();
                }
            }
            // the first connection's slabs are reused by every later one
            assertEquals(slabs, disk.back().counters().slabs(), "slabs after 12 connections");
            assertTrue(slabs <= 1 + 2 * 2, "the device's slab and two per queue: " + slabs);
            // the counts of every connection stay in the totals
            assertEquals(12, disk.back().counters().writes());
            assertTrue(disk.back().counters().reads() >= 12, "reads: " + disk.back().counters().reads());
            assertEquals(disk.back().counters().requests(), disk.back().counters().reads() +
                disk.back().counters().writes() + disk.back().counters().flushes() +
                disk.back().counters().discards(), disk.back().counters().toString());
        }
    }

    @Test
    void destroyingAGuestReleasesEverythingWhileAnotherCarriesOn() throws Exception
    {
        try (PvMachine machine = PvMachine.start(16_384, 2048))
        {
            final PvDisk survivor = machine.attachDisk(machine.createGuest("survivor", 2048), 51712,
                FileBlockStore.createSparse(dir.resolve("survivor.img"), DISK_BYTES), new BlockBackOptions(),
                new BlockFrontOptions());
            final long freeBefore = machine.hypervisor().memory().freeFrames();

            final PvDisk victim = machine.attachDisk(machine.createGuest("victim", 2048), 51712,
                FileBlockStore.createSparse(dir.resolve("victim.img"), DISK_BYTES), new BlockBackOptions(),
                new BlockFrontOptions().queues(4).ringPageOrder(1));
            final int victimId = victim.guest().domain().id();
            final VerifiedWorkload survivorLoad = new VerifiedWorkload(survivor.front(), 11);
            final VerifiedWorkload victimLoad = new VerifiedWorkload(victim.front(), 13);
            survivorLoad.start();
            victimLoad.start();
            victimLoad.awaitCompletions(500);

            victim.guest().destroy();

            assertEquals(XenbusState.CLOSED, victim.back().state());
            assertEquals(freeBefore, machine.hypervisor().memory().freeFrames(),
                "every frame of the destroyed guest is back in the allocator");
            assertFalse(threadAlive("blkback-d" + victimId + '-'), "the victim's queue threads stopped");
            assertFalse(threadAlive("xenbus-blkback-d" + victimId + '-'), "the victim's back-end xenbus thread stopped");
            assertFalse(threadAlive("xenbus-blkfront-d" + victimId + '-'), "the victim's front-end xenbus thread stopped");

            survivorLoad.awaitCompletions(survivorLoad.completions() + 500);
            survivorLoad.stopAndAwait();
            assertNull(survivorLoad.failure.get(), () -> "the survivor saw a failure: " + survivorLoad.failure.get());
            assertEquals(0, survivorLoad.mismatches.get());
            assertEquals(XenbusState.CONNECTED, survivor.back().state());
        }
    }

    private static boolean threadAlive(final String prefix)
    {
        return Thread.getAllStackTraces().keySet().stream()
            .anyMatch((t) -> t.isAlive() && t.getName().startsWith(prefix));
    }

    /**
     * {@value #SLOTS} I/Os in flight, each slot owning its own region of the disk so that its writes and reads are
     * ordered; a write enters the model only once acknowledged, and every read is checked against the model.
     */
    static final class VerifiedWorkload
    {
        final byte[] expected = new byte[DISK_BYTES];
        final AtomicLong mismatches = new AtomicLong();
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        private final BlockFront front;
        private final Random random;
        private final AtomicLong completions = new AtomicLong();
        private final UnsafeBuffer[] buffers = new UnsafeBuffer[SLOTS];
        private final long[] offsets = new long[SLOTS];
        private final BlockIo[] ios = new BlockIo[SLOTS];
        private final CountDownLatch stopped = new CountDownLatch(SLOTS);
        private volatile boolean stopping;

        VerifiedWorkload(final BlockFront front, final long seed)
        {
            this.front = front;
            this.random = new Random(seed);
        }

        void start()
        {
            for (int slot = 0; slot < SLOTS; slot++)
            {
                buffers[slot] = new UnsafeBuffer(ByteBuffer.allocateDirect(BLOCK));
                ios[slot] = new BlockIo().callback(this::onComplete);
                ios[slot].tag(slot);
                next(slot);
            }
        }

        long completions()
        {
            return completions.get();
        }

        void awaitCompletions(final long target) throws InterruptedException
        {
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (completions.get() < target && null == failure.get())
            {
                assertTrue(System.nanoTime() - deadline < 0, "workload stalled at " + completions.get());
                Thread.sleep(1);
            }
        }

        void stopAndAwait() throws InterruptedException
        {
            stopping = true;
            assertTrue(stopped.await(60, TimeUnit.SECONDS), "every slot finished");
        }

        private void onComplete(final BlockIo io, final BlockFrontException error)
        {
            final int slot = (int)io.tag();
            if (null != error)
            {
                failure.compareAndSet(null, error);
                stopped.countDown();
                return;
            }
            final int base = (int)offsets[slot];
            if (io.operation() == BlkifOp.WRITE)
            {
                buffers[slot].getBytes(0, expected, base, BLOCK);
            }
            else
            {
                for (int i = 0; i < BLOCK; i++)
                {
                    if (buffers[slot].getByte(i) != expected[base + i])
                    {
                        mismatches.incrementAndGet();
                        break;
                    }
                }
            }
            completions.incrementAndGet();
            if (stopping)
            {
                stopped.countDown();
                return;
            }
            next(slot);
        }

        private void next(final int slot)
        {
            final int region = DISK_BYTES / SLOTS;
            final long offset;
            final boolean write;
            synchronized (random)
            {
                offset = (long)slot * region + (long)random.nextInt(region / BLOCK) * BLOCK;
                write = random.nextBoolean();
                if (write)
                {
                    for (int i = 0; i < BLOCK; i += 8)
                    {
                        buffers[slot].putLong(i, random.nextLong());
                    }
                }
            }
            offsets[slot] = offset;
            if (write)
            {
                ios[slot].write(offset >>> 9, buffers[slot], 0, BLOCK);
            }
            else
            {
                ios[slot].read(offset >>> 9, buffers[slot], 0, BLOCK);
            }
            front.submit(ios[slot]);
        }
    }
}
