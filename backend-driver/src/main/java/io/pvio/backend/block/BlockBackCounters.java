package io.pvio.backend.block;

import io.pvio.backend.CounterSlabs;

/**
 * Live counters of one blkback device, summed over its queues and over every connection it has had. Each queue
 * counts in a slab of its own, written by one thread with opaque stores (no fence on the hot path) and read by any
 * thread with opaque loads, so a reader sees every counter move forward, possibly a few increments late.
 */
public final class BlockBackCounters
{
    static final int READS = 0;
    static final int WRITES = 1;
    static final int FLUSHES = 2;
    static final int DISCARDS = 3;
    static final int INDIRECT = 4;
    static final int REQUESTS = 5;
    static final int SEGMENTS = 6;
    static final int BYTES_READ = 7;
    static final int BYTES_WRITTEN = 8;
    static final int ERRORS_INVALID = 9;
    static final int ERRORS_NOT_SUPPORTED = 10;
    static final int ERRORS_IO = 11;
    static final int ERRORS_GRANT = 12;
    static final int PROTOCOL_VIOLATIONS = 13;
    static final int NOTIFICATIONS_SENT = 14;
    static final int GRANT_MAPS = 15;
    static final int GRANT_UNMAPS = 16;
    static final int GRANT_COPIES = 17;
    static final int PERSISTENT_MAPPED = 18;
    static final int NOTIFICATIONS_RECEIVED = 19;
    static final int ASYNC = 20;
    static final int ASYNC_DEPTH = 21;
    static final int ASYNC_WAIT_NANOS = 22;
    static final int ASYNC_SERVICE_NANOS = 23;
    static final int COUNT = 24;

    private final CounterSlabs slabs = new CounterSlabs(COUNT);

    BlockBackCounters()
    {
    }

    long[] newSlab()
    {
        return slabs.newSlab();
    }

    /** Hands back a stopped writer's slab for the next connection; see {@link CounterSlabs#recycle}. */
    void recycle(final long[] slab)
    {
        slabs.recycle(slab);
    }

    /**
     * Counter slabs kept: one per writer alive at once (a queue's agent, its receive path or I/O workers, the
     * device), reused from one connection to the next, so a front end that reconnects again and again does not
     * grow them.
     *
     * @return the count.
     */
    public int slabs()
    {
        return slabs.slabCount();
    }

    static void add(final long[] slab, final int counter, final long delta)
    {
        CounterSlabs.add(slab, counter, delta);
    }

    /**
     * Adds from any thread; for counters written by more than one thread.
     */
    static void addShared(final long[] slab, final int counter, final long delta)
    {
        CounterSlabs.addShared(slab, counter, delta);
    }

    private long sum(final int counter)
    {
        return slabs.sum(counter);
    }

    /**
     * Read requests served ({@code BLKIF_OP_READ}, direct or indirect).
     *
     * @return the count.
     */
    public long reads()
    {
        return sum(READS);
    }

    /**
     * Write requests served.
     *
     * @return the count.
     */
    public long writes()
    {
        return sum(WRITES);
    }

    /**
     * Flush requests served.
     *
     * @return the count.
     */
    public long flushes()
    {
        return sum(FLUSHES);
    }

    /**
     * Discard requests served.
     *
     * @return the count.
     */
    public long discards()
    {
        return sum(DISCARDS);
    }

    /**
     * Requests that came as {@code BLKIF_OP_INDIRECT}.
     *
     * @return the count.
     */
    public long indirectRequests()
    {
        return sum(INDIRECT);
    }

    /**
     * Requests consumed from the rings, valid or not.
     *
     * @return the count.
     */
    public long requests()
    {
        return sum(REQUESTS);
    }

    /**
     * Data segments served.
     *
     * @return the count.
     */
    public long segments()
    {
        return sum(SEGMENTS);
    }

    /**
     * Bytes read from the disk for the guest.
     *
     * @return the count.
     */
    public long bytesRead()
    {
        return sum(BYTES_READ);
    }

    /**
     * Bytes written to the disk for the guest.
     *
     * @return the count.
     */
    public long bytesWritten()
    {
        return sum(BYTES_WRITTEN);
    }

    /**
     * Requests refused with {@code BLKIF_RSP_ERROR} because they failed validation.
     *
     * @return the count.
     */
    public long errorsInvalid()
    {
        return sum(ERRORS_INVALID);
    }

    /**
     * Requests refused with {@code BLKIF_RSP_EOPNOTSUPP}.
     *
     * @return the count.
     */
    public long errorsNotSupported()
    {
        return sum(ERRORS_NOT_SUPPORTED);
    }

    /**
     * Requests the disk failed.
     *
     * @return the count.
     */
    public long errorsIo()
    {
        return sum(ERRORS_IO);
    }

    /**
     * Requests failed because a grant could not be mapped or copied.
     *
     * @return the count.
     */
    public long errorsGrant()
    {
        return sum(ERRORS_GRANT);
    }

    /**
     * Times the front end was cut off for breaking the ring or xenbus protocol.
     *
     * @return the count.
     */
    public long protocolViolations()
    {
        return sum(PROTOCOL_VIOLATIONS);
    }

    /**
     * Events sent to the front end.
     *
     * @return the count.
     */
    public long notificationsSent()
    {
        return sum(NOTIFICATIONS_SENT);
    }

    /**
     * Events received from the front end.
     *
     * @return the count.
     */
    public long notificationsReceived()
    {
        return sum(NOTIFICATIONS_RECEIVED);
    }

    /**
     * Grant maps (ring, indirect, data and persistent pages).
     *
     * @return the count.
     */
    public long grantMaps()
    {
        return sum(GRANT_MAPS);
    }

    /**
     * Grant unmaps.
     *
     * @return the count.
     */
    public long grantUnmaps()
    {
        return sum(GRANT_UNMAPS);
    }

    /**
     * Grant copy operations.
     *
     * @return the count.
     */
    public long grantCopies()
    {
        return sum(GRANT_COPIES);
    }

    /**
     * Persistent grants mapped now.
     *
     * @return the count.
     */
    public long persistentMapped()
    {
        return sum(PERSISTENT_MAPPED);
    }

    /**
     * Requests whose image I/O the ring's I/O workers performed (asynchronous serving).
     *
     * @return the count.
     */
    public long asyncRequests()
    {
        return sum(ASYNC);
    }

    /**
     * The sum, over the requests handed to the I/O workers, of the jobs in flight at the workers (queued or
     * executing, the new one included) as each was handed over. Over {@link #asyncRequests()} it is the mean queue
     * depth the image saw at submission, the figure to set beside the front end's queue depth.
     *
     * @return the sum.
     */
    public long asyncDepthSum()
    {
        return sum(ASYNC_DEPTH);
    }

    /**
     * Mean jobs in flight at the I/O workers when a request was handed to them ({@link #asyncDepthSum()} over
     * {@link #asyncRequests()}), or 0 when none was.
     *
     * @return the mean depth.
     */
    public double meanAsyncDepth()
    {
        final long requests = asyncRequests();
        return 0 == requests ? 0.0 : (double)asyncDepthSum() / requests;
    }

    /**
     * The time the I/O workers' finished jobs spent queued, from the agent's hand-off to a worker taking the job,
     * summed (measured with {@link System#nanoTime()}). Over {@link #asyncRequests()} it is the mean wait for a
     * worker: the part of the image's queue depth that is not yet at the image.
     *
     * @return nanoseconds.
     */
    public long asyncWaitNanos()
    {
        return sum(ASYNC_WAIT_NANOS);
    }

    /**
     * The time the I/O workers spent in the image's reads and writes for their finished jobs, summed (measured).
     *
     * @return nanoseconds.
     */
    public long asyncServiceNanos()
    {
        return sum(ASYNC_SERVICE_NANOS);
    }

    @Override
    public String toString()
    {
        return "BlockBackCounters{requests=" + requests() + ", reads=" + reads() + ", writes=" + writes() +
            ", flushes=" + flushes() + ", discards=" + discards() + ", indirect=" + indirectRequests() +
            ", segments=" + segments() + ", bytesRead=" + bytesRead() + ", bytesWritten=" + bytesWritten() +
            ", errorsInvalid=" + errorsInvalid() + ", errorsNotSupported=" + errorsNotSupported() +
            ", errorsIo=" + errorsIo() + ", errorsGrant=" + errorsGrant() + ", protocolViolations=" +
            protocolViolations() + ", notificationsSent=" + notificationsSent() + ", notificationsReceived=" +
            notificationsReceived() + ", grantMaps=" + grantMaps() + ", grantUnmaps=" + grantUnmaps() +
            ", grantCopies=" + grantCopies() + ", persistentMapped=" + persistentMapped() + ", asyncRequests=" +
            asyncRequests() + ", asyncDepthSum=" + asyncDepthSum() + ", asyncWaitNanos=" + asyncWaitNanos() +
            ", asyncServiceNanos=" + asyncServiceNanos() + '}';
    }
}
