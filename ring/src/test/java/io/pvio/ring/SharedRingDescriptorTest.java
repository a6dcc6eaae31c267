package io.pvio.ring;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class SharedRingDescriptorTest
{
    @Test
    void shouldPlaceIndexesWhereRingHDoes()
    {
        assertEquals(0, SharedRingDescriptor.REQ_PROD_OFFSET);
        assertEquals(4, SharedRingDescriptor.REQ_EVENT_OFFSET);
        assertEquals(8, SharedRingDescriptor.RSP_PROD_OFFSET);
        assertEquals(12, SharedRingDescriptor.RSP_EVENT_OFFSET);
        assertEquals(16, SharedRingDescriptor.PVT_OFFSET);
        assertEquals(20, SharedRingDescriptor.PAD_OFFSET);
        assertEquals(64, SharedRingDescriptor.HEADER_LENGTH);
        assertEquals(64 - 20, 44, "pad is 44 bytes");
    }

    @ParameterizedTest(name = "{0} pages of {1}-byte entries hold {2}")
    @CsvSource({
        "1, 112, 32", "2, 112, 64", "4, 112, 128", "8, 112, 256", "16, 112, 512",
        "1, 64, 32", "4, 64, 128", "16, 64, 512",
        "1, 12, 256", "1, 8, 256", "1, 16, 128", "1, 108, 32",
        "1, 4032, 1", "2, 4032, 2", "1, 2016, 2", "1, 2017, 1"
    })
    void shouldCountEntriesAsLargestPowerOfTwoThatFits(final int pages, final int entryBytes, final int expected)
    {
        assertEquals(expected, SharedRingDescriptor.entryCount(pages * 4096, entryBytes));
        assertEquals(expected, RingGeometry.ofPages(pages, entryBytes, entryBytes).size());
    }

    @Test
    void shouldSizeEntryAsTheCUnion()
    {
        assertEquals(112, SharedRingDescriptor.entryBytes(112, 16, 8), "blkif: request 112, response 16");
        assertEquals(12, SharedRingDescriptor.entryBytes(12, 4, 4), "netif tx: request 12, response 4");
        assertEquals(8, SharedRingDescriptor.entryBytes(8, 8, 4), "netif rx: request 8, response 8");
        assertEquals(16, SharedRingDescriptor.entryBytes(12, 8, 8), "12-byte member rounded to 8-byte alignment");
        assertEquals(13, SharedRingDescriptor.entryBytes(13, 5, 1));
    }

    @Test
    void shouldRejectRingThatCannotHoldOneEntry()
    {
        final IllegalArgumentException ex = assertThrows(
            IllegalArgumentException.class, () -> SharedRingDescriptor.entryCount(4096, 4033));
        assertEquals(
            "ring too small for one entry: ringBytes=4096, entryBytes=4033 (expected: ringBytes >= 64 + entryBytes)",
            ex.getMessage());
    }

    @ParameterizedTest
    @ValueSource(ints = { -1, 0, 3, 5, 32 })
    void shouldRejectPageCountThatIsNotAnOrderUpToFour(final int pages)
    {
        final IllegalArgumentException ex = assertThrows(
            IllegalArgumentException.class, () -> RingGeometry.ofPages(pages, 64, 64));
        assertEquals("pages must be 1, 2, 4, 8 or 16: pages=" + pages, ex.getMessage());
    }

    @Test
    void shouldGiveRingBytesForEachOrder()
    {
        for (int order = 0; order <= SharedRingDescriptor.MAX_PAGE_ORDER; order++)
        {
            assertEquals(4096 << order, SharedRingDescriptor.ringBytesForOrder(order));
        }
        assertThrows(IllegalArgumentException.class, () -> SharedRingDescriptor.ringBytesForOrder(5));
        assertThrows(IllegalArgumentException.class, () -> SharedRingDescriptor.ringBytesForOrder(-1));
    }

    @Test
    void shouldPlaceEntriesAfterHeaderAndWrapByMask()
    {
        final RingGeometry geometry = RingGeometry.ofPages(1, 112, 16);
        assertEquals(64, geometry.entryOffset(0));
        assertEquals(64 + 112, geometry.entryOffset(1));
        assertEquals(64 + 31 * 112, geometry.entryOffset(31));
        assertEquals(64, geometry.entryOffset(32));
        assertEquals(64 + 31 * 112, geometry.entryOffset(0xFFFF_FFFF));
        assertEquals(64 + 31 * 112 + 112, 64 + 32 * 112, "last entry ends inside the page");
    }
}
