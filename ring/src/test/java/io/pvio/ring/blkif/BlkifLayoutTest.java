package io.pvio.ring.blkif;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import io.pvio.ring.RingGeometry;
import io.pvio.ring.SharedRingDescriptor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Pins every offset, size and code to the numbers gcc 12.2 printed for Xen 4.17's {@code io/blkif.h} on x86_64
 * ({@code src/test/c/blkif_layout.c}); {@link BlkifHeaderLayoutTest} repeats the comparison against the header
 * installed on the machine running the tests.
 */
class BlkifLayoutTest
{
    @Test
    void shouldPlaceRequestFieldsWhereBlkifHDoes()
    {
        assertEquals(0, BlkifRequestDescriptor.OPERATION_OFFSET);
        assertEquals(1, BlkifRequestDescriptor.NR_SEGMENTS_OFFSET);
        assertEquals(2, BlkifRequestDescriptor.HANDLE_OFFSET);
        assertEquals(4, BlkifRequestDescriptor.PAD_OFFSET);
        assertEquals(4, BlkifRequestDescriptor.PAD_LENGTH);
        assertEquals(8, BlkifRequestDescriptor.ID_OFFSET);
        assertEquals(16, BlkifRequestDescriptor.SECTOR_NUMBER_OFFSET);
        assertEquals(24, BlkifRequestDescriptor.SEGMENTS_OFFSET);
        assertEquals(112, BlkifRequestDescriptor.REQUEST_LENGTH);
        assertEquals(8, BlkifRequestDescriptor.ALIGNMENT);
        assertEquals(
            BlkifRequestDescriptor.REQUEST_LENGTH,
            BlkifRequestDescriptor.SEGMENTS_OFFSET +
            BlkifRequestDescriptor.MAX_SEGMENTS_PER_REQUEST * BlkifRequestDescriptor.SEGMENT_LENGTH,
            "seg[11] ends the struct with no tail padding");
    }

    @Test
    void shouldPlaceSegmentFieldsWhereBlkifHDoes()
    {
        assertEquals(0, BlkifRequestDescriptor.SEGMENT_GREF_OFFSET);
        assertEquals(4, BlkifRequestDescriptor.SEGMENT_FIRST_SECT_OFFSET);
        assertEquals(5, BlkifRequestDescriptor.SEGMENT_LAST_SECT_OFFSET);
        assertEquals(6, BlkifRequestDescriptor.SEGMENT_PAD_OFFSET);
        assertEquals(8, BlkifRequestDescriptor.SEGMENT_LENGTH);
    }

    @Test
    void shouldPlaceDiscardFieldsWhereBlkifHDoes()
    {
        assertEquals(1, BlkifRequestDescriptor.DISCARD_FLAG_OFFSET);
        assertEquals(24, BlkifRequestDescriptor.DISCARD_NR_SECTORS_OFFSET);
        assertEquals(32, BlkifRequestDescriptor.DISCARD_LENGTH);
        assertEquals(1, BlkifRequestDescriptor.DISCARD_SECURE);
    }

    @Test
    void shouldPlaceIndirectFieldsWhereBlkifHDoes()
    {
        assertEquals(1, BlkifRequestDescriptor.INDIRECT_OP_OFFSET);
        assertEquals(2, BlkifRequestDescriptor.INDIRECT_NR_SEGMENTS_OFFSET);
        assertEquals(24, BlkifRequestDescriptor.INDIRECT_HANDLE_OFFSET);
        assertEquals(28, BlkifRequestDescriptor.INDIRECT_GREFS_OFFSET);
        assertEquals(64, BlkifRequestDescriptor.INDIRECT_LENGTH);
        assertEquals(
            60,
            BlkifRequestDescriptor.INDIRECT_GREFS_OFFSET + 4 * BlkifRequestDescriptor.MAX_INDIRECT_PAGES_PER_REQUEST,
            "fields end at 60; x86_64 pads to 64");
    }

    @Test
    void shouldPlaceResponseFieldsWhereBlkifHDoes()
    {
        assertEquals(0, BlkifResponseDescriptor.ID_OFFSET);
        assertEquals(8, BlkifResponseDescriptor.OPERATION_OFFSET);
        assertEquals(9, BlkifResponseDescriptor.PAD_OFFSET);
        assertEquals(10, BlkifResponseDescriptor.STATUS_OFFSET);
        assertEquals(12, BlkifResponseDescriptor.TAIL_PAD_OFFSET);
        assertEquals(4, BlkifResponseDescriptor.TAIL_PAD_LENGTH);
        assertEquals(16, BlkifResponseDescriptor.RESPONSE_LENGTH);
    }

    @Test
    void shouldDefineLimitsAndUnitsAsBlkifHDoes()
    {
        assertEquals(11, BlkifRequestDescriptor.MAX_SEGMENTS_PER_REQUEST);
        assertEquals(8, BlkifRequestDescriptor.MAX_INDIRECT_PAGES_PER_REQUEST);
        assertEquals(512, BlkifRequestDescriptor.SEGMENTS_PER_INDIRECT_FRAME);
        assertEquals(4096, BlkifRequestDescriptor.MAX_INDIRECT_SEGMENTS);
        assertEquals(512, BlkifRequestDescriptor.SECTOR_SIZE);
        assertEquals(BlkifRequestDescriptor.SECTOR_SIZE, 1 << BlkifRequestDescriptor.SECTOR_SHIFT);
        assertEquals(8, BlkifRequestDescriptor.SECTORS_PER_PAGE);
        assertEquals(7, BlkifRequestDescriptor.MAX_SECT);
        assertEquals(32, BlkifRequestDescriptor.RING_ENTRIES_PER_PAGE);
    }

    @ParameterizedTest(name = "{0} pages hold {1} requests")
    @CsvSource({ "1, 32", "2, 64", "4, 128", "8, 256", "16, 512" })
    void shouldHold32RequestsPerPage(final int pages, final int entries)
    {
        final RingGeometry geometry = BlkifRequestDescriptor.blkifRing(pages);

        assertEquals(entries, geometry.size());
        assertEquals(112, geometry.entryBytes());
        assertEquals(112, geometry.requestBytes());
        assertEquals(16, geometry.responseBytes());
        assertEquals(pages * SharedRingDescriptor.PAGE_SIZE, geometry.ringBytes());
        assertEquals(RingGeometry.ofPages(pages, 112, 16, 8), geometry);
        assertTrue(
            SharedRingDescriptor.HEADER_LENGTH + entries * 112 <= pages * 4096, "entries fit after the header");
    }

    @Test
    void shouldHoldExactly32RequestsInOnePageRing()
    {
        assertEquals(BlkifRequestDescriptor.RING_ENTRIES_PER_PAGE, BlkifRequestDescriptor.blkifRing(1).size());
        assertEquals(3648, SharedRingDescriptor.HEADER_LENGTH + 32 * BlkifRequestDescriptor.REQUEST_LENGTH);
    }

    @ParameterizedTest
    @ValueSource(ints = { 0, 3, 32 })
    void shouldRejectBlkifRingWhenPagesAreNotAPowerOfTwoUpTo16(final int pages)
    {
        assertThrows(IllegalArgumentException.class, () -> BlkifRequestDescriptor.blkifRing(pages));
    }

    @Test
    void shouldLocateSegmentsAndIndirectGrefs()
    {
        assertEquals(24, BlkifRequestDescriptor.segmentOffset(0));
        assertEquals(32, BlkifRequestDescriptor.segmentOffset(1));
        assertEquals(104, BlkifRequestDescriptor.segmentOffset(10));
        assertEquals(28, BlkifRequestDescriptor.indirectGrefOffset(0));
        assertEquals(56, BlkifRequestDescriptor.indirectGrefOffset(7));
    }

    @ParameterizedTest
    @ValueSource(ints = { -1, 11, Integer.MIN_VALUE })
    void shouldRejectSegmentIndexWhenOutsideSegArray(final int segment)
    {
        final IllegalArgumentException ex = assertThrows(
            IllegalArgumentException.class, () -> BlkifRequestDescriptor.segmentOffset(segment));
        assertEquals(
            "segment out of range: segment=" + segment + " (expected: 0 <= segment < 11)", ex.getMessage());
    }

    @ParameterizedTest
    @ValueSource(ints = { -1, 8 })
    void shouldRejectIndirectPageIndexWhenOutsideGrefArray(final int page)
    {
        final IllegalArgumentException ex = assertThrows(
            IllegalArgumentException.class, () -> BlkifRequestDescriptor.indirectGrefOffset(page));
        assertEquals("indirect page out of range: page=" + page + " (expected: 0 <= page < 8)", ex.getMessage());
    }

    @ParameterizedTest(name = "{0} segments use {1} indirect pages")
    @CsvSource({ "0, 0", "1, 1", "511, 1", "512, 1", "513, 2", "4095, 8", "4096, 8", "4097, 9", "65535, 128" })
    void shouldCountIndirectPagesAsCeilingOfSegmentsOver512(final int nrSegments, final int pages)
    {
        assertEquals(pages, BlkifRequestDescriptor.indirectPages(nrSegments));
    }

    @ParameterizedTest
    @ValueSource(ints = { -1, 65536 })
    void shouldRejectIndirectPageCountWhenSegmentsAreNotAU16(final int nrSegments)
    {
        final IllegalArgumentException ex = assertThrows(
            IllegalArgumentException.class, () -> BlkifRequestDescriptor.indirectPages(nrSegments));
        assertEquals(
            "nr_segments is a u16: nrSegments=" + nrSegments + " (expected: 0 <= nrSegments <= 65535)",
            ex.getMessage());
    }

    @Test
    void shouldNumberOperationsAsBlkifHDoes()
    {
        assertEquals(0, BlkifOp.READ.value());
        assertEquals(1, BlkifOp.WRITE.value());
        assertEquals(2, BlkifOp.WRITE_BARRIER.value());
        assertEquals(3, BlkifOp.FLUSH_DISKCACHE.value());
        assertEquals(4, BlkifOp.RESERVED_1.value());
        assertEquals(5, BlkifOp.DISCARD.value());
        assertEquals(6, BlkifOp.INDIRECT.value());
        for (final BlkifOp op : BlkifOp.values())
        {
            assertEquals(op.ordinal(), op.value());
            assertTrue(BlkifOp.isKnown(op.value()));
            assertEquals(op, BlkifOp.get(op.value()));
        }
    }

    @ParameterizedTest
    @ValueSource(ints = { -1, 7, 128, 255, Integer.MAX_VALUE })
    void shouldRejectOperationWhenCodeIsUnknown(final int value)
    {
        assertFalse(BlkifOp.isKnown(value));
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> BlkifOp.get(value));
        assertEquals(
            "unknown blkif operation: operation=" + value + " (expected: 0 <= operation <= 6)", ex.getMessage());
    }

    @Test
    void shouldNumberStatusesAsBlkifHDoes()
    {
        assertEquals(0, BlkifStatus.OKAY.value());
        assertEquals(-1, BlkifStatus.ERROR.value());
        assertEquals(-2, BlkifStatus.EOPNOTSUPP.value());
        for (final BlkifStatus status : BlkifStatus.values())
        {
            assertEquals(status, BlkifStatus.get(status.value()));
        }
    }

    @ParameterizedTest
    @ValueSource(ints = { 1, -3, 0xFFFF, Short.MIN_VALUE })
    void shouldRejectStatusWhenCodeIsUnknown(final int value)
    {
        final IllegalArgumentException ex = assertThrows(
            IllegalArgumentException.class, () -> BlkifStatus.get(value));
        assertEquals("unknown blkif status: status=" + value + " (expected: 0, -1 or -2)", ex.getMessage());
    }
}
