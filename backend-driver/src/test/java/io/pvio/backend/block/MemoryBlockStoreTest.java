package io.pvio.backend.block;

import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import io.pvio.backend.block.TestBuffers.Kind;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The {@link BlockStore} contract on {@link MemoryBlockStore}, with chunks small enough that many operations straddle
 * two of them, plus what only the memory store promises.
 */
class MemoryBlockStoreTest extends BlockStoreContractTest
{
    private static final int TEST_CHUNK_LENGTH = 16 * 1024;

    @Override
    BlockStore createStore(final long bytes, final int sectorSize)
    {
        return new MemoryBlockStore(bytes, sectorSize, false, TEST_CHUNK_LENGTH);
    }

    @Override
    BlockStore createReadOnlyStore(final long bytes, final int sectorSize)
    {
        return new MemoryBlockStore(bytes, sectorSize, true, TEST_CHUNK_LENGTH);
    }

    @Test
    void shouldReleaseOffHeapMemoryWhenClosed()
    {
        final BufferPoolMXBean direct = directPool();
        final long bytes = 8L << 20;
        final long usedBefore = direct.getMemoryUsed();

        final MemoryBlockStore store = new MemoryBlockStore(bytes, 512, false, 1 << 20);
        final long usedOpen = direct.getMemoryUsed();
        store.close();
        final long usedClosed = direct.getMemoryUsed();

        assertEquals(bytes, usedOpen - usedBefore, "direct memory reserved by the store");
        assertEquals(bytes, usedOpen - usedClosed, "direct memory released by close()");
    }

    @Test
    void shouldUseDefaultChunksWhenBuiltThroughPublicConstructors()
    {
        try (MemoryBlockStore store = new MemoryBlockStore(SMALL_DEVICE_BYTES);
            MemoryBlockStore large = new MemoryBlockStore(SMALL_DEVICE_BYTES, 4096, true))
        {
            final UnsafeBuffer buffer = buffers.allocate(Kind.HEAP_ARRAY, 4096);
            buffer.setMemory(0, 4096, (byte)6);
            store.write(120, buffer, 0, 4096);
            buffer.setMemory(0, 4096, (byte)0);
            store.read(120, buffer, 0, 4096);

            assertEquals(6, buffer.getByte(4095));
            assertEquals(512, store.sectorSize());
            assertEquals(4096, large.sectorSize());
            assertEquals(SMALL_DEVICE_SECTORS, large.sectors());
            assertTrue(large.isReadOnly());
        }
    }

    @Test
    void shouldRejectSizeWhenNotAWholeNumberOfBlocks()
    {
        final IllegalArgumentException partial =
            assertThrows(IllegalArgumentException.class, () -> new MemoryBlockStore(4096 + 512, 4096, false));
        final IllegalArgumentException empty =
            assertThrows(IllegalArgumentException.class, () -> new MemoryBlockStore(0));

        assertEquals("store size must be a positive multiple of the sector size: bytes=4608 sectorSize=4096",
            partial.getMessage());
        assertEquals("store size must be a positive multiple of the sector size: bytes=0 sectorSize=512",
            empty.getMessage());
    }

    private static BufferPoolMXBean directPool()
    {
        for (final BufferPoolMXBean pool : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class))
        {
            if ("direct".equals(pool.getName()))
            {
                return pool;
            }
        }
        throw new IllegalStateException("no direct buffer pool MXBean");
    }
}
