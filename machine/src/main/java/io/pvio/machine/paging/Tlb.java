package io.pvio.machine.paging;

/**
 * A direct-mapped translation lookaside buffer of 4 KiB translations: virtual page number to frame, with the
 * permissions the walk found and whether the dirty bit is already set (a write through an entry whose page is not yet
 * dirty must walk again to set it, as hardware does). A 2 MiB page is cached one 4 KiB piece at a time. One vCPU uses
 * it; nothing allocates after construction.
 */
public final class Tlb
{
    static final int WRITABLE = 1;
    static final int USER = 1 << 1;
    static final int DIRTY = 1 << 2;
    static final int GLOBAL = 1 << 3;

    private final long[] tags;
    private final long[] frames;
    private final int[] flags;
    private final int mask;

    /**
     * A TLB.
     *
     * @param entries number of entries, a power of two from 1 to 2^20.
     * @throws IllegalArgumentException if not.
     */
    public Tlb(final int entries)
    {
        if (entries < 1 || entries > 1 << 20 || Integer.bitCount(entries) != 1)
        {
            throw new IllegalArgumentException("entries must be a power of two from 1 to 2^20: " + entries);
        }
        this.tags = new long[entries];
        this.frames = new long[entries];
        this.flags = new int[entries];
        this.mask = entries - 1;
    }

    /**
     * Number of entries.
     *
     * @return the size.
     */
    public int size()
    {
        return tags.length;
    }

    int slot(final long virtualPage)
    {
        return (int)(virtualPage & mask);
    }

    boolean matches(final int slot, final long virtualPage)
    {
        return tags[slot] == virtualPage + 1;
    }

    long frame(final int slot)
    {
        return frames[slot];
    }

    int flags(final int slot)
    {
        return flags[slot];
    }

    void insert(final long virtualPage, final long frame, final int entryFlags)
    {
        final int slot = slot(virtualPage);
        tags[slot] = virtualPage + 1;
        frames[slot] = frame;
        flags[slot] = entryFlags;
    }

    /**
     * Drops the translation of one page, as {@code INVLPG} does (global or not).
     *
     * @param virtualPage the virtual page number.
     */
    public void invalidate(final long virtualPage)
    {
        final int slot = slot(virtualPage);
        if (matches(slot, virtualPage))
        {
            tags[slot] = 0;
        }
    }

    /**
     * Drops every translation, or every non-global one, as a CR3 load does.
     *
     * @param includingGlobal true to drop global translations too.
     * @return how many were dropped.
     */
    public int flush(final boolean includingGlobal)
    {
        int dropped = 0;
        for (int i = 0; i < tags.length; i++)
        {
            if (0 != tags[i] && (includingGlobal || 0 == (flags[i] & GLOBAL)))
            {
                tags[i] = 0;
                dropped++;
            }
        }
        return dropped;
    }

    /**
     * Whether a page has a cached translation.
     *
     * @param virtualPage the virtual page number.
     * @return true if cached.
     */
    public boolean contains(final long virtualPage)
    {
        return matches(slot(virtualPage), virtualPage);
    }
}
