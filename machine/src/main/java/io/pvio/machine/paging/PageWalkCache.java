package io.pvio.machine.paging;

import java.util.Arrays;

/**
 * A paging-structure cache: for a 2 MiB region of virtual addresses, the frame of the level-1 table the upper three
 * levels lead to and the permissions they allow, so that a TLB miss in a recently walked region reads only its
 * level-1 entry. Like the x86 paging-structure caches, entries are only made from walks that succeeded (the upper
 * entries' accessed bits are then already set) and every entry is dropped on a CR3 load and on INVLPG. Direct-mapped;
 * zero entries disables it. Nothing allocates after construction.
 */
public final class PageWalkCache
{
    static final int WRITABLE = 1;
    static final int USER = 1 << 1;

    private static final int REGION_SHIFT = PageTableEntry.LARGE_PAGE_SHIFT;

    private final long[] tags;
    private final long[] tables;
    private final int[] flags;
    private final int mask;
    private long hits;
    private int lastSlot;

    /**
     * A cache.
     *
     * @param entries 0 (disabled) or a power of two up to 2^16.
     * @throws IllegalArgumentException if not.
     */
    public PageWalkCache(final int entries)
    {
        if (entries < 0 || entries > 1 << 16 || (entries > 0 && Integer.bitCount(entries) != 1))
        {
            throw new IllegalArgumentException("entries must be 0 or a power of two up to 2^16: " + entries);
        }
        this.tags = new long[entries];
        this.tables = new long[entries];
        this.flags = new int[entries];
        this.mask = entries - 1;
    }

    /**
     * Number of entries.
     *
     * @return the size, 0 if disabled.
     */
    public int size()
    {
        return tags.length;
    }

    /**
     * Walks that started at level 1 thanks to this cache.
     *
     * @return the count.
     */
    public long hits()
    {
        return hits;
    }

    /**
     * Looks a region up; on a hit {@link #table()} and {@link #flags()} describe it.
     *
     * @param virtualAddress any address in the region.
     * @return true on a hit.
     */
    boolean lookup(final long virtualAddress)
    {
        if (0 == tags.length)
        {
            return false;
        }
        final long region = virtualAddress >>> REGION_SHIFT;
        final int slot = (int)(region & mask);
        if (tags[slot] != region + 1)
        {
            return false;
        }
        lastSlot = slot;
        hits++;
        return true;
    }

    long table()
    {
        return tables[lastSlot];
    }

    int flags()
    {
        return flags[lastSlot];
    }

    void insert(final long virtualAddress, final long table, final int entryFlags)
    {
        if (0 == tags.length)
        {
            return;
        }
        final long region = virtualAddress >>> REGION_SHIFT;
        final int slot = (int)(region & mask);
        tags[slot] = region + 1;
        tables[slot] = table;
        flags[slot] = entryFlags;
    }

    /**
     * Drops every entry.
     */
    public void flush()
    {
        Arrays.fill(tags, 0);
    }
}
