package io.pvio.frontend.block;

import io.pvio.ring.blkif.BlkifRequestDescriptor;
import io.pvio.ring.blkif.BlkifXenbusKeys;

/**
 * What a blkfront device asks for; the back end's offer caps each. Mutable and fluent; {@link BlockFront#start} takes
 * a copy.
 */
public final class BlockFrontOptions
{
    private boolean persistentGrants = true;
    private int maxIndirectSegments = 256;
    private int queues = 1;
    private int ringPageOrder;

    /**
     * Defaults: persistent grants, up to 256 indirect segments, one queue, one-page rings.
     */
    public BlockFrontOptions()
    {
    }

    BlockFrontOptions copy()
    {
        return new BlockFrontOptions().persistentGrants(persistentGrants).maxIndirectSegments(maxIndirectSegments)
            .queues(queues).ringPageOrder(ringPageOrder);
    }

    /**
     * Asks for persistent grants.
     *
     * @param on whether to use them when the back end offers them.
     * @return this.
     */
    public BlockFrontOptions persistentGrants(final boolean on)
    {
        persistentGrants = on;
        return this;
    }

    /**
     * Whether persistent grants are wanted.
     *
     * @return true if wanted.
     */
    public boolean persistentGrants()
    {
        return persistentGrants;
    }

    /**
     * The most segments per indirect request.
     *
     * @param n 0 (never indirect) to 4096.
     * @return this.
     * @throws IllegalArgumentException if out of range.
     */
    public BlockFrontOptions maxIndirectSegments(final int n)
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
     * The most segments per indirect request wanted.
     *
     * @return 0 if indirect requests are never used.
     */
    public int maxIndirectSegments()
    {
        return maxIndirectSegments;
    }

    /**
     * The queues wanted.
     *
     * @param n 1 to 16.
     * @return this.
     * @throws IllegalArgumentException if out of range.
     */
    public BlockFrontOptions queues(final int n)
    {
        if (n < 1 || n > BlkifXenbusKeys.MAX_QUEUES_LIMIT)
        {
            throw new IllegalArgumentException("queues must be 1.." + BlkifXenbusKeys.MAX_QUEUES_LIMIT + ": " + n);
        }
        queues = n;
        return this;
    }

    /**
     * The queues wanted.
     *
     * @return 1 to 16.
     */
    public int queues()
    {
        return queues;
    }

    /**
     * log2 of the pages per ring wanted.
     *
     * @param order 0 to 4.
     * @return this.
     * @throws IllegalArgumentException if out of range.
     */
    public BlockFrontOptions ringPageOrder(final int order)
    {
        if (order < 0 || order > BlkifXenbusKeys.MAX_RING_PAGE_ORDER_LIMIT)
        {
            throw new IllegalArgumentException("ringPageOrder must be 0.." +
                BlkifXenbusKeys.MAX_RING_PAGE_ORDER_LIMIT + ": " + order);
        }
        ringPageOrder = order;
        return this;
    }

    /**
     * log2 of the pages per ring wanted.
     *
     * @return 0 to 4.
     */
    public int ringPageOrder()
    {
        return ringPageOrder;
    }

    @Override
    public String toString()
    {
        return "BlockFrontOptions{persistentGrants=" + persistentGrants + ", maxIndirectSegments=" +
            maxIndirectSegments + ", queues=" + queues + ", ringPageOrder=" + ringPageOrder + '}';
    }
}
