package io.pvio.backend.block;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import io.pvio.backend.block.BlockStoreException.Reason;
import io.pvio.backend.block.TestBuffers.Kind;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@link FileBlockStore} opened with O_DIRECT, on a directory whose file system accepts it (the test's temporary
 * directory, else {@code target/}, else {@code /var/tmp}; skipped if none does): what it writes is what a buffered
 * reader of the file sees and the other way round, for memory of every kind and alignment and for requests longer
 * than the bounce buffer; misaligned requests are refused; discards, short files and threads behave as without
 * O_DIRECT; the steady state allocates nothing; a file system that refuses O_DIRECT gives a clear error.
 */
class DirectFileBlockStoreTest
{
    private static final long SEED = 0xD1_5EC7L;
    private static final int DEVICE_BYTES = 2 << 20;
    private static final Path TMPFS = Path.of("/dev/shm");

    /** Memory to move data through: the {@link Kind}s, plus off-heap memory aligned for O_DIRECT. */
    enum Memory
    {
        OFF_HEAP_ADDRESS, DIRECT_BYTE_BUFFER, HEAP_ARRAY, HEAP_BYTE_BUFFER, ALIGNED_OFF_HEAP
    }

    private final TestBuffers buffers = new TestBuffers();
    private final List<FileBlockStore> stores = new ArrayList<>();
    private final AtomicInteger images = new AtomicInteger();

    @TempDir
    Path tempDir;

    private Path dir;
    private Path ownDir;
    private int alignment;

    @BeforeEach
    void findADirectoryThatTakesODirect() throws IOException
    {
        final List<String> refused = new ArrayList<>();
        for (final Path candidate : new Path[] { tempDir, Path.of("target"), Path.of("/var/tmp") })
        {
            if (!Files.isDirectory(candidate) || !Files.isWritable(candidate))
            {
                continue;
            }
            final Path probeDir = candidate == tempDir ? tempDir : Files.createTempDirectory(candidate,
                "pvio-direct-test-");
            if (FileBlockStore.supportsDirectIo(probeDir))
            {
                dir = probeDir;
                ownDir = candidate == tempDir ? null : probeDir;
                alignment = FileBlockStore.directAlignment(dir);
                return;
            }
            refused.add(candidate + " (" + Files.getFileStore(candidate).type() + ')');
            if (candidate != tempDir)
            {
                Files.delete(probeDir);
            }
        }
        assumeTrue(false, "no directory here accepts O_DIRECT: " + refused);
    }

    @AfterEach
    void closeAndClean() throws IOException
    {
        for (final FileBlockStore store : stores)
        {
            store.close();
        }
        buffers.close();
        if (null != ownDir)
        {
            try (Stream<Path> files = Files.walk(ownDir))
            {
                for (final Path file : (Iterable<Path>)files.sorted(Comparator.reverseOrder())::iterator)
                {
                    Files.delete(file);
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Memory.class)
    void shouldAgreeWithABufferedReaderWhateverTheMemory(final Memory memory) throws IOException
    {
        final Path image = nextImage();
        final FileBlockStore store = track(FileBlockStore.createSparse(image, DEVICE_BYTES, alignment, true));
        assertTrue(store.isDirect());
        assertEquals(alignment, store.sectorSize());
        assertTrue(store.toString().contains("direct=true"), store.toString());
        final int blocks = DEVICE_BYTES / alignment;
        final int largest = 3 * FileBlockStore.BOUNCE_LENGTH + alignment; // several bounce chunks and a tail
        final UnsafeBuffer buffer = allocate(memory, largest + alignment);
        final byte[] model = new byte[DEVICE_BYTES];
        final Random random = new Random(SEED + memory.ordinal());

        for (int i = 0; i < 60; i++)
        {
            final int length = alignment * (0 == i % 10 ? largest / alignment : 1 + random.nextInt(24));
            final int block = random.nextInt(blocks - length / alignment + 1);
            final int offset = offset(memory, random);
            final byte[] data = new byte[length];
            random.nextBytes(data);
            buffer.putBytes(offset, data);
            store.write(sectors(block), buffer, offset, length);
            System.arraycopy(data, 0, model, block * alignment, length);
        }
        store.flush();
        assertArrayEquals(model, bufferedRead(image, 0, DEVICE_BYTES), "the file as the page cache shows it");

        // and the other way round: what a buffered writer leaves, direct reads return
        final byte[] written = new byte[5 * alignment];
        random.nextBytes(written);
        try (FileChannel writer = FileChannel.open(image, StandardOpenOption.WRITE))
        {
            final ByteBuffer from = ByteBuffer.wrap(written);
            while (from.hasRemaining())
            {
                writer.write(from, 7L * alignment + from.position());
            }
            writer.force(false);
        }
        System.arraycopy(written, 0, model, 7 * alignment, written.length);

        for (int i = 0; i < 60; i++)
        {
            final int length = alignment * (0 == i % 10 ? largest / alignment : 1 + random.nextInt(24));
            final int block = 0 == i ? 6 : random.nextInt(blocks - length / alignment + 1);
            final int offset = offset(memory, random);
            buffer.setMemory(0, buffer.capacity(), (byte)0x5A);
            store.read(sectors(block), buffer, offset, length);
            final byte[] read = new byte[length];
            buffer.getBytes(offset, read);
            final byte[] expected = new byte[length];
            System.arraycopy(model, block * alignment, expected, 0, length);
            assertArrayEquals(expected, read, "read of " + length + " bytes at block " + block + " into " + memory +
                " at offset " + offset);
            assertEquals(0x5A, buffer.getByte(offset + length), "nothing past the request is touched");
        }
        assertEquals(120, store.counters().reads() + store.counters().writes());
    }

    @Test
    void shouldRefuseRequestsNotAlignedToTheFileSystemBlock() throws IOException
    {
        final Path image = nextImage();
        final FileBlockStore store = track(FileBlockStore.createSparse(image, DEVICE_BYTES, alignment, true));
        final UnsafeBuffer buffer = allocate(Memory.HEAP_ARRAY, 2 * alignment);
        buffer.setMemory(0, 2 * alignment, (byte)0x77);
        assumeTrue(alignment > BlockStore.SECTOR_SIZE, "the file system's block is a single sector");

        final BlockStoreException misaligned = assertThrows(BlockStoreException.class,
            () -> store.write(1, buffer, 0, alignment));
        assertEquals(Reason.MISALIGNED, misaligned.reason());
        assertEquals(Reason.BAD_LENGTH, assertThrows(BlockStoreException.class,
            () -> store.write(0, buffer, 0, BlockStore.SECTOR_SIZE)).reason());
        assertEquals(Reason.MISALIGNED, assertThrows(BlockStoreException.class,
            () -> store.read(1, buffer, 0, alignment)).reason());
        assertEquals(3, store.counters().rejected());
        store.flush();
        assertArrayEquals(new byte[2 * alignment], bufferedRead(image, 0, 2 * alignment), "nothing was written");

        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
            () -> FileBlockStore.open(image, false, BlockStore.SECTOR_SIZE, true));
        assertEquals("O_DIRECT needs a sector size that is a multiple of the file system's block size: path=" +
            image + " sectorSize=512 fileSystemBlockSize=" + alignment, ex.getMessage());
    }

    @Test
    void shouldZeroAndReleaseWhenDiscardingDirect() throws IOException
    {
        final Path image = nextImage();
        final FileBlockStore store = track(FileBlockStore.createSparse(image, DEVICE_BYTES, alignment, true));
        final UnsafeBuffer buffer = allocate(Memory.OFF_HEAP_ADDRESS, DEVICE_BYTES);
        final byte[] model = new byte[DEVICE_BYTES];
        new Random(SEED).nextBytes(model);
        buffer.putBytes(0, model);
        store.write(0, buffer, 0, DEVICE_BYTES);

        final long blockSectors = alignment / BlockStore.SECTOR_SIZE;
        store.discard(3 * blockSectors, 40 * blockSectors);             // in the middle: zeros written direct
        store.discard(store.sectors() / 2, store.sectors() / 2);         // to the end: truncated and re-extended
        Arrays.fill(model, 3 * alignment, 43 * alignment, (byte)0);
        Arrays.fill(model, DEVICE_BYTES / 2, DEVICE_BYTES, (byte)0);
        store.flush();

        assertEquals(DEVICE_BYTES, Files.size(image));
        assertArrayEquals(model, bufferedRead(image, 0, DEVICE_BYTES));
        buffer.setMemory(0, DEVICE_BYTES, (byte)1);
        store.read(0, buffer, 0, DEVICE_BYTES);
        final byte[] read = new byte[DEVICE_BYTES];
        buffer.getBytes(0, read);
        assertArrayEquals(model, read);
    }

    @ParameterizedTest
    @EnumSource(value = Memory.class, names = { "ALIGNED_OFF_HEAP", "HEAP_ARRAY" })
    void shouldReadZerosPastTheEndOfAShortenedFile(final Memory memory) throws IOException
    {
        final Path image = nextImage();
        final FileBlockStore store = track(FileBlockStore.createSparse(image, DEVICE_BYTES, alignment, true));
        final UnsafeBuffer buffer = allocate(memory, 4 * alignment);
        buffer.setMemory(0, 4 * alignment, (byte)0x11);
        final long last = store.sectors() - 4L * alignment / BlockStore.SECTOR_SIZE;
        store.write(last, buffer, 0, 4 * alignment);
        final int kept = alignment + 100; // the file now ends inside a block
        try (FileChannel other = FileChannel.open(image, StandardOpenOption.WRITE))
        {
            other.truncate(DEVICE_BYTES - 4L * alignment + kept);
        }
        buffer.setMemory(0, 4 * alignment, (byte)0x22);

        store.read(last, buffer, 0, 4 * alignment);

        for (int i = 0; i < 4 * alignment; i++)
        {
            assertEquals(i < kept ? 0x11 : 0, buffer.getByte(i), "byte " + i);
        }
    }

    @Test
    void shouldKeepThreadsApartThroughTheirOwnBounceBuffers() throws Exception
    {
        final FileBlockStore store = track(FileBlockStore.createSparse(nextImage(), DEVICE_BYTES, alignment, true));
        final int threads = 4;
        final int blocks = DEVICE_BYTES / alignment;
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++)
        {
            final int thread = t;
            workers.add(new Thread(() ->
            {
                try
                {
                    final byte[] out = new byte[2 * alignment];
                    final UnsafeBuffer heap = new UnsafeBuffer(new byte[2 * alignment]);
                    for (int i = 0; i < 400; i++)
                    {
                        final int block = ((i * 7) % (blocks / threads / 2)) * threads * 2 + thread * 2;
                        Arrays.fill(out, (byte)(thread * 31 + i));
                        heap.putBytes(0, out);
                        store.write(sectors(block), heap, 0, out.length);
                        heap.setMemory(0, out.length, (byte)0);
                        store.read(sectors(block), heap, 0, out.length);
                        for (int b = 0; b < out.length; b++)
                        {
                            if (out[b] != heap.getByte(b))
                            {
                                throw new AssertionError("thread " + thread + " block " + block + " byte " + b);
                            }
                        }
                    }
                }
                catch (final Throwable ex)
                {
                    failure.compareAndSet(null, ex);
                }
            }));
        }
        for (final Thread worker : workers)
        {
            worker.start();
        }
        for (final Thread worker : workers)
        {
            worker.join(TimeUnit.SECONDS.toMillis(60));
        }
        assertNull(failure.get());
        assertEquals(threads * 400L, store.counters().writes());
    }

    @Test
    void shouldNotAllocateOnceWarm() throws IOException
    {
        final FileBlockStore store = track(FileBlockStore.createSparse(nextImage(), DEVICE_BYTES, alignment, true));
        final UnsafeBuffer aligned = allocate(Memory.ALIGNED_OFF_HEAP, 8 * alignment);
        final UnsafeBuffer misaligned = allocate(Memory.DIRECT_BYTE_BUFFER, 8 * alignment);
        final UnsafeBuffer heap = allocate(Memory.HEAP_ARRAY, 8 * alignment);
        final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        long allocated = -1;
        for (int round = 0; round < 5 && 0 != allocated; round++)
        {
            final long before = threads.getThreadAllocatedBytes(Thread.currentThread().getId());
            for (int i = 0; i < 200; i++)
            {
                final long sector = sectors(i % 64 * 8);
                store.write(sector, aligned, 0, 8 * alignment);
                store.read(sector, aligned, 0, 8 * alignment);
                store.write(sector, misaligned, 0, 8 * alignment);
                store.read(sector, misaligned, 0, 8 * alignment);
                store.write(sector, heap, 0, 8 * alignment);
                store.read(sector, heap, 0, 8 * alignment);
            }
            allocated = threads.getThreadAllocatedBytes(Thread.currentThread().getId()) - before;
        }
        assertEquals(0, allocated, "bytes allocated by 1,200 direct reads and writes once warm");
    }

    @Test
    void shouldSayTheFileSystemRefusesODirectOnTmpfs() throws IOException
    {
        assumeTrue(Files.isDirectory(TMPFS) && Files.isWritable(TMPFS), TMPFS + " is not a writable directory");
        assumeTrue("tmpfs".equals(Files.getFileStore(TMPFS).type()), TMPFS + " is not tmpfs");
        assumeTrue(!FileBlockStore.supportsDirectIo(TMPFS), "tmpfs accepts O_DIRECT on this kernel (Linux 6.6 or " +
            "later): the refusal cannot be shown here (shouldExplainARefusedOpen covers the diagnosis)");
        final Path image = TMPFS.resolve("pvio-direct-test-" + ProcessHandle.current().pid() + ".img");
        try
        {
            final FileBlockStore.DirectIoUnsupportedException ex = assertThrows(
                FileBlockStore.DirectIoUnsupportedException.class,
                () -> FileBlockStore.createSparse(image, DEVICE_BYTES, FileBlockStore.directAlignment(TMPFS), true));
            assertEquals(image, ex.path());
            assertTrue(ex.getMessage().startsWith(image + ": the file system (tmpfs) does not support O_DIRECT"),
                ex.getMessage());
            assertFalse(Files.exists(image), "the new image is deleted");
        }
        finally
        {
            Files.deleteIfExists(image);
        }
    }

    @Test
    void shouldExplainARefusedOpen() throws IOException
    {
        final Path image = nextImage();
        FileBlockStore.createSparse(image, DEVICE_BYTES).close();
        final FileSystemException einval = new FileSystemException(image.toString(), null, "Invalid argument");
        final OpenOption[] readWrite = { StandardOpenOption.READ, StandardOpenOption.WRITE };

        final IOException refused = FileBlockStore.directOpenFailure(image, readWrite, einval);
        assertInstanceOf(FileBlockStore.DirectIoUnsupportedException.class, refused);
        assertEquals(image + ": the file system (" + Files.getFileStore(image).type() + ") does not support " +
            "O_DIRECT: " + einval.getMessage(), refused.getMessage());
        assertSame(einval, refused.getCause());

        final Path missing = dir.resolve("missing.img");
        final NoSuchFileException gone = new NoSuchFileException(missing.toString());
        assertSame(gone, FileBlockStore.directOpenFailure(missing, readWrite, gone), "not O_DIRECT's fault");
        assertThrows(NoSuchFileException.class, () -> FileBlockStore.open(missing, false, alignment, true));
        assertFalse(Files.exists(missing));
    }

    @Test
    void shouldOpenAnExistingImageReadOnlyDirect() throws IOException
    {
        final Path image = nextImage();
        final byte[] contents = new byte[DEVICE_BYTES];
        new Random(SEED + 9).nextBytes(contents);
        Files.write(image, contents);
        final FileBlockStore store = track(FileBlockStore.open(image, true, alignment, true));
        assertTrue(store.isReadOnly() && store.isDirect());
        final UnsafeBuffer buffer = allocate(Memory.HEAP_BYTE_BUFFER, DEVICE_BYTES);
        store.read(0, buffer, 0, DEVICE_BYTES);
        final byte[] read = new byte[DEVICE_BYTES];
        buffer.getBytes(0, read);
        assertArrayEquals(contents, read);
        assertEquals(Reason.READ_ONLY, assertThrows(BlockStoreException.class,
            () -> store.write(0, buffer, 0, alignment)).reason());
    }

    private UnsafeBuffer allocate(final Memory memory, final int capacity)
    {
        if (Memory.ALIGNED_OFF_HEAP == memory)
        {
            final int page = BlockStore.MAX_SECTOR_SIZE;
            return new UnsafeBuffer(ByteBuffer.allocateDirect(capacity + page).alignedSlice(page), 0, capacity);
        }
        return buffers.allocate(Kind.valueOf(memory.name()), capacity);
    }

    /** An offset into the buffer: aligned for aligned memory, otherwise anywhere in the first block. */
    private int offset(final Memory memory, final Random random)
    {
        return Memory.ALIGNED_OFF_HEAP == memory ? 0 : random.nextInt(alignment);
    }

    private long sectors(final int block)
    {
        return (long)block * alignment / BlockStore.SECTOR_SIZE;
    }

    private FileBlockStore track(final FileBlockStore store)
    {
        stores.add(store);
        return store;
    }

    private Path nextImage()
    {
        return dir.resolve("direct-" + images.incrementAndGet() + ".img");
    }

    private static byte[] bufferedRead(final Path image, final long position, final int length) throws IOException
    {
        try (FileChannel reader = FileChannel.open(image, StandardOpenOption.READ))
        {
            final ByteBuffer into = ByteBuffer.allocate(length);
            int read = 0;
            while (into.hasRemaining() && read >= 0)
            {
                read = reader.read(into, position + into.position());
            }
            assertFalse(into.hasRemaining(), "the file is shorter than expected");
            return into.array();
        }
    }
}
