package io.pvio.backend.block;

import io.pvio.ring.blkif.BlkifRequestDescriptor;
import io.pvio.ring.blkif.BlkifXenbusKeys;

/**
 * What a blkback device offers its front end. Mutable and fluent; {@link BlockBack#start} takes a copy.
 */
public final class BlockBackOptions
{
    private boolean persistentGrants = true;
    private int maxIndirectSegments = 256;
    private int maxQueues = 4;
    private int maxRingPageOrder = BlkifXenbusKeys.MAX_RING_PAGE_ORDER_LIMIT;
    private BlockDataPath dataPath = BlockDataPath.GRANT_MAP;
    private boolean flushCache = true;
    private boolean discard = true;
    private int ioWorkers;
    private boolean ioUring;

    /**
     * Defaults: persistent grants on, 256 indirect segments, 4 queues, ring page order 4, grant map, flush and
     * discard offered.
     */
    public BlockBackOptions()
    {
    }

    BlockBackOptions copy()
    {
        return new BlockBackOptions().persistentGrants(persistentGrants).maxIndirectSegments(maxIndirectSegments)
            .maxQueues(maxQueues).maxRingPageOrder(maxRingPageOrder).dataPath(dataPath).flushCache(flushCache)
            .discard(discard).ioWorkers(ioWorkers).ioUring(ioUring);
    }

    /**
     * Offers {@code feature-persistent}.
     *
     * @param on whether to offer it.
     * @return this.
     */
    public BlockBackOptions persistentGrants(final boolean on)
    {
        persistentGrants = on;
        return this;
    }

    /**
     * Whether persistent grants are offered.
     *
     * @return true if offered.
     */
    public boolean persistentGrants()
    {
        return persistentGrants;
    }

    /**
     * Sets {@code feature-max-indirect-segments}.
     *
     * @param n 0 (indirect requests not served) to 4096.
     * @return this.
     * @throws IllegalArgumentException if out of range.
     */
    public BlockBackOptions maxIndirectSegments(final int n)
    {
        if (n < 0 || n > BlkifRequestDescriptor.MAX_INDIRECT_SEGMENTS)
        {
            throw new IllegalArgumentException("maxIndirectSegments must be 0.." +
                BlkifRequestDescriptor.MAX_INDIRECT_SEGMENTS + ": " + n);
        }
        maxIndirectSegments = n;
        return this;
    }

    /**
     * The most segments of an indirect request.
     *
     * @return 0 if indirect requests are not served.
     */
    public int maxIndirectSegments()
    {
        return maxIndirectSegments;
    }

    /**
     * Sets {@code multi-queue-max-queues}.
     *
     * @param n 1 to 16.
     * @return this.
     * @throws IllegalArgumentException if out of range.
     */
    public BlockBackOptions maxQueues(final int n)
    {
        if (n < 1 || n > BlkifXenbusKeys.MAX_QUEUES_LIMIT)
        {
            throw new IllegalArgumentException("maxQueues must be 1.." + BlkifXenbusKeys.MAX_QUEUES_LIMIT + ": " + n);
        }
        maxQueues = n;
        return this;
    }

    /**
     * The most queues a front end may use.
     *
     * @return 1 to 16.
     */
    public int maxQueues()
    {
        return maxQueues;
    }

    /**
     * Sets {@code max-ring-page-order}.
     *
     * @param order 0 to 4.
     * @return this.
     * @throws IllegalArgumentException if out of range.
     */
    public BlockBackOptions maxRingPageOrder(final int order)
    {
        if (order < 0 || order > BlkifXenbusKeys.MAX_RING_PAGE_ORDER_LIMIT)
        {
            throw new IllegalArgumentException("maxRingPageOrder must be 0.." +
                BlkifXenbusKeys.MAX_RING_PAGE_ORDER_LIMIT + ": " + order);
        }
        maxRingPageOrder = order;
        return this;
    }

    /**
     * log2 of the most ring pages per queue.
     *
     * @return 0 to 4.
     */
    public int maxRingPageOrder()
    {
        return maxRingPageOrder;
    }

    /**
     * Chooses how data moves.
     *
     * @param path grant map or grant copy.
     * @return this.
     */
    public BlockBackOptions dataPath(final BlockDataPath path)
    {
        dataPath = path;
        return this;
    }

    /**
     * How data moves.
     *
     * @return the data path.
     */
    public BlockDataPath dataPath()
    {
        return dataPath;
    }

    /**
     * Offers {@code feature-flush-cache}.
     *
     * @param on whether to offer it.
     * @return this.
     */
    public BlockBackOptions flushCache(final boolean on)
    {
        flushCache = on;
        return this;
    }

    /**
     * Whether flushes are served.
     *
     * @return true if offered.
     */
    public boolean flushCache()
    {
        return flushCache;
    }

    /**
     * Offers {@code feature-discard}.
     *
     * @param on whether to offer it.
     * @return this.
     */
    public BlockBackOptions discard(final boolean on)
    {
        discard = on;
        return this;
    }

    /**
     * Whether discards are served.
     *
     * @return true if offered.
     */
    public boolean discard()
    {
        return discard;
    }

    /**
     * Serves reads and writes asynchronously: each ring gets {@code n} I/O worker threads (the host's block layer)
     * and its agent hands them the image I/O of requests on persistently mapped grants with up to 11 segments, so
     * the image sees the front end's queue depth; responses go back in completion order. 0 (the default) serves
     * every request on the agent, one at a time.
     *
     * @param n 0 to 256 workers per ring.
     * @return this.
     * @throws IllegalArgumentException if out of range.
     */
    public BlockBackOptions ioWorkers(final int n)
    {
        if (n < 0 || n > 256)
        {
            throw new IllegalArgumentException("ioWorkers must be 0 to 256: " + n);
        }
        ioWorkers = n;
        return this;
    }

    /**
     * I/O worker threads per ring.
     *
     * @return 0 when the agent serves every request itself.
     */
    public int ioWorkers()
    {
        return ioWorkers;
    }

    /**
     * Serves reads and writes asynchronously through one io_uring per ring instead of worker threads: the ring's
     * agent hands the same requests as with {@link #ioWorkers(int)} to a thread that submits each batch with one
     * system call and answers them from their completions. Applies to image files ({@link FileBlockStore}); other
     * stores, and O_DIRECT requests whose memory is not aligned for it, are served as without it. Off by default;
     * needs x86-64 Linux with io_uring allowed ({@link #ioUringUnavailableReason()}).
     *
     * @param on whether to use io_uring.
     * @return this.
     */
    public BlockBackOptions ioUring(final boolean on)
    {
        ioUring = on;
        return this;
    }

    /**
     * Whether rings serve their asynchronous reads and writes through io_uring.
     *
     * @return true if so.
     */
    public boolean ioUring()
    {
        return ioUring;
    }

    /**
     * Whether {@link #ioUring(boolean)} can work in this JVM on this kernel.
     *
     * @return null if it can, else why not.
     */
    public static String ioUringUnavailableReason()
    {
        return UringFile.unavailableReason();
    }

    @Override
    public String toString()
    {
        return "BlockBackOptions{persistentGrants=" + persistentGrants + ", maxIndirectSegments=" +
            maxIndirectSegments + ", maxQueues=" + maxQueues + ", maxRingPageOrder=" + maxRingPageOrder +
            ", dataPath=" + dataPath + ", flushCache=" + flushCache + ", discard=" + discard + ", ioWorkers=" + ioWorkers +
            ", ioUring=" + ioUring + '}';
    }
}
