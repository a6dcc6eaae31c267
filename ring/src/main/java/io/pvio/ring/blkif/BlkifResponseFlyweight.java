package io.pvio.ring.blkif;

import java.nio.ByteOrder;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import static io.pvio.ring.blkif.BlkifResponseDescriptor.ID_OFFSET;
import static io.pvio.ring.blkif.BlkifResponseDescriptor.OPERATION_OFFSET;
import static io.pvio.ring.blkif.BlkifResponseDescriptor.PAD_OFFSET;
import static io.pvio.ring.blkif.BlkifResponseDescriptor.RESPONSE_LENGTH;
import static io.pvio.ring.blkif.BlkifResponseDescriptor.STATUS_OFFSET;
import static io.pvio.ring.blkif.BlkifResponseDescriptor.TAIL_PAD_OFFSET;

/**
 * Reads and writes one blkif response (see {@link BlkifResponseDescriptor}) in place. Wrap it, then read the fields
 * or {@link #write(long, int, BlkifStatus) write} the whole response; nothing allocates after construction.
 * <p>
 * There are no per-field setters: a response is only ever written whole, every one of its 16 bytes including the
 * padding, so that stale memory in the slot (the request it answers, or anything else) never reaches the front end
 * (XSA-216). A front end reading a hostile back end's response should wrap a private copy and check the values
 * (an {@code id} it has outstanding, a known status) before use.
 */
public final class BlkifResponseFlyweight
{
    private static final ByteOrder ORDER = ByteOrder.LITTLE_ENDIAN;

    private final UnsafeBuffer buffer = new UnsafeBuffer();

    /**
     * Points the flyweight at the response that starts at {@code offset}; 16 bytes from there must lie inside
     * {@code buffer}.
     *
     * @param buffer the ring buffer (a slot claimed with {@code BackRing.claimResponse()}) or a private copy.
     * @param offset offset of the response's first byte.
     * @return this flyweight.
     * @throws IndexOutOfBoundsException if the response does not fit in {@code buffer}.
     */
    public BlkifResponseFlyweight wrap(final DirectBuffer buffer, final int offset)
    {
        this.buffer.wrap(buffer, offset, RESPONSE_LENGTH);
        return this;
    }

    /**
     * {@code id}: the {@code id} of the request answered.
     *
     * @return the raw 64 bits.
     */
    public long id()
    {
        return buffer.getLong(ID_OFFSET, ORDER);
    }

    /**
     * {@code operation}: the {@code operation} of the request answered.
     *
     * @return the unsigned byte, 0 to 255.
     */
    public int operation()
    {
        return buffer.getByte(OPERATION_OFFSET) & 0xFF;
    }

    /**
     * {@code status}: a {@link BlkifStatus} value when the back end is well behaved.
     *
     * @return the signed 16-bit value.
     */
    public short status()
    {
        return buffer.getShort(STATUS_OFFSET, ORDER);
    }

    /**
     * Writes the whole response: {@code id}, {@code operation}, {@code status} and zeroes in every padding byte.
     *
     * @param id        the request's {@code id}, echoed unchanged.
     * @param operation the request's {@code operation} byte, 0 to 255.
     * @param status    the outcome.
     * @return this flyweight.
     * @throws IllegalArgumentException if {@code operation} does not fit a u8.
     */
    public BlkifResponseFlyweight write(final long id, final int operation, final BlkifStatus status)
    {
        return write(id, operation, status.value());
    }

    /**
     * Writes the whole response with a raw status, for tests and for relaying a status unchanged: {@code id},
     * {@code operation}, {@code status} and zeroes in every padding byte.
     *
     * @param id        the request's {@code id}, echoed unchanged.
     * @param operation the request's {@code operation} byte, 0 to 255.
     * @param status    the raw {@code status}.
     * @return this flyweight.
     * @throws IllegalArgumentException if {@code operation} does not fit a u8.
     */
    public BlkifResponseFlyweight write(final long id, final int operation, final short status)
    {
        final byte op = BlkifRequestFlyweight.u8("operation", operation);
        final UnsafeBuffer buffer = this.buffer;
        buffer.putLong(ID_OFFSET, id, ORDER);
        buffer.putByte(OPERATION_OFFSET, op);
        buffer.putByte(PAD_OFFSET, (byte)0);
        buffer.putShort(STATUS_OFFSET, status, ORDER);
        buffer.putInt(TAIL_PAD_OFFSET, 0, ORDER);
        return this;
    }
}
