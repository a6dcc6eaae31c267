package io.pvio.backend.block;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import io.pvio.backend.block.BlockStoreException.Reason;
import io.pvio.backend.block.TestBuffers.Kind;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * What every {@link BlockStore} must do, run once per implementation by a subclass that says how to make a store.
 */
abstract class BlockStoreContractTest
{
    static final long SEED = 0x5EC7_0B10CL;
    static final int SMALL_DEVICE_BYTES = 64 * 1024;
    static final long SMALL_DEVICE_SECTORS = SMALL_DEVICE_BYTES / BlockStore.SECTOR_SIZE;
    static final int MAX_IO_BYTES = 64 * 1024;
    static final int BUFFER_SLACK = 4096;

    final TestBuffers buffers = new TestBuffers();
    private final List<BlockStore> stores = new ArrayList<>();

    /**
     * A new writable store that reads as zeros.
     *
     * @param bytes      size.
     * @param sectorSize logical block size.
     * @return the store.
     * @throws IOException if the implementation's backing cannot be made.
     */
    abstract BlockStore createStore(long bytes, int sectorSize) throws IOException;

    /**
     * A new read-only store that reads as zeros.
     *
     * @param bytes      size.
     * @param sectorSize logical block size.
     * @return the store.
     * @throws IOException if the implementation's backing cannot be made.
     */
    abstract BlockStore createReadOnlyStore(long bytes, int sectorSize) throws IOException;

    final BlockStore newStore(final long bytes, final int sectorSize) throws IOException
    {
        final BlockStore store = createStore(bytes, sectorSize);
        stores.add(store);
        return store;
    }

    final BlockStore newReadOnlyStore(final long bytes, final int sectorSize) throws IOException
    {
        final BlockStore store = createReadOnlyStore(bytes, sectorSize);
        stores.add(store);
        return store;
    }

    @AfterEach
    void closeStoresAndBuffers()
    {
        for (final BlockStore store : stores)
        {
            store.close();
        }
        buffers.close();
    }

    @ParameterizedTest
    @ValueSource(ints = { 512, 4096 })
    void shouldReadBackWhatWasWrittenWhenOffsetsAreRandom(final int sectorSize) throws IOException
    {
        final int deviceBytes = 4 << 20;
        final BlockStore store = newStore(deviceBytes, sectorSize);
        final byte[] model = new byte[deviceBytes];
        final Random random = new Random(SEED + sectorSize);
        final Kind[] kinds = Kind.values();
        final UnsafeBuffer[] sources = new UnsafeBuffer[kinds.length];
        final UnsafeBuffer[] destinations = new UnsafeBuffer[kinds.length];
        for (int k = 0; k < kinds.length; k++)
        {
            sources[k] = buffers.allocate(kinds[k], MAX_IO_BYTES + BUFFER_SLACK);
            destinations[k] = buffers.allocate(kinds[k], MAX_IO_BYTES + BUFFER_SLACK);
        }
        final int deviceBlocks = deviceBytes / sectorSize;
        final int blockSectors = sectorSize / BlockStore.SECTOR_SIZE;
        final byte[] data = new byte[MAX_IO_BYTES];

        for (int i = 0; i < 600; i++)
        {
            final int blocks = 1 + random.nextInt(MAX_IO_BYTES / sectorSize);
            final int block = random.nextInt(deviceBlocks - blocks + 1);
            final int length = blocks * sectorSize;
            final int srcOffset = random.nextInt(BUFFER_SLACK);
            final UnsafeBuffer src = sources[random.nextInt(kinds.length)];
            random.nextBytes(data);
            src.putBytes(srcOffset, data, 0, length);
            System.arraycopy(data, 0, model, block * sectorSize, length);
            store.write((long)block * blockSectors, src, srcOffset, length);

            final int readBlocks = 1 + random.nextInt(MAX_IO_BYTES / sectorSize);
            final int readBlock = random.nextInt(deviceBlocks - readBlocks + 1);
            final int readLength = readBlocks * sectorSize;
            final int dstOffset = random.nextInt(BUFFER_SLACK);
            final UnsafeBuffer dst = destinations[random.nextInt(kinds.length)];
            store.read((long)readBlock * blockSectors, dst, dstOffset, readLength);
            assertSame(model, readBlock * sectorSize, dst, dstOffset, readLength, "iteration " + i);
        }

        final UnsafeBuffer dst = destinations[0];
        for (int offset = 0; offset < deviceBytes; offset += MAX_IO_BYTES)
        {
            store.read(offset / BlockStore.SECTOR_SIZE, dst, 0, MAX_IO_BYTES);
            assertSame(model, offset, dst, 0, MAX_IO_BYTES, "final pass");
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void shouldMoveDataWhenBufferIsOfAnyKind(final Kind kind) throws IOException
    {
        final BlockStore store = newStore(SMALL_DEVICE_BYTES, 512);
        final UnsafeBuffer src = buffers.allocate(kind, 8192);
        final UnsafeBuffer dst = buffers.allocate(kind, 8192);
        for (int i = 0; i < 8192; i++)
        {
            src.putByte(i, (byte)(i * 31 + 7));
        }

        store.write(16, src, 512, 4096);
        store.read(16, dst, 1024, 4096);

        for (int i = 0; i < 4096; i++)
        {
            assertEquals(src.getByte(512 + i), dst.getByte(1024 + i), "byte " + i);
        }
        assertEquals(0, dst.getByte(1023));
        assertEquals(0, dst.getByte(1024 + 4096));
    }

    @Test
    void shouldReadZerosWhenNothingWasWritten() throws IOException
    {
        final BlockStore store = newStore(SMALL_DEVICE_BYTES, 512);
        final UnsafeBuffer dst = buffers.allocate(Kind.OFF_HEAP_ADDRESS, SMALL_DEVICE_BYTES);
        dst.setMemory(0, SMALL_DEVICE_BYTES, (byte)0x5A);

        store.read(0, dst, 0, SMALL_DEVICE_BYTES);

        assertZeros(dst, 0, SMALL_DEVICE_BYTES);
    }

    @ParameterizedTest
    @ValueSource(ints = { 512, 4096 })
    void shouldReportSizeInBlkifSectorsWhenSectorSizeVaries(final int sectorSize) throws IOException
    {
        final BlockStore store = newStore(SMALL_DEVICE_BYTES, sectorSize);

        assertEquals(sectorSize, store.sectorSize());
        assertEquals(SMALL_DEVICE_SECTORS, store.sectors());
        assertFalse(store.isReadOnly());
        assertFalse(store.isClosed());
    }

    @ParameterizedTest
    @ValueSource(ints = { 0, 256, 1000, 8192 })
    void shouldRejectSectorSizeWhenUnsupported(final int sectorSize)
    {
        final IllegalArgumentException ex =
            assertThrows(IllegalArgumentException.class, () -> newStore(SMALL_DEVICE_BYTES, sectorSize));

        assertEquals("unsupported sector size: sectorSize=" + sectorSize +
            " (expected: a power of two from 512 to 4096)", ex.getMessage());
    }

    @Test
    void shouldRejectWriteWhenRangeCrossesEndOfDevice() throws IOException
    {
        final BlockStore store = newStore(SMALL_DEVICE_BYTES, 512);
        final UnsafeBuffer src = buffers.allocate(Kind.OFF_HEAP_ADDRESS, 4096);
        src.setMemory(0, 4096, (byte)1);
        store.write(SMALL_DEVICE_SECTORS - 2, src, 0, 1024);
        src.setMemory(0, 4096, (byte)2);

        final BlockStoreException ex = assertThrows(
            BlockStoreException.class, () -> store.write(SMALL_DEVICE_SECTORS - 2, src, 0, 2048));

        assertEquals(Reason.OUT_OF_RANGE, ex.reason());
        assertEquals("OUT_OF_RANGE: write reaches past the end of the device: sector=126 count=4 deviceSectors=128 " +
            "(expected: sector + count <= deviceSectors)", ex.getMessage());
        final UnsafeBuffer dst = buffers.allocate(Kind.HEAP_ARRAY, 1024);
        store.read(SMALL_DEVICE_SECTORS - 2, dst, 0, 1024);
        for (int i = 0; i < 1024; i++)
        {
            assertEquals(1, dst.getByte(i), "the refused write changed byte " + i);
        }
        assertEquals(1, store.counters().rejected());
        assertEquals(1, store.counters().writes());
    }

    @Test
    void shouldRejectReadWhenRangeCrossesEndOfDevice() throws IOException
    {
        final BlockStore store = newStore(SMALL_DEVICE_BYTES, 512);
        final UnsafeBuffer dst = buffers.allocate(Kind.HEAP_ARRAY, 4096);
        dst.setMemory(0, 4096, (byte)9);

        final BlockStoreException ex = assertThrows(
            BlockStoreException.class, () -> store.read(SMALL_DEVICE_SECTORS - 1, dst, 0, 1024));

        assertEquals(Reason.OUT_OF_RANGE, ex.reason());
        assertEquals("OUT_OF_RANGE: read reaches past the end of the device: sector=127 count=2 deviceSectors=128 " +
            "(expected: sector + count <= deviceSectors)", ex.getMessage());
        assertEquals(9, dst.getByte(0));
        assertEquals(0, store.counters().reads());
    }

    @Test
    void shouldAcceptIoWhenRangeEndsExactlyAtEndOfDevice() throws IOException
    {
        final BlockStore store = newStore(SMALL_DEVICE_BYTES, 512);
        final UnsafeBuffer buffer = buffers.allocate(Kind.OFF_HEAP_ADDRESS, 4096);
        buffer.setMemory(0, 4096, (byte)3);

        store.write(SMALL_DEVICE_SECTORS - 8, buffer, 0, 4096);
        buffer.setMemory(0, 4096, (byte)0);
        store.read(SMALL_DEVICE_SECTORS - 8, buffer, 0, 4096);
        store.read(SMALL_DEVICE_SECTORS, buffer, 0, 0);

        assertEquals(3, buffer.getByte(4095));
        assertEquals(0, store.counters().rejected());
    }

    @ParameterizedTest
    @ValueSource(longs = { SMALL_DEVICE_SECTORS, -1L, Long.MIN_VALUE, Long.MAX_VALUE, 1L << 55 })
    void shouldRejectSectorWhenBeyondDeviceOrWrapping(final long sector) throws IOException
    {
        final BlockStore store = newStore(SMALL_DEVICE_BYTES, 512);
        final UnsafeBuffer buffer = buffers.allocate(Kind.HEAP_ARRAY, 512);

        final BlockStoreException read =
            assertThrows(BlockStoreException.class, () -> store.read(sector, buffer, 0, 512));
        final BlockStoreException write =
            assertThrows(BlockStoreException.class, () -> store.write(sector, buffer, 0, 512));
        final BlockStoreException discard = assertThrows(BlockStoreException.class, () -> store.discard(sector, 1));

        assertEquals(Reason.OUT_OF_RANGE, read.reason());
        assertEquals(Reason.OUT_OF_RANGE, write.reason());
        assertEquals(Reason.OUT_OF_RANGE, discard.reason());
        assertTrue(read.getMessage().contains("sector=" + Long.toUnsignedString(sector) + " count=1 "),
            read.getMessage());
        assertEquals(3, store.counters().rejected());
    }

    @Test
    void shouldRejectDiscardWhenSectorPlusCountWrapsAround() throws IOException
    {
        final BlockStore store = newStore(SMALL_DEVICE_BYTES, 512);

        final BlockStoreException ex = assertThrows(BlockStoreException.class, () -> store.discard(8, -8L));
        final BlockStoreException tooLong =
            assertThrows(BlockStoreException.class, () -> store.discard(1, SMALL_DEVICE_SECTORS));

        assertEquals("OUT_OF_RANGE: discard reaches past the end of the device: sector=8 " +
            "count=18446744073709551608 deviceSectors=128 (expected: sector + count <= deviceSectors)",
            ex.getMessage());
        assertEquals(Reason.OUT_OF_RANGE, tooLong.reason());
    }

    @ParameterizedTest
    @ValueSource(ints = { 1, 511, 513, 1000, -512, Integer.MIN_VALUE })
    void shouldRejectLengthWhenNotAWholeNumberOfSectors(final int length) throws IOException
    {
        final BlockStore store = newStore(SMALL_DEVICE_BYTES, 512);
        final UnsafeBuffer buffer = buffers.allocate(Kind.HEAP_ARRAY, 4096);

        final BlockStoreException read =
            assertThrows(BlockStoreException.class, () -> store.read(0, buffer, 0, length));
        final BlockStoreException write =
            assertThrows(BlockStoreException.class, () -> store.write(0, buffer, 0, length));

        assertEquals(Reason.BAD_LENGTH, read.reason());
        assertEquals(Reason.BAD_LENGTH, write.reason());
        assertEquals("BAD_LENGTH: read length is not a whole number of logical blocks: sector=0 length=" + length +
            " sectorSize=512 (expected: length >= 0 and length % sectorSize == 0)", read.getMessage());
    }

    @Test
    void shouldRejectMisalignedIoWhenSectorSizeIs4096() throws IOException
    {
        final BlockStore store = newStore(SMALL_DEVICE_BYTES, 4096);
        final UnsafeBuffer buffer = buffers.allocate(Kind.OFF_HEAP_ADDRESS, 8192);

        final BlockStoreException misaligned =
            assertThrows(BlockStoreException.class, () -> store.write(1, buffer, 0, 4096));
        final BlockStoreException shortWrite =
            assertThrows(BlockStoreException.class, () -> store.write(0, buffer, 0, 512));
        final BlockStoreException shortDiscard = assertThrows(BlockStoreException.class, () -> store.discard(8, 4));
        final BlockStoreException misalignedDiscard =
            assertThrows(BlockStoreException.class, () -> store.discard(4, 8));

        assertEquals("MISALIGNED: write does not start on a logical block boundary: sector=1 count=8 sectorSize=4096 " +
            "(expected: sector % 8 == 0)", misaligned.getMessage());
        assertEquals(Reason.BAD_LENGTH, shortWrite.reason());
        assertEquals("BAD_LENGTH: discard count is not a whole number of logical blocks: sector=8 count=4 " +
            "sectorSize=4096 (expected: count % 8 == 0)", shortDiscard.getMessage());
        assertEquals(Reason.MISALIGNED, misalignedDiscard.reason());

        buffer.setMemory(0, 8192, (byte)4);
        store.write(8, buffer, 0, 8192);
        store.discard(16, 8);
        store.read(8, buffer, 0, 8192);
        assertEquals(4, buffer.getByte(4095));
        assertEquals(0, buffer.getByte(4096));
        assertEquals(4, store.counters().rejected());
    }

    @Test
    void shouldRefuseWritesAndDiscardsWhenReadOnly() throws IOException
    {
        final BlockStore store = newReadOnlyStore(SMALL_DEVICE_BYTES, 512);
        final UnsafeBuffer buffer = buffers.allocate(Kind.OFF_HEAP_ADDRESS, 4096);
        buffer.setMemory(0, 4096, (byte)8);

        final BlockStoreException write = assertThrows(BlockStoreException.class, () -> store.write(0, buffer, 0, 512));
        final BlockStoreException badWrite =
            assertThrows(BlockStoreException.class, () -> store.write(-1, buffer, 0, 3));
        final BlockStoreException discard = assertThrows(BlockStoreException.class, () -> store.discard(8, 16));
        store.flush();
        store.read(0, buffer, 0, 4096);

        assertTrue(store.isReadOnly());
        assertEquals("READ_ONLY: write on a read-only store: sector=0 count=1", write.getMessage());
        assertEquals(Reason.READ_ONLY, badWrite.reason(), "read-only is checked before the range");
        assertEquals("READ_ONLY: discard on a read-only store: sector=8 count=16", discard.getMessage());
        assertZeros(buffer, 0, 4096);
        assertEquals(3, store.counters().rejected());
        assertEquals(1, store.counters().flushes());
        assertEquals(1, store.counters().reads());
        assertEquals(0, store.counters().writes());
    }

    @ParameterizedTest
    @ValueSource(ints = { 512, 4096 })
    void shouldZeroRangeAndKeepNeighboursWhenDiscarding(final int sectorSize) throws IOException
    {
        final int deviceBytes = 1 << 20;
        final BlockStore store = newStore(deviceBytes, sectorSize);
        final byte[] model = fillRandomly(store, deviceBytes, new Random(SEED));
        final long sector = 104;
        final long count = 304;

        store.discard(sector, count);

        Arrays.fill(model, (int)sector * 512, (int)(sector + count) * 512, (byte)0);
        assertDevice(store, model);
        assertEquals(1, store.counters().discards());
        assertEquals(count, store.counters().sectorsDiscarded());
    }

    @Test
    void shouldZeroTailWhenDiscardReachesEndOfDevice() throws IOException
    {
        final int deviceBytes = 1 << 20;
        final BlockStore store = newStore(deviceBytes, 512);
        final byte[] model = fillRandomly(store, deviceBytes, new Random(SEED + 1));
        final long sectors = store.sectors();

        store.discard(sectors - 640, 640);

        Arrays.fill(model, (int)(sectors - 640) * 512, deviceBytes, (byte)0);
        assertEquals(sectors, store.sectors());
        assertDevice(store, model);

        final UnsafeBuffer buffer = buffers.allocate(Kind.HEAP_ARRAY, 512);
        buffer.setMemory(0, 512, (byte)0x77);
        store.write(sectors - 1, buffer, 0, 512);
        buffer.setMemory(0, 512, (byte)0);
        store.read(sectors - 1, buffer, 0, 512);
        assertEquals(0x77, buffer.getByte(511));
    }

    @Test
    void shouldChangeNothingWhenDiscardCountIsZero() throws IOException
    {
        final int deviceBytes = SMALL_DEVICE_BYTES;
        final BlockStore store = newStore(deviceBytes, 512);
        final byte[] model = fillRandomly(store, deviceBytes, new Random(SEED + 2));

        store.discard(10, 0);
        store.discard(SMALL_DEVICE_SECTORS, 0);

        assertDevice(store, model);
        assertEquals(2, store.counters().discards());
        assertEquals(0, store.counters().sectorsDiscarded());
    }

    @Test
    void shouldRefuseEveryOperationWhenClosed() throws IOException
    {
        final BlockStore store = newStore(SMALL_DEVICE_BYTES, 512);
        final UnsafeBuffer buffer = buffers.allocate(Kind.OFF_HEAP_ADDRESS, 512);
        store.write(0, buffer, 0, 512);

        store.close();
        store.close();

        assertTrue(store.isClosed());
        assertEquals(Reason.CLOSED,
            assertThrows(BlockStoreException.class, () -> store.read(0, buffer, 0, 512)).reason());
        assertEquals(Reason.CLOSED,
            assertThrows(BlockStoreException.class, () -> store.write(0, buffer, 0, 512)).reason());
        assertEquals(Reason.CLOSED, assertThrows(BlockStoreException.class, store::flush).reason());
        final BlockStoreException discard = assertThrows(BlockStoreException.class, () -> store.discard(0, 8));
        assertEquals(Reason.CLOSED, discard.reason());
        assertTrue(discard.getMessage().startsWith("CLOSED: discard on a closed store: "), discard.getMessage());
        assertEquals(SMALL_DEVICE_SECTORS, store.sectors());
        assertEquals(4, store.counters().rejected());
        assertEquals(1, store.counters().writes());
    }

    @Test
    void shouldCountCompletedAndRefusedOperations() throws IOException
    {
        final BlockStore store = newStore(SMALL_DEVICE_BYTES, 512);
        final UnsafeBuffer buffer = buffers.allocate(Kind.DIRECT_BYTE_BUFFER, 8192);

        store.write(0, buffer, 0, 8192);
        store.write(16, buffer, 0, 512);
        store.read(0, buffer, 0, 4096);
        store.flush();
        store.discard(0, 8);
        store.discard(8, 24);
        assertThrows(BlockStoreException.class, () -> store.read(0, buffer, 0, 100));

        final BlockStoreCounters counters = store.counters();
        assertEquals(2, counters.writes());
        assertEquals(8704, counters.bytesWritten());
        assertEquals(1, counters.reads());
        assertEquals(4096, counters.bytesRead());
        assertEquals(1, counters.flushes());
        assertEquals(2, counters.discards());
        assertEquals(32, counters.sectorsDiscarded());
        assertEquals(1, counters.rejected());
        assertEquals(0, counters.ioErrors());
        assertEquals("reads=1 bytesRead=4096 writes=2 bytesWritten=8704 flushes=1 discards=2 sectorsDiscarded=32 " +
            "rejected=1 ioErrors=0", counters.toString());
    }

    @Test
    void shouldRejectBufferRangeWhenCallerBufferIsTooSmall() throws IOException
    {
        final BlockStore store = newStore(SMALL_DEVICE_BYTES, 512);
        final UnsafeBuffer buffer = buffers.allocate(Kind.OFF_HEAP_ADDRESS, 1024);

        assertThrows(IndexOutOfBoundsException.class, () -> store.read(0, buffer, 600, 512));
        assertThrows(IndexOutOfBoundsException.class, () -> store.write(0, buffer, -1, 512));
        assertThrows(IndexOutOfBoundsException.class, () -> store.write(0, buffer, 0, 2048));

        assertEquals(0, store.counters().reads());
        assertEquals(0, store.counters().writes());
        assertFalse(store.isClosed());
    }

    @Test
    void shouldAllocateNothingWhenReadingWritingDiscardingAndFlushingWarmedUp() throws IOException
    {
        final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        assertTrue(threads.isThreadAllocatedMemorySupported() && threads.isThreadAllocatedMemoryEnabled(),
            "this JVM cannot count allocated bytes per thread");
        final BlockStore store = newStore(1 << 20, 512);
        final UnsafeBuffer frame = buffers.allocate(Kind.OFF_HEAP_ADDRESS, 4096);
        final UnsafeBuffer direct = buffers.allocate(Kind.DIRECT_BYTE_BUFFER, 4096);
        final UnsafeBuffer heap = buffers.allocate(Kind.HEAP_ARRAY, 4096);
        for (int i = 0; i < 4096; i++)
        {
            frame.putByte(i, (byte)i);
            heap.putByte(i, (byte)(i + 1));
        }
        final long[] checksum = new long[1];
        for (int i = 0; i < 20; i++)
        {
            exercise(store, frame, direct, heap, 1_000, checksum);
        }

        final long probeBefore = threads.getCurrentThreadAllocatedBytes();
        final long probeAfter = threads.getCurrentThreadAllocatedBytes();
        final long probeBytes = probeAfter - probeBefore;
        final int iterations = 10_000;

        // a steady-state allocation shows in every round; a JIT transient (a deoptimization rematerializing an
        // object whose allocation escape analysis had removed) shows in one round only
        final StringBuilder rounds = new StringBuilder();
        boolean clean = false;
        for (int round = 0; round < 5 && !clean; round++)
        {
            final long before = threads.getCurrentThreadAllocatedBytes();
            exercise(store, frame, direct, heap, iterations, checksum);
            final long after = threads.getCurrentThreadAllocatedBytes();
            clean = after - before == probeBytes;
            rounds.append(' ').append(after - before - probeBytes);
        }

        assertTrue(clean, "every round of " + iterations + " iterations allocated; bytes per round:" + rounds +
            " (probe alone: " + probeBytes + " bytes)");
        assertTrue(0 != checksum[0]);
    }

    @Test
    void shouldKeepEveryThreadsDataWhenThreadsShareTheStore() throws Exception
    {
        final int threadCount = 4;
        final int regionBytes = 512 * 1024;
        final BlockStore store = newStore((long)threadCount * regionBytes, 512);
        final byte[][] models = new byte[threadCount][regionBytes];
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final CountDownLatch start = new CountDownLatch(1);
        final Thread[] threads = new Thread[threadCount];
        for (int t = 0; t < threadCount; t++)
        {
            final int region = t;
            final UnsafeBuffer src = buffers.allocate(Kind.values()[t % Kind.values().length], MAX_IO_BYTES);
            final UnsafeBuffer dst = buffers.allocate(Kind.OFF_HEAP_ADDRESS, MAX_IO_BYTES);
            threads[t] = new Thread(() ->
            {
                try
                {
                    start.await();
                    writeRegionRandomly(store, region, regionBytes, models[region], src, dst);
                }
                catch (final Throwable ex)
                {
                    failure.compareAndSet(null, ex);
                }
            }, "store-user-" + t);
            threads[t].start();
        }

        start.countDown();
        for (final Thread thread : threads)
        {
            thread.join(TimeUnit.SECONDS.toMillis(60));
        }

        assertNull(failure.get(), () -> "a thread failed: " + failure.get());
        final byte[] model = new byte[threadCount * regionBytes];
        for (int t = 0; t < threadCount; t++)
        {
            System.arraycopy(models[t], 0, model, t * regionBytes, regionBytes);
        }
        assertDevice(store, model);
    }

    @Test
    void shouldCompleteOrRefuseEveryOperationWhenClosedConcurrently() throws Exception
    {
        final BlockStore store = newStore(1 << 20, 512);
        final int threadCount = 3;
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final AtomicLong completed = new AtomicLong();
        final CountDownLatch running = new CountDownLatch(threadCount);
        final Thread[] threads = new Thread[threadCount];
        for (int t = 0; t < threadCount; t++)
        {
            final UnsafeBuffer buffer = buffers.allocate(Kind.OFF_HEAP_ADDRESS, MAX_IO_BYTES);
            final long firstSector = t * 256L;
            threads[t] = new Thread(() ->
            {
                running.countDown();
                try
                {
                    for (long i = 0; ; i++)
                    {
                        if (0 == (i & 1))
                        {
                            store.write(firstSector, buffer, 0, MAX_IO_BYTES);
                        }
                        else
                        {
                            store.read(firstSector, buffer, 0, MAX_IO_BYTES);
                        }
                        completed.incrementAndGet();
                    }
                }
                catch (final BlockStoreException ex)
                {
                    if (Reason.CLOSED != ex.reason())
                    {
                        failure.compareAndSet(null, ex);
                    }
                }
                catch (final Throwable ex)
                {
                    failure.compareAndSet(null, ex);
                }
            }, "closing-race-" + t);
            threads[t].start();
        }

        running.await();
        while (completed.get() < 100)
        {
            Thread.onSpinWait();
        }
        store.close();
        for (final Thread thread : threads)
        {
            thread.join(TimeUnit.SECONDS.toMillis(30));
            assertFalse(thread.isAlive(), thread.getName() + " still running after close");
        }

        assertNull(failure.get(), () -> "unexpected failure: " + failure.get());
        assertTrue(store.isClosed());
    }

    static void exercise(
        final BlockStore store,
        final UnsafeBuffer frame,
        final UnsafeBuffer direct,
        final UnsafeBuffer heap,
        final int iterations,
        final long[] checksum)
    {
        for (int i = 0; i < iterations; i++)
        {
            final long sector = (i * 16L) & 1023;
            store.write(sector, frame, 0, 4096);
            store.read(sector, direct, 0, 4096);
            store.write(sector + 8, heap, 0, 4096);
            store.read(sector + 8, heap, 0, 4096);
            store.read(sector, frame, 0, 4096);
            store.discard(sector + 8, 8);
            if (0 == (i & 1023))
            {
                store.flush();
            }
            checksum[0] += direct.getLong(8) + heap.getLong(16);
        }
    }

    static void writeRegionRandomly(
        final BlockStore store,
        final int region,
        final int regionBytes,
        final byte[] model,
        final UnsafeBuffer src,
        final UnsafeBuffer dst)
    {
        final Random random = new Random(SEED * 31 + region);
        final int regionSectors = regionBytes / 512;
        final long firstSector = (long)region * regionSectors;
        final byte[] data = new byte[MAX_IO_BYTES];
        for (int i = 0; i < 300; i++)
        {
            final int sectors = 1 + random.nextInt(MAX_IO_BYTES / 512);
            final int sector = random.nextInt(regionSectors - sectors + 1);
            final int length = sectors * 512;
            random.nextBytes(data);
            src.putBytes(0, data, 0, length);
            System.arraycopy(data, 0, model, sector * 512, length);
            store.write(firstSector + sector, src, 0, length);
            store.read(firstSector + sector, dst, 0, length);
            assertSame(model, sector * 512, dst, 0, length, "region " + region + " iteration " + i);
        }
    }

    final byte[] fillRandomly(final BlockStore store, final int deviceBytes, final Random random)
    {
        final byte[] model = new byte[deviceBytes];
        random.nextBytes(model);
        final UnsafeBuffer src = buffers.allocate(Kind.DIRECT_BYTE_BUFFER, MAX_IO_BYTES);
        for (int offset = 0; offset < deviceBytes; offset += MAX_IO_BYTES)
        {
            final int length = Math.min(MAX_IO_BYTES, deviceBytes - offset);
            src.putBytes(0, model, offset, length);
            store.write(offset / 512, src, 0, length);
        }
        return model;
    }

    final void assertDevice(final BlockStore store, final byte[] model)
    {
        assertEquals(model.length / 512, store.sectors());
        final UnsafeBuffer dst = buffers.allocate(Kind.OFF_HEAP_ADDRESS, MAX_IO_BYTES);
        for (int offset = 0; offset < model.length; offset += MAX_IO_BYTES)
        {
            final int length = Math.min(MAX_IO_BYTES, model.length - offset);
            store.read(offset / 512, dst, 0, length);
            assertSame(model, offset, dst, 0, length, "device");
        }
    }

    static void assertSame(
        final byte[] model,
        final int modelOffset,
        final DirectBuffer actual,
        final int actualOffset,
        final int length,
        final String context)
    {
        final byte[] bytes = new byte[length];
        actual.getBytes(actualOffset, bytes);
        final int mismatch = Arrays.mismatch(bytes, 0, length, model, modelOffset, modelOffset + length);
        if (-1 != mismatch)
        {
            fail(context + ": device byte " + (modelOffset + mismatch) + " is " + bytes[mismatch] + ", expected " +
                model[modelOffset + mismatch]);
        }
    }

    static void assertZeros(final DirectBuffer buffer, final int offset, final int length)
    {
        for (int i = 0; i < length; i++)
        {
            if (0 != buffer.getByte(offset + i))
            {
                fail("byte " + i + " is " + buffer.getByte(offset + i) + ", expected 0");
            }
        }
    }
}
