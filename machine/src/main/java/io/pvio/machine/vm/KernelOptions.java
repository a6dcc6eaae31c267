package io.pvio.machine.vm;

import io.pvio.machine.paging.ShadowPager;

/**
 * Hardware and kernel settings of a {@link GuestKernel}. Immutable; each {@code with} method returns a copy.
 */
public final class KernelOptions
{
    private final int tlbEntries;
    private final int walkCacheEntries;
    private final boolean batching;
    private final int batchSize;
    private final boolean hostLargePages;
    private final int shadowCacheFrames;
    private final boolean contiguousMemory;

    /**
     * Defaults: a 64-entry TLB, no paging-structure cache, para updates batched 128 to a hypercall, 4 KiB host pages,
     * up to {@link ShadowPager#DEFAULT_CACHE_FRAMES} shadow frames cached across CR3 loads, guest memory scattered
     * over machine frames.
     */
    public KernelOptions()
    {
        this(64, 0, true, 128, false, ShadowPager.DEFAULT_CACHE_FRAMES, false);
    }

    private KernelOptions(
        final int tlbEntries, final int walkCacheEntries, final boolean batching, final int batchSize,
        final boolean hostLargePages, final int shadowCacheFrames, final boolean contiguousMemory)
    {
        if (batchSize < 1)
        {
            throw new IllegalArgumentException("batchSize must be positive: " + batchSize);
        }
        this.tlbEntries = tlbEntries;
        this.walkCacheEntries = walkCacheEntries;
        this.batching = batching;
        this.batchSize = batchSize;
        this.hostLargePages = hostLargePages;
        this.shadowCacheFrames = shadowCacheFrames;
        this.contiguousMemory = contiguousMemory;
    }

    /**
     * TLB entries.
     *
     * @return a power of two.
     */
    public int tlbEntries()
    {
        return tlbEntries;
    }

    /**
     * With another TLB size.
     *
     * @param entries a power of two.
     * @return a copy.
     */
    public KernelOptions withTlbEntries(final int entries)
    {
        return new KernelOptions(entries, walkCacheEntries, batching, batchSize, hostLargePages,
            shadowCacheFrames, contiguousMemory);
    }

    /**
     * Paging-structure cache entries.
     *
     * @return 0 (none) or a power of two.
     */
    public int walkCacheEntries()
    {
        return walkCacheEntries;
    }

    /**
     * With a paging-structure cache.
     *
     * @param entries 0 or a power of two.
     * @return a copy.
     */
    public KernelOptions withWalkCacheEntries(final int entries)
    {
        return new KernelOptions(tlbEntries, entries, batching, batchSize, hostLargePages,
            shadowCacheFrames, contiguousMemory);
    }

    /**
     * Whether para-mode updates are batched (multicall) or issued one hypercall each.
     *
     * @return true if batched.
     */
    public boolean batching()
    {
        return batching;
    }

    /**
     * With batching on or off.
     *
     * @param on true to batch.
     * @return a copy.
     */
    public KernelOptions withBatching(final boolean on)
    {
        return new KernelOptions(tlbEntries, walkCacheEntries, on, batchSize, hostLargePages,
            shadowCacheFrames, contiguousMemory);
    }

    /**
     * Most updates in one batch.
     *
     * @return the size.
     */
    public int batchSize()
    {
        return batchSize;
    }

    /**
     * With another batch size.
     *
     * @param size 1 or more.
     * @return a copy.
     */
    public KernelOptions withBatchSize(final int size)
    {
        return new KernelOptions(tlbEntries, walkCacheEntries, batching, size, hostLargePages,
            shadowCacheFrames, contiguousMemory);
    }

    /**
     * Whether nested mode's host tables use 2 MiB pages where guest memory is machine-contiguous.
     *
     * @return true if so.
     */
    public boolean hostLargePages()
    {
        return hostLargePages;
    }

    /**
     * With host large pages on or off.
     *
     * @param on true for 2 MiB host pages.
     * @return a copy.
     */
    public KernelOptions withHostLargePages(final boolean on)
    {
        return new KernelOptions(tlbEntries, walkCacheEntries, batching, batchSize, on,
            shadowCacheFrames, contiguousMemory);
    }

    /**
     * Shadow frames full mode keeps across CR3 loads (0: drop every shadow on every load).
     *
     * @return frames.
     */
    public int shadowCacheFrames()
    {
        return shadowCacheFrames;
    }

    /**
     * With another shadow cache size.
     *
     * @param frames 0 or more.
     * @return a copy.
     */
    public KernelOptions withShadowCacheFrames(final int frames)
    {
        return new KernelOptions(tlbEntries, walkCacheEntries, batching, batchSize, hostLargePages,
            frames, contiguousMemory);
    }

    /**
     * Whether guest memory is backed by machine frames in allocation order (contiguous on a fresh machine: what 2 MiB
     * machine pages need) rather than scattered.
     *
     * @return true if contiguous.
     */
    public boolean contiguousMemory()
    {
        return contiguousMemory;
    }

    /**
     * With contiguous or scattered guest memory.
     *
     * @param on true for contiguous.
     * @return a copy.
     */
    public KernelOptions withContiguousMemory(final boolean on)
    {
        return new KernelOptions(tlbEntries, walkCacheEntries, batching, batchSize, hostLargePages, shadowCacheFrames,
            on);
    }
}
