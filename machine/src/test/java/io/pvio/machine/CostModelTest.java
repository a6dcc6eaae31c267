package io.pvio.machine;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class CostModelTest
{
    @Test
    void defaultsAreTheCitedFigures()
    {
        final CostModel model = new CostModel();
        assertEquals(1093, model.nativePageFault());
        assertEquals(512, model.vmExit());
        assertEquals(12733, model.trappedPteWrite());
        assertEquals(11242, model.shadowFill());
    }

    @Test
    void translationCyclesAddUpEachKindOfWork()
    {
        final CostModel model = new CostModel().tlbHit(2).walkReference(10).nativePageFault(1000);
        assertEquals(100 * 2 + 40 * 10 + 3 * 1000, model.translationCycles(100, 40, 3));
        final CostModel copy = model.copy().tlbHit(5);
        assertEquals(2, model.tlbHit());
        assertEquals(5, copy.tlbHit());
        assertEquals(10, copy.walkReference());
    }

    @Test
    void negativeCostsAreRefusedByName()
    {
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
            () -> new CostModel().vmExit(-1));
        assertEquals("vmExit must not be negative: -1", ex.getMessage());
    }
}
