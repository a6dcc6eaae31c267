package io.pvio.hypervisor.xenstore;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * One XenStore wire message, decoded into a private copy: the header fields and the payload bytes. See
 * {@link XsWireDescriptor} for the layout.
 * <p>
 * Strings on the wire are bytes with no declared encoding. Paths are ASCII; tokens and other strings are mapped
 * byte for byte to {@code char}s 0 to 255 (ISO-8859-1), so whatever a client sends comes back to it unchanged.
 * Instances are immutable.
 */
public final class XsMessage
{
    private static final byte[] OK_PAYLOAD = { 'O', 'K', 0 };

    private final int type;
    private final int reqId;
    private final int txId;
    private final byte[] payload;

    /**
     * Creates a message.
     *
     * @param type    raw type code, usually an {@link XsMessageType#code()}.
     * @param reqId   request id.
     * @param txId    transaction id, 0 for none.
     * @param payload the payload, at most {@value XsWireDescriptor#PAYLOAD_MAX} bytes; copied.
     * @throws IllegalArgumentException if the payload is too long.
     */
    public XsMessage(final int type, final int reqId, final int txId, final byte[] payload)
    {
        this(type, reqId, txId, payload.clone(), true);
    }

    private XsMessage(final int type, final int reqId, final int txId, final byte[] payload, final boolean check)
    {
        if (check && payload.length > XsWireDescriptor.PAYLOAD_MAX)
        {
            throw new IllegalArgumentException("payload too long: length=" + payload.length +
                " (expected: <= " + XsWireDescriptor.PAYLOAD_MAX + ")");
        }
        this.type = type;
        this.reqId = reqId;
        this.txId = txId;
        this.payload = payload;
    }

    /**
     * A message whose payload is the given strings, each followed by a NUL.
     *
     * @param type    the type.
     * @param reqId   request id.
     * @param txId    transaction id, 0 for none.
     * @param strings the strings; chars must be 1 to 255.
     * @return the message.
     * @throws IllegalArgumentException if the payload is too long or a char is out of range.
     */
    public static XsMessage of(final XsMessageType type, final int reqId, final int txId, final String... strings)
    {
        return new XsMessage(type.code(), reqId, txId, nulTerminated(strings), true);
    }

    /**
     * A {@link XsMessageType#WRITE} request: the path and a NUL, then the value.
     *
     * @param reqId request id.
     * @param txId  transaction id, 0 for none.
     * @param path  the node.
     * @param value the value, with no NUL added.
     * @return the message.
     * @throws IllegalArgumentException if the payload is too long.
     */
    public static XsMessage write(final int reqId, final int txId, final String path, final byte[] value)
    {
        final byte[] pathBytes = nulTerminated(path);
        final byte[] payload = Arrays.copyOf(pathBytes, pathBytes.length + value.length);
        System.arraycopy(value, 0, payload, pathBytes.length, value.length);
        return new XsMessage(XsMessageType.WRITE.code(), reqId, txId, payload, true);
    }

    /**
     * An {@link XsMessageType#ERROR} reply: the errno name and a NUL.
     *
     * @param reqId the request's id.
     * @param txId  the request's transaction id.
     * @param error the errno.
     * @return the message.
     */
    public static XsMessage error(final int reqId, final int txId, final XsError error)
    {
        return new XsMessage(XsMessageType.ERROR.code(), reqId, txId, error.wirePayload(), false);
    }

    /**
     * A success reply with no data, {@code "OK\0"}.
     *
     * @param type  the request's type.
     * @param reqId the request's id.
     * @param txId  the request's transaction id.
     * @return the message.
     */
    public static XsMessage ok(final int type, final int reqId, final int txId)
    {
        return new XsMessage(type, reqId, txId, OK_PAYLOAD, false);
    }

    /**
     * A {@link XsMessageType#WATCH_EVENT}: path and token, each followed by a NUL, with req_id and tx_id 0.
     *
     * @param event the event.
     * @return the message.
     */
    public static XsMessage watchEvent(final WatchEvent event)
    {
        return of(XsMessageType.WATCH_EVENT, 0, 0, event.path(), event.token());
    }

    /**
     * Decodes a complete message from a buffer, copying its payload.
     *
     * @param buffer    holding the message.
     * @param offset    of its header.
     * @param available bytes readable from {@code offset}.
     * @return the message.
     * @throws XenStoreProtocolException if {@code len} exceeds {@value XsWireDescriptor#PAYLOAD_MAX}.
     * @throws IllegalArgumentException if fewer than {@code 16 + len} bytes are available.
     */
    public static XsMessage decode(final DirectBuffer buffer, final int offset, final int available)
    {
        if (available < XsWireDescriptor.HEADER_LENGTH)
        {
            throw new IllegalArgumentException("incomplete header: available=" + available +
                " (expected: >= " + XsWireDescriptor.HEADER_LENGTH + ")");
        }
        final int length = XsWireDescriptor.length(buffer, offset);
        if (!XsWireDescriptor.isValidLength(length))
        {
            throw new XenStoreProtocolException(XenStoreRingDescriptor.ERROR_PROTOCOL,
                "payload length too large: len=" + Integer.toUnsignedString(length) + " (expected: <= " +
                XsWireDescriptor.PAYLOAD_MAX + ")");
        }
        if (available < XsWireDescriptor.HEADER_LENGTH + length)
        {
            throw new IllegalArgumentException("incomplete payload: available=" + available + ", len=" + length);
        }
        final byte[] payload = new byte[length];
        buffer.getBytes(offset + XsWireDescriptor.HEADER_LENGTH, payload);
        return new XsMessage(
            XsWireDescriptor.type(buffer, offset),
            XsWireDescriptor.reqId(buffer, offset),
            XsWireDescriptor.txId(buffer, offset),
            payload,
            false);
    }

    /**
     * Strings, each followed by a NUL, as one payload.
     *
     * @param strings the strings; chars must be 1 to 255.
     * @return the bytes.
     * @throws IllegalArgumentException if a char is NUL or above 255.
     */
    public static byte[] nulTerminated(final String... strings)
    {
        int length = 0;
        for (final String string : strings)
        {
            length += string.length() + 1;
        }
        final byte[] bytes = new byte[length];
        int position = 0;
        for (final String string : strings)
        {
            for (int i = 0; i < string.length(); i++)
            {
                final char c = string.charAt(i);
                if (0 == c || c > 0xFF)
                {
                    throw new IllegalArgumentException("character cannot be sent: code=" + (int)c + ", index=" + i +
                        " (expected: 1..255)");
                }
                bytes[position++] = (byte)c;
            }
            bytes[position++] = 0;
        }
        return bytes;
    }

    /**
     * The raw {@code type} field.
     *
     * @return the type code.
     */
    public int type()
    {
        return type;
    }

    /**
     * The type, if Xen defines the code.
     *
     * @return the type, or null for an unknown code.
     */
    public XsMessageType messageType()
    {
        return XsMessageType.fromCode(type);
    }

    /**
     * The {@code req_id} field.
     *
     * @return the request id.
     */
    public int reqId()
    {
        return reqId;
    }

    /**
     * The {@code tx_id} field.
     *
     * @return the transaction id, 0 for none.
     */
    public int txId()
    {
        return txId;
    }

    /**
     * The {@code len} field.
     *
     * @return the payload length.
     */
    public int payloadLength()
    {
        return payload.length;
    }

    /**
     * The payload.
     *
     * @return a copy of the payload bytes.
     */
    public byte[] payload()
    {
        return payload.clone();
    }

    /**
     * The payload as a string, byte for byte; for replies such as {@code READ} that carry raw data.
     *
     * @return the payload mapped to chars 0 to 255.
     */
    public String payloadString()
    {
        return new String(payload, StandardCharsets.ISO_8859_1);
    }

    /**
     * Splits the payload into its NUL-terminated strings.
     *
     * @return the strings, empty for an empty payload.
     * @throws XenStoreException with {@link XsError#EINVAL} if the payload does not end with a NUL.
     */
    public List<String> strings()
    {
        final byte[] payload = this.payload;
        if (0 == payload.length)
        {
            return Collections.emptyList();
        }
        if (0 != payload[payload.length - 1])
        {
            throw new XenStoreException(XsError.EINVAL, "unterminated string in payload: type=" + type +
                ", reqId=" + Integer.toUnsignedString(reqId) + ", len=" + payload.length);
        }
        final List<String> strings = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < payload.length; i++)
        {
            if (0 == payload[i])
            {
                strings.add(new String(payload, start, i - start, StandardCharsets.ISO_8859_1));
                start = i + 1;
            }
        }
        return strings;
    }

    /**
     * For an {@link XsMessageType#ERROR} reply, the errno it carries.
     *
     * @return the error, or null if this is not an error reply or the name is unknown.
     */
    public XsError error()
    {
        if (XsMessageType.ERROR.code() != type || 0 == payload.length || 0 != payload[payload.length - 1])
        {
            return null;
        }
        return XsError.fromWireName(new String(payload, 0, payload.length - 1, StandardCharsets.ISO_8859_1));
    }

    /**
     * Bytes this message takes on the wire.
     *
     * @return header plus payload length.
     */
    public int encodedLength()
    {
        return XsWireDescriptor.HEADER_LENGTH + payload.length;
    }

    /**
     * Encodes the message.
     *
     * @param buffer destination, with at least {@link #encodedLength()} bytes from {@code offset}.
     * @param offset where the header goes.
     * @return bytes written.
     */
    public int encode(final MutableDirectBuffer buffer, final int offset)
    {
        XsWireDescriptor.putHeader(buffer, offset, type, reqId, txId, payload.length);
        buffer.putBytes(offset + XsWireDescriptor.HEADER_LENGTH, payload);
        return XsWireDescriptor.HEADER_LENGTH + payload.length;
    }

    /**
     * {@inheritDoc}
     */
    @Override
    public boolean equals(final Object other)
    {
        if (this == other)
        {
            return true;
        }
        if (!(other instanceof XsMessage))
        {
            return false;
        }
        final XsMessage that = (XsMessage)other;
        return type == that.type && reqId == that.reqId && txId == that.txId && Arrays.equals(payload, that.payload);
    }

    /**
     * {@inheritDoc}
     */
    @Override
    public int hashCode()
    {
        return ((31 * type + reqId) * 31 + txId) * 31 + Arrays.hashCode(payload);
    }

    /**
     * {@inheritDoc}
     */
    @Override
    public String toString()
    {
        final XsMessageType messageType = messageType();
        final String text = payloadString().replace('\0', '|');
        return "XsMessage{type=" + (null == messageType ? Integer.toUnsignedString(type) : messageType.name()) +
            ", reqId=" + Integer.toUnsignedString(reqId) + ", txId=" + Integer.toUnsignedString(txId) +
            ", len=" + payload.length + ", payload=" + XenStorePath.quote(text) + "}";
    }
}
