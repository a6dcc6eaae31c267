package io.pvio.bench.ring;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RingPeerOptionsTest
{
    private static final Path FILE = Path.of("ring.bin");

    @ParameterizedTest
    @ValueSource(ints = { 1, 2, 4, 8, 16 })
    void shouldAcceptPagesWhenPowerOfTwoUpToSixteen(final int pages)
    {
        assertTrue(RingPeerOptions.isValidPages(pages));
    }

    @ParameterizedTest
    @ValueSource(ints = { Integer.MIN_VALUE, -1, 0, 3, 6, 32, Integer.MAX_VALUE })
    void shouldRejectPagesWhenNotPowerOfTwoUpToSixteen(final int pages)
    {
        assertFalse(RingPeerOptions.isValidPages(pages));
        final IllegalArgumentException ex = assertThrows(
            IllegalArgumentException.class, () -> new RingPeerOptions(FILE, pages, 8, 8, 1, 0, 30));
        assertEquals("pages must be one of 1, 2, 4, 8, 16: pages=" + pages, ex.getMessage());
    }

    @Test
    void shouldLeaveRoomForSharedHeaderInMaxEntryBytes()
    {
        assertEquals(4096 - 64, RingPeerOptions.maxEntryBytes(1));
        assertEquals(16 * 4096 - 64, RingPeerOptions.maxEntryBytes(16));
    }

    @Test
    void shouldRejectRequestBytesWhenLargerThanOneEntry()
    {
        final IllegalArgumentException ex = assertThrows(
            IllegalArgumentException.class, () -> new RingPeerOptions(FILE, 1, 4033, 8, 1, 0, 30));
        assertEquals(
            "requestBytes out of range: requestBytes=4033 (expected: 8 <= requestBytes <= 4032 for pages=1)",
            ex.getMessage());
    }

    @Test
    void shouldRejectCountAndTimeoutWhenNotPositive()
    {
        assertThrows(IllegalArgumentException.class, () -> new RingPeerOptions(FILE, 1, 8, 8, 0, 0, 30));
        assertThrows(IllegalArgumentException.class, () -> new RingPeerOptions(FILE, 1, 8, 8, 1, 0, 0));
    }

    @Test
    void shouldKeepValuesWhenValid()
    {
        final RingPeerOptions options = new RingPeerOptions(FILE, 2, 112, 16, 1_000_000L, -16, 5);

        assertEquals(FILE, options.file());
        assertEquals(2, options.pages());
        assertEquals(112, options.requestBytes());
        assertEquals(16, options.responseBytes());
        assertEquals(1_000_000L, options.count());
        assertEquals(-16, options.startIndex());
        assertEquals(5, options.timeoutSeconds());
        assertEquals(TimeUnit.SECONDS.toNanos(5), options.timeoutNs());
        assertTrue(options.toString().contains("startIndex=4294967280"), options.toString());
    }
}
