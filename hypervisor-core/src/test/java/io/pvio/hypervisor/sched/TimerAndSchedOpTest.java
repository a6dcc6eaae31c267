package io.pvio.hypervisor.sched;

import io.pvio.hypervisor.Domain;
import io.pvio.hypervisor.HypercallKind;
import io.pvio.machine.cpu.CpuCounters;
import io.pvio.machine.cpu.ExitReason;
import io.pvio.machine.cpu.GuestCpu;
import io.pvio.machine.cpu.PvCall;
import io.pvio.machine.vm.PagingMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * vCPU timers and scheduling operations on a running scheduler: a one-shot {@code set_timer} fires the guest's tick
 * handler once, not before its deadline and near it (as {@code VIRQ_TIMER} in para mode, the local timer vector in
 * full mode); re-arming replaces the deadline and cancelling stops it; {@code SCHEDOP_yield} lets the other runnable
 * vCPU run before the yielder runs again; {@code SCHEDOP_poll} sleeps until a masked polled port goes pending or the
 * timeout passes.
 */
class TimerAndSchedOpTest
{
    private static final long MILLI = TimeUnit.MILLISECONDS.toNanos(1);

    private static SchedulerConfig config()
    {
        return new SchedulerConfig().pcpus(1).haltPollNanos(0);
    }

    @ParameterizedTest
    @EnumSource(value = PagingMode.class, names = {"PARA", "NESTED"})
    void shouldFireAOneShotTimerOnceNearItsDeadline(final PagingMode mode)
    {
        try (SchedFixture f = new SchedFixture(config()).start())
        {
            final Domain guest = f.domain("timer", 1, mode);
            final Vcpu vcpu = f.vcpu0(guest);
            final GuestCpu cpu = vcpu.cpu();
            final List<Long> fired = new CopyOnWriteArrayList<>();
            final AtomicLong deadline = new AtomicLong();
            final OnVcpu on = new OnVcpu(vcpu);
            on.submit(() ->
            {
                cpu.setTimerHandler(() -> fired.add(System.nanoTime()));
                deadline.set(System.nanoTime() + 20 * MILLI);
                cpu.setTimer(deadline.get());
            });
            SchedFixture.await(() -> !fired.isEmpty(), "the timer");
            SchedFixture.sleep(100);
            assertEquals(1, fired.size(), "one-shot");
            final long late = fired.get(0) - deadline.get();
            assertTrue(late >= 0, "fired " + -late + " ns early");
            assertTrue(late < 200 * MILLI, "fired " + late + " ns late");
            final CpuCounters counters = cpu.counters();
            assertEquals(1, counters.timerTicks());
            if (PagingMode.PARA == mode)
            {
                assertEquals(1, counters.calls(PvCall.SET_TIMER_OP));
                assertEquals(1, guest.counters().get(HypercallKind.SET_TIMER_OP));
                assertTrue(counters.upcalls() >= 1, counters.toString());
            }
            else
            {
                assertEquals(1, counters.exits(ExitReason.MSR_WRITE) - counters.interrupts(), "the TSC-deadline write");
                assertEquals(1, counters.injected());
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = PagingMode.class, names = {"PARA", "NESTED"})
    void shouldReplaceADeadlineWhenReArmedAndNotFireWhenCancelled(final PagingMode mode)
    {
        try (SchedFixture f = new SchedFixture(config()).start())
        {
            final Vcpu vcpu = f.vcpu0(f.domain("rearm", 1, mode));
            final GuestCpu cpu = vcpu.cpu();
            final AtomicInteger fired = new AtomicInteger();
            final AtomicLong firedAt = new AtomicLong();
            final AtomicLong armedAt = new AtomicLong();
            final OnVcpu on = new OnVcpu(vcpu);
            on.submit(() ->
            {
                cpu.setTimerHandler(() ->
                {
                    fired.incrementAndGet();
                    firedAt.set(System.nanoTime());
                });
                armedAt.set(System.nanoTime());
                cpu.setTimer(armedAt.get() + 300 * MILLI);
                cpu.setTimer(armedAt.get() + 20 * MILLI); // re-armed: one deadline, the new one
            });
            SchedFixture.await(() -> fired.get() > 0, "the re-armed timer");
            final long after = firedAt.get() - armedAt.get();
            assertTrue(after >= 20 * MILLI && after < 250 * MILLI, after + " ns after arming");
            SchedFixture.sleep(400);
            assertEquals(1, fired.get(), "the replaced 300 ms deadline never fires");

            on.submit(() ->
            {
                cpu.setTimer(System.nanoTime() + 30 * MILLI);
                cpu.setTimer(0);
            });
            on.submit(() -> cpu.setTimer(System.nanoTime() + 40 * MILLI));
            on.submit(() -> cpu.setTimer(0)); // cancelled from a later pass
            SchedFixture.sleep(200);
            assertEquals(1, fired.get(), "cancelled timers do not fire");
        }
    }

    @Test
    void shouldLetTheOtherVcpuRunBeforeTheYielderRunsAgain()
    {
        final SchedulerConfig config = config().sliceNanos(5 * MILLI).tickNanos(MILLI).ticksPerAccounting(5);
        try (SchedFixture f = new SchedFixture(config).start())
        {
            final Vcpu yielder = f.vcpu0(f.domain("yielder", 1, PagingMode.PARA));
            final SpinTask hog = new SpinTask();
            f.vcpu0(f.domain("hog", 1, PagingMode.PARA)).addTask(hog);
            SchedFixture.await(() -> hog.passes.get() > 0, "the hog to run");
            final AtomicInteger yields = new AtomicInteger();
            final AtomicInteger hogDidNotRun = new AtomicInteger();
            final GuestCpu cpu = yielder.cpu();
            yielder.addTask(new VcpuTask()
            {
                private long hogPasses;
                private boolean yielded;

                @Override
                public int doWork()
                {
                    final long now = hog.passes.get();
                    if (yielded && now == hogPasses)
                    {
                        hogDidNotRun.incrementAndGet();
                    }
                    yielded = false;
                    if (yields.get() < 200)
                    {
                        hogPasses = now;
                        yielded = true;
                        yields.incrementAndGet();
                        cpu.yieldCpu();
                    }
                    return 1;
                }

                @Override
                public String roleName()
                {
                    return "yielder";
                }
            });
            SchedFixture.await(() -> yields.get() >= 200, "200 yields");
            SchedFixture.sleep(20);
            assertEquals(0, hogDidNotRun.get(), "after a yield the hog runs before the yielder runs again");
            assertTrue(yielder.stats().yields() >= 200, yielder.stats().toString());
            assertTrue(cpu.counters().calls(PvCall.SCHEDOP_YIELD) >= 200);
        }
    }

    @Test
    void shouldWakeAPollOnItsMaskedPortOrOnTheTimeout()
    {
        try (SchedFixture f = new SchedFixture(config()).start())
        {
            final Domain guest = f.domain("poller", 1, PagingMode.PARA);
            final Vcpu vcpu = f.vcpu0(guest);
            final EventPort port = new EventPort(f.hypervisor.dom0(), guest);
            guest.eventChannels().mask(port.guestPort);
            final int[] ports = {port.guestPort};
            final List<Boolean> results = new CopyOnWriteArrayList<>();
            final AtomicLong wokeAt = new AtomicLong();
            final boolean[] polling = new boolean[1];
            vcpu.addTask(new VcpuTask()
            {
                @Override
                public int doWork()
                {
                    if (polling[0])
                    {
                        polling[0] = false;
                        wokeAt.set(System.nanoTime());
                        results.add(vcpu.poll(ports, 1, 0)); // which port, or the timeout?
                    }
                    return 0;
                }

                @Override
                public String roleName()
                {
                    return "poller";
                }
            });
            final OnVcpu on = new OnVcpu(vcpu);

            // on the port: a 10 s timeout that the event cuts short
            on.submit(() ->
            {
                results.add(vcpu.poll(ports, 1, TimeUnit.SECONDS.toNanos(10)));
                polling[0] = true;
            });
            SchedFixture.await(() -> 1 == results.size() && Vcpu.BLOCKED == vcpu.state(), "the poll to sleep");
            final long blocks = vcpu.stats().blocks();
            final long sentAt = System.nanoTime();
            port.send();
            SchedFixture.await(() -> 2 == results.size(), "the poll to wake on its port");
            assertEquals(List.of(false, true), results);
            assertTrue(wokeAt.get() - sentAt < TimeUnit.SECONDS.toNanos(5), "woke on the port, not the timeout");
            assertTrue(vcpu.stats().blocks() >= blocks);
            assertTrue(guest.eventChannels().isPending(port.guestPort), "poll does not consume the event");

            // already pending: returns at once without sleeping
            results.clear();
            on.submit(() -> results.add(vcpu.poll(ports, 1, 0)));
            SchedFixture.await(() -> 1 == results.size(), "a poll of a pending port");
            assertEquals(List.of(true), results);

            // on the timeout: another port, never sent
            final EventPort quiet = new EventPort(f.hypervisor.dom0(), guest);
            guest.eventChannels().mask(quiet.guestPort);
            ports[0] = quiet.guestPort;
            results.clear();
            final AtomicLong polledAt = new AtomicLong();
            on.submit(() ->
            {
                polledAt.set(System.nanoTime());
                results.add(vcpu.poll(ports, 1, 30 * MILLI));
                polling[0] = true;
            });
            SchedFixture.await(() -> 2 == results.size(), "the poll to time out");
            assertEquals(List.of(false, false), results);
            final long slept = wokeAt.get() - polledAt.get();
            assertTrue(slept >= 30 * MILLI, "woke " + slept + " ns after the poll, before its timeout");
            assertFalse(guest.eventChannels().isPending(quiet.guestPort));
            assertEquals(5, guest.counters().get(HypercallKind.SCHEDOP_POLL));
        }
    }
}
