package io.pvio.hypervisor.sched;

import io.pvio.hypervisor.Domain;
import io.pvio.machine.vm.PagingMode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * No wake-up is lost when an event is sent exactly while its vCPU goes to sleep: thousands of events each sent
 * (a) while the vCPU's task is in {@link VcpuTask#prepareToBlock()}, before the vCPU commits to blocking, (b) after
 * it has moved to {@code BLOCKING} but before the physical CPU settles it (the test holds the scheduler's lock to
 * keep it there), and (c) at random moments around the block; each one must reach its handler, in both the para
 * (upcall) and full (injected vector) modes.
 */
class WakeupStressTest
{
    private static final int ITERATIONS = 3_000;

    private static final int IDLE = 0;
    private static final int ARMED = 1;
    private static final int IN_PREPARE = 2;
    private static final int RELEASED = 3;

    /** A task with no work whose prepareToBlock parks on a handshake with the test thread when armed. */
    private static final class Gate implements VcpuTask
    {
        final AtomicInteger phase = new AtomicInteger(IDLE);

        @Override
        public int doWork()
        {
            return 0;
        }

        @Override
        public boolean prepareToBlock()
        {
            if (phase.compareAndSet(ARMED, IN_PREPARE))
            {
                SchedFixture.spinUntil(() -> RELEASED == phase.get(), "the test to release prepareToBlock");
                phase.set(IDLE);
            }
            return false;
        }

        @Override
        public String roleName()
        {
            return "gate";
        }
    }

    private static SchedulerConfig config()
    {
        return new SchedulerConfig().pcpus(1).haltPollNanos(0).idleSpinNanos(0);
    }

    @ParameterizedTest
    @EnumSource(value = PagingMode.class, names = {"PARA", "NESTED"})
    void shouldHandleEveryEventSentWhileTheTaskPreparesToBlock(final PagingMode mode)
    {
        try (SchedFixture f = new SchedFixture(config()).start())
        {
            final Rig rig = new Rig(f, mode);
            for (int i = 0; i < ITERATIONS; i++)
            {
                rig.gate.phase.set(ARMED);
                rig.vcpu.wake(); // run a pass, find no work, go to block through prepareToBlock
                SchedFixture.spinUntil(() -> IN_PREPARE == rig.gate.phase.get(), "prepareToBlock " + i);
                rig.port.send(); // the vCPU is RUNNING and about to commit to blocking
                rig.gate.phase.set(RELEASED);
                rig.awaitHandled(i + 1);
            }
            rig.assertExactly(ITERATIONS);
        }
    }

    @ParameterizedTest
    @EnumSource(value = PagingMode.class, names = {"PARA", "NESTED"})
    void shouldHandleEveryEventSentAfterTheVcpuCommittedToBlocking(final PagingMode mode)
    {
        try (SchedFixture f = new SchedFixture(config()).start())
        {
            final Rig rig = new Rig(f, mode);
            for (int i = 0; i < ITERATIONS; i++)
            {
                // settled first: a wake that finds the vCPU still running its last pass turns it RUNNING_WOKEN, its
                // block fails, and the extra pass may need the scheduler's lock (a tick), which the test holds below
                SchedFixture.spinUntil(() -> Vcpu.BLOCKED == rig.vcpu.state(), "BLOCKED " + i);
                rig.gate.phase.set(ARMED);
                rig.vcpu.wake();
                SchedFixture.spinUntil(() -> IN_PREPARE == rig.gate.phase.get(), "prepareToBlock " + i);
                synchronized (f.scheduler.lock)
                {
                    // the vCPU moves RUNNING -> BLOCKING without the lock, then waits for it to settle BLOCKED
                    rig.gate.phase.set(RELEASED);
                    SchedFixture.spinUntil(() -> Vcpu.BLOCKING == rig.vcpu.state(), "BLOCKING " + i);
                    rig.port.send();
                    assertEquals(Vcpu.RUNNING_WOKEN, rig.vcpu.state(), "the wake turned BLOCKING into RUNNING_WOKEN");
                }
                rig.awaitHandled(i + 1);
            }
            rig.assertExactly(ITERATIONS);
        }
    }

    @ParameterizedTest
    @EnumSource(value = PagingMode.class, names = {"PARA", "NESTED"})
    void shouldHandleEveryEventSentAtRandomMomentsAroundTheBlock(final PagingMode mode)
    {
        try (SchedFixture f = new SchedFixture(config()).start())
        {
            final Rig rig = new Rig(f, mode);
            final SplittableRandom random = new SplittableRandom(mode.ordinal());
            for (int i = 0; i < ITERATIONS; i++)
            {
                rig.vcpu.wake();
                final long until = System.nanoTime() + random.nextInt(30_000);
                while (System.nanoTime() - until < 0)
                {
                    Thread.onSpinWait();
                }
                rig.port.send();
                rig.awaitHandled(i + 1);
            }
            rig.assertExactly(ITERATIONS);
        }
    }

    /** One guest with a gate task on vCPU 0 and a port whose handler counts events. */
    private static final class Rig
    {
        final Vcpu vcpu;
        final Gate gate = new Gate();
        final EventPort port;
        final AtomicLong handled = new AtomicLong();

        Rig(final SchedFixture f, final PagingMode mode)
        {
            final Domain guest = f.domain("guest", 1, mode);
            vcpu = f.vcpu0(guest);
            port = new EventPort(f.hypervisor.dom0(), guest);
            guest.eventChannels().bindHandler(port.guestPort, p -> handled.incrementAndGet());
            vcpu.addTask(gate);
        }

        void awaitHandled(final long n)
        {
            SchedFixture.spinUntil(() -> handled.get() >= n, "event " + n + " handled (a lost wake-up?) " + vcpu.stats());
        }

        void assertExactly(final long n)
        {
            SchedFixture.await(() -> Vcpu.BLOCKED == vcpu.state(), "the vCPU to block at the end");
            assertEquals(n, handled.get());
            final VcpuStats stats = vcpu.stats();
            assertTrue(stats.blocks() > n / 2, "the vCPU really slept between events: " + stats);
        }
    }
}
