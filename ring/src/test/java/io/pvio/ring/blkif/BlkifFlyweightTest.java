package io.pvio.ring.blkif;

import java.util.Arrays;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

class BlkifFlyweightTest
{
    private static final int BASE = 40;

    private final byte[] bytes = new byte[BASE + 112 + 24];
    private final UnsafeBuffer buffer = new UnsafeBuffer(bytes);
    private final BlkifRequestFlyweight request = new BlkifRequestFlyweight();
    private final BlkifResponseFlyweight response = new BlkifResponseFlyweight();
    private final BlkifSegmentFlyweight segments = new BlkifSegmentFlyweight();

    @Test
    void shouldRoundTripDirectRequestFieldsWhenWrappedAtAnOffset()
    {
        request.wrap(buffer, BASE)
            .operation(BlkifOp.WRITE)
            .nrSegments(11)
            .handle(0xCAFE)
            .id(0x8877_6655_4433_2211L)
            .sectorNumber(-2L);
        for (int i = 0; i < 11; i++)
        {
            request.segment(i, 0xF000_0000 + i, i % 8, 7);
        }

        assertEquals(1, request.operation());
        assertEquals(11, request.nrSegments());
        assertEquals(0xCAFE, request.handle());
        assertEquals(0x8877_6655_4433_2211L, request.id());
        assertEquals(-2L, request.sectorNumber());
        for (int i = 0; i < 11; i++)
        {
            assertEquals(0xF000_0000 + i, request.segmentGref(i));
            assertEquals(i % 8, request.segmentFirstSect(i));
            assertEquals(7, request.segmentLastSect(i));
        }
        assertEquals(0, buffer.getByte(BASE - 1), "nothing written before the request");
        assertEquals(0, buffer.getByte(BASE + 112), "nothing written after the request");
    }

    @Test
    void shouldWriteLittleEndianBytesAtTheHeaderOffsets()
    {
        request.wrap(buffer, 0)
            .operation((byte)0xFE)
            .nrSegments(0x81)
            .handle(0x0102)
            .id(0x0807_0605_0403_0201L)
            .sectorNumber(0x1817_1615_1413_1211L)
            .segment(0, 0x2423_2221, 3, 6)
            .segment(10, 0x2827_2625, 0, 7);

        final byte[] expected = new byte[112];
        expected[0] = (byte)0xFE;
        expected[1] = (byte)0x81;
        expected[2] = 0x02;
        expected[3] = 0x01;
        for (int i = 0; i < 8; i++)
        {
            expected[8 + i] = (byte)(i + 1);
            expected[16 + i] = (byte)(0x11 + i);
        }
        expected[24] = 0x21;
        expected[25] = 0x22;
        expected[26] = 0x23;
        expected[27] = 0x24;
        expected[28] = 3;
        expected[29] = 6;
        expected[104] = 0x25;
        expected[105] = 0x26;
        expected[106] = 0x27;
        expected[107] = 0x28;
        expected[108] = 0;
        expected[109] = 7;
        assertArrayEquals(expected, Arrays.copyOf(bytes, 112));
        assertEquals(0xFE, request.operation(), "u8 widens unsigned");
        assertEquals(0x81, request.nrSegments(), "u8 widens unsigned");
    }

    @Test
    void shouldSetSegmentFieldsOneAtATime()
    {
        request.wrap(buffer, BASE).segmentGref(4, -1).segmentFirstSect(4, 255).segmentLastSect(4, 128);

        assertEquals(-1, request.segmentGref(4));
        assertEquals(255, request.segmentFirstSect(4));
        assertEquals(128, request.segmentLastSect(4));
        assertEquals(0, request.segmentGref(3));
        assertEquals(0, request.segmentGref(5));
    }

    @Test
    void shouldZeroSegmentPaddingWhenWritingWholeSegment()
    {
        Arrays.fill(bytes, (byte)0xAA);
        request.wrap(buffer, BASE).segment(2, 9, 1, 2);

        final int seg = BASE + BlkifRequestDescriptor.segmentOffset(2);
        assertEquals(0, buffer.getShort(seg + BlkifRequestDescriptor.SEGMENT_PAD_OFFSET));
        assertEquals((byte)0xAA, buffer.getByte(seg - 1));
        assertEquals((byte)0xAA, buffer.getByte(seg + 8));
    }

    @Test
    void shouldRoundTripDiscardFieldsWhereTheyOverlapTheDirectLayout()
    {
        request.wrap(buffer, BASE)
            .operation(BlkifOp.DISCARD)
            .discardFlag(BlkifRequestDescriptor.DISCARD_SECURE)
            .handle(7)
            .id(99)
            .sectorNumber(2048)
            .discardNrSectors(-1L);

        assertEquals(5, request.operation());
        assertEquals(1, request.discardFlag());
        assertEquals(1, request.nrSegments(), "flag shares byte 1 with nr_segments");
        assertEquals(7, request.handle());
        assertEquals(99, request.id());
        assertEquals(2048, request.sectorNumber());
        assertEquals(-1L, request.discardNrSectors());
        assertEquals(-1, request.segmentGref(0), "nr_sectors shares bytes 24..31 with seg[0]");
    }

    @Test
    void shouldRoundTripIndirectFieldsAtTheirOwnOffsets()
    {
        request.wrap(buffer, BASE)
            .clear()
            .operation(BlkifOp.INDIRECT)
            .indirectOp(BlkifOp.WRITE)
            .indirectNrSegments(0xFFFF)
            .id(1234)
            .sectorNumber(5678)
            .indirectHandle(0xBEEF);
        for (int p = 0; p < 8; p++)
        {
            request.indirectGref(p, 0x100 + p);
        }

        assertEquals(6, request.operation());
        assertEquals(1, request.indirectOp());
        assertEquals(0xFFFF, request.indirectNrSegments());
        assertEquals(1234, request.id());
        assertEquals(5678, request.sectorNumber());
        assertEquals(0xBEEF, request.indirectHandle());
        for (int p = 0; p < 8; p++)
        {
            assertEquals(0x100 + p, request.indirectGref(p));
            assertEquals(0x100 + p, buffer.getInt(BASE + 28 + 4 * p, java.nio.ByteOrder.LITTLE_ENDIAN));
        }
        assertEquals(0xBEEF, buffer.getShort(BASE + 24, java.nio.ByteOrder.LITTLE_ENDIAN) & 0xFFFF);
        assertEquals(0xFFFF, buffer.getShort(BASE + 2, java.nio.ByteOrder.LITTLE_ENDIAN) & 0xFFFF);
        assertEquals(0, buffer.getShort(BASE + 26), "pad between handle and indirect_grefs untouched");
        assertEquals(0, buffer.getInt(BASE + 60), "tail pad untouched");
    }

    @Test
    void shouldZeroAll112BytesOnClear()
    {
        Arrays.fill(bytes, (byte)0xAA);
        request.wrap(buffer, BASE).clear();

        for (int i = 0; i < bytes.length; i++)
        {
            final boolean inside = i >= BASE && i < BASE + 112;
            assertEquals(inside ? 0 : (byte)0xAA, bytes[i], "byte " + i);
        }
    }

    @Test
    void shouldRejectWrapWhenRequestDoesNotFitTheBuffer()
    {
        assertThrows(IndexOutOfBoundsException.class, () -> request.wrap(buffer, bytes.length - 111));
        assertThrows(IndexOutOfBoundsException.class, () -> request.wrap(new UnsafeBuffer(new byte[111]), 0));
    }

    @ParameterizedTest
    @ValueSource(ints = { -1, 256, 0x1_0000 })
    void shouldRejectU8SetterWhenValueDoesNotFit(final int value)
    {
        request.wrap(buffer, BASE);
        final IllegalArgumentException ex = assertThrows(
            IllegalArgumentException.class, () -> request.nrSegments(value));
        assertEquals(
            "nrSegments does not fit a u8: nrSegments=" + value + " (expected: 0 <= nrSegments <= 255)",
            ex.getMessage());
        assertThrows(IllegalArgumentException.class, () -> request.segmentFirstSect(0, value));
        assertThrows(IllegalArgumentException.class, () -> request.segmentLastSect(0, value));
        assertThrows(IllegalArgumentException.class, () -> request.segment(0, 1, value, 0));
        assertThrows(IllegalArgumentException.class, () -> request.discardFlag(value));
        assertEquals(0, buffer.getLong(BASE + 24), "a refused segment write changes nothing");
    }

    @ParameterizedTest
    @ValueSource(ints = { -1, 0x1_0000 })
    void shouldRejectU16SetterWhenValueDoesNotFit(final int value)
    {
        request.wrap(buffer, BASE);
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> request.handle(value));
        assertEquals(
            "handle does not fit a u16: handle=" + value + " (expected: 0 <= handle <= 65535)", ex.getMessage());
        assertThrows(IllegalArgumentException.class, () -> request.indirectNrSegments(value));
        assertThrows(IllegalArgumentException.class, () -> request.indirectHandle(value));
    }

    @Test
    void shouldRejectSegmentAndPageIndexesOutOfRange()
    {
        request.wrap(buffer, BASE);
        assertThrows(IllegalArgumentException.class, () -> request.segmentGref(11));
        assertThrows(IllegalArgumentException.class, () -> request.segmentFirstSect(-1));
        assertThrows(IllegalArgumentException.class, () -> request.segment(11, 0, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> request.indirectGref(8));
        assertThrows(IllegalArgumentException.class, () -> request.indirectGref(-1, 0));
    }

    @Test
    void shouldWriteEvery16BytesOfResponseIncludingPadding()
    {
        Arrays.fill(bytes, (byte)0xAA);
        response.wrap(buffer, BASE).write(0x0102_0304_0506_0708L, 6, BlkifStatus.EOPNOTSUPP);

        final byte[] expected = {
            0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,
            0x06, 0x00, (byte)0xFE, (byte)0xFF,
            0x00, 0x00, 0x00, 0x00 };
        assertArrayEquals(expected, Arrays.copyOfRange(bytes, BASE, BASE + 16));
        assertEquals((byte)0xAA, bytes[BASE - 1], "nothing before the response");
        assertEquals((byte)0xAA, bytes[BASE + 16], "nothing after the response");
        assertEquals(0x0102_0304_0506_0708L, response.id());
        assertEquals(6, response.operation());
        assertEquals(-2, response.status());
    }

    @Test
    void shouldOverwriteStaleRequestBytesWhenAnsweringInPlace()
    {
        request.wrap(buffer, BASE).operation(BlkifOp.READ).nrSegments(1).handle(0xFFFF).id(-1L);
        Arrays.fill(bytes, BASE + 8, BASE + 112, (byte)0xAA);

        response.wrap(buffer, BASE).write(-1L, 0xFF, (short)0x7FFF);

        assertEquals(-1L, response.id());
        assertEquals(0xFF, response.operation());
        assertEquals(0x7FFF, response.status());
        assertEquals(0, bytes[BASE + 9], "pad after operation");
        assertEquals(0, buffer.getInt(BASE + 12), "tail pad");
    }

    @Test
    void shouldRejectResponseOperationWhenItDoesNotFitAU8()
    {
        response.wrap(buffer, BASE);
        final IllegalArgumentException ex = assertThrows(
            IllegalArgumentException.class, () -> response.write(1, 256, BlkifStatus.OKAY));
        assertEquals(
            "operation does not fit a u8: operation=256 (expected: 0 <= operation <= 255)", ex.getMessage());
    }

    @Test
    void shouldRoundTripSegmentsAcrossAWholeIndirectPage()
    {
        final UnsafeBuffer page = new UnsafeBuffer(new byte[4096 + 16]);
        page.setMemory(0, page.capacity(), (byte)0xAA);
        segments.wrapPage(page, 8);
        assertEquals(512, segments.count());
        for (int i = 0; i < 512; i++)
        {
            segments.segment(i, i * 3, i % 8, 7);
        }

        for (int i = 0; i < 512; i++)
        {
            assertEquals(i * 3, segments.gref(i));
            assertEquals(i % 8, segments.firstSect(i));
            assertEquals(7, segments.lastSect(i));
            assertEquals(0, page.getShort(8 + i * 8 + 6), "pad of segment " + i);
        }
        assertEquals(0xAAAA_AAAA_AAAA_AAAAL, page.getLong(0), "nothing before the page");
        assertEquals(0xAAAA_AAAA_AAAA_AAAAL, page.getLong(8 + 4096), "nothing after the page");
        assertEquals(511 * 3, page.getInt(8 + 511 * 8, java.nio.ByteOrder.LITTLE_ENDIAN));
    }

    @Test
    void shouldRejectSegmentIndexBeyondWrappedCount()
    {
        final UnsafeBuffer copy = new UnsafeBuffer(new byte[10 * 8]);
        assertSame(segments, segments.wrap(copy, 0, 10));

        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> segments.gref(10));
        assertEquals("segment out of range: index=10 (expected: 0 <= index < 10)", ex.getMessage());
        assertThrows(IllegalArgumentException.class, () -> segments.firstSect(-1));
        assertThrows(IllegalArgumentException.class, () -> segments.segment(10, 0, 0, 0));
    }

    @ParameterizedTest
    @ValueSource(ints = { 0, -1, 4097 })
    void shouldRejectSegmentCountWhenOutsideOneTo4096(final int count)
    {
        final IllegalArgumentException ex = assertThrows(
            IllegalArgumentException.class, () -> segments.wrap(new UnsafeBuffer(new byte[64 * 1024]), 0, count));
        assertEquals("segment count out of range: count=" + count + " (expected: 1 <= count <= 4096)", ex.getMessage());
    }

    @Test
    void shouldRejectSegmentWrapWhenSegmentsDoNotFitTheBuffer()
    {
        assertThrows(IndexOutOfBoundsException.class, () -> segments.wrap(new UnsafeBuffer(new byte[79]), 0, 10));
        assertThrows(IndexOutOfBoundsException.class, () -> segments.wrapPage(new UnsafeBuffer(new byte[4096]), 1));
    }
}
