package io.pvio.hypervisor.sched;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

import io.pvio.hypervisor.Domain;
import io.pvio.machine.vm.PagingMode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HaltPollAdaptiveTest
{
    private static final long MAX = TimeUnit.MICROSECONDS.toNanos(200);
    private static final long START = Vcpu.HALT_POLL_GROW_START_NANOS;

    /** Work handed over by the test thread: each unit is one pass's work. */
    private static final class Mailbox implements VcpuTask
    {
        final AtomicLong posted = new AtomicLong();
        final AtomicLong taken = new AtomicLong();

        @Override
        public int doWork()
        {
            final long p = posted.get();
            final long t = taken.get();
            if (p == t)
            {
                return 0;
            }
            taken.set(p); // the vCPU is the only writer
            return (int)(p - t);
        }

        @Override
        public boolean prepareToBlock()
        {
            return posted.get() != taken.get();
        }

        @Override
        public String roleName()
        {
            return "mailbox";
        }

        void post(final Vcpu vcpu)
        {
            posted.incrementAndGet();
            vcpu.wake();
        }
    }

    @Test
    void theWindowGrowsFromTheStartValueByDoublingUpToTheMaximumWhileALongerWindowWouldHaveCaughtTheWake()
    {
        assertEquals(START, Vcpu.adaptedPollWindow(0, 3_000, MAX), "a short halt with no window: grow to the start");
        assertEquals(2 * START, Vcpu.adaptedPollWindow(START, START + 1, MAX));
        assertEquals(MAX, Vcpu.adaptedPollWindow(160_000, 190_000, MAX), "doubling stops at the maximum");
        assertEquals(MAX, Vcpu.adaptedPollWindow(MAX, MAX, MAX), "a halt the window caught changes nothing");
        assertEquals(40_000, Vcpu.adaptedPollWindow(40_000, 25_000, MAX));
    }

    @Test
    void theWindowHalvesToZeroWhenHaltsOutlastTheMaximum()
    {
        long window = MAX;
        final long[] expected = { 100_000, 50_000, 25_000, 12_500, 0, 0 };
        for (final long next : expected)
        {
            window = Vcpu.adaptedPollWindow(window, 5_000_000, MAX);
            assertEquals(next, window);
        }
    }

    @Test
    void aVcpuWokenOnlyAfterLongSleepsNeverPollsAndOneWokenAtOnceLearnsToPoll()
    {
        final SchedulerConfig config = new SchedulerConfig().pcpus(1).haltPollNanos(MAX).haltPollAdaptive(true);
        try (SchedFixture f = new SchedFixture(config).start())
        {
            final Domain domain = f.domain("g", 1, PagingMode.PARA);
            final Vcpu vcpu = f.vcpu0(domain);
            final Mailbox mailbox = new Mailbox();
            vcpu.addTask(mailbox);
            assertEquals(0, vcpu.haltPollWindowNanos(), "adaptive windows start at 0, as KVM's");

            // halts of 3 ms: no window within 200 us would catch the wake, so polling never starts
            for (int i = 1; i <= 30; i++)
            {
                SchedFixture.sleep(3);
                mailbox.post(vcpu);
                final long n = i;
                SchedFixture.await(() -> mailbox.taken.get() >= n, "work " + n);
            }
            assertEquals(0, vcpu.haltPollWindowNanos());
            assertEquals(0, vcpu.haltPollAdaptations()[0], "no growth from halts longer than the maximum");

            // work handed over the moment the last is taken: halts of microseconds, so the window grows
            for (long i = 31; i <= 3000; i++)
            {
                final long n = i - 1;
                SchedFixture.spinUntil(() -> mailbox.taken.get() >= n, "work " + n);
                mailbox.post(vcpu);
            }
            SchedFixture.spinUntil(() -> mailbox.taken.get() >= 3000, "work 3000");
            assertTrue(vcpu.haltPollAdaptations()[0] > 0, "the window grew from short halts");
            assertTrue(vcpu.haltPollWindowNanos() <= MAX);
        }
    }

    @Test
    void aFixedWindowNeverAdapts()
    {
        final SchedulerConfig config = new SchedulerConfig().pcpus(1).haltPollNanos(MAX).haltPollAdaptive(false);
        try (SchedFixture f = new SchedFixture(config).start())
        {
            final Vcpu vcpu = f.vcpu0(f.domain("g", 1, PagingMode.PARA));
            final Mailbox mailbox = new Mailbox();
            vcpu.addTask(mailbox);
            for (int i = 1; i <= 10; i++)
            {
                SchedFixture.sleep(2);
                mailbox.post(vcpu);
                final long n = i;
                SchedFixture.await(() -> mailbox.taken.get() >= n, "work " + n);
            }
            assertEquals(MAX, vcpu.haltPollWindowNanos());
            assertEquals(0, vcpu.haltPollAdaptations()[0] + vcpu.haltPollAdaptations()[1]);
        }
    }
}
