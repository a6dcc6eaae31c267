package io.pvio.hypervisor.xenstore;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

class XenbusStateTest
{
    @Test
    void shouldNumberStatesAsXenbusH()
    {
        final int[] expected = { 0, 1, 2, 3, 4, 5, 6, 7, 8 };
        final XenbusState[] states = {
            XenbusState.UNKNOWN, XenbusState.INITIALISING, XenbusState.INIT_WAIT, XenbusState.INITIALISED,
            XenbusState.CONNECTED, XenbusState.CLOSING, XenbusState.CLOSED, XenbusState.RECONFIGURING,
            XenbusState.RECONFIGURED };
        for (int i = 0; i < expected.length; i++)
        {
            assertEquals(expected[i], states[i].value());
            assertSame(states[i], XenbusState.fromValue(expected[i]));
            assertSame(states[i], XenbusState.parse(Integer.toString(expected[i])));
            assertArrayEquals(new byte[] { (byte)('0' + expected[i]) }, states[i].toBytes());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = { "", "9", "-1", "+4", " 4", "4 ", "04", "4\u0000", "x", "10", "\u0664" })
    void shouldRejectAnythingButOneDigitZeroToEight(final String value)
    {
        final IllegalArgumentException ex =
            assertThrows(IllegalArgumentException.class, () -> XenbusState.parse(value));
        assertEquals("invalid xenbus state: value=" + value + " (expected: one digit 0..8)", ex.getMessage());
        assertNull(XenbusState.tryParse(value.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    }

    @Test
    void shouldRejectOutOfRangeValue()
    {
        assertThrows(IllegalArgumentException.class, () -> XenbusState.fromValue(9));
        assertThrows(IllegalArgumentException.class, () -> XenbusState.fromValue(-1));
    }
}
