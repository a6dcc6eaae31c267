package io.pvio.bench.block;

/**
 * The access patterns measured by {@link BlockIoBenchmark}.
 */
public enum BlockWorkload
{
    /** 4 KiB reads at random 4 KiB-aligned offsets. */
    RANDOM_READ_4K(4096, true, true),

    /** 64 KiB reads, one after the other. */
    SEQ_READ_64K(65536, false, true),

    /** 64 KiB writes, one after the other. */
    SEQ_WRITE_64K(65536, false, false);

    private final int blockSize;
    private final boolean random;
    private final boolean read;

    BlockWorkload(final int blockSize, final boolean random, final boolean read)
    {
        this.blockSize = blockSize;
        this.random = random;
        this.read = read;
    }

    /**
     * Bytes per I/O.
     *
     * @return the block size.
     */
    public int blockSize()
    {
        return blockSize;
    }

    /**
     * Whether offsets are random rather than sequential.
     *
     * @return true for random access.
     */
    public boolean isRandom()
    {
        return random;
    }

    /**
     * Whether the I/Os are reads.
     *
     * @return true for reads, false for writes.
     */
    public boolean isRead()
    {
        return read;
    }

    /**
     * The byte offset of I/O number {@code sequence} on an image of {@code imageBytes}.
     *
     * @param sequence   the I/O's number, 0 or more.
     * @param imageBytes the image size, a multiple of the block size.
     * @return a block-aligned offset inside the image.
     */
    public long offset(final long sequence, final long imageBytes)
    {
        final long blocks = imageBytes / blockSize;
        final long block = random ? mix(sequence) % blocks : sequence % blocks;
        return block * blockSize;
    }

    private static long mix(final long value)
    {
        long z = value * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return (z ^ (z >>> 31)) & Long.MAX_VALUE;
    }
}
