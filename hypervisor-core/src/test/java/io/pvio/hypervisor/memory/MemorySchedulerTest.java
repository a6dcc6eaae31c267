package io.pvio.hypervisor.memory;

import org.junit.jupiter.api.Test;

import io.pvio.hypervisor.memory.MemoryScheduler.Client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MemorySchedulerTest
{
    @Test
    void theWorkedExampleOfTheIdleTax()
    {
        // S_A = 6000, P_A = 4000, f_A = 0.25; S_B = 2000, P_B = 2000, f_B = 0.85
        assertEquals(5.0, MemoryScheduler.idleCost(0.8), 1e-12);
        assertEquals(4.0, MemoryScheduler.idleCost(MemoryScheduler.DEFAULT_TAU), 1e-12);
        final double rhoA = MemoryScheduler.sharesPerPage(6000, 4000, 0.25, 0.8);
        final double rhoB = MemoryScheduler.sharesPerPage(2000, 2000, 0.85, 0.8);
        assertEquals(0.375, rhoA, 1e-12);
        assertEquals(0.625, rhoB, 1e-12);
        assertTrue(rhoA < rhoB, "tau = 0.8: the idle A is reclaimed first");
        assertEquals(1.5, MemoryScheduler.sharesPerPage(6000, 4000, 0.25, 0), 1e-12);
        assertEquals(1.0, MemoryScheduler.sharesPerPage(2000, 2000, 0.85, 0), 1e-12);
        // the scheduler takes from the lowest ratio: A under tau = 0.8, B (the busy one) under pure shares
        final Client[] clients = {new Client(6000, 0, 4000, 1000), new Client(2000, 0, 2000, 1700)};
        final long[] taxed = MemoryScheduler.targets(AllocationPolicy.IDLE_TAX, 0.8, 5990, clients);
        assertEquals(3990, taxed[0]);
        assertEquals(2000, taxed[1]);
        final long[] shares = MemoryScheduler.targets(AllocationPolicy.SHARES, 0.8, 5990, clients);
        assertEquals(4000, shares[0]);
        assertEquals(1990, shares[1]);
    }

    @Test
    void pureSharesSplitByShareWhateverTheIdlenessAndTheTaxMovesIdleMemory()
    {
        final Client idle = new Client(1000, 50, 1000, 60);
        final Client busy = new Client(1000, 50, 1000, 900);
        final long[] split = MemoryScheduler.targets(AllocationPolicy.SHARES, 0, 1200, new Client[] {idle, busy});
        assertEquals(600, split[0], 1);
        assertEquals(600, split[1], 1);
        final long[] half = MemoryScheduler.targets(AllocationPolicy.IDLE_TAX, 0.5, 1200, new Client[] {idle, busy});
        final long[] taxed = MemoryScheduler.targets(AllocationPolicy.IDLE_TAX, 0.75, 1200, new Client[] {idle, busy});
        assertTrue(half[1] > 700 && half[1] < taxed[1], "more tax, more to the busy one: " + half[1] + " " + taxed[1]);
        // rho meets where 60 + 4 (P1 - 60) = 900 + 4 (P2 - 900): P1 = 285, P2 = 915
        assertEquals(285, taxed[0], 1);
        assertTrue(600 - taxed[0] > (600 - 60) / 2, "most of the idle VM's idle memory moves: " + taxed[0]);
        assertEquals(1200, taxed[0] + taxed[1]);
        // both busy: the idle one grows back to its share
        final long[] awake = MemoryScheduler.targets(AllocationPolicy.IDLE_TAX, 0.75, 1200,
            new Client[] {new Client(1000, 50, 1000, 900), busy});
        assertEquals(600, awake[0], 1);
    }

    @Test
    void workingSetPolicyGivesEachItsEstimateAndSharesTheRest()
    {
        final long[] t = MemoryScheduler.targets(AllocationPolicy.WORKING_SET, 0, 1200,
            new Client[] {new Client(1000, 50, 1000, 100), new Client(1000, 50, 1000, 500)});
        assertTrue(t[0] >= 110 && t[1] >= 550, t[0] + " " + t[1]);
        assertTrue(t[0] + t[1] <= 1200);
        final long[] tight = MemoryScheduler.targets(AllocationPolicy.WORKING_SET, 0, 600,
            new Client[] {new Client(1000, 50, 1000, 900), new Client(1000, 50, 1000, 900)});
        assertEquals(300, tight[0], 1);
        assertTrue(tight[0] + tight[1] <= 600);
    }

    @Test
    void badArgumentsAreRefused()
    {
        assertThrows(IllegalArgumentException.class, () -> MemoryScheduler.idleCost(1.0));
        assertThrows(IllegalArgumentException.class, () -> MemoryScheduler.idleCost(-0.1));
        assertThrows(IllegalArgumentException.class, () -> new Client(0, 0, 10, 1));
        assertThrows(IllegalArgumentException.class, () -> new Client(1, 20, 10, 1));
    }
}
