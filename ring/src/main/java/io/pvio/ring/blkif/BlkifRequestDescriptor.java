package io.pvio.ring.blkif;

import io.pvio.ring.RingGeometry;
import io.pvio.ring.SharedRingDescriptor;

/**
 * Layout of a blkif request, byte for byte as Xen's {@code io/blkif.h} lays out {@code struct blkif_request} and the
 * two variants that share its ring slot, on the x86_64 (and Arm) ABI. The {@code operation} byte at offset 0 selects
 * the variant. All fields are little-endian; every ring entry is {@link #REQUEST_LENGTH} bytes whichever variant it
 * holds.
 * <p>
 * Read and write ({@code struct blkif_request}), also flush and barrier:
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------+---------------+-------------------------------+
 *  |   operation   |  nr_segments  |            handle             |   0
 *  +---------------+---------------+-------------------------------+
 *  |                      (pad, x86_64 only)                       |   4
 *  +---------------------------------------------------------------+
 *  |                  id (opaque to the back end)                  |   8
 *  +                                                               +
 *  |                                                               |  12
 *  +---------------------------------------------------------------+
 *  |                 sector_number (512-byte units)                |  16
 *  +                                                               +
 *  |                                                               |  20
 *  +---------------------------------------------------------------+
 *  |                         seg[0].gref                           |  24
 *  +---------------+---------------+-------------------------------+
 *  |  first_sect   |   last_sect   |             (pad)             |  28
 *  +---------------+---------------+-------------------------------+
 *  |              seg[1] ... seg[10], 8 bytes each                ... 32
 *  +---------------------------------------------------------------+
 *                                                                    112
 * </pre>
 * Discard ({@code struct blkif_request_discard}, 32 bytes used):
 * <pre>
 *  +---------------+---------------+-------------------------------+
 *  |   operation   |     flag      |            handle             |   0
 *  +---------------+---------------+-------------------------------+
 *  |                      (pad, x86_64 only)                       |   4
 *  +---------------------------------------------------------------+
 *  |                          id (8 bytes)                        ...  8
 *  +---------------------------------------------------------------+
 *  |                     sector_number (8 bytes)                  ... 16
 *  +---------------------------------------------------------------+
 *  |                      nr_sectors (8 bytes)                    ... 24
 *  +---------------------------------------------------------------+
 *                                                                     32
 * </pre>
 * Indirect ({@code struct blkif_request_indirect}, 64 bytes used):
 * <pre>
 *  +---------------+---------------+-------------------------------+
 *  |   operation   |  indirect_op  |     nr_segments (16 bits)     |   0
 *  +---------------+---------------+-------------------------------+
 *  |                      (pad, x86_64 only)                       |   4
 *  +---------------------------------------------------------------+
 *  |                          id (8 bytes)                        ...  8
 *  +---------------------------------------------------------------+
 *  |                     sector_number (8 bytes)                  ... 16
 *  +-------------------------------+-------------------------------+
 *  |            handle             |             (pad)             |  24
 *  +-------------------------------+-------------------------------+
 *  |            indirect_grefs[0] ... indirect_grefs[7]           ... 28
 *  +---------------------------------------------------------------+
 *  |                          (tail pad)                           |  60
 *  +---------------------------------------------------------------+
 *                                                                     64
 * </pre>
 * A segment ({@code struct blkif_request_segment}) names one granted 4 KiB page and an inclusive range of its eight
 * 512-byte sectors. Eleven of them sit in a direct request; an indirect request points at up to
 * {@link #MAX_INDIRECT_PAGES_PER_REQUEST} granted pages, each an array of {@link #SEGMENTS_PER_INDIRECT_FRAME}
 * segments.
 * <pre>
 *  +---------------------------------------------------------------+
 *  |                             gref                              |   0
 *  +---------------+---------------+-------------------------------+
 *  |  first_sect   |   last_sect   |             (pad)             |   4
 *  +---------------+---------------+-------------------------------+
 *                                                                      8
 * </pre>
 * {@code sector_number}, {@code first_sect} and {@code last_sect} are always in 512-byte units here: pvio publishes
 * {@code sector-size=512} and does not take part in {@code feature-large-sector-size}. Integers are unsigned in C;
 * accessors widen {@code u8} and {@code u16} fields to non-negative {@code int}s and hand {@code u32} and {@code u64}
 * fields over as raw {@code int} and {@code long} bits, to be compared with {@code Integer.compareUnsigned} and
 * {@code Long.compareUnsigned}.
 */
public final class BlkifRequestDescriptor
{
    /** Offset of {@code operation} (u8), a {@link BlkifOp} value; the same in every variant. */
    public static final int OPERATION_OFFSET = 0;

    /** Offset of {@code nr_segments} (u8) in a direct request: segments used in {@code seg[]}. */
    public static final int NR_SEGMENTS_OFFSET = 1;

    /** Offset of {@code handle} (u16, {@code blkif_vdev_t}) in a direct or discard request. */
    public static final int HANDLE_OFFSET = 2;

    /** Offset of the 4 bytes of padding the x86_64 ABI inserts to align {@code id}. */
    public static final int PAD_OFFSET = 4;

    /** Length of the padding at {@link #PAD_OFFSET}. */
    public static final int PAD_LENGTH = 4;

    /** Offset of {@code id} (u64): the front end's private value, echoed unchanged in the response. */
    public static final int ID_OFFSET = 8;

    /** Offset of {@code sector_number} (u64): first 512-byte sector on the device. */
    public static final int SECTOR_NUMBER_OFFSET = 16;

    /** Offset of {@code seg[0]} in a direct request. */
    public static final int SEGMENTS_OFFSET = 24;

    /** {@code sizeof(struct blkif_request)}, and so the size of a blkif ring entry. */
    public static final int REQUEST_LENGTH = 112;

    /** Alignment of every request variant and of the response: they all hold a {@code uint64_t}. */
    public static final int ALIGNMENT = 8;

    /** Offset of {@code flag} (u8) in a discard request; see {@link #DISCARD_SECURE}. */
    public static final int DISCARD_FLAG_OFFSET = 1;

    /** Offset of {@code nr_sectors} (u64) in a discard request: contiguous 512-byte sectors to discard. */
    public static final int DISCARD_NR_SECTORS_OFFSET = 24;

    /** {@code sizeof(struct blkif_request_discard)}. */
    public static final int DISCARD_LENGTH = 32;

    /**
     * {@code BLKIF_DISCARD_SECURE}: the discarded data must be unrecoverable. Ignored unless the back end advertises
     * {@code discard-secure=1}.
     */
    public static final int DISCARD_SECURE = 1;

    /** Offset of {@code indirect_op} (u8) in an indirect request: {@link BlkifOp#READ} or {@link BlkifOp#WRITE}. */
    public static final int INDIRECT_OP_OFFSET = 1;

    /** Offset of {@code nr_segments} in an indirect request: a u16, unlike the direct request's u8. */
    public static final int INDIRECT_NR_SEGMENTS_OFFSET = 2;

    /** Offset of {@code handle} (u16) in an indirect request. */
    public static final int INDIRECT_HANDLE_OFFSET = 24;

    /** Offset of {@code indirect_grefs[0]} (u32 each): grants of the pages holding the segments. */
    public static final int INDIRECT_GREFS_OFFSET = 28;

    /** {@code sizeof(struct blkif_request_indirect)}: 60 bytes of fields, padded to 8-byte alignment. */
    public static final int INDIRECT_LENGTH = 64;

    /** Offset of {@code gref} (u32, {@code grant_ref_t}) within a segment. */
    public static final int SEGMENT_GREF_OFFSET = 0;

    /** Offset of {@code first_sect} (u8) within a segment: first sector of the page to transfer, inclusive. */
    public static final int SEGMENT_FIRST_SECT_OFFSET = 4;

    /** Offset of {@code last_sect} (u8) within a segment: last sector of the page to transfer, inclusive. */
    public static final int SEGMENT_LAST_SECT_OFFSET = 5;

    /** Offset of the 2 bytes of padding that end a segment. */
    public static final int SEGMENT_PAD_OFFSET = 6;

    /** {@code sizeof(struct blkif_request_segment)}. */
    public static final int SEGMENT_LENGTH = 8;

    /** {@code BLKIF_MAX_SEGMENTS_PER_REQUEST}: segments in a direct request, chosen so 32 requests fit a page. */
    public static final int MAX_SEGMENTS_PER_REQUEST = 11;

    /** {@code BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST}: entries of {@code indirect_grefs}. */
    public static final int MAX_INDIRECT_PAGES_PER_REQUEST = 8;

    /** Segments in one 4 KiB indirect page: {@code PAGE_SIZE / sizeof(struct blkif_request_segment)}. */
    public static final int SEGMENTS_PER_INDIRECT_FRAME = SharedRingDescriptor.PAGE_SIZE / SEGMENT_LENGTH;

    /** Most segments an indirect request can describe: eight full indirect pages. */
    public static final int MAX_INDIRECT_SEGMENTS = MAX_INDIRECT_PAGES_PER_REQUEST * SEGMENTS_PER_INDIRECT_FRAME;

    /** The unit of {@code sector_number}, {@code first_sect}, {@code last_sect} and {@code nr_sectors}: 512 bytes. */
    public static final int SECTOR_SIZE = 512;

    /** {@code log2(SECTOR_SIZE)}: shift a sector count left by this to get bytes. */
    public static final int SECTOR_SHIFT = 9;

    /** 512-byte sectors in one 4 KiB segment page. */
    public static final int SECTORS_PER_PAGE = SharedRingDescriptor.PAGE_SIZE / SECTOR_SIZE;

    /** Largest valid {@code last_sect} (and {@code first_sect}): the last sector of a page. */
    public static final int MAX_SECT = SECTORS_PER_PAGE - 1;

    /** Requests a one-page blkif ring holds. */
    public static final int RING_ENTRIES_PER_PAGE = 32;

    private BlkifRequestDescriptor()
    {
    }

    /**
     * Geometry of a blkif ring of {@code pages} 4 KiB pages: 112-byte entries (the request, the larger member of
     * the union), 32 per page, as {@code DEFINE_RING_TYPES(blkif, ...)} lays them out.
     *
     * @param pages 1, 2, 4, 8 or 16.
     * @return the geometry; {@link RingGeometry#size()} is {@code 32 * pages}.
     * @throws IllegalArgumentException if the page count is not a power of two up to 16.
     */
    public static RingGeometry blkifRing(final int pages)
    {
        return RingGeometry.ofPages(pages, REQUEST_LENGTH, BlkifResponseDescriptor.RESPONSE_LENGTH, ALIGNMENT);
    }

    /**
     * Offset of {@code seg[segment]} from the start of a direct request.
     *
     * @param segment index in {@code seg[]}, 0 to 10.
     * @return the offset of the segment's first byte.
     * @throws IllegalArgumentException if the index is out of range.
     */
    public static int segmentOffset(final int segment)
    {
        checkSegmentIndex(segment);
        return SEGMENTS_OFFSET + segment * SEGMENT_LENGTH;
    }

    /**
     * Offset of {@code indirect_grefs[page]} from the start of an indirect request.
     *
     * @param page index in {@code indirect_grefs}, 0 to 7.
     * @return the offset of the grant reference.
     * @throws IllegalArgumentException if the index is out of range.
     */
    public static int indirectGrefOffset(final int page)
    {
        checkIndirectPageIndex(page);
        return INDIRECT_GREFS_OFFSET + page * Integer.BYTES;
    }

    /**
     * Indirect pages an indirect request with {@code nrSegments} segments uses: {@code ceil(nrSegments / 512)}.
     *
     * @param nrSegments the request's {@code nr_segments}, a u16 (0 to 65535).
     * @return pages needed, 0 to 128; more than {@link #MAX_INDIRECT_PAGES_PER_REQUEST} is invalid.
     * @throws IllegalArgumentException if {@code nrSegments} is not a u16.
     */
    public static int indirectPages(final int nrSegments)
    {
        if (nrSegments < 0 || nrSegments > 0xFFFF)
        {
            throw new IllegalArgumentException(
                "nr_segments is a u16: nrSegments=" + nrSegments + " (expected: 0 <= nrSegments <= 65535)");
        }
        return (nrSegments + SEGMENTS_PER_INDIRECT_FRAME - 1) / SEGMENTS_PER_INDIRECT_FRAME;
    }

    /**
     * Fails unless {@code segment} indexes {@code seg[]} of a direct request.
     *
     * @param segment the index.
     * @throws IllegalArgumentException if the index is not 0 to 10.
     */
    public static void checkSegmentIndex(final int segment)
    {
        if (segment < 0 || segment >= MAX_SEGMENTS_PER_REQUEST)
        {
            throw new IllegalArgumentException(
                "segment out of range: segment=" + segment + " (expected: 0 <= segment < " +
                MAX_SEGMENTS_PER_REQUEST + ")");
        }
    }

    /**
     * Fails unless {@code page} indexes {@code indirect_grefs}.
     *
     * @param page the index.
     * @throws IllegalArgumentException if the index is not 0 to 7.
     */
    public static void checkIndirectPageIndex(final int page)
    {
        if (page < 0 || page >= MAX_INDIRECT_PAGES_PER_REQUEST)
        {
            throw new IllegalArgumentException(
                "indirect page out of range: page=" + page + " (expected: 0 <= page < " +
                MAX_INDIRECT_PAGES_PER_REQUEST + ")");
        }
    }
}
