package io.pvio.frontend.block;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Live counters of one blkfront device, over every connection it has had. Thread-safe.
 */
public final class BlockFrontCounters
{
    static final int READS = 0;
    static final int WRITES = 1;
    static final int FLUSHES = 2;
    static final int DISCARDS = 3;
    static final int INDIRECT = 4;
    static final int REQUESTS = 5;
    static final int IOS = 6;
    static final int BYTES_READ = 7;
    static final int BYTES_WRITTEN = 8;
    static final int NOTIFICATIONS_SENT = 9;
    static final int NOTIFICATIONS_RECEIVED = 10;
    static final int GRANTS_ISSUED = 11;
    static final int GRANTS_ENDED = 12;
    static final int PERSISTENT_GRANTS = 13;
    static final int REISSUED = 14;
    static final int RECONNECTS = 15;
    static final int ERRORS = 16;
    static final int LEAKED_PAGES = 17;
    private static final int COUNT = 18;
    private static final int STRIDE = 8; // one counter per cache line

    private final AtomicLongArray values = new AtomicLongArray(COUNT * STRIDE);

    BlockFrontCounters()
    {
    }

    void add(final int counter, final long delta)
    {
        values.getAndAdd(counter * STRIDE, delta);
    }

    private long get(final int counter)
    {
        return values.get(counter * STRIDE);
    }

    /**
     * Read requests pushed (direct or indirect).
     *
     * @return the count.
     */
    public long reads()
    {
        return get(READS);
    }

    /**
     * Write requests pushed.
     *
     * @return the count.
     */
    public long writes()
    {
        return get(WRITES);
    }

    /**
     * Flush requests pushed.
     *
     * @return the count.
     */
    public long flushes()
    {
        return get(FLUSHES);
    }

    /**
     * Discard requests pushed.
     *
     * @return the count.
     */
    public long discards()
    {
        return get(DISCARDS);
    }

    /**
     * Requests pushed as {@code BLKIF_OP_INDIRECT}.
     *
     * @return the count.
     */
    public long indirectRequests()
    {
        return get(INDIRECT);
    }

    /**
     * Every blkif request pushed, after splitting.
     *
     * @return the count.
     */
    public long requests()
    {
        return get(REQUESTS);
    }

    /**
     * {@link BlockIo}s completed, successfully or not.
     *
     * @return the count.
     */
    public long ios()
    {
        return get(IOS);
    }

    /**
     * Bytes read.
     *
     * @return the count.
     */
    public long bytesRead()
    {
        return get(BYTES_READ);
    }

    /**
     * Bytes written.
     *
     * @return the count.
     */
    public long bytesWritten()
    {
        return get(BYTES_WRITTEN);
    }

    /**
     * Events sent to the back end.
     *
     * @return the count.
     */
    public long notificationsSent()
    {
        return get(NOTIFICATIONS_SENT);
    }

    /**
     * Events handled from the back end.
     *
     * @return the count.
     */
    public long notificationsReceived()
    {
        return get(NOTIFICATIONS_RECEIVED);
    }

    /**
     * Grants issued (ring, data, indirect and persistent pages).
     *
     * @return the count.
     */
    public long grantsIssued()
    {
        return get(GRANTS_ISSUED);
    }

    /**
     * Grants ended.
     *
     * @return the count.
     */
    public long grantsEnded()
    {
        return get(GRANTS_ENDED);
    }

    /**
     * Pages granted persistently now.
     *
     * @return the count.
     */
    public long persistentGrants()
    {
        return get(PERSISTENT_GRANTS);
    }

    /**
     * Requests reissued after the back end came back.
     *
     * @return the count.
     */
    public long reissued()
    {
        return get(REISSUED);
    }

    /**
     * Handshakes redone after the back end went away.
     *
     * @return the count.
     */
    public long reconnects()
    {
        return get(RECONNECTS);
    }

    /**
     * I/Os that failed.
     *
     * @return the count.
     */
    public long errors()
    {
        return get(ERRORS);
    }

    /**
     * Pages given up because their grant could not be ended (a back end still mapping them).
     *
     * @return the count.
     */
    public long leakedPages()
    {
        return get(LEAKED_PAGES);
    }

    @Override
    public String toString()
    {
        return "BlockFrontCounters{ios=" + ios() + ", requests=" + requests() + ", reads=" + reads() + ", writes=" +
            writes() + ", flushes=" + flushes() + ", discards=" + discards() + ", indirect=" + indirectRequests() +
            ", bytesRead=" + bytesRead() + ", bytesWritten=" + bytesWritten() + ", notificationsSent=" +
            notificationsSent() + ", notificationsReceived=" + notificationsReceived() + ", grantsIssued=" +
            grantsIssued() + ", grantsEnded=" + grantsEnded() + ", persistentGrants=" + persistentGrants() +
            ", reissued=" + reissued() + ", reconnects=" + reconnects() + ", errors=" + errors() +
            ", leakedPages=" + leakedPages() + '}';
    }
}
