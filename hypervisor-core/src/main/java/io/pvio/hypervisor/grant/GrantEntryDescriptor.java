package io.pvio.hypervisor.grant;

import java.nio.ByteOrder;

import io.pvio.machine.memory.MachineMemory;

/**
 * Layout of a version 1 grant entry, byte for byte as {@code struct grant_entry_v1} in Xen's
 * {@code public/grant_table.h}. Fields are tagged with their writer: [GST] the granting guest, [XEN] the hypervisor.
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-------------------------------+-------------------------------+
 *  |     flags  [GST, XEN]         |        domid  [GST]           |  0
 *  +-------------------------------+-------------------------------+
 *  |                          frame  [GST]                         |  4
 *  +---------------------------------------------------------------+
 * </pre>
 * Every field is little-endian. {@code flags} and {@code domid} share one naturally aligned 32-bit word (flags in
 * the low half), and that word is what both sides compare-and-swap: the guest to end access, the hypervisor to set
 * and clear {@link #GTF_READING}/{@link #GTF_WRITING}. {@code frame} is a guest frame number of the granting domain.
 * <p>
 * Bits of {@code flags} (bit 0 is the least significant):
 * <pre>
 *   bit  15 .. 9   8         7     6     5     4        3        2         1 0
 *       +--------+---------+-----+-----+-----+--------+--------+---------+----+
 *       |   0    | sub_page| PAT | PCD | PWT | writing| reading| readonly|type|
 *       +--------+---------+-----+-----+-----+--------+--------+---------+----+
 *                 [GST v2]  [GST] [GST] [GST]  [XEN]    [XEN]    [GST]    [GST]
 * </pre>
 * An 8-byte entry gives {@link #ENTRIES_PER_FRAME} = 512 entries per 4 KiB frame, so grant reference {@code ref}
 * lives in table frame {@code ref / 512} at byte {@code (ref % 512) * 8}. References below
 * {@link #NR_RESERVED_ENTRIES} are kept for the toolstack (console, XenStore) and never handed out by the guest's
 * allocator.
 */
public final class GrantEntryDescriptor
{
    /** Offset of {@code flags} (u16): type and state bits, written by the guest and by the hypervisor. */
    public static final int FLAGS_OFFSET = 0;

    /** Offset of {@code domid} (u16): the domain being granted access, written by the guest. */
    public static final int DOMID_OFFSET = 2;

    /** Offset of {@code frame} (u32): the granting domain's GFN, written by the guest. */
    public static final int FRAME_OFFSET = 4;

    /** Bytes per entry. */
    public static final int ENTRY_LENGTH = 8;

    /** log2 of {@link #ENTRY_LENGTH}. */
    public static final int ENTRY_SHIFT = 3;

    /** Entries in one 4 KiB table frame. */
    public static final int ENTRIES_PER_FRAME = MachineMemory.FRAME_SIZE / ENTRY_LENGTH;

    /** log2 of {@link #ENTRIES_PER_FRAME}. */
    public static final int ENTRIES_PER_FRAME_SHIFT = MachineMemory.FRAME_SHIFT - ENTRY_SHIFT;

    /** {@code GNTTAB_NR_RESERVED_ENTRIES}: references 0 to 7 are the toolstack's; guests allocate from 8 up. */
    public static final int NR_RESERVED_ENTRIES = 8;

    /** {@code GNTTAB_RESERVED_CONSOLE}: the console ring's reference. */
    public static final int RESERVED_CONSOLE = 0;

    /** {@code GNTTAB_RESERVED_XENSTORE}: the XenStore ring's reference. */
    public static final int RESERVED_XENSTORE = 1;

    /** {@code GTF_invalid}: the entry grants nothing. */
    public static final int GTF_INVALID = 0;

    /** {@code GTF_permit_access}: {@code domid} may map and copy {@code frame}. */
    public static final int GTF_PERMIT_ACCESS = 1;

    /** {@code GTF_accept_transfer}: {@code domid} may transfer a frame into this slot (not supported by pvio). */
    public static final int GTF_ACCEPT_TRANSFER = 2;

    /** {@code GTF_transitive}: version 2 only (not supported by pvio). */
    public static final int GTF_TRANSITIVE = 3;

    /** {@code GTF_type_mask}: the two type bits. */
    public static final int GTF_TYPE_MASK = 3;

    /** {@code _GTF_readonly}: bit position of {@link #GTF_READONLY}. */
    public static final int GTF_READONLY_BIT = 2;

    /** {@code GTF_readonly} [GST]: the grantee may only map and copy from the frame, never write it. */
    public static final int GTF_READONLY = 1 << GTF_READONLY_BIT;

    /** {@code _GTF_reading}: bit position of {@link #GTF_READING}. */
    public static final int GTF_READING_BIT = 3;

    /** {@code GTF_reading} [XEN]: the frame is mapped or being copied, for reading or writing. */
    public static final int GTF_READING = 1 << GTF_READING_BIT;

    /** {@code _GTF_writing}: bit position of {@link #GTF_WRITING}. */
    public static final int GTF_WRITING_BIT = 4;

    /** {@code GTF_writing} [XEN]: the frame is mapped or being copied for writing. */
    public static final int GTF_WRITING = 1 << GTF_WRITING_BIT;

    /** The two bits only the hypervisor sets: while either is set the guest cannot end access. */
    public static final int GTF_IN_USE_MASK = GTF_READING | GTF_WRITING;

    /** {@code _GTF_PWT}: bit position of {@link #GTF_PWT}. */
    public static final int GTF_PWT_BIT = 5;

    /** {@code GTF_PWT} [GST]: x86 write-through cache attribute for the mapping (recorded, not used by pvio). */
    public static final int GTF_PWT = 1 << GTF_PWT_BIT;

    /** {@code _GTF_PCD}: bit position of {@link #GTF_PCD}. */
    public static final int GTF_PCD_BIT = 6;

    /** {@code GTF_PCD} [GST]: x86 cache-disable attribute for the mapping (recorded, not used by pvio). */
    public static final int GTF_PCD = 1 << GTF_PCD_BIT;

    /** {@code _GTF_PAT}: bit position of {@link #GTF_PAT}. */
    public static final int GTF_PAT_BIT = 7;

    /** {@code GTF_PAT} [GST]: x86 PAT cache attribute for the mapping (recorded, not used by pvio). */
    public static final int GTF_PAT = 1 << GTF_PAT_BIT;

    /** {@code _GTF_sub_page}: bit position of {@link #GTF_SUB_PAGE}. */
    public static final int GTF_SUB_PAGE_BIT = 8;

    /** {@code GTF_sub_page}: version 2 only; ignored in a version 1 entry. */
    public static final int GTF_SUB_PAGE = 1 << GTF_SUB_PAGE_BIT;

    /** Mask of {@code flags} inside the 32-bit flags/domid word. */
    public static final int FLAGS_MASK = 0xFFFF;

    /** Shift of {@code domid} inside the 32-bit flags/domid word. */
    public static final int DOMID_SHIFT = 16;

    /** Mask of {@code domid} inside the 32-bit flags/domid word. */
    public static final int DOMID_MASK = 0xFFFF << DOMID_SHIFT;

    /** Largest GFN an entry's 32-bit {@code frame} can name. */
    public static final long MAX_FRAME = 0xFFFF_FFFFL;

    private GrantEntryDescriptor()
    {
    }

    /**
     * Index of the table frame that holds {@code ref}.
     *
     * @param ref a grant reference, 0 or more.
     * @return {@code ref / 512}.
     */
    public static int frameIndex(final int ref)
    {
        return ref >>> ENTRIES_PER_FRAME_SHIFT;
    }

    /**
     * Offset of {@code ref}'s entry inside its table frame.
     *
     * @param ref a grant reference, 0 or more.
     * @return {@code (ref % 512) * 8}.
     */
    public static int entryOffset(final int ref)
    {
        return (ref & (ENTRIES_PER_FRAME - 1)) << ENTRY_SHIFT;
    }

    /**
     * The 32-bit word at {@link #FLAGS_OFFSET} that holds {@code flags} and {@code domid}, as a little-endian load
     * reads it.
     *
     * @param flags the flags, low 16 bits used.
     * @param domid the domain id, low 16 bits used.
     * @return {@code domid << 16 | flags}.
     */
    public static int flagsDomidWord(final int flags, final int domid)
    {
        return ((domid & 0xFFFF) << DOMID_SHIFT) | (flags & FLAGS_MASK);
    }

    /**
     * The {@code flags} half of a flags/domid word.
     *
     * @param word the 32-bit word at {@link #FLAGS_OFFSET}.
     * @return the flags, 0 to 0xFFFF.
     */
    public static int flags(final int word)
    {
        return word & FLAGS_MASK;
    }

    /**
     * The {@code domid} half of a flags/domid word.
     *
     * @param word the 32-bit word at {@link #FLAGS_OFFSET}.
     * @return the domain id, 0 to 0xFFFF.
     */
    public static int domid(final int word)
    {
        return word >>> DOMID_SHIFT;
    }

    /**
     * Fails unless this platform stores integers little-endian: entries are little-endian and pvio reads and swaps
     * the flags/domid word with Agrona's atomic accessors, which use native order.
     *
     * @throws UnsupportedOperationException on a big-endian platform.
     */
    public static void checkNativeOrder()
    {
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN)
        {
            throw new UnsupportedOperationException("grant entries are little-endian and pvio swaps their " +
                "flags/domid word in native order; this platform is " + ByteOrder.nativeOrder());
        }
    }
}
