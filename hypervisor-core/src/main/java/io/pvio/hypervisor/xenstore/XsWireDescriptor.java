package io.pvio.hypervisor.xenstore;

import java.nio.ByteOrder;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * Layout of a XenStore wire message, {@code struct xsd_sockmsg} of Xen's {@code io/xs_wire.h}: a 16-byte header
 * followed by {@code len} bytes of payload. All fields are unsigned 32-bit little-endian.
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                      type (XS_*)                              |  0
 *  +---------------------------------------------------------------+
 *  |                      req_id (echoed in the reply)             |  4
 *  +---------------------------------------------------------------+
 *  |                      tx_id (0 = no transaction)               |  8
 *  +---------------------------------------------------------------+
 *  |                      len (payload bytes, at most 4096)        | 12
 *  +---------------------------------------------------------------+
 *  |        payload: NUL-terminated strings, or a raw value       ... 16
 *  +---------------------------------------------------------------+
 * </pre>
 * A {@code len} above {@value #PAYLOAD_MAX} ({@code XENSTORE_PAYLOAD_MAX}) is a framing error that ends the
 * connection; every other malformation gets an {@link XsMessageType#ERROR} reply. The longest message is
 * {@value #MAX_MESSAGE_LENGTH} bytes, more than the 1024-byte XenStore ring, so messages are streamed through it.
 */
public final class XsWireDescriptor
{
    /** Offset of {@code type}. */
    public static final int TYPE_OFFSET = 0;

    /** Offset of {@code req_id}. */
    public static final int REQ_ID_OFFSET = 4;

    /** Offset of {@code tx_id}. */
    public static final int TX_ID_OFFSET = 8;

    /** Offset of {@code len}. */
    public static final int LEN_OFFSET = 12;

    /** Length of the header; the payload starts here. */
    public static final int HEADER_LENGTH = 16;

    /** Largest payload, {@code XENSTORE_PAYLOAD_MAX}. */
    public static final int PAYLOAD_MAX = 4096;

    /** Largest message, header included. */
    public static final int MAX_MESSAGE_LENGTH = HEADER_LENGTH + PAYLOAD_MAX;

    private XsWireDescriptor()
    {
    }

    /**
     * Reads {@code type}.
     *
     * @param buffer holding the header.
     * @param offset of the header.
     * @return the raw type code.
     */
    public static int type(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + TYPE_OFFSET, ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * Reads {@code req_id}.
     *
     * @param buffer holding the header.
     * @param offset of the header.
     * @return the request id, an unsigned 32-bit value.
     */
    public static int reqId(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + REQ_ID_OFFSET, ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * Reads {@code tx_id}.
     *
     * @param buffer holding the header.
     * @param offset of the header.
     * @return the transaction id, an unsigned 32-bit value.
     */
    public static int txId(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + TX_ID_OFFSET, ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * Reads {@code len}.
     *
     * @param buffer holding the header.
     * @param offset of the header.
     * @return the payload length, an unsigned 32-bit value.
     */
    public static int length(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + LEN_OFFSET, ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * Writes a header.
     *
     * @param buffer destination.
     * @param offset of the header.
     * @param type   raw type code.
     * @param reqId  request id.
     * @param txId   transaction id.
     * @param length payload length.
     */
    public static void putHeader(
        final MutableDirectBuffer buffer,
        final int offset,
        final int type,
        final int reqId,
        final int txId,
        final int length)
    {
        buffer.putInt(offset + TYPE_OFFSET, type, ByteOrder.LITTLE_ENDIAN);
        buffer.putInt(offset + REQ_ID_OFFSET, reqId, ByteOrder.LITTLE_ENDIAN);
        buffer.putInt(offset + TX_ID_OFFSET, txId, ByteOrder.LITTLE_ENDIAN);
        buffer.putInt(offset + LEN_OFFSET, length, ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * Whether a {@code len} field is acceptable.
     *
     * @param length the field, as an unsigned 32-bit value in an {@code int}.
     * @return true if {@code 0 <= length <= PAYLOAD_MAX} as unsigned numbers.
     */
    public static boolean isValidLength(final int length)
    {
        return Integer.compareUnsigned(length, PAYLOAD_MAX) <= 0;
    }
}
