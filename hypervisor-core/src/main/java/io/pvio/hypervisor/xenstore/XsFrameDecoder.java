package io.pvio.hypervisor.xenstore;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Reassembles wire messages from a byte stream that delivers them in pieces, as the 1024-byte XenStore ring does.
 * Bytes are copied once into a private buffer, so the peer cannot change a message after it has been checked.
 * <p>
 * The header's {@code len} is checked as soon as the header is complete: more than
 * {@value XsWireDescriptor#PAYLOAD_MAX} is a framing error ({@link XenStoreProtocolException} with
 * {@link XenStoreRingDescriptor#ERROR_PROTOCOL}) after which the stream cannot be resynchronised and the decoder
 * refuses more bytes. Feed it either with {@link #offer(DirectBuffer, int, int)} or by copying at most
 * {@link #wanted()} bytes into {@link #buffer()} at {@link #position()} and calling {@link #advance(int)}.
 */
public final class XsFrameDecoder
{
    private final UnsafeBuffer buffer = new UnsafeBuffer(new byte[XsWireDescriptor.MAX_MESSAGE_LENGTH]);
    private int position;
    private int messageLength = -1;
    private XenStoreProtocolException broken;

    /**
     * The private reassembly buffer.
     *
     * @return the buffer; bytes go at {@link #position()}.
     */
    public MutableDirectBuffer buffer()
    {
        return buffer;
    }

    /**
     * Bytes of the current message held so far.
     *
     * @return the write position in {@link #buffer()}.
     */
    public int position()
    {
        return position;
    }

    /**
     * Bytes still needed to complete the header, or, once it is complete, the message.
     *
     * @return the count; 0 when a complete message is waiting to be {@linkplain #take() taken}, or after a framing
     *         error.
     */
    public int wanted()
    {
        if (null != broken)
        {
            return 0;
        }
        if (messageLength < 0)
        {
            return XsWireDescriptor.HEADER_LENGTH - position;
        }
        return messageLength - position;
    }

    /**
     * Whether a complete message is held.
     *
     * @return true if {@link #take()} will return a message.
     */
    public boolean isComplete()
    {
        return null == broken && messageLength >= 0 && position == messageLength;
    }

    /**
     * Accounts for bytes copied into {@link #buffer()} at {@link #position()}.
     *
     * @param count bytes added, at most {@link #wanted()}.
     * @throws XenStoreProtocolException if the header just completed declares a payload that is too long, or the
     *                                   decoder already failed.
     * @throws IllegalArgumentException if {@code count} is negative or more than {@link #wanted()}.
     */
    public void advance(final int count)
    {
        checkNotBroken();
        if (count < 0 || count > wanted())
        {
            throw new IllegalArgumentException("count out of range: count=" + count + ", wanted=" + wanted());
        }
        position += count;
        if (messageLength < 0 && XsWireDescriptor.HEADER_LENGTH == position)
        {
            final int length = XsWireDescriptor.length(buffer, 0);
            if (!XsWireDescriptor.isValidLength(length))
            {
                broken = new XenStoreProtocolException(XenStoreRingDescriptor.ERROR_PROTOCOL,
                    "payload length too large: len=" + Integer.toUnsignedString(length) + " (expected: <= " +
                    XsWireDescriptor.PAYLOAD_MAX + "), type=" + Integer.toUnsignedString(
                    XsWireDescriptor.type(buffer, 0)) + ", reqId=" +
                    Integer.toUnsignedString(XsWireDescriptor.reqId(buffer, 0)));
                throw broken;
            }
            messageLength = XsWireDescriptor.HEADER_LENGTH + length;
        }
    }

    /**
     * Copies as many bytes as the current message still needs.
     *
     * @param source       the stream bytes.
     * @param sourceOffset where they start.
     * @param length       how many are available.
     * @return bytes taken, at most {@code length}; the caller offers the rest after {@link #take()}.
     * @throws XenStoreProtocolException on a framing error.
     */
    public int offer(final DirectBuffer source, final int sourceOffset, final int length)
    {
        int taken = 0;
        while (taken < length && wanted() > 0)
        {
            final int count = Math.min(wanted(), length - taken);
            buffer.putBytes(position, source, sourceOffset + taken, count);
            advance(count);
            taken += count;
        }
        checkNotBroken();
        return taken;
    }

    /**
     * Returns the complete message and starts on the next.
     *
     * @return the message.
     * @throws IllegalStateException if no complete message is held.
     */
    public XsMessage take()
    {
        if (!isComplete())
        {
            throw new IllegalStateException("no complete message: position=" + position + ", messageLength=" +
                messageLength);
        }
        final XsMessage message = XsMessage.decode(buffer, 0, position);
        position = 0;
        messageLength = -1;
        return message;
    }

    /**
     * Whether a framing error has stopped the decoder.
     *
     * @return true after a payload length over the limit.
     */
    public boolean isBroken()
    {
        return null != broken;
    }

    private void checkNotBroken()
    {
        if (null != broken)
        {
            throw broken;
        }
    }
}
