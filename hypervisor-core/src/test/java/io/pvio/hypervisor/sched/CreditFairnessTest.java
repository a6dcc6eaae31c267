package io.pvio.hypervisor.sched;

import io.pvio.hypervisor.Domain;
import io.pvio.machine.vm.PagingMode;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The credit scheduler shares one physical CPU among CPU-bound domains in proportion to their weights, holds a capped
 * domain near its cap whether or not others compete, and gives the rest of the CPU to uncapped domains (measured CPU
 * time from {@link VcpuStats}, over a window after a warm-up).
 */
class CreditFairnessTest
{
    private static final long WARM_UP_MILLIS = 300;
    private static final long WINDOW_MILLIS = 1_000;

    private static SchedulerConfig config()
    {
        return new SchedulerConfig().pcpus(1).sliceNanos(TimeUnit.MILLISECONDS.toNanos(3))
            .tickNanos(TimeUnit.MILLISECONDS.toNanos(1)).ticksPerAccounting(3).haltPollNanos(0);
    }

    @Test
    void shouldShareOneCpuByWeightOneTwoFour()
    {
        try (SchedFixture f = new SchedFixture(config()).start())
        {
            final Vcpu[] vcpus = new Vcpu[3];
            final int[] weights = {64, 128, 256};
            for (int i = 0; i < vcpus.length; i++)
            {
                final Domain d = f.domain("w" + weights[i], 1, PagingMode.PARA);
                f.hypervisor.dom0().hypercalls().setSchedulerParameters(d.id(), weights[i], 0);
                assertEquals(weights[i], f.scheduler.weight(d));
                vcpus[i] = f.vcpu0(d);
                vcpus[i].addTask(new SpinTask());
            }
            final double[] shares = shares(vcpus, WINDOW_MILLIS);
            final String report = Arrays.toString(shares) + " " + Arrays.toString(stats(vcpus));
            assertEquals(1.0 / 7, shares[0], 0.03, report);
            assertEquals(2.0 / 7, shares[1], 0.03, report);
            assertEquals(4.0 / 7, shares[2], 0.03, report);
            assertTrue(shares[0] < shares[1] && shares[1] < shares[2], report);
        }
    }

    @Test
    void shouldHoldACappedDomainNearItsCapBesideAnUncappedOne()
    {
        try (SchedFixture f = new SchedFixture(config()).start())
        {
            final Domain capped = f.domain("capped", 1, PagingMode.PARA);
            final Domain free = f.domain("free", 1, PagingMode.FULL);
            f.hypervisor.dom0().hypercalls().setSchedulerParameters(capped.id(), 256, 25);
            assertEquals(25, f.scheduler.cap(capped));
            final Vcpu[] vcpus = {f.vcpu0(capped), f.vcpu0(free)};
            for (final Vcpu vcpu : vcpus)
            {
                vcpu.addTask(new SpinTask());
            }
            final long start = System.nanoTime();
            final double[] shares = shares(vcpus, WINDOW_MILLIS);
            final double elapsed = System.nanoTime() - start;
            final String report = Arrays.toString(shares) + " " + Arrays.toString(stats(vcpus));
            assertEquals(0.25, shares[0], 0.04, report);
            assertEquals(0.75, shares[1], 0.04, report);
            final double busy = (vcpus[0].runNanos() + vcpus[1].runNanos()) / elapsed;
            assertTrue(busy > 0.9, "work-conserving: the CPU stays busy, " + busy + " " + report);
        }
    }

    @Test
    void shouldHoldACappedDomainAtItsCapWhenAlone()
    {
        try (SchedFixture f = new SchedFixture(config()).start())
        {
            final Domain capped = f.domain("alone", 1, PagingMode.PARA);
            f.scheduler.setParameters(capped, 256, 25);
            final Vcpu vcpu = f.vcpu0(capped);
            vcpu.addTask(new SpinTask());
            final double used = utilisation(vcpu);
            assertEquals(0.25, used, 0.04, vcpu.stats().toString());
        }
    }

    @Test
    void shouldGiveAnUncappedDomainAloneTheWholeCpu()
    {
        try (SchedFixture f = new SchedFixture(config()).start())
        {
            final Vcpu vcpu = f.vcpu0(f.domain("uncapped", 1, PagingMode.PARA));
            vcpu.addTask(new SpinTask());
            final double used = utilisation(vcpu);
            assertTrue(used > 0.9, used + " " + vcpu.stats());
        }
    }

    /** CPU time of one vCPU over the window, as a fraction of the window's wall time. */
    private static double utilisation(final Vcpu vcpu)
    {
        SchedFixture.sleep(WARM_UP_MILLIS);
        final long run0 = vcpu.runNanos();
        final long t0 = System.nanoTime();
        SchedFixture.sleep(WINDOW_MILLIS);
        final long run1 = vcpu.runNanos();
        return (double)(run1 - run0) / (System.nanoTime() - t0);
    }

    /** Each vCPU's part of the CPU time all of them got over the window. */
    private static double[] shares(final Vcpu[] vcpus, final long windowMillis)
    {
        SchedFixture.sleep(WARM_UP_MILLIS);
        final long[] before = new long[vcpus.length];
        for (int i = 0; i < vcpus.length; i++)
        {
            before[i] = vcpus[i].runNanos();
        }
        SchedFixture.sleep(windowMillis);
        final long[] used = new long[vcpus.length];
        long total = 0;
        for (int i = 0; i < vcpus.length; i++)
        {
            used[i] = vcpus[i].runNanos() - before[i];
            total += used[i];
        }
        final double[] shares = new double[vcpus.length];
        for (int i = 0; i < vcpus.length; i++)
        {
            shares[i] = (double)used[i] / total;
        }
        return shares;
    }

    private static VcpuStats[] stats(final Vcpu[] vcpus)
    {
        return Arrays.stream(vcpus).map(Vcpu::stats).toArray(VcpuStats[]::new);
    }
}
