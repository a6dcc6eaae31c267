package io.pvio.bench.experiment;

import java.util.concurrent.TimeUnit;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.pvio.bench.experiment.NotificationRig.Outcome;
import io.pvio.bench.experiment.NotificationRig.Regime;
import io.pvio.bench.experiment.NotificationRig.Settings;
import io.pvio.bench.experiment.NotificationRig.Sleep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The lost wake-up E2's final check exists to prevent, caught: a consumer that arms {@code req_event} and sleeps
 * without re-reading {@code req_prod} strands a request that was pushed in between (only the watchdog finds it),
 * while Xen's {@code RING_FINAL_CHECK_FOR_REQUESTS}, with the same race delay in the same place, never does. Many
 * iterations, with either thread started first.
 */
class LostWakeupTest
{
    private static final int ITERATIONS = 20;
    private static final int REQUESTS = 2_000;
    private static final int RACE_SPINS = 400;
    private static final long WATCHDOG_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

    @ParameterizedTest(name = "consumer started first: {0}")
    @ValueSource(booleans = {true, false})
    void skippingTheFinalCheckStrandsARequestAndTheFinalCheckNeverDoes(final boolean consumerFirst)
    {
        int brokenStranded = 0;
        for (int i = 0; i < ITERATIONS; i++)
        {
            final Outcome broken = NotificationRig.run(settings(Sleep.NO_RECHECK, consumerFirst, true, i));
            assertEquals(broken.issued(), broken.answered(), "the watchdog still gets every request answered");
            assertEquals(0, broken.sequenceErrors());
            brokenStranded += broken.strands() > 0 ? 1 : 0;

            final Outcome correct = NotificationRig.run(settings(Sleep.FINAL_CHECK, consumerFirst, false, i));
            assertEquals(REQUESTS, correct.answered());
            assertEquals(0, correct.sequenceErrors());
            assertEquals(0, correct.strands(), "iteration " + i + ": the final check stranded a request");
        }
        assertTrue(brokenStranded >= 1, "the consumer without the final check never lost a wake-up in " + ITERATIONS +
            " iterations: the test cannot see the race");
    }

    private static Settings settings(final Sleep sleep, final boolean consumerFirst, final boolean stopOnStrand,
        final int iteration)
    {
        return new Settings(Regime.IDLE, 1, 0, REQUESTS, sleep, RACE_SPINS, WATCHDOG_NANOS, consumerFirst,
            stopOnStrand, 31L * iteration + (consumerFirst ? 1 : 2));
    }
}
