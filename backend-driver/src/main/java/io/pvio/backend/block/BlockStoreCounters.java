package io.pvio.backend.block;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * What one {@link BlockStore} has done: operations completed, bytes moved, operations refused and I/O errors.
 * Updated by every thread that uses the store, without locks or allocation; read live by anyone (reports, metrics
 * dumps). Each counter sits on its own cache line so that queues sharing a store do not false-share.
 * <p>
 * An operation counts as completed only when it returned normally. A refused operation (closed store, read-only
 * store, bad length, misaligned or out-of-range sectors) counts in {@link #rejected()}; one the disk failed counts in
 * {@link #ioErrors()}.
 */
public final class BlockStoreCounters
{
    private static final int STRIDE = 8;
    private static final int READS = 0;
    private static final int BYTES_READ = STRIDE;
    private static final int WRITES = 2 * STRIDE;
    private static final int BYTES_WRITTEN = 3 * STRIDE;
    private static final int FLUSHES = 4 * STRIDE;
    private static final int DISCARDS = 5 * STRIDE;
    private static final int SECTORS_DISCARDED = 6 * STRIDE;
    private static final int REJECTED = 7 * STRIDE;
    private static final int IO_ERRORS = 8 * STRIDE;
    private static final int LENGTH = 9 * STRIDE;

    private final AtomicLongArray counts = new AtomicLongArray(LENGTH);

    /**
     * Counts a completed read. Called by {@link BlockStore} implementations.
     *
     * @param bytes bytes read.
     */
    public void onRead(final int bytes)
    {
        counts.getAndIncrement(READS);
        counts.getAndAdd(BYTES_READ, bytes);
    }

    /**
     * Counts a completed write. Called by {@link BlockStore} implementations.
     *
     * @param bytes bytes written.
     */
    public void onWrite(final int bytes)
    {
        counts.getAndIncrement(WRITES);
        counts.getAndAdd(BYTES_WRITTEN, bytes);
    }

    /**
     * Counts a completed flush. Called by {@link BlockStore} implementations.
     */
    public void onFlush()
    {
        counts.getAndIncrement(FLUSHES);
    }

    /**
     * Counts a completed discard. Called by {@link BlockStore} implementations.
     *
     * @param sectors 512-byte sectors discarded.
     */
    public void onDiscard(final long sectors)
    {
        counts.getAndIncrement(DISCARDS);
        counts.getAndAdd(SECTORS_DISCARDED, sectors);
    }

    /**
     * Counts an operation refused before it touched the disk. Called by {@link BlockStore} implementations.
     */
    public void onRejected()
    {
        counts.getAndIncrement(REJECTED);
    }

    /**
     * Counts an operation the underlying file or device failed. Called by {@link BlockStore} implementations.
     */
    public void onIoError()
    {
        counts.getAndIncrement(IO_ERRORS);
    }

    /**
     * Reads completed.
     *
     * @return the count.
     */
    public long reads()
    {
        return counts.get(READS);
    }

    /**
     * Bytes delivered by completed reads.
     *
     * @return the count.
     */
    public long bytesRead()
    {
        return counts.get(BYTES_READ);
    }

    /**
     * Writes completed.
     *
     * @return the count.
     */
    public long writes()
    {
        return counts.get(WRITES);
    }

    /**
     * Bytes stored by completed writes.
     *
     * @return the count.
     */
    public long bytesWritten()
    {
        return counts.get(BYTES_WRITTEN);
    }

    /**
     * Flushes completed.
     *
     * @return the count.
     */
    public long flushes()
    {
        return counts.get(FLUSHES);
    }

    /**
     * Discards completed.
     *
     * @return the count.
     */
    public long discards()
    {
        return counts.get(DISCARDS);
    }

    /**
     * 512-byte sectors zeroed or released by completed discards.
     *
     * @return the count.
     */
    public long sectorsDiscarded()
    {
        return counts.get(SECTORS_DISCARDED);
    }

    /**
     * Operations refused: closed or read-only store, bad length, misaligned or out-of-range sectors.
     *
     * @return the count.
     */
    public long rejected()
    {
        return counts.get(REJECTED);
    }

    /**
     * Operations the underlying file or device failed.
     *
     * @return the count.
     */
    public long ioErrors()
    {
        return counts.get(IO_ERRORS);
    }

    /**
     * The counters as {@code name=value} pairs, for reports.
     *
     * @return a one-line summary.
     */
    @Override
    public String toString()
    {
        return "reads=" + reads() + " bytesRead=" + bytesRead() + " writes=" + writes() +
            " bytesWritten=" + bytesWritten() + " flushes=" + flushes() + " discards=" + discards() +
            " sectorsDiscarded=" + sectorsDiscarded() + " rejected=" + rejected() + " ioErrors=" + ioErrors();
    }
}
