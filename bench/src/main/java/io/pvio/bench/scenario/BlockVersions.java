package io.pvio.bench.scenario;

import java.util.Arrays;

/**
 * The version of every block of a verified disk: 0 for zeros, n &gt; 0 for the n-th write pattern of
 * {@link BlockPattern}, {@link #UNKNOWN} for a block whose content is not known (an existing image never written by
 * the run, or a block whose write failed). A block's entry is changed only by whoever has the block exclusively
 * (one I/O in flight per block), so plain reads and writes of the array suffice between the holders of a block;
 * handing the table from one phase to the next (split driver, then native) happens-before through thread joins.
 */
final class BlockVersions
{
    /** A block whose content is not known: reads of it are not checked. */
    static final int UNKNOWN = -1;

    private final int[] versions;

    /**
     * A table.
     *
     * @param blocks how many blocks, at most {@link ScenarioParser#MAX_VERIFIED_BLOCKS}.
     * @param zeroed true if every block starts as zeros (a new sparse image), false if unknown.
     */
    BlockVersions(final long blocks, final boolean zeroed)
    {
        if (blocks < 1 || blocks > ScenarioParser.MAX_VERIFIED_BLOCKS)
        {
            throw new IllegalArgumentException("blocks=" + blocks + " (expected: 1 to " +
                ScenarioParser.MAX_VERIFIED_BLOCKS + ")");
        }
        this.versions = new int[(int)blocks];
        if (!zeroed)
        {
            Arrays.fill(versions, UNKNOWN);
        }
    }

    long blocks()
    {
        return versions.length;
    }

    int get(final long block)
    {
        return versions[(int)block];
    }

    void set(final long block, final int version)
    {
        versions[(int)block] = version;
    }

    /** The version the next write of {@code block} writes. */
    int next(final long block)
    {
        final int current = versions[(int)block];
        return current < 1 ? 1 : current + 1;
    }

    /** How many blocks hold a written version (n &gt; 0). */
    long written()
    {
        long written = 0;
        for (final int version : versions)
        {
            if (version > 0)
            {
                written++;
            }
        }
        return written;
    }
}
