package io.pvio.machine.paging;

/**
 * Layout of one 8-byte x86-64 page-table entry, the same at every level (PML4E, PDPTE, PDE, PTE), stored
 * little-endian in a 4 KiB table frame of 512 entries.
 * <pre>
 *  63  62      52 51                                   12 11  9 8 7 6 5 4 3 2 1 0
 * +---+----------+---------------------------------------+-----+-+-+-+-+-+-+-+-+-+
 * |NX | ignored  |  frame number (machine or guest)      | avl |G|S|D|A|C|T|U|W|P|
 * +---+----------+---------------------------------------+-----+-+-+-+-+-+-+-+-+-+
 *   P present   W writable   U user   T write-through   C cache-disable   A accessed   D dirty (leaf only)
 *   S page size (PS: in a PDE, a 2 MiB page; in a PTE, PAT)   G global   avl: free for software
 * </pre>
 * A virtual address is split 9/9/9/9/12: PML4 index bits 47..39, PDPT 38..30, PD 29..21, PT 20..12, offset 11..0.
 */
public final class PageTableEntry
{
    /** Bytes per entry. */
    public static final int ENTRY_BYTES = 8;

    /** Entries per table frame. */
    public static final int ENTRIES_PER_TABLE = 512;

    /** Levels of the walk, PML4 (4) down to PT (1). */
    public static final int LEVELS = 4;

    /** Present. */
    public static final long PRESENT = 1L;

    /** Writable. */
    public static final long WRITABLE = 1L << 1;

    /** Reachable from user mode. */
    public static final long USER = 1L << 2;

    /** Write-through caching. */
    public static final long WRITE_THROUGH = 1L << 3;

    /** Caching disabled. */
    public static final long CACHE_DISABLE = 1L << 4;

    /** Accessed: set by the MMU on every walk that uses the entry. */
    public static final long ACCESSED = 1L << 5;

    /** Dirty: set by the MMU on a write through a leaf entry. */
    public static final long DIRTY = 1L << 6;

    /** Page size: in a level-2 entry, maps a 2 MiB page. */
    public static final long PAGE_SIZE = 1L << 7;

    /** Global: survives a CR3 load in the TLB. */
    public static final long GLOBAL = 1L << 8;

    /** Software-available bit 9, used by hypervisors to mark write-protected page-table mappings. */
    public static final long SOFTWARE_0 = 1L << 9;

    /** No-execute. */
    public static final long NO_EXECUTE = 1L << 63;

    /** Bits 51..12: the frame number shifted into place. */
    public static final long FRAME_MASK = 0x000F_FFFF_FFFF_F000L;

    /** Page shift: 4 KiB pages. */
    public static final int PAGE_SHIFT = 12;

    /** Shift of a 2 MiB page. */
    public static final int LARGE_PAGE_SHIFT = 21;

    /** Frames in a 2 MiB page. */
    public static final int FRAMES_PER_LARGE_PAGE = 1 << (LARGE_PAGE_SHIFT - PAGE_SHIFT);

    /** Highest canonical user address bit: addresses use 48 bits. */
    public static final int VIRTUAL_ADDRESS_BITS = 48;

    private PageTableEntry()
    {
    }

    /**
     * An entry pointing at {@code frame} with {@code flags}.
     *
     * @param frame the frame number, below 2^40.
     * @param flags flag bits ({@link #PRESENT}, {@link #WRITABLE}, ...).
     * @return the entry.
     */
    public static long make(final long frame, final long flags)
    {
        return ((frame << PAGE_SHIFT) & FRAME_MASK) | (flags & ~FRAME_MASK);
    }

    /**
     * The frame an entry points at.
     *
     * @param entry the entry.
     * @return the frame number.
     */
    public static long frame(final long entry)
    {
        return (entry & FRAME_MASK) >>> PAGE_SHIFT;
    }

    /**
     * Whether all of {@code flags} are set.
     *
     * @param entry the entry.
     * @param flags the flags.
     * @return true if every flag is set.
     */
    public static boolean has(final long entry, final long flags)
    {
        return (entry & flags) == flags;
    }

    /**
     * The index into the table at {@code level} (4 = PML4 .. 1 = PT) for a virtual address.
     *
     * @param virtualAddress the address.
     * @param level          1 to 4.
     * @return 0 to 511.
     */
    public static int index(final long virtualAddress, final int level)
    {
        return (int)(virtualAddress >>> (PAGE_SHIFT + 9 * (level - 1))) & (ENTRIES_PER_TABLE - 1);
    }

    /**
     * Whether a virtual address is canonical: bits 63..47 all equal.
     *
     * @param virtualAddress the address.
     * @return true if canonical.
     */
    public static boolean isCanonical(final long virtualAddress)
    {
        final long top = virtualAddress >> (VIRTUAL_ADDRESS_BITS - 1);
        return 0 == top || -1 == top;
    }

    /**
     * Describes an entry for messages.
     *
     * @param entry the entry.
     * @return for example {@code frame=0x1234 P W U A}.
     */
    public static String describe(final long entry)
    {
        final StringBuilder text = new StringBuilder("frame=0x").append(Long.toHexString(frame(entry)));
        if (has(entry, PRESENT))
        {
            text.append(" P");
        }
        if (has(entry, WRITABLE))
        {
            text.append(" W");
        }
        if (has(entry, USER))
        {
            text.append(" U");
        }
        if (has(entry, ACCESSED))
        {
            text.append(" A");
        }
        if (has(entry, DIRTY))
        {
            text.append(" D");
        }
        if (has(entry, PAGE_SIZE))
        {
            text.append(" PS");
        }
        if (has(entry, GLOBAL))
        {
            text.append(" G");
        }
        return text.toString();
    }
}
