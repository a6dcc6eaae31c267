package io.pvio.frontend.block;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import io.pvio.ring.blkif.BlkifOp;

/**
 * One block I/O as a guest submits it: a read, write, flush or discard of any sector-aligned length, which
 * {@link BlockFront} splits into blkif requests. Reusable: set it up, {@link BlockFront#submit(BlockIo) submit} it,
 * and once its callback has run, set it up again. Holding a {@code BlockIo} per slot of a workload keeps the data path
 * free of allocation. Not thread-safe; the device owns it while it is in flight.
 */
public final class BlockIo
{
    private BlkifOp operation = BlkifOp.READ;
    private long sector;
    private DirectBuffer buffer;
    private int offset;
    private int length;
    private long discardSectors;
    private BlockIoCallback callback;
    private long tag;

    // the device's bookkeeping while in flight
    int issuedBytes;
    int partsOutstanding;
    BlockFrontException failure;
    short failedStatus;
    boolean issuedAll;
    boolean completed;
    BlockIo next;
    int generation;

    /**
     * An I/O with nothing set up yet.
     */
    public BlockIo()
    {
    }

    /**
     * Sets up a read.
     *
     * @param sector first 512-byte sector.
     * @param dst    receives the data.
     * @param offset where in {@code dst}.
     * @param length bytes, a positive multiple of the device's sector size.
     * @return this.
     */
    public BlockIo read(final long sector, final MutableDirectBuffer dst, final int offset, final int length)
    {
        return set(BlkifOp.READ, sector, dst, offset, length, 0);
    }

    /**
     * Sets up a write.
     *
     * @param sector first 512-byte sector.
     * @param src    holds the data; not read after the callback.
     * @param offset where in {@code src}.
     * @param length bytes, a positive multiple of the device's sector size.
     * @return this.
     */
    public BlockIo write(final long sector, final DirectBuffer src, final int offset, final int length)
    {
        return set(BlkifOp.WRITE, sector, src, offset, length, 0);
    }

    /**
     * Sets up a flush of the disk's cache: every write completed before it is durable when it completes.
     *
     * @return this.
     */
    public BlockIo flush()
    {
        return set(BlkifOp.FLUSH_DISKCACHE, 0, null, 0, 0, 0);
    }

    /**
     * Sets up a discard.
     *
     * @param sector  first 512-byte sector.
     * @param sectors how many sectors.
     * @return this.
     */
    public BlockIo discard(final long sector, final long sectors)
    {
        return set(BlkifOp.DISCARD, sector, null, 0, 0, sectors);
    }

    /**
     * Sets who is told when the I/O completes; kept across set-ups.
     *
     * @param callback the callback.
     * @return this.
     */
    public BlockIo callback(final BlockIoCallback callback)
    {
        this.callback = callback;
        return this;
    }

    /**
     * Sets a value for the caller's own use.
     *
     * @param tag any value.
     * @return this.
     */
    public BlockIo tag(final long tag)
    {
        this.tag = tag;
        return this;
    }

    /**
     * The caller's value.
     *
     * @return the tag.
     */
    public long tag()
    {
        return tag;
    }

    /**
     * The operation.
     *
     * @return READ, WRITE, FLUSH_DISKCACHE or DISCARD.
     */
    public BlkifOp operation()
    {
        return operation;
    }

    /**
     * The first sector.
     *
     * @return a 512-byte sector number.
     */
    public long sector()
    {
        return sector;
    }

    /**
     * Bytes moved: 0 for flush and discard.
     *
     * @return the length.
     */
    public int length()
    {
        return length;
    }

    /**
     * Sectors discarded.
     *
     * @return the count, 0 unless a discard.
     */
    public long discardSectors()
    {
        return discardSectors;
    }

    /**
     * The data buffer: the destination of a read, the source of a write; null for flush and discard.
     *
     * @return the buffer.
     */
    public DirectBuffer buffer()
    {
        return buffer;
    }

    /**
     * Where in {@link #buffer()} the data starts.
     *
     * @return the offset.
     */
    public int offset()
    {
        return offset;
    }

    /**
     * Who is told when the I/O completes.
     *
     * @return the callback, null if none was set.
     */
    public BlockIoCallback callback()
    {
        return callback;
    }

    void restart()
    {
        issuedBytes = 0;
        partsOutstanding = 0;
        failure = null;
        failedStatus = 0;
        issuedAll = false;
        completed = false;
        next = null;
    }

    private BlockIo set(
        final BlkifOp operation, final long sector, final DirectBuffer buffer, final int offset, final int length,
        final long discardSectors)
    {
        this.operation = operation;
        this.sector = sector;
        this.buffer = buffer;
        this.offset = offset;
        this.length = length;
        this.discardSectors = discardSectors;
        return this;
    }

    @Override
    public String toString()
    {
        return "BlockIo{" + operation + ", sector=" + sector + ", length=" + length +
            (BlkifOp.DISCARD == operation ? ", sectors=" + discardSectors : "") + ", tag=" + tag + '}';
    }
}
