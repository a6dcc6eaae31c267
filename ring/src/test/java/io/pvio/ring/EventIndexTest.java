package io.pvio.ring;

import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;

class EventIndexTest
{
    /**
     * Xen's formula evaluated in 64-bit arithmetic with explicit reduction modulo 2^32, as C evaluates
     * {@code (RING_IDX)(new - event) < (RING_IDX)(new - old)} for a uint32_t {@code RING_IDX}.
     */
    private static boolean xenFormula(final long newIndex, final long oldIndex, final long eventIndex)
    {
        final long mod = 1L << 32;
        final long left = Math.floorMod(newIndex - eventIndex, mod);
        final long right = Math.floorMod(newIndex - oldIndex, mod);
        return left < right;
    }

    @ParameterizedTest(name = "old={0} new={1} event={2} -> {3}")
    @CsvSource({
        "0, 1, 1, true",             // first request ever: event index starts at 1
        "0, 1, 2, false",            // consumer wants the second one
        "0, 5, 3, true",             // event inside (old, new]
        "0, 5, 5, true",             // event at new
        "0, 5, 6, false",            // event beyond new
        "3, 5, 3, false",            // event at old: already notified for it
        "3, 5, 1, false",            // stale event: consumer busy, will see it in its final check
        "5, 5, 5, false",            // nothing pushed
        "4294967295, 0, 0, true",    // push across the wrap, event just after it
        "4294967294, 1, 4294967295, true",
        "4294967294, 1, 2, false",
        "4294967200, 4294967290, 4294967295, false",
        "4294967290, 10, 4294967295, true"
    })
    void shouldNotifyOnlyWhenEventIndexIsInsideThePushedWindow(
        final long oldIndex, final long newIndex, final long eventIndex, final boolean expected)
    {
        assertEquals(expected, EventIndex.needsNotify((int)newIndex, (int)oldIndex, (int)eventIndex));
        assertEquals(expected, xenFormula(newIndex, oldIndex, eventIndex), "row agrees with Xen's formula");
    }

    @Test
    void shouldAgreeWithXenFormulaOnRandomIndexesNearTheWrap()
    {
        final SplittableRandom random = new SplittableRandom(42);
        for (int i = 0; i < 1_000_000; i++)
        {
            final long base = (i & 1) == 0 ? 0xFFFF_FF00L : random.nextLong(1L << 32);
            final long oldIndex = (base + random.nextInt(512)) & 0xFFFF_FFFFL;
            final long newIndex = (oldIndex + random.nextInt(600)) & 0xFFFF_FFFFL;
            final long eventIndex = (oldIndex + random.nextInt(1200) - 600) & 0xFFFF_FFFFL;
            assertEquals(
                xenFormula(newIndex, oldIndex, eventIndex),
                EventIndex.needsNotify((int)newIndex, (int)oldIndex, (int)eventIndex),
                () -> "old=" + oldIndex + " new=" + newIndex + " event=" + eventIndex);
        }
    }
}
