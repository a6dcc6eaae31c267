package io.pvio.bench.machine;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import io.pvio.backend.block.BlockBackOptions;
import io.pvio.backend.block.BlockStore;
import io.pvio.backend.block.FileBlockStore;
import io.pvio.backend.block.MemoryBlockStore;
import io.pvio.frontend.block.BlockFront;
import io.pvio.frontend.block.BlockFrontOptions;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * blkback's io_uring engine end to end: a guest's writes and reads of many sizes, memory offsets and queue depths go
 * through blkfront, the ring and blkback to an image file through one io_uring per ring, with and without O_DIRECT
 * and in both execution modes; the data must match the image byte for byte, the counters of the ring, the engine and
 * the store must agree, and closing the disk must leave no grant mapped and no engine thread running. Skipped where
 * io_uring is not available, unless {@code PVIO_REQUIRE_TOOLS=1} (CI).
 */
class BlockUringTest
{
    private static final int DISK_BYTES = 8 << 20;
    private static final String THREAD_SUFFIX = "-uring";

    @TempDir
    Path dir;

    @BeforeAll
    static void uringAvailable()
    {
        final String reason = BlockBackOptions.ioUringUnavailableReason();
        if (null != reason && "1".equals(System.getenv("PVIO_REQUIRE_TOOLS")))
        {
            fail(reason + " and PVIO_REQUIRE_TOOLS=1");
        }
        assumeTrue(null == reason, reason);
    }

    @ParameterizedTest(name = "direct={0} execution={1}")
    @CsvSource({"false, VCPUS", "false, THREADS", "true, VCPUS", "true, THREADS"})
    void writesThenReadsOfEverySizeMatchTheImage(final boolean direct, final String execution) throws Exception
    {
        final int sectorSize = direct ? directSectorSize() : BlockStore.SECTOR_SIZE;
        final Path image = dir.resolve("disk.img");
        final byte[] expected = new byte[DISK_BYTES];
        final Random random = new Random(direct ? 7 : 11);
        try (PvMachine machine = PvMachine.start(16_384, 2048,
            new MachineOptions().execution(MachineOptions.Execution.valueOf(execution))))
        {
            final FileBlockStore store = FileBlockStore.createSparse(image, DISK_BYTES, sectorSize, direct);
            final PvDisk disk = machine.attachDisk(machine.createGuest("guest", 4096), 51712, store,
                new BlockBackOptions().ioUring(true).maxQueues(2), new BlockFrontOptions().queues(2));
            final BlockFront front = disk.front();
            final int units = DISK_BYTES / sectorSize;
            final boolean[] touched = new boolean[units];
            final List<CompletableFuture<Void>> writes = new ArrayList<>();
            final List<long[]> written = new ArrayList<>();
            for (int i = 0; i < 400; i++)
            {
                // 1 to 16 units (up to 64 KiB with 4 KiB units: several segments, runs and, past 11, indirect)
                final int count = 1 + random.nextInt(16);
                final int unit = random.nextInt(units - count);
                if (overlaps(touched, unit, count))
                {
                    continue; // writes in flight together must not overlap: their order is undefined
                }
                final byte[] data = new byte[count * sectorSize];
                random.nextBytes(data);
                System.arraycopy(data, 0, expected, unit * sectorSize, data.length);
                // off a page boundary now and then: blkfront's segments then start inside a page
                final int offset = direct ? 0 : random.nextInt(3) * 512;
                final UnsafeBuffer source = new UnsafeBuffer(ByteBuffer.allocateDirect(offset + data.length));
                source.putBytes(offset, data);
                writes.add(front.write((long)unit * sectorSize / 512, source, offset, data.length));
                written.add(new long[] {unit, count});
            }
            CompletableFuture.allOf(writes.toArray(new CompletableFuture<?>[0])).get(60, TimeUnit.SECONDS);
            front.flushBlocking();

            final List<CompletableFuture<Void>> reads = new ArrayList<>();
            final List<UnsafeBuffer> targets = new ArrayList<>();
            for (final long[] w : written)
            {
                final UnsafeBuffer target = new UnsafeBuffer(ByteBuffer.allocateDirect((int)w[1] * sectorSize));
                targets.add(target);
                reads.add(front.read(w[0] * sectorSize / 512, target, 0, (int)w[1] * sectorSize));
            }
            CompletableFuture.allOf(reads.toArray(new CompletableFuture<?>[0])).get(60, TimeUnit.SECONDS);
            long bytes = 0;
            for (int i = 0; i < written.size(); i++)
            {
                final int from = (int)written.get(i)[0] * sectorSize;
                final int length = (int)written.get(i)[1] * sectorSize;
                final byte[] actual = new byte[length];
                targets.get(i).getBytes(0, actual);
                assertArrayEquals(Arrays.copyOfRange(expected, from, from + length), actual, "read at " + from);
                bytes += length;
            }

            assertEquals(0, front.counters().errors());
            assertEquals(0, disk.back().counters().errorsIo() + disk.back().counters().errorsInvalid() +
                disk.back().counters().errorsGrant() + disk.back().counters().protocolViolations());
            assertTrue(disk.back().counters().asyncRequests() > written.size(),
                "io_uring served most of the " + 2 * written.size() + " requests: " +
                    disk.back().counters().asyncRequests());
            assertTrue(disk.back().counters().meanAsyncDepth() > 1.0, "requests were in flight together");
            assertEquals(bytes, disk.back().counters().bytesWritten());
            assertEquals(bytes, disk.back().counters().bytesRead());
            assertEquals(bytes, store.counters().bytesRead(), "the store counts the engine's reads");
            assertEquals(bytes, store.counters().bytesWritten(), "and its writes");
            assertTrue(uringThreads() > 0, "each ring has its io_uring thread");

            final PvGuest guest = disk.guest();
            disk.close();
            assertEquals(0, guest.domain().grantTable().mappingCount(), "no grant stays mapped");
            store.close();
        }
        assertEquals(0, uringThreadsAfterEnd(), "the engine threads end with the disk");
        assertArrayEquals(expected, Files.readAllBytes(image), "the image holds every write");
    }

    @Test
    void aReadPastTheEndOfAFileCutShortUnderTheStoreReadsZeros() throws Exception
    {
        final Path image = dir.resolve("short.img");
        try (PvMachine machine = PvMachine.start(16_384, 2048))
        {
            final FileBlockStore store = FileBlockStore.createSparse(image, DISK_BYTES);
            final PvDisk disk = machine.attachDisk(machine.createGuest("guest", 4096), 51712, store,
                new BlockBackOptions().ioUring(true), new BlockFrontOptions());
            final BlockFront front = disk.front();
            final byte[] ones = new byte[8192];
            Arrays.fill(ones, (byte)1);
            final long lastPages = DISK_BYTES / 512 - 16;
            front.write(lastPages, new UnsafeBuffer(ones), 0, 8192)
                .get(30, TimeUnit.SECONDS);
            try (RandomAccessFile file = new RandomAccessFile(image.toFile(), "rw"))
            {
                file.setLength(DISK_BYTES - 4096); // another process cuts the image's last page off
            }
            final UnsafeBuffer target = new UnsafeBuffer(ByteBuffer.allocateDirect(8192));
            front.read(lastPages, target, 0, 8192).get(30, TimeUnit.SECONDS);
            final byte[] actual = new byte[8192];
            target.getBytes(0, actual);
            final byte[] want = new byte[8192];
            Arrays.fill(want, 0, 4096, (byte)1);
            assertArrayEquals(want, actual, "the page still in the file reads back, the page cut off reads as zeros");
            assertEquals(2, disk.back().counters().asyncRequests(), "both went through io_uring");
            disk.close();
            store.close();
        }
    }

    @Test
    void aFileStoreWithoutIoUringOrAMemoryStoreWithItStartsNoEngine() throws Exception
    {
        try (PvMachine machine = PvMachine.start(16_384, 2048))
        {
            final FileBlockStore store = FileBlockStore.createSparse(dir.resolve("plain.img"), DISK_BYTES);
            final PvDisk disk = machine.attachDisk(machine.createGuest("guest", 4096), 51712, store,
                new BlockBackOptions(), new BlockFrontOptions());
            disk.front().write(0, new UnsafeBuffer(ByteBuffer.allocateDirect(4096)), 0, 4096).get(30, TimeUnit.SECONDS);
            assertEquals(0, uringThreads());
            assertEquals(0, disk.back().counters().asyncRequests());
            disk.close();
            store.close();

            // io_uring reads and writes a file: a store in memory ignores the option and is served on the agent
            final BlockStore memory = new MemoryBlockStore(DISK_BYTES);
            final PvDisk memoryDisk = machine.attachDisk(machine.createGuest("memory-guest", 4096), 51712, memory,
                new BlockBackOptions().ioUring(true), new BlockFrontOptions());
            final UnsafeBuffer data = new UnsafeBuffer(ByteBuffer.allocateDirect(4096));
            data.setMemory(0, 4096, (byte)0x5a);
            memoryDisk.front().write(8, data, 0, 4096).get(30, TimeUnit.SECONDS);
            final UnsafeBuffer back = new UnsafeBuffer(ByteBuffer.allocateDirect(4096));
            memoryDisk.front().read(8, back, 0, 4096).get(30, TimeUnit.SECONDS);
            assertEquals((byte)0x5a, back.getByte(4095));
            assertEquals(0, uringThreads());
            assertEquals(0, memoryDisk.back().counters().asyncRequests());
            assertEquals(1, memoryDisk.back().counters().reads());
            memoryDisk.close();
            memory.close();
        }
    }

    private int directSectorSize() throws IOException
    {
        assumeTrue(FileBlockStore.supportsDirectIo(dir), "O_DIRECT is refused in " + dir);
        return FileBlockStore.directAlignment(dir);
    }

    private static long uringThreads()
    {
        return Thread.getAllStackTraces().keySet().stream()
            .filter(t -> t.isAlive() && t.getName().contains(THREAD_SUFFIX)).count();
    }

    /** Engine threads still alive once they had a few seconds to end after their loop terminated. */
    private static long uringThreadsAfterEnd() throws InterruptedException
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (uringThreads() > 0 && System.nanoTime() - deadline < 0)
        {
            Thread.sleep(10);
        }
        return uringThreads();
    }

    private static boolean overlaps(final boolean[] touched, final int from, final int count)
    {
        for (int i = from; i < from + count; i++)
        {
            if (touched[i])
            {
                return true;
            }
        }
        for (int i = from; i < from + count; i++)
        {
            touched[i] = true;
        }
        return false;
    }
}
