package io.pvio.hypervisor.memory;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WorkingSetEstimatorTest
{
    private static double period(final WorkingSetEstimator estimator, final int touched)
    {
        estimator.startPeriod(100);
        for (int i = 0; i < touched; i++)
        {
            estimator.touched();
        }
        return estimator.endPeriod();
    }

    @Test
    void risesWithinAPeriodAndDecaysOverSeveral()
    {
        final WorkingSetEstimator estimator = new WorkingSetEstimator();
        for (int i = 0; i < 5; i++)
        {
            assertEquals(0.2, period(estimator, 20), 1e-9);
        }
        assertEquals(0.9, period(estimator, 90), 1e-9, "the latest sample lifts the estimate at once");
        for (int i = 0; i < 5; i++)
        {
            period(estimator, 90);
        }
        double previous = period(estimator, 20);
        assertTrue(previous > 0.5, "one low period does not drop it: " + previous);
        int periods = 1;
        while (previous > 0.25)
        {
            final double next = period(estimator, 20);
            assertTrue(next <= previous + 1e-12, "decays monotonically");
            previous = next;
            periods++;
        }
        assertTrue(periods >= 5, "takes several periods to come down: " + periods);
        assertEquals(0.2, estimator.lastSample(), 1e-9);
    }
}
