package io.pvio.hypervisor.sched;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import io.pvio.hypervisor.Domain;
import io.pvio.machine.vm.PagingMode;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Weights and a cap hold on one physical CPU while an I/O-bound domain wakes every two milliseconds, runs briefly
 * with BOOST and blocks again, for slices shorter than, equal to and longer than the accounting period. This is
 * what broke the first scheduler: the just-woken domain took a share at every accounting (which its wake-ups
 * trigger), debts of a whole slice were forgiven by a credit floor shorter than the period, and OVER vCPUs ran in
 * turn whatever their debt, so 4:1 weights gave 1.6:1 shares.
 */
class SchedulerSharesWithIoTest
{
    private static final long MEASURE_NANOS = 2_500_000_000L;

    @ParameterizedTest(name = "slice={0}ms tick={1}ms")
    @CsvSource({ "30,10", "10,10", "1,1" })
    void weightsAndCapHoldBesideAnIoDomain(final int sliceMillis, final int tickMillis) throws Exception
    {
        final SchedulerConfig config = new SchedulerConfig().pcpus(1).sliceNanos(sliceMillis * 1_000_000L)
            .tickNanos(tickMillis * 1_000_000L);
        try (SchedFixture f = new SchedFixture(config).start())
        {
            final int[] weights = { 1024, 256, 256 };
            final int[] caps = { 0, 0, 10 };
            final Vcpu[] hogs = new Vcpu[3];
            for (int i = 0; i < hogs.length; i++)
            {
                final Domain domain = f.domain("hog" + i, 1, PagingMode.PARA);
                f.scheduler.setParameters(domain, weights[i], caps[i]);
                hogs[i] = f.vcpu0(domain);
                hogs[i].addTask(new Burner(Long.MAX_VALUE));
            }
            final Vcpu io = f.vcpu0(f.domain("io", 1, PagingMode.PARA));
            final Burner burst = new Burner(0);
            io.addTask(burst);
            Thread.sleep(400); // a dozen accounting periods to settle
            final long[] before = new long[4];
            for (int i = 0; i < 3; i++)
            {
                before[i] = hogs[i].runNanos();
            }
            before[3] = io.runNanos();
            final long end = System.nanoTime() + MEASURE_NANOS;
            while (System.nanoTime() - end < 0)
            {
                burst.budget = 50;
                io.wake();
                Thread.sleep(2);
            }
            final double[] used = new double[4];
            double total = 0;
            for (int i = 0; i < 3; i++)
            {
                used[i] = hogs[i].runNanos() - before[i];
                total += used[i];
            }
            used[3] = io.runNanos() - before[3];
            total += used[3];
            final double ioShare = used[3] / total;
            final double capped = used[2] / total;
            // the cap is 10% of the CPU; what is left after it and the I/O domain's use goes 4:1
            final double rest = 1 - ioShare - 0.10;
            final String shares = String.format("heavy %.3f light %.3f capped %.3f io %.3f", used[0] / total,
                used[1] / total, capped, ioShare);
            assertTrue(capped <= 0.105 && capped >= 0.075, "the cap holds: " + shares);
            assertTrue(Math.abs(used[0] / total - rest * 0.8) <= 0.05, "heavy gets 4/5 of the rest: " + shares);
            assertTrue(Math.abs(used[1] / total - rest * 0.2) <= 0.05, "light gets 1/5 of the rest: " + shares);
            assertTrue(used[0] > 2.5 * used[1], "4:1 weights, not near-equal shares: " + shares);
            assertTrue(io.stats().wakeups() > 100, "the I/O domain blocked and woke: " + io.stats());
        }
    }

    /** Spins a bounded amount per pass while it has budget; unbounded with {@code Long.MAX_VALUE}. */
    private static final class Burner implements VcpuTask
    {
        volatile long budget;
        private long sink;

        Burner(final long budget)
        {
            this.budget = budget;
        }

        @Override
        public int doWork()
        {
            final long b = budget;
            if (b <= 0)
            {
                return 0;
            }
            long x = sink;
            for (int k = 0; k < 1000; k++)
            {
                x += (long)k * k ^ x >>> 3;
            }
            sink = x;
            if (Long.MAX_VALUE != b)
            {
                budget = b - 1;
            }
            return 1;
        }

        @Override
        public String roleName()
        {
            return "burner";
        }
    }
}
