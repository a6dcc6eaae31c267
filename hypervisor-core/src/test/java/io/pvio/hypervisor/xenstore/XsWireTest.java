package io.pvio.hypervisor.xenstore;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class XsWireTest
{
    private final UnsafeBuffer buffer = new UnsafeBuffer(new byte[3 * XsWireDescriptor.MAX_MESSAGE_LENGTH]);

    @Test
    void shouldLayOutHeaderAsXsdSockmsg()
    {
        final XsMessage message = XsMessage.of(XsMessageType.READ, 0x01020304, 0x0A0B0C0D, "a");
        assertEquals(18, message.encode(buffer, 0));

        final ByteBuffer raw = ByteBuffer.wrap(buffer.byteArray()).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(2, raw.getInt(0), "type");
        assertEquals(0x01020304, raw.getInt(4), "req_id");
        assertEquals(0x0A0B0C0D, raw.getInt(8), "tx_id");
        assertEquals(2, raw.getInt(12), "len");
        assertEquals('a', raw.get(16));
        assertEquals(0, raw.get(17));
        assertEquals(4, raw.get(4), "little-endian");
    }

    @Test
    void shouldNumberTypesAsXsWireH()
    {
        assertEquals(0, XsMessageType.CONTROL.code());
        assertEquals(1, XsMessageType.DIRECTORY.code());
        assertEquals(7, XsMessageType.TRANSACTION_END.code());
        assertEquals(11, XsMessageType.WRITE.code());
        assertEquals(14, XsMessageType.SET_PERMS.code());
        assertEquals(15, XsMessageType.WATCH_EVENT.code());
        assertEquals(16, XsMessageType.ERROR.code());
        assertEquals(21, XsMessageType.RESET_WATCHES.code());
        assertEquals(22, XsMessageType.DIRECTORY_PART.code());
        assertNull(XsMessageType.fromCode(20), "XS_RESTRICT was removed");
        assertNull(XsMessageType.fromCode(23));
        assertNull(XsMessageType.fromCode(-1));
        assertSame(XsMessageType.INVALID, XsMessageType.fromCode(0xFFFF));
    }

    @ParameterizedTest
    @EnumSource(XsMessageType.class)
    void shouldRoundTripEveryType(final XsMessageType type)
    {
        final XsMessage message = XsMessage.of(type, -1, 77, "/local/domain/1", "tok\u00ff");
        final int length = message.encode(buffer, 5);
        final XsMessage decoded = XsMessage.decode(buffer, 5, length);
        assertEquals(message, decoded);
        assertSame(type, decoded.messageType());
        assertEquals(List.of("/local/domain/1", "tok\u00ff"), decoded.strings());
        assertEquals("4294967295", Integer.toUnsignedString(decoded.reqId()));
    }

    @Test
    void shouldRoundTripWriteWithBinaryValueAndMaxPayload()
    {
        final byte[] value = new byte[XsWireDescriptor.PAYLOAD_MAX - 3];
        value[0] = 0;
        value[value.length - 1] = (byte)0xFF;
        final XsMessage write = XsMessage.write(9, 0, "/a", value);
        assertEquals(XsWireDescriptor.PAYLOAD_MAX, write.payloadLength());
        final XsMessage decoded = XsMessage.decode(buffer, 0, write.encode(buffer, 0));
        assertArrayEquals(write.payload(), decoded.payload());
        assertThrows(IllegalArgumentException.class, () -> XsMessage.write(9, 0, "/ab", value));
    }

    @Test
    void shouldEncodeErrorAndOkReplies()
    {
        final XsMessage error = XsMessage.error(3, 4, XsError.ENOENT);
        assertEquals(XsMessageType.ERROR.code(), error.type());
        assertArrayEquals("ENOENT\0".getBytes(StandardCharsets.US_ASCII), error.payload());
        assertSame(XsError.ENOENT, error.error());
        assertArrayEquals("OK\0".getBytes(StandardCharsets.US_ASCII), XsMessage.ok(11, 3, 0).payload());
        assertNull(XsMessage.ok(11, 3, 0).error());
        final XsMessage event = XsMessage.watchEvent(new WatchEvent("/a", "t"));
        assertEquals(List.of("/a", "t"), event.strings());
        assertEquals(0, event.reqId());
    }

    @Test
    void shouldRejectUnterminatedStringWithEinval()
    {
        final byte[] payload = "abc".getBytes(StandardCharsets.US_ASCII);
        final XsMessage message = new XsMessage(XsMessageType.READ.code(), 1, 0, payload);
        final XenStoreException ex = assertThrows(XenStoreException.class, message::strings);
        assertEquals("EINVAL: unterminated string in payload: type=2, reqId=1, len=3", ex.getMessage());
        assertEquals(List.of(), new XsMessage(2, 1, 0, new byte[0]).strings());
    }

    @Test
    void shouldRefuseToBuildUnsendableStrings()
    {
        assertThrows(IllegalArgumentException.class, () -> XsMessage.nulTerminated("a\u0000b"));
        assertThrows(IllegalArgumentException.class, () -> XsMessage.nulTerminated("\u0100"));
        assertThrows(IllegalArgumentException.class, () -> new XsMessage(2, 0, 0, new byte[4097]));
    }

    @Test
    void shouldReassembleMessagesFedOneByteAtATime()
    {
        final XsMessage first = XsMessage.of(XsMessageType.WATCH, 1, 0, "/a", "t");
        final XsMessage second = XsMessage.write(2, 5, "/b", new byte[] { 1, 2, 3 });
        final XsMessage empty = new XsMessage(XsMessageType.RESET_WATCHES.code(), 3, 0, new byte[0]);
        int length = first.encode(buffer, 0);
        length += second.encode(buffer, length);
        length += empty.encode(buffer, length);

        final XsFrameDecoder decoder = new XsFrameDecoder();
        final List<XsMessage> decoded = new ArrayList<>();
        for (int i = 0; i < length; i++)
        {
            assertEquals(1, decoder.offer(buffer, i, 1));
            if (decoder.isComplete())
            {
                decoded.add(decoder.take());
            }
        }
        assertEquals(List.of(first, second, empty), decoded);
        assertEquals(16, decoder.wanted());
    }

    @Test
    void shouldTakeOnlyWhatTheCurrentMessageNeeds()
    {
        final XsMessage first = XsMessage.of(XsMessageType.READ, 1, 0, "/a");
        final XsMessage second = XsMessage.of(XsMessageType.READ, 2, 0, "/b");
        final int firstLength = first.encode(buffer, 0);
        final int length = firstLength + second.encode(buffer, firstLength);
        final XsFrameDecoder decoder = new XsFrameDecoder();
        assertEquals(firstLength, decoder.offer(buffer, 0, length));
        assertEquals(first, decoder.take());
        assertEquals(length - firstLength, decoder.offer(buffer, firstLength, length - firstLength));
        assertEquals(second, decoder.take());
        assertThrows(IllegalStateException.class, decoder::take);
    }

    @ParameterizedTest
    @ValueSource(ints = { XsWireDescriptor.PAYLOAD_MAX + 1, 0x7FFF_FFFF, -1 })
    void shouldFailFramingWhenLengthExceedsPayloadMax(final int length)
    {
        XsWireDescriptor.putHeader(buffer, 0, XsMessageType.READ.code(), 7, 0, length);
        final XsFrameDecoder decoder = new XsFrameDecoder();
        final XenStoreProtocolException ex =
            assertThrows(XenStoreProtocolException.class, () -> decoder.offer(buffer, 0, 20));
        assertEquals(XenStoreRingDescriptor.ERROR_PROTOCOL, ex.ringError());
        assertEquals("payload length too large: len=" + Integer.toUnsignedString(length) +
            " (expected: <= 4096), type=2, reqId=7", ex.getMessage());
        assertTrue(decoder.isBroken());
        assertFalse(decoder.isComplete());
        assertEquals(0, decoder.wanted());
        assertThrows(XenStoreProtocolException.class, () -> decoder.offer(buffer, 16, 1), "stays broken");
        assertThrows(XenStoreProtocolException.class, () -> XsMessage.decode(buffer, 0, 20));
    }

    @Test
    void shouldAcceptLengthOfExactlyPayloadMax()
    {
        assertTrue(XsWireDescriptor.isValidLength(XsWireDescriptor.PAYLOAD_MAX));
        assertFalse(XsWireDescriptor.isValidLength(XsWireDescriptor.PAYLOAD_MAX + 1));
        assertFalse(XsWireDescriptor.isValidLength(Integer.MIN_VALUE));
        XsWireDescriptor.putHeader(buffer, 0, XsMessageType.WRITE.code(), 1, 0, XsWireDescriptor.PAYLOAD_MAX);
        final XsFrameDecoder decoder = new XsFrameDecoder();
        assertEquals(XsWireDescriptor.MAX_MESSAGE_LENGTH,
            decoder.offer(buffer, 0, XsWireDescriptor.MAX_MESSAGE_LENGTH + 100));
        assertEquals(XsWireDescriptor.PAYLOAD_MAX, decoder.take().payloadLength());
    }

    @Test
    void shouldRejectAdvancePastWanted()
    {
        final XsFrameDecoder decoder = new XsFrameDecoder();
        assertThrows(IllegalArgumentException.class, () -> decoder.advance(17));
        assertThrows(IllegalArgumentException.class, () -> decoder.advance(-1));
        assertThrows(IllegalArgumentException.class, () -> XsMessage.decode(buffer, 0, 15));
    }
}
