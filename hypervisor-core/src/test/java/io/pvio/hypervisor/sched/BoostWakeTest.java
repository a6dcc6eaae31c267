package io.pvio.hypervisor.sched;

import io.pvio.hypervisor.Domain;
import io.pvio.machine.vm.PagingMode;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * BOOST: an I/O-bound vCPU woken by an event while two CPU hogs share its physical CPU preempts the running hog and
 * handles the event long before the hog's 30 ms slice would end, every time; with a weight so small that its credit
 * stays spent (OVER), BOOST cannot apply, and some of the same wakes wait out a hog's whole slice.
 */
class BoostWakeTest
{
    private static final int WAKES = 60;
    private static final long SLICE_NANOS = TimeUnit.MILLISECONDS.toNanos(30);

    @Test
    void shouldRunAWokenUnderVcpuBeforeTheHogsSliceEndsAndAnOverOneOnlyAfter()
    {
        final long[] boosted = wakeLatencies(256);
        final long[] over = wakeLatencies(1);
        final String report = "boosted " + Arrays.toString(boosted) + "\nover " + Arrays.toString(over);
        System.out.println(report);
        final long boostedP90 = boosted[WAKES * 9 / 10];
        final long boostedMax = boosted[WAKES - 1];
        final long overMax = over[WAKES - 1];
        assertTrue(boostedP90 < SLICE_NANOS / 10, report);
        assertTrue(boostedMax < SLICE_NANOS, "every boosted wake runs before the hog's slice ends: " + report);
        assertTrue(overMax > SLICE_NANOS, "without BOOST some wake waits out a hog's whole slice: " + report);
    }

    /** Sorted send-to-handler latencies of an I/O domain of the given weight beside two hogs of weight 256. */
    private static long[] wakeLatencies(final int ioWeight)
    {
        final SchedulerConfig config = new SchedulerConfig().pcpus(1).sliceNanos(SLICE_NANOS)
            .tickNanos(TimeUnit.MILLISECONDS.toNanos(10)).ticksPerAccounting(3).haltPollNanos(0);
        try (SchedFixture f = new SchedFixture(config).start())
        {
            for (int i = 0; i < 2; i++)
            {
                f.vcpu0(f.domain("hog" + i, 1, PagingMode.PARA)).addTask(new SpinTask());
            }
            final Domain io = f.domain("io", 1, PagingMode.PARA);
            f.scheduler.setParameters(io, ioWeight, 0);
            final EventPort port = new EventPort(f.hypervisor.dom0(), io);
            final AtomicLong sentAt = new AtomicLong();
            final AtomicLong latency = new AtomicLong(-1);
            io.eventChannels().bindHandler(port.guestPort, p -> latency.set(System.nanoTime() - sentAt.get()));
            SchedFixture.sleep(100); // let accounting settle the io domain's priority
            final long[] latencies = new long[WAKES];
            for (int i = 0; i < WAKES; i++)
            {
                final Vcpu vcpu = f.vcpu0(io);
                SchedFixture.await(() -> Vcpu.BLOCKED == vcpu.state(), "the io vCPU to block");
                SchedFixture.sleep(3);
                if (1 == ioWeight)
                {
                    // keep it just in debt: an idle vCPU takes no share and burns almost nothing, so it would wake
                    // UNDER. A shallow debt, not a deep one: at weight 1 beside two hogs of 256 it earns 1/513 of
                    // the CPU, so paying back a whole slice of debt would take seconds per wake.
                    synchronized (f.scheduler.lock)
                    {
                        vcpu.credit = -1;
                        vcpu.priority = Vcpu.PRI_OVER;
                    }
                }
                latency.set(-1);
                sentAt.set(System.nanoTime());
                port.send();
                SchedFixture.await(() -> latency.get() >= 0, "the io event to be handled");
                latencies[i] = latency.get();
            }
            Arrays.sort(latencies);
            return latencies;
        }
    }
}
