package io.pvio.backend.block;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.pvio.backend.block.BlockStoreException.Reason;
import io.pvio.backend.block.TestBuffers.Kind;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The {@link BlockStore} contract on {@link FileBlockStore}, plus what only an image file can show: durability as
 * another reader sees it, sparse creation, blocks released by a discard at the end, and files shorter or longer than
 * the device.
 */
class FileBlockStoreTest extends BlockStoreContractTest
{
    private final AtomicInteger images = new AtomicInteger();

    @TempDir
    Path dir;

    @Override
    BlockStore createStore(final long bytes, final int sectorSize) throws IOException
    {
        return FileBlockStore.createSparse(nextImage(), bytes, sectorSize);
    }

    @Override
    BlockStore createReadOnlyStore(final long bytes, final int sectorSize) throws IOException
    {
        final Path image = nextImage();
        FileBlockStore.createSparse(image, bytes, sectorSize).close();
        return FileBlockStore.open(image, true, sectorSize);
    }

    @Test
    void shouldShowWritesToAnIndependentChannelWhenFlushed() throws IOException
    {
        final Path image = nextImage();
        final byte[] data = new byte[8192];
        new Random(SEED).nextBytes(data);
        try (FileBlockStore store = FileBlockStore.createSparse(image, 1 << 20))
        {
            final UnsafeBuffer frame = buffers.allocate(Kind.OFF_HEAP_ADDRESS, data.length);
            frame.putBytes(0, data);

            store.write(100, frame, 0, data.length);
            store.flush();

            try (FileChannel reader = FileChannel.open(image, StandardOpenOption.READ))
            {
                final ByteBuffer onDisk = ByteBuffer.allocate(data.length);
                while (onDisk.hasRemaining())
                {
                    reader.read(onDisk, 100L * 512 + onDisk.position());
                }
                assertArrayEquals(data, onDisk.array());
            }
            assertEquals(1, store.counters().flushes());
        }
    }

    @Test
    void shouldKeepDataWhenImageIsOpenedAgain() throws IOException
    {
        final Path image = nextImage();
        final UnsafeBuffer buffer = buffers.allocate(Kind.DIRECT_BYTE_BUFFER, 4096);
        buffer.putStringWithoutLengthAscii(0, "pvio block store");
        try (FileBlockStore store = FileBlockStore.createSparse(image, SMALL_DEVICE_BYTES))
        {
            store.write(8, buffer, 0, 4096);
        }
        buffer.setMemory(0, 4096, (byte)0);

        try (FileBlockStore store = FileBlockStore.open(image, true))
        {
            store.read(8, buffer, 0, 4096);

            assertEquals("pvio block store", buffer.getStringWithoutLengthAscii(0, 16));
            assertEquals(image, store.path());
            assertTrue(store.isReadOnly());
            assertEquals(SMALL_DEVICE_SECTORS, store.sectors());
        }
    }

    @Test
    void shouldNotAllocateDiskBlocksWhenCreatedSparse() throws IOException
    {
        final Path image = nextImage();
        final long bytes = 1L << 30;

        try (FileBlockStore store = FileBlockStore.createSparse(image, bytes))
        {
            assertEquals(bytes, Files.size(image));
            assertEquals(bytes / 512, store.sectors());
            final long allocated = allocatedBytes(image);
            assumeTrue(allocated >= 0, "the file system does not report allocated blocks");
            assertTrue(allocated < 1 << 20, "a sparse 1 GiB image took " + allocated + " bytes of disk");
        }
    }

    @Test
    void shouldReleaseBlocksWhenDiscardReachesEndOfDevice() throws IOException
    {
        final Path image = nextImage();
        final int deviceBytes = 16 << 20;
        try (FileBlockStore store = FileBlockStore.createSparse(image, deviceBytes))
        {
            final byte[] model = fillRandomly(store, deviceBytes, new Random(SEED + 3));
            store.flush();
            final long allocatedFull = allocatedBytes(image);

            store.discard(store.sectors() / 2, store.sectors() / 2);
            store.flush();

            Arrays.fill(model, deviceBytes / 2, deviceBytes, (byte)0);
            assertDevice(store, model);
            assertEquals(deviceBytes, Files.size(image));
            final long allocatedAfter = allocatedBytes(image);
            assumeTrue(allocatedFull >= 0 && allocatedAfter >= 0, "the file system does not report allocated blocks");
            assertTrue(allocatedAfter <= allocatedFull - deviceBytes / 2,
                "discarding the second half released too little: before=" + allocatedFull + " after=" + allocatedAfter);
        }
    }

    @Test
    void shouldReadZerosWhenImageIsShorterThanDevice() throws IOException
    {
        final Path image = nextImage();
        try (FileBlockStore store = FileBlockStore.createSparse(image, SMALL_DEVICE_BYTES))
        {
            final UnsafeBuffer buffer = buffers.allocate(Kind.OFF_HEAP_ADDRESS, 8192);
            buffer.setMemory(0, 8192, (byte)0x11);
            store.write(SMALL_DEVICE_SECTORS - 16, buffer, 0, 8192);
            try (FileChannel other = FileChannel.open(image, StandardOpenOption.WRITE))
            {
                other.truncate(SMALL_DEVICE_BYTES - 6000);
            }
            buffer.setMemory(0, 8192, (byte)0x22);

            store.read(SMALL_DEVICE_SECTORS - 16, buffer, 0, 8192);

            for (int i = 0; i < 8192; i++)
            {
                assertEquals(i < 8192 - 6000 ? 0x11 : 0, buffer.getByte(i), "byte " + i);
            }
            assertEquals(SMALL_DEVICE_SECTORS, store.sectors());
        }
    }

    @ParameterizedTest
    @ValueSource(ints = { 512, 4096 })
    void shouldRoundSizeDownWhenImageEndsInPartialBlock(final int sectorSize) throws IOException
    {
        final Path image = nextImage();
        Files.write(image, new byte[3 * 4096 + 1000]);

        try (FileBlockStore store = FileBlockStore.open(image, false, sectorSize))
        {
            assertEquals(512 == sectorSize ? 25 : 24, store.sectors());
            final long blockSectors = sectorSize / 512;
            final UnsafeBuffer buffer = buffers.allocate(Kind.HEAP_ARRAY, 2 * sectorSize);
            store.write(store.sectors() - blockSectors, buffer, 0, sectorSize);
            final BlockStoreException ex = assertThrows(BlockStoreException.class,
                () -> store.write(store.sectors() - blockSectors, buffer, 0, 2 * sectorSize));
            assertEquals(Reason.OUT_OF_RANGE, ex.reason());
            assertEquals(3 * 4096 + 1000, Files.size(image));
        }
    }

    @Test
    void shouldRejectImageWhenSmallerThanOneBlock() throws IOException
    {
        final Path image = nextImage();
        Files.write(image, new byte[4000]);

        final IllegalArgumentException ex =
            assertThrows(IllegalArgumentException.class, () -> FileBlockStore.open(image, true, 4096));

        assertEquals("image smaller than one logical block: path=" + image + " bytes=4000 sectorSize=4096",
            ex.getMessage());
    }

    @Test
    void shouldFailToOpenWithoutCreatingWhenImageIsMissing()
    {
        final Path image = dir.resolve("missing.img");

        assertThrows(NoSuchFileException.class, () -> FileBlockStore.open(image, false));
        assertThrows(NoSuchFileException.class, () -> FileBlockStore.open(image, true));

        assertFalse(Files.exists(image));
    }

    @Test
    void shouldRefuseToCreateWhenImageExists() throws IOException
    {
        final Path image = nextImage();
        final byte[] contents = "precious data".getBytes(StandardCharsets.US_ASCII);
        Files.write(image, contents);

        assertThrows(FileAlreadyExistsException.class, () -> FileBlockStore.createSparse(image, 1 << 20));

        assertArrayEquals(contents, Files.readAllBytes(image));
    }

    @Test
    void shouldRejectSparseSizeWhenNotAWholeNumberOfBlocks()
    {
        final Path image = dir.resolve("odd.img");

        final IllegalArgumentException ex =
            assertThrows(IllegalArgumentException.class, () -> FileBlockStore.createSparse(image, 1000));
        assertThrows(IllegalArgumentException.class, () -> FileBlockStore.createSparse(image, 0));
        assertThrows(IllegalArgumentException.class, () -> FileBlockStore.createSparse(image, 8192 + 512, 4096));

        assertEquals("image size must be a positive multiple of the sector size: path=" + image +
            " bytes=1000 sectorSize=512", ex.getMessage());
        assertFalse(Files.exists(image));
    }

    @Test
    void shouldLeaveImageUnchangedWhenReadOnlyStoreRefusesWrite() throws IOException
    {
        final Path image = nextImage();
        final byte[] contents = new byte[SMALL_DEVICE_BYTES];
        new Random(SEED + 4).nextBytes(contents);
        Files.write(image, contents);

        try (FileBlockStore store = FileBlockStore.open(image, true))
        {
            final UnsafeBuffer buffer = buffers.allocate(Kind.OFF_HEAP_ADDRESS, 4096);
            assertThrows(BlockStoreException.class, () -> store.write(0, buffer, 0, 4096));
            assertThrows(BlockStoreException.class, () -> store.discard(0, SMALL_DEVICE_SECTORS));
            store.flush();

            store.read(8, buffer, 0, 4096);
            assertSame(contents, 4096, buffer, 0, 4096, "read-only image");
        }
        assertArrayEquals(contents, Files.readAllBytes(image));
    }

    @Test
    void shouldCloseStoreWhenIoThreadIsInterrupted() throws Exception
    {
        final FileBlockStore store = FileBlockStore.createSparse(nextImage(), SMALL_DEVICE_BYTES);
        try
        {
            final UnsafeBuffer buffer = buffers.allocate(Kind.OFF_HEAP_ADDRESS, 512);
            final BlockStoreException[] seen = new BlockStoreException[2];
            final Thread thread = new Thread(() ->
            {
                Thread.currentThread().interrupt();
                seen[0] = assertThrows(BlockStoreException.class, () -> store.read(0, buffer, 0, 512));
                Thread.interrupted();
                seen[1] = assertThrows(BlockStoreException.class, () -> store.write(0, buffer, 0, 512));
            });
            thread.start();
            thread.join(TimeUnit.SECONDS.toMillis(30));

            assertEquals(Reason.CLOSED, seen[0].reason());
            assertEquals(Reason.CLOSED, seen[1].reason());
            assertTrue(store.isClosed(), "an interrupt closes the channel, and with it the store");
        }
        finally
        {
            store.close();
        }
    }

    private Path nextImage()
    {
        return dir.resolve("disk-" + images.incrementAndGet() + ".img");
    }

    /**
     * Bytes of disk the file occupies, from {@code stat(1)}, or -1 if that cannot be measured here.
     */
    private static long allocatedBytes(final Path file)
    {
        try
        {
            final Process stat = new ProcessBuilder("stat", "-c", "%b %B", file.toString())
                .redirectErrorStream(true)
                .start();
            final String output = new String(stat.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
            if (!stat.waitFor(10, TimeUnit.SECONDS) || 0 != stat.exitValue())
            {
                return -1;
            }
            final String[] fields = output.split(" ");
            return Long.parseLong(fields[0]) * Long.parseLong(fields[1]);
        }
        catch (final IOException | RuntimeException ex)
        {
            return -1;
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            return -1;
        }
    }
}
