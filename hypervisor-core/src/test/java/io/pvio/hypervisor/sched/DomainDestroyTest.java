package io.pvio.hypervisor.sched;

import io.pvio.hypervisor.Domain;
import io.pvio.hypervisor.DomainState;
import io.pvio.hypervisor.Errno;
import io.pvio.hypervisor.HypercallException;
import io.pvio.machine.vm.PagingMode;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code destroydomain} from dom0 takes a running domain off its physical CPU before it frees anything: a domain
 * whose vCPU task writes its own memory on every pass is destroyed while it runs, many times over; once the hypercall
 * returns the task never runs again, it never failed (no access to a freed frame), the machine frames it held stay
 * untouched afterwards, and a CPU-bound bystander domain on the same physical CPUs keeps running.
 */
class DomainDestroyTest
{
    private static final int ROUNDS = 25;
    private static final int FRAMES_WRITTEN = 4;

    /** Writes a pass number into the first bytes of some of its domain's frames on every pass. */
    private static final class MemoryWriter implements VcpuTask
    {
        final Domain domain;
        final AtomicLong passes = new AtomicLong();
        final AtomicBoolean destroyed = new AtomicBoolean();
        final AtomicLong passesAfterDestroy = new AtomicLong();
        final long[] mfns = new long[FRAMES_WRITTEN];
        private final UnsafeBuffer[] views = new UnsafeBuffer[FRAMES_WRITTEN];

        MemoryWriter(final Domain domain)
        {
            this.domain = domain;
            for (int gfn = 0; gfn < FRAMES_WRITTEN; gfn++)
            {
                mfns[gfn] = domain.mfnOf(gfn);
                views[gfn] = domain.guestFrame(gfn);
            }
        }

        @Override
        public int doWork()
        {
            if (destroyed.get())
            {
                passesAfterDestroy.incrementAndGet();
            }
            final long pass = passes.incrementAndGet();
            for (int gfn = 0; gfn < FRAMES_WRITTEN; gfn++)
            {
                // through the p2m each time: throws once the domain's memory is released
                final long mfn = domain.mfnOf(gfn);
                assertEquals(mfns[gfn], mfn, "the p2m of a live domain does not move");
                views[gfn].putLong(0, pass);
                views[gfn].putLong(8, mfn);
            }
            return 1;
        }

        @Override
        public String roleName()
        {
            return "memory-writer";
        }
    }

    @ParameterizedTest
    @EnumSource(value = PagingMode.class, names = {"PARA", "NESTED"})
    void shouldTakeTheVcpuOffItsCpuBeforeFreeingTheMemoryAndKeepOthersRunning(final PagingMode mode)
        throws InterruptedException
    {
        final SchedulerConfig config = new SchedulerConfig().pcpus(2).haltPollNanos(0);
        try (SchedFixture f = new SchedFixture(config).start())
        {
            final SpinTask bystander = new SpinTask();
            final Domain other = f.domain("bystander", 1, mode);
            f.vcpu0(other).addTask(bystander);
            final List<Throwable> errors = new CopyOnWriteArrayList<>();
            for (int round = 0; round < ROUNDS; round++)
            {
                final Domain victim = f.domain("victim-" + round, 1, mode);
                final Vcpu vcpu = f.vcpu0(victim);
                vcpu.errorHandler((v, task, error) -> errors.add(error));
                final MemoryWriter writer = new MemoryWriter(victim);
                vcpu.addTask(writer);
                final long target = 50L + round * 7L;
                SchedFixture.await(() -> writer.passes.get() >= target, "the victim to write its memory");

                f.hypervisor.dom0().hypercalls().destroyDomain(victim.id());
                writer.destroyed.set(true);
                final long passesAtDestroy = writer.passes.get();

                assertFalse(vcpu.onCpu, "round " + round + ": the vCPU is off its physical CPU when destroy returns");
                assertEquals(Vcpu.OFFLINE, vcpu.state(), "round " + round);
                assertEquals(DomainState.DEAD, victim.state(), "round " + round);
                final long[] contents = frameContents(f, writer.mfns);
                final long bystanderAtDestroy = bystander.passes.get();
                Thread.sleep(5);
                SchedFixture.await(() -> bystander.passes.get() > bystanderAtDestroy + 10,
                    "the bystander to keep running after round " + round);
                assertEquals(passesAtDestroy, writer.passes.get(), "round " + round + ": no pass after destroy");
                assertEquals(0, writer.passesAfterDestroy.get(), "round " + round);
                assertArrayEquals(contents, frameContents(f, writer.mfns),
                    "round " + round + ": the freed frames are not written after destroy");
                assertTrue(errors.isEmpty(), "round " + round + ": task failed: " + errors);
                final HypercallException again = assertThrows(HypercallException.class,
                    () -> f.hypervisor.dom0().hypercalls().destroyDomain(victim.id()));
                assertEquals(Errno.ESRCH, again.errno());
            }
            assertTrue(other.isAlive());
        }
    }

    @ParameterizedTest
    @EnumSource(value = PagingMode.class, names = {"PARA"})
    void shouldRefuseDestroyFromAnUnprivilegedDomainAndLeaveTheTargetRunning(final PagingMode mode)
    {
        final SchedulerConfig config = new SchedulerConfig().pcpus(1).haltPollNanos(0);
        try (SchedFixture f = new SchedFixture(config).start())
        {
            final Domain victim = f.domain("victim", 1, mode);
            final Domain rogue = f.domain("rogue", 1, mode);
            final MemoryWriter writer = new MemoryWriter(victim);
            f.vcpu0(victim).addTask(writer);
            SchedFixture.await(() -> writer.passes.get() > 10, "the victim to run");
            final HypercallException refused = assertThrows(HypercallException.class,
                () -> rogue.hypercalls().destroyDomain(victim.id()));
            assertEquals(Errno.EPERM, refused.errno());
            final long before = writer.passes.get();
            SchedFixture.await(() -> writer.passes.get() > before + 10, "the victim to keep running");
            assertTrue(victim.isAlive());
        }
    }

    private static long[] frameContents(final SchedFixture f, final long[] mfns)
    {
        final long[] out = new long[mfns.length * 2];
        for (int i = 0; i < mfns.length; i++)
        {
            final UnsafeBuffer frame = f.hypervisor.memory().frame(mfns[i]);
            out[2 * i] = frame.getLong(0);
            out[2 * i + 1] = frame.getLong(8);
        }
        return out;
    }
}
