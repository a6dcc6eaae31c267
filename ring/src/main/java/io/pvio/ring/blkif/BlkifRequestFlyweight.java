package io.pvio.ring.blkif;

import java.nio.ByteOrder;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import static io.pvio.ring.blkif.BlkifRequestDescriptor.DISCARD_FLAG_OFFSET;
import static io.pvio.ring.blkif.BlkifRequestDescriptor.DISCARD_NR_SECTORS_OFFSET;
import static io.pvio.ring.blkif.BlkifRequestDescriptor.HANDLE_OFFSET;
import static io.pvio.ring.blkif.BlkifRequestDescriptor.ID_OFFSET;
import static io.pvio.ring.blkif.BlkifRequestDescriptor.INDIRECT_HANDLE_OFFSET;
import static io.pvio.ring.blkif.BlkifRequestDescriptor.INDIRECT_NR_SEGMENTS_OFFSET;
import static io.pvio.ring.blkif.BlkifRequestDescriptor.INDIRECT_OP_OFFSET;
import static io.pvio.ring.blkif.BlkifRequestDescriptor.NR_SEGMENTS_OFFSET;
import static io.pvio.ring.blkif.BlkifRequestDescriptor.OPERATION_OFFSET;
import static io.pvio.ring.blkif.BlkifRequestDescriptor.REQUEST_LENGTH;
import static io.pvio.ring.blkif.BlkifRequestDescriptor.SECTOR_NUMBER_OFFSET;
import static io.pvio.ring.blkif.BlkifRequestDescriptor.SEGMENT_FIRST_SECT_OFFSET;
import static io.pvio.ring.blkif.BlkifRequestDescriptor.SEGMENT_GREF_OFFSET;
import static io.pvio.ring.blkif.BlkifRequestDescriptor.SEGMENT_LAST_SECT_OFFSET;
import static io.pvio.ring.blkif.BlkifRequestDescriptor.SEGMENT_PAD_OFFSET;
import static io.pvio.ring.blkif.BlkifRequestDescriptor.indirectGrefOffset;
import static io.pvio.ring.blkif.BlkifRequestDescriptor.segmentOffset;

/**
 * Reads and writes one blkif request (any variant, see {@link BlkifRequestDescriptor}) in place, in a ring slot or a
 * private copy. Wrap it, then use the fluent accessors; setters return {@code this}. Every access is a plain
 * little-endian load or store at a fixed offset, and nothing allocates after construction, so keep one instance per
 * ring end and re-wrap it for each request.
 * <p>
 * The flyweight reads the wrapped memory each time an accessor is called. A back end must therefore wrap a private
 * copy of the request ({@link io.pvio.ring.BackRing#copyRequests}), never the shared slot, or a hostile front end
 * can change a field between its check and its use. Setters write into whatever memory is wrapped: wrap only memory
 * you may write.
 * <p>
 * Values wider than the field are a caller bug and throw {@link IllegalArgumentException}; so does a segment or
 * page index out of range. Values read from the wire are never checked here: that is
 * {@link BlkifRequestValidator}'s job.
 */
public final class BlkifRequestFlyweight
{
    private static final ByteOrder ORDER = ByteOrder.LITTLE_ENDIAN;

    private final UnsafeBuffer buffer = new UnsafeBuffer();

    /**
     * Points the flyweight at the request that starts at {@code offset}; {@link BlkifRequestDescriptor#REQUEST_LENGTH}
     * bytes from there must lie inside {@code buffer}.
     *
     * @param buffer the ring buffer or private copy holding the request.
     * @param offset offset of the request's first byte.
     * @return this flyweight.
     * @throws IndexOutOfBoundsException if the request does not fit in {@code buffer}.
     */
    public BlkifRequestFlyweight wrap(final DirectBuffer buffer, final int offset)
    {
        this.buffer.wrap(buffer, offset, REQUEST_LENGTH);
        return this;
    }

    /**
     * Zeroes all 112 bytes, so that no stale memory goes out with a request that uses fewer of them.
     *
     * @return this flyweight.
     */
    public BlkifRequestFlyweight clear()
    {
        buffer.setMemory(0, REQUEST_LENGTH, (byte)0);
        return this;
    }

    /**
     * {@code operation}: a {@link BlkifOp} value, which decides the layout of the rest of the request.
     *
     * @return the unsigned byte, 0 to 255.
     */
    public int operation()
    {
        return buffer.getByte(OPERATION_OFFSET) & 0xFF;
    }

    /**
     * Sets {@code operation}.
     *
     * @param operation the raw byte, e.g. {@link BlkifOp#value()}.
     * @return this flyweight.
     */
    public BlkifRequestFlyweight operation(final byte operation)
    {
        buffer.putByte(OPERATION_OFFSET, operation);
        return this;
    }

    /**
     * Sets {@code operation}.
     *
     * @param operation the operation.
     * @return this flyweight.
     */
    public BlkifRequestFlyweight operation(final BlkifOp operation)
    {
        buffer.putByte(OPERATION_OFFSET, operation.value());
        return this;
    }

    /**
     * {@code nr_segments} of a direct request (read, write, flush, barrier): entries of {@code seg[]} in use.
     *
     * @return the unsigned byte, 0 to 255.
     */
    public int nrSegments()
    {
        return buffer.getByte(NR_SEGMENTS_OFFSET) & 0xFF;
    }

    /**
     * Sets {@code nr_segments} of a direct request.
     *
     * @param nrSegments 0 to 255 (valid requests use 0 to 11).
     * @return this flyweight.
     * @throws IllegalArgumentException if the value does not fit a u8.
     */
    public BlkifRequestFlyweight nrSegments(final int nrSegments)
    {
        buffer.putByte(NR_SEGMENTS_OFFSET, u8("nrSegments", nrSegments));
        return this;
    }

    /**
     * {@code handle} of a direct or discard request: the virtual device.
     *
     * @return the unsigned 16-bit value.
     */
    public int handle()
    {
        return buffer.getShort(HANDLE_OFFSET, ORDER) & 0xFFFF;
    }

    /**
     * Sets {@code handle} of a direct or discard request.
     *
     * @param handle 0 to 65535.
     * @return this flyweight.
     * @throws IllegalArgumentException if the value does not fit a u16.
     */
    public BlkifRequestFlyweight handle(final int handle)
    {
        buffer.putShort(HANDLE_OFFSET, u16("handle", handle), ORDER);
        return this;
    }

    /**
     * {@code id}, the same in every variant: the front end's value, echoed unchanged in the response.
     *
     * @return the raw 64 bits.
     */
    public long id()
    {
        return buffer.getLong(ID_OFFSET, ORDER);
    }

    /**
     * Sets {@code id}.
     *
     * @param id any 64 bits.
     * @return this flyweight.
     */
    public BlkifRequestFlyweight id(final long id)
    {
        buffer.putLong(ID_OFFSET, id, ORDER);
        return this;
    }

    /**
     * {@code sector_number}, the same in every variant: the first 512-byte sector on the device.
     *
     * @return the raw 64 bits of a u64; compare with {@link Long#compareUnsigned(long, long)}.
     */
    public long sectorNumber()
    {
        return buffer.getLong(SECTOR_NUMBER_OFFSET, ORDER);
    }

    /**
     * Sets {@code sector_number}.
     *
     * @param sectorNumber the first sector, in 512-byte units, as the raw 64 bits of a u64.
     * @return this flyweight.
     */
    public BlkifRequestFlyweight sectorNumber(final long sectorNumber)
    {
        buffer.putLong(SECTOR_NUMBER_OFFSET, sectorNumber, ORDER);
        return this;
    }

    /**
     * {@code seg[segment].gref} of a direct request: the grant of the segment's page.
     *
     * @param segment 0 to 10.
     * @return the raw 32 bits of a {@code grant_ref_t}.
     * @throws IllegalArgumentException if the index is out of range.
     */
    public int segmentGref(final int segment)
    {
        return buffer.getInt(segmentOffset(segment) + SEGMENT_GREF_OFFSET, ORDER);
    }

    /**
     * Sets {@code seg[segment].gref}.
     *
     * @param segment 0 to 10.
     * @param gref    the grant reference, any 32 bits.
     * @return this flyweight.
     * @throws IllegalArgumentException if the index is out of range.
     */
    public BlkifRequestFlyweight segmentGref(final int segment, final int gref)
    {
        buffer.putInt(segmentOffset(segment) + SEGMENT_GREF_OFFSET, gref, ORDER);
        return this;
    }

    /**
     * {@code seg[segment].first_sect}: first sector of the page to transfer, inclusive.
     *
     * @param segment 0 to 10.
     * @return the unsigned byte (valid: 0 to 7).
     * @throws IllegalArgumentException if the index is out of range.
     */
    public int segmentFirstSect(final int segment)
    {
        return buffer.getByte(segmentOffset(segment) + SEGMENT_FIRST_SECT_OFFSET) & 0xFF;
    }

    /**
     * Sets {@code seg[segment].first_sect}.
     *
     * @param segment   0 to 10.
     * @param firstSect 0 to 255 (valid: 0 to 7).
     * @return this flyweight.
     * @throws IllegalArgumentException if the index is out of range or the value does not fit a u8.
     */
    public BlkifRequestFlyweight segmentFirstSect(final int segment, final int firstSect)
    {
        buffer.putByte(segmentOffset(segment) + SEGMENT_FIRST_SECT_OFFSET, u8("firstSect", firstSect));
        return this;
    }

    /**
     * {@code seg[segment].last_sect}: last sector of the page to transfer, inclusive.
     *
     * @param segment 0 to 10.
     * @return the unsigned byte (valid: {@code first_sect} to 7).
     * @throws IllegalArgumentException if the index is out of range.
     */
    public int segmentLastSect(final int segment)
    {
        return buffer.getByte(segmentOffset(segment) + SEGMENT_LAST_SECT_OFFSET) & 0xFF;
    }

    /**
     * Sets {@code seg[segment].last_sect}.
     *
     * @param segment  0 to 10.
     * @param lastSect 0 to 255 (valid: {@code first_sect} to 7).
     * @return this flyweight.
     * @throws IllegalArgumentException if the index is out of range or the value does not fit a u8.
     */
    public BlkifRequestFlyweight segmentLastSect(final int segment, final int lastSect)
    {
        buffer.putByte(segmentOffset(segment) + SEGMENT_LAST_SECT_OFFSET, u8("lastSect", lastSect));
        return this;
    }

    /**
     * Writes all 8 bytes of {@code seg[segment]}, zeroing its padding.
     *
     * @param segment   0 to 10.
     * @param gref      the grant reference.
     * @param firstSect first sector of the page, 0 to 255 (valid: 0 to 7).
     * @param lastSect  last sector of the page, 0 to 255 (valid: {@code firstSect} to 7).
     * @return this flyweight.
     * @throws IllegalArgumentException if the index is out of range or a sector does not fit a u8.
     */
    public BlkifRequestFlyweight segment(final int segment, final int gref, final int firstSect, final int lastSect)
    {
        final int offset = segmentOffset(segment);
        final byte first = u8("firstSect", firstSect);
        final byte last = u8("lastSect", lastSect);
        buffer.putInt(offset + SEGMENT_GREF_OFFSET, gref, ORDER);
        buffer.putByte(offset + SEGMENT_FIRST_SECT_OFFSET, first);
        buffer.putByte(offset + SEGMENT_LAST_SECT_OFFSET, last);
        buffer.putShort(offset + SEGMENT_PAD_OFFSET, (short)0, ORDER);
        return this;
    }

    /**
     * {@code flag} of a discard request: {@link BlkifRequestDescriptor#DISCARD_SECURE} or 0.
     *
     * @return the unsigned byte.
     */
    public int discardFlag()
    {
        return buffer.getByte(DISCARD_FLAG_OFFSET) & 0xFF;
    }

    /**
     * Sets {@code flag} of a discard request.
     *
     * @param flag 0 to 255.
     * @return this flyweight.
     * @throws IllegalArgumentException if the value does not fit a u8.
     */
    public BlkifRequestFlyweight discardFlag(final int flag)
    {
        buffer.putByte(DISCARD_FLAG_OFFSET, u8("flag", flag));
        return this;
    }

    /**
     * {@code nr_sectors} of a discard request: contiguous 512-byte sectors to discard.
     *
     * @return the raw 64 bits of a u64.
     */
    public long discardNrSectors()
    {
        return buffer.getLong(DISCARD_NR_SECTORS_OFFSET, ORDER);
    }

    /**
     * Sets {@code nr_sectors} of a discard request.
     *
     * @param nrSectors the raw 64 bits of a u64.
     * @return this flyweight.
     */
    public BlkifRequestFlyweight discardNrSectors(final long nrSectors)
    {
        buffer.putLong(DISCARD_NR_SECTORS_OFFSET, nrSectors, ORDER);
        return this;
    }

    /**
     * {@code indirect_op} of an indirect request: the operation the segments carry, READ or WRITE when valid.
     *
     * @return the unsigned byte.
     */
    public int indirectOp()
    {
        return buffer.getByte(INDIRECT_OP_OFFSET) & 0xFF;
    }

    /**
     * Sets {@code indirect_op} of an indirect request.
     *
     * @param indirectOp the raw byte.
     * @return this flyweight.
     */
    public BlkifRequestFlyweight indirectOp(final byte indirectOp)
    {
        buffer.putByte(INDIRECT_OP_OFFSET, indirectOp);
        return this;
    }

    /**
     * Sets {@code indirect_op} of an indirect request.
     *
     * @param indirectOp the operation.
     * @return this flyweight.
     */
    public BlkifRequestFlyweight indirectOp(final BlkifOp indirectOp)
    {
        buffer.putByte(INDIRECT_OP_OFFSET, indirectOp.value());
        return this;
    }

    /**
     * {@code nr_segments} of an indirect request: segments held in the indirect pages.
     *
     * @return the unsigned 16-bit value.
     */
    public int indirectNrSegments()
    {
        return buffer.getShort(INDIRECT_NR_SEGMENTS_OFFSET, ORDER) & 0xFFFF;
    }

    /**
     * Sets {@code nr_segments} of an indirect request.
     *
     * @param nrSegments 0 to 65535.
     * @return this flyweight.
     * @throws IllegalArgumentException if the value does not fit a u16.
     */
    public BlkifRequestFlyweight indirectNrSegments(final int nrSegments)
    {
        buffer.putShort(INDIRECT_NR_SEGMENTS_OFFSET, u16("nrSegments", nrSegments), ORDER);
        return this;
    }

    /**
     * {@code handle} of an indirect request (at offset 24, not 2).
     *
     * @return the unsigned 16-bit value.
     */
    public int indirectHandle()
    {
        return buffer.getShort(INDIRECT_HANDLE_OFFSET, ORDER) & 0xFFFF;
    }

    /**
     * Sets {@code handle} of an indirect request.
     *
     * @param handle 0 to 65535.
     * @return this flyweight.
     * @throws IllegalArgumentException if the value does not fit a u16.
     */
    public BlkifRequestFlyweight indirectHandle(final int handle)
    {
        buffer.putShort(INDIRECT_HANDLE_OFFSET, u16("handle", handle), ORDER);
        return this;
    }

    /**
     * {@code indirect_grefs[page]} of an indirect request: the grant of one page of segments.
     *
     * @param page 0 to 7.
     * @return the raw 32 bits of a {@code grant_ref_t}.
     * @throws IllegalArgumentException if the index is out of range.
     */
    public int indirectGref(final int page)
    {
        return buffer.getInt(indirectGrefOffset(page), ORDER);
    }

    /**
     * Sets {@code indirect_grefs[page]}.
     *
     * @param page 0 to 7.
     * @param gref the grant reference, any 32 bits.
     * @return this flyweight.
     * @throws IllegalArgumentException if the index is out of range.
     */
    public BlkifRequestFlyweight indirectGref(final int page, final int gref)
    {
        buffer.putInt(indirectGrefOffset(page), gref, ORDER);
        return this;
    }

    static byte u8(final String name, final int value)
    {
        if ((value & ~0xFF) != 0)
        {
            throw new IllegalArgumentException(
                name + " does not fit a u8: " + name + "=" + value + " (expected: 0 <= " + name + " <= 255)");
        }
        return (byte)value;
    }

    static short u16(final String name, final int value)
    {
        if ((value & ~0xFFFF) != 0)
        {
            throw new IllegalArgumentException(
                name + " does not fit a u16: " + name + "=" + value + " (expected: 0 <= " + name + " <= 65535)");
        }
        return (short)value;
    }
}
