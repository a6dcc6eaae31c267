package io.pvio.ring.blkif;

import java.nio.ByteOrder;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import static io.pvio.ring.blkif.BlkifRequestDescriptor.MAX_INDIRECT_SEGMENTS;
import static io.pvio.ring.blkif.BlkifRequestDescriptor.SEGMENT_FIRST_SECT_OFFSET;
import static io.pvio.ring.blkif.BlkifRequestDescriptor.SEGMENT_GREF_OFFSET;
import static io.pvio.ring.blkif.BlkifRequestDescriptor.SEGMENT_LAST_SECT_OFFSET;
import static io.pvio.ring.blkif.BlkifRequestDescriptor.SEGMENT_LENGTH;
import static io.pvio.ring.blkif.BlkifRequestDescriptor.SEGMENT_PAD_OFFSET;
import static io.pvio.ring.blkif.BlkifRequestDescriptor.SEGMENTS_PER_INDIRECT_FRAME;

/**
 * Reads and writes an array of {@code struct blkif_request_segment} in place: the contents of the indirect pages of
 * a {@link BlkifOp#INDIRECT} request. One 4 KiB page holds {@link BlkifRequestDescriptor#SEGMENTS_PER_INDIRECT_FRAME}
 * segments with no header, so segment {@code i} of a request lives in indirect page {@code i / 512} at byte
 * {@code (i % 512) * 8}; when a back end copies the pages one after another into a private buffer, segment {@code i}
 * is simply at {@code i * 8}.
 * <p>
 * A back end copies the pages once and wraps the copy, never the granted pages, so that the segments it checks are
 * the segments it uses. Nothing allocates after construction.
 */
public final class BlkifSegmentFlyweight
{
    private static final ByteOrder ORDER = ByteOrder.LITTLE_ENDIAN;

    private final UnsafeBuffer buffer = new UnsafeBuffer();
    private int count;

    /**
     * Points the flyweight at {@code count} consecutive segments starting at {@code offset}.
     *
     * @param buffer the memory holding the segments: one indirect page, or a private copy of several.
     * @param offset offset of segment 0.
     * @param count  segments to expose, 1 to {@link BlkifRequestDescriptor#MAX_INDIRECT_SEGMENTS} (4096).
     * @return this flyweight.
     * @throws IllegalArgumentException if {@code count} is out of range.
     * @throws IndexOutOfBoundsException if the segments do not fit in {@code buffer}.
     */
    public BlkifSegmentFlyweight wrap(final DirectBuffer buffer, final int offset, final int count)
    {
        if (count < 1 || count > MAX_INDIRECT_SEGMENTS)
        {
            throw new IllegalArgumentException(
                "segment count out of range: count=" + count + " (expected: 1 <= count <= " + MAX_INDIRECT_SEGMENTS +
                ")");
        }
        this.buffer.wrap(buffer, offset, count * SEGMENT_LENGTH);
        this.count = count;
        return this;
    }

    /**
     * Points the flyweight at one whole indirect page of 512 segments.
     *
     * @param buffer the memory holding the page.
     * @param offset offset of the page's first byte.
     * @return this flyweight.
     * @throws IndexOutOfBoundsException if the page does not fit in {@code buffer}.
     */
    public BlkifSegmentFlyweight wrapPage(final DirectBuffer buffer, final int offset)
    {
        return wrap(buffer, offset, SEGMENTS_PER_INDIRECT_FRAME);
    }

    /**
     * Segments the flyweight exposes.
     *
     * @return the count given to the last wrap.
     */
    public int count()
    {
        return count;
    }

    /**
     * {@code gref} of segment {@code index}: the grant of the data page.
     *
     * @param index 0 to {@code count() - 1}.
     * @return the raw 32 bits of a {@code grant_ref_t}.
     * @throws IllegalArgumentException if the index is out of range.
     */
    public int gref(final int index)
    {
        return buffer.getInt(offset(index) + SEGMENT_GREF_OFFSET, ORDER);
    }

    /**
     * {@code first_sect} of segment {@code index}: first sector of the page to transfer, inclusive.
     *
     * @param index 0 to {@code count() - 1}.
     * @return the unsigned byte (valid: 0 to 7).
     * @throws IllegalArgumentException if the index is out of range.
     */
    public int firstSect(final int index)
    {
        return buffer.getByte(offset(index) + SEGMENT_FIRST_SECT_OFFSET) & 0xFF;
    }

    /**
     * {@code last_sect} of segment {@code index}: last sector of the page to transfer, inclusive.
     *
     * @param index 0 to {@code count() - 1}.
     * @return the unsigned byte (valid: {@code first_sect} to 7).
     * @throws IllegalArgumentException if the index is out of range.
     */
    public int lastSect(final int index)
    {
        return buffer.getByte(offset(index) + SEGMENT_LAST_SECT_OFFSET) & 0xFF;
    }

    /**
     * Writes all 8 bytes of segment {@code index}, zeroing its padding.
     *
     * @param index     0 to {@code count() - 1}.
     * @param gref      the grant reference of the data page.
     * @param firstSect first sector of the page, 0 to 255 (valid: 0 to 7).
     * @param lastSect  last sector of the page, 0 to 255 (valid: {@code firstSect} to 7).
     * @return this flyweight.
     * @throws IllegalArgumentException if the index is out of range or a sector does not fit a u8.
     */
    public BlkifSegmentFlyweight segment(final int index, final int gref, final int firstSect, final int lastSect)
    {
        final int offset = offset(index);
        final byte first = BlkifRequestFlyweight.u8("firstSect", firstSect);
        final byte last = BlkifRequestFlyweight.u8("lastSect", lastSect);
        buffer.putInt(offset + SEGMENT_GREF_OFFSET, gref, ORDER);
        buffer.putByte(offset + SEGMENT_FIRST_SECT_OFFSET, first);
        buffer.putByte(offset + SEGMENT_LAST_SECT_OFFSET, last);
        buffer.putShort(offset + SEGMENT_PAD_OFFSET, (short)0, ORDER);
        return this;
    }

    private int offset(final int index)
    {
        if (index < 0 || index >= count)
        {
            throw new IllegalArgumentException(
                "segment out of range: index=" + index + " (expected: 0 <= index < " + count + ")");
        }
        return index * SEGMENT_LENGTH;
    }
}
