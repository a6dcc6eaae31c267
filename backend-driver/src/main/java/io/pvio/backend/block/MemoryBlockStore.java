package io.pvio.backend.block;

import java.nio.ByteBuffer;

import org.agrona.BufferUtil;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.UnsafeApi;

/**
 * A {@link BlockStore} in off-heap memory, for tests and benchmarks: the disk without the file system.
 * <p>
 * The memory is zeroed direct {@link ByteBuffer}s of up to {@value #DEFAULT_CHUNK_LENGTH} bytes each (so the device
 * may exceed 2 GiB), counted against {@code -XX:MaxDirectMemorySize}, and freed by {@link #close()} at once, not
 * when the garbage collector gets round to it. Operations that straddle two chunks are split. Reads and writes copy
 * with one {@code memcpy} per chunk, from and to on- or off-heap buffers alike; discard zeroes; flush has nothing to
 * do. Any number of threads may use one store at once, and {@link #close()} waits for the operations in progress, so
 * no copy ever touches freed memory.
 */
public final class MemoryBlockStore implements BlockStore
{
    /** Bytes per chunk of memory. */
    public static final int DEFAULT_CHUNK_LENGTH = 1 << 30;

    private final int sectorSize;
    private final long sectors;
    private final boolean readOnly;
    private final int chunkShift;
    private final long chunkMask;
    private final ByteBuffer[] chunks;
    private final long[] chunkAddresses;
    private final BlockStoreCounters counters = new BlockStoreCounters();
    private final InFlightGuard guard = new InFlightGuard();

    /**
     * Creates a writable store of {@code bytes} with 512-byte logical blocks, reading as zeros.
     *
     * @param bytes the device size, a positive multiple of 512.
     * @throws IllegalArgumentException if the size is invalid or the memory cannot be reserved.
     */
    public MemoryBlockStore(final long bytes)
    {
        this(bytes, SECTOR_SIZE, false);
    }

    /**
     * Creates a store of {@code bytes}, reading as zeros.
     *
     * @param bytes      the device size, a positive multiple of {@code sectorSize}.
     * @param sectorSize logical block size: a power of two from 512 to 4096.
     * @param readOnly   true to refuse writes and discards (the device then stays all zeros).
     * @throws IllegalArgumentException if the size or sector size is invalid or the memory cannot be reserved.
     */
    public MemoryBlockStore(final long bytes, final int sectorSize, final boolean readOnly)
    {
        this(bytes, sectorSize, readOnly, DEFAULT_CHUNK_LENGTH);
    }

    MemoryBlockStore(final long bytes, final int sectorSize, final boolean readOnly, final int chunkLength)
    {
        BlockStoreChecks.checkSectorSize(sectorSize);
        if (bytes <= 0 || 0 != (bytes & (sectorSize - 1)))
        {
            throw new IllegalArgumentException("store size must be a positive multiple of the sector size: bytes=" +
                bytes + " sectorSize=" + sectorSize);
        }
        if (chunkLength < MAX_SECTOR_SIZE || Integer.bitCount(chunkLength) != 1)
        {
            throw new IllegalArgumentException("chunk length must be a power of two of at least " + MAX_SECTOR_SIZE +
                ": chunkLength=" + chunkLength);
        }

        this.sectorSize = sectorSize;
        this.sectors = bytes >>> SECTOR_SHIFT;
        this.readOnly = readOnly;
        this.chunkShift = Integer.numberOfTrailingZeros(chunkLength);
        this.chunkMask = chunkLength - 1;

        final long chunkCount = ((bytes - 1) >>> chunkShift) + 1;
        if (chunkCount > Integer.MAX_VALUE)
        {
            throw new IllegalArgumentException("store too large: bytes=" + bytes + " chunkLength=" + chunkLength);
        }
        chunks = new ByteBuffer[(int)chunkCount];
        chunkAddresses = new long[(int)chunkCount];
        try
        {
            for (int i = 0; i < chunks.length; i++)
            {
                final long chunkStart = (long)i << chunkShift;
                chunks[i] = ByteBuffer.allocateDirect((int)Math.min(chunkLength, bytes - chunkStart));
                chunkAddresses[i] = BufferUtil.address(chunks[i]);
            }
        }
        catch (final OutOfMemoryError ex)
        {
            freeChunks();
            throw new IllegalArgumentException("cannot reserve " + bytes + " bytes of off-heap memory for the store " +
                "(raise -XX:MaxDirectMemorySize?): " + ex.getMessage(), ex);
        }
    }

    /**
     * {@inheritDoc}
     */
    @Override
    public int sectorSize()
    {
        return sectorSize;
    }

    /**
     * {@inheritDoc}
     */
    @Override
    public long sectors()
    {
        return sectors;
    }

    /**
     * {@inheritDoc}
     */
    @Override
    public boolean isReadOnly()
    {
        return readOnly;
    }

    /**
     * {@inheritDoc}
     */
    @Override
    public boolean isClosed()
    {
        return guard.isClosed();
    }

    /**
     * {@inheritDoc}
     */
    @Override
    public void read(final long sector, final MutableDirectBuffer dst, final int dstOffset, final int length)
    {
        final BlockStoreCounters counters = this.counters;
        if (!guard.tryEnter())
        {
            throw BlockStoreChecks.closed("read", this, counters);
        }
        try
        {
            BlockStoreChecks.checkIo("read", sector, length, sectorSize, sectors, counters);
            dst.boundsCheck(dstOffset, length);

            final byte[] dstArray = dst.byteArray();
            final long dstAddress = dst.addressOffset() + dstOffset;
            long position = sector << SECTOR_SHIFT;
            int done = 0;
            while (done < length)
            {
                final int chunk = (int)(position >>> chunkShift);
                final long inChunk = position & chunkMask;
                final int bytes = (int)Math.min(length - done, chunkMask + 1 - inChunk);
                UnsafeApi.copyMemory(null, chunkAddresses[chunk] + inChunk, dstArray, dstAddress + done, bytes);
                position += bytes;
                done += bytes;
            }
            counters.onRead(length);
        }
        finally
        {
            guard.exit();
        }
    }

    /**
     * {@inheritDoc}
     */
    @Override
    public void write(final long sector, final DirectBuffer src, final int srcOffset, final int length)
    {
        final BlockStoreCounters counters = this.counters;
        if (!guard.tryEnter())
        {
            throw BlockStoreChecks.closed("write", this, counters);
        }
        try
        {
            if (readOnly)
            {
                throw BlockStoreChecks.readOnly("write", sector, length >>> SECTOR_SHIFT, counters);
            }
            BlockStoreChecks.checkIo("write", sector, length, sectorSize, sectors, counters);
            src.boundsCheck(srcOffset, length);

            final byte[] srcArray = src.byteArray();
            final long srcAddress = src.addressOffset() + srcOffset;
            long position = sector << SECTOR_SHIFT;
            int done = 0;
            while (done < length)
            {
                final int chunk = (int)(position >>> chunkShift);
                final long inChunk = position & chunkMask;
                final int bytes = (int)Math.min(length - done, chunkMask + 1 - inChunk);
                UnsafeApi.copyMemory(srcArray, srcAddress + done, null, chunkAddresses[chunk] + inChunk, bytes);
                position += bytes;
                done += bytes;
            }
            counters.onWrite(length);
        }
        finally
        {
            guard.exit();
        }
    }

    /**
     * {@inheritDoc}
     * <p>
     * Here: memory is as stable as this store gets, so a flush only checks the store is open and counts.
     */
    @Override
    public void flush()
    {
        final BlockStoreCounters counters = this.counters;
        if (!guard.tryEnter())
        {
            throw BlockStoreChecks.closed("flush", this, counters);
        }
        try
        {
            counters.onFlush();
        }
        finally
        {
            guard.exit();
        }
    }

    /**
     * {@inheritDoc}
     * <p>
     * Here: zeroes the range.
     */
    @Override
    public void discard(final long sector, final long count)
    {
        final BlockStoreCounters counters = this.counters;
        if (!guard.tryEnter())
        {
            throw BlockStoreChecks.closed("discard", this, counters);
        }
        try
        {
            if (readOnly)
            {
                throw BlockStoreChecks.readOnly("discard", sector, count, counters);
            }
            BlockStoreChecks.checkDiscard(sector, count, sectorSize, sectors, counters);

            long position = sector << SECTOR_SHIFT;
            final long end = (sector + count) << SECTOR_SHIFT;
            while (position < end)
            {
                final int chunk = (int)(position >>> chunkShift);
                final long inChunk = position & chunkMask;
                final long bytes = Math.min(end - position, chunkMask + 1 - inChunk);
                UnsafeApi.setMemory(chunkAddresses[chunk] + inChunk, bytes, (byte)0);
                position += bytes;
            }
            counters.onDiscard(count);
        }
        finally
        {
            guard.exit();
        }
    }

    /**
     * {@inheritDoc}
     */
    @Override
    public BlockStoreCounters counters()
    {
        return counters;
    }

    /**
     * {@inheritDoc}
     * <p>
     * Here: waits for the operations in progress, then frees the off-heap memory.
     */
    @Override
    public void close()
    {
        if (guard.close())
        {
            freeChunks();
        }
    }

    /**
     * The size and mode, for logs.
     *
     * @return a one-line description.
     */
    @Override
    public String toString()
    {
        return "MemoryBlockStore{sectors=" + sectors + " sectorSize=" + sectorSize + " readOnly=" + readOnly +
            " closed=" + guard.isClosed() + "}";
    }

    private void freeChunks()
    {
        final ByteBuffer[] chunks = this.chunks;
        for (int i = 0; i < chunks.length; i++)
        {
            if (null != chunks[i])
            {
                BufferUtil.free(chunks[i]);
                chunks[i] = null;
                chunkAddresses[i] = 0;
            }
        }
    }
}
