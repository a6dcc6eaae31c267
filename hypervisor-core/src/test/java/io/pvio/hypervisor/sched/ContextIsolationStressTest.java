package io.pvio.hypervisor.sched;

import io.pvio.machine.cpu.CpuRegisters;
import io.pvio.machine.cpu.GuestCpu;
import io.pvio.machine.vm.PagingMode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two domains on one physical CPU, each vCPU yielding after every pass so that the CPU switches between them
 * thousands of times: on every pass each task checks that all general registers, {@code rip}, {@code cr2} and the
 * {@code cr3} it loaded through its own {@link GuestCpu} still hold its own marker from the previous pass, then
 * writes new ones (a per-pass generation, so a stale context restored from an older switch is caught too). Runs
 * with both domains para, both nested (full), and one of each on the same CPU; no pass ever sees a mismatch.
 */
class ContextIsolationStressTest
{
    private static final int PASSES = 3_000;

    /** One domain's task: checks its markers, writes the next generation, yields. */
    private static final class Marker implements VcpuTask
    {
        final long tag;
        final AtomicBoolean go;
        final AtomicInteger lastRunner;
        final AtomicLong passes = new AtomicLong();
        final AtomicInteger resumes = new AtomicInteger();
        final AtomicReference<String> mismatch = new AtomicReference<>();
        GuestCpu cpu;
        long generation;

        Marker(final long tag, final AtomicBoolean go, final AtomicInteger lastRunner)
        {
            this.tag = tag;
            this.go = go;
            this.lastRunner = lastRunner;
        }

        private long value(final int register, final long gen)
        {
            return tag << 56 | (long)register << 40 | gen;
        }

        private long root(final long gen)
        {
            return (tag << 32 | gen) << 12;
        }

        @Override
        public int doWork()
        {
            if (!go.get())
            {
                // the start gate: until both markers are on their vCPUs, one must not finish all its passes alone
                cpu.yieldCpu();
                return 1;
            }
            if (lastRunner.getAndSet((int)tag) != tag)
            {
                resumes.incrementAndGet();
            }
            final CpuRegisters regs = cpu.registers();
            if (generation > 0 && null == mismatch.get())
            {
                for (int r = 0; r < CpuRegisters.GENERAL_REGISTERS; r++)
                {
                    check(regs, r, value(r, generation));
                }
                check(regs, CpuRegisters.RIP, value(CpuRegisters.RIP, generation));
                check(regs, CpuRegisters.CR2, value(CpuRegisters.CR2, generation));
                check(regs, CpuRegisters.CR3, root(generation));
            }
            generation++;
            for (int r = 0; r < CpuRegisters.GENERAL_REGISTERS; r++)
            {
                regs.set(r, value(r, generation));
            }
            regs.set(CpuRegisters.RIP, value(CpuRegisters.RIP, generation));
            regs.set(CpuRegisters.CR2, value(CpuRegisters.CR2, generation));
            cpu.loadCr3(root(generation));
            if (passes.incrementAndGet() < PASSES)
            {
                cpu.yieldCpu();
                return 1;
            }
            return 0; // done: let it block
        }

        private void check(final CpuRegisters regs, final int register, final long expected)
        {
            final long actual = regs.get(register);
            if (actual != expected)
            {
                mismatch.compareAndSet(null, "domain " + tag + " pass " + generation + " register " + register +
                    ": expected " + Long.toHexString(expected) + " but found " + Long.toHexString(actual) +
                    " after " + resumes.get() + " resumes");
            }
        }

        @Override
        public String roleName()
        {
            return "marker-" + tag;
        }
    }

    @ParameterizedTest
    @CsvSource({"PARA, PARA", "NESTED, NESTED", "PARA, NESTED"})
    void shouldKeepEachDomainsRegistersAndCr3AcrossThousandsOfSwitches(final PagingMode first,
        final PagingMode second)
    {
        final SchedulerConfig config = new SchedulerConfig().pcpus(1).haltPollNanos(0);
        try (SchedFixture f = new SchedFixture(config).start())
        {
            final AtomicBoolean go = new AtomicBoolean();
            final AtomicInteger lastRunner = new AtomicInteger(-1);
            final Marker a = new Marker(0xA, go, lastRunner);
            final Marker b = new Marker(0xB, go, lastRunner);
            final Vcpu va = f.vcpu0(f.domain("a", 1, first));
            final Vcpu vb = f.vcpu0(f.domain("b", 1, second));
            a.cpu = va.cpu();
            b.cpu = vb.cpu();
            va.addTask(a);
            vb.addTask(b);
            go.set(true);
            SchedFixture.await(() -> Vcpu.BLOCKED == va.state() && Vcpu.BLOCKED == vb.state()
                && a.passes.get() >= PASSES && b.passes.get() >= PASSES, "both to finish their passes");
            assertNull(a.mismatch.get());
            assertNull(b.mismatch.get());
            // each yield hands the CPU to the other domain: thousands of switches, not two long runs
            assertTrue(a.resumes.get() + b.resumes.get() >= PASSES, a.resumes + " + " + b.resumes + " resumes");
            assertEquals(root(a), va.savedContext().get(CpuRegisters.CR3), "a's cr3 saved with a's context");
            assertEquals(root(b), vb.savedContext().get(CpuRegisters.CR3), "b's cr3 saved with b's context");
            assertEquals(a.value(0, a.generation), va.savedContext().get(CpuRegisters.RAX));
            assertEquals(b.value(0, b.generation), vb.savedContext().get(CpuRegisters.RAX));
        }
    }

    private static long root(final Marker m)
    {
        return m.root(m.generation);
    }
}
