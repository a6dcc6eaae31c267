package io.pvio.hypervisor.sched;

import io.pvio.machine.cpu.CpuRegisters;
import io.pvio.machine.cpu.GuestCpu;
import io.pvio.machine.vm.PagingMode;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two full-mode guests multiplexed on one physical CPU with 1 ms slices each keep their own context: every pass
 * checks that the general registers, {@code rip}, {@code cr2}, {@code cr3} and IF still hold what it wrote on its
 * previous pass, across hundreds of switches to the other guest; a vector left pending behind IF clear stays pending
 * across switches and is delivered once, on its own guest with its own {@code cr3}, when that guest executes
 * {@code sti}; the other guest's handlers for the same vectors never run.
 */
class ContextIsolationTest
{
    private static final int RESUMES = 150;
    private static final int HELD_VECTOR = 0x50;
    private static final int OPEN_VECTOR = 0x60;

    private static final AtomicInteger LAST_RUNNER = new AtomicInteger(-1);

    /** One guest's task: checks and rewrites its registers each pass. */
    private static final class Guest implements VcpuTask
    {
        final int tag;
        final long root;
        final boolean holdsInterrupt;
        final AtomicReference<String> error = new AtomicReference<>();
        final AtomicInteger resumes = new AtomicInteger();
        final AtomicInteger heldHandled = new AtomicInteger();
        final AtomicInteger openHandled = new AtomicInteger();
        volatile long heldHandledCr3;
        GuestCpu cpu;
        long generation;
        boolean interruptsOn;
        boolean released;

        Guest(final int tag, final boolean holdsInterrupt)
        {
            this.tag = tag;
            this.root = (0x100L + tag) << 12;
            this.holdsInterrupt = holdsInterrupt;
        }

        void boot(final Vcpu vcpu)
        {
            cpu = vcpu.cpu();
            cpu.setHandler(HELD_VECTOR, (c, vector, errorCode) ->
            {
                heldHandled.incrementAndGet();
                heldHandledCr3 = c.registers().get(CpuRegisters.CR3);
            });
            cpu.setHandler(OPEN_VECTOR, (c, vector, errorCode) -> openHandled.incrementAndGet());
        }

        @Override
        public int doWork()
        {
            final CpuRegisters regs = cpu.registers();
            if (LAST_RUNNER.getAndSet(tag) != tag)
            {
                resumes.incrementAndGet();
            }
            if (0 == generation)
            {
                cpu.loadCr3(root);
                if (holdsInterrupt)
                {
                    cpu.disableInterrupts();
                    cpu.postInterrupt(HELD_VECTOR);
                }
                else
                {
                    cpu.postInterrupt(OPEN_VECTOR);
                }
                interruptsOn = !holdsInterrupt;
            }
            else
            {
                check(regs);
            }
            if (holdsInterrupt && !released && resumes.get() >= RESUMES / 2)
            {
                released = true;
                cpu.enableInterrupts(); // sti: the held vector is taken now, on this guest
                interruptsOn = true;
            }
            generation++;
            for (int r = 0; r < CpuRegisters.GENERAL_REGISTERS; r++)
            {
                regs.set(r, value(r));
            }
            regs.set(CpuRegisters.RIP, value(CpuRegisters.RIP));
            regs.set(CpuRegisters.CR2, value(CpuRegisters.CR2));
            return 1;
        }

        private void check(final CpuRegisters regs)
        {
            for (int r = 0; r < CpuRegisters.GENERAL_REGISTERS; r++)
            {
                expect(regs.get(r) == value(r), "r" + r + "=" + regs.get(r));
            }
            expect(regs.get(CpuRegisters.RIP) == value(CpuRegisters.RIP), "rip " + regs.get(CpuRegisters.RIP));
            expect(regs.get(CpuRegisters.CR2) == value(CpuRegisters.CR2), "cr2 " + regs.get(CpuRegisters.CR2));
            expect(regs.get(CpuRegisters.CR3) == root, "cr3 " + regs.get(CpuRegisters.CR3));
            expect(cpu.interruptsEnabled() == interruptsOn, "IF " + cpu.interruptsEnabled());
            if (holdsInterrupt && !released)
            {
                expect(cpu.interruptController().isRequested(HELD_VECTOR), "held vector no longer pending");
                expect(0 == heldHandled.get(), "held vector delivered behind IF clear");
            }
        }

        private long value(final int register)
        {
            return ((long)tag << 48) | ((long)register << 40) | generation;
        }

        private void expect(final boolean condition, final String what)
        {
            if (!condition)
            {
                error.compareAndSet(null, "guest " + tag + " pass " + generation + ": " + what);
            }
        }

        @Override
        public String roleName()
        {
            return "guest" + tag;
        }
    }

    @Test
    void shouldKeepEachGuestsRegistersIfCr3AndPendingInterruptsAcrossSwitches()
    {
        final SchedulerConfig config = new SchedulerConfig().pcpus(1).sliceNanos(TimeUnit.MILLISECONDS.toNanos(1))
            .tickNanos(TimeUnit.MILLISECONDS.toNanos(1)).ticksPerAccounting(1);
        try (SchedFixture f = new SchedFixture(config).start())
        {
            final Guest a = new Guest(1, true);
            final Guest b = new Guest(2, false);
            final Vcpu va = f.vcpu0(f.domain("a", 1, PagingMode.NESTED));
            final Vcpu vb = f.vcpu0(f.domain("b", 1, PagingMode.NESTED));
            a.boot(va);
            b.boot(vb);
            va.addTask(a);
            vb.addTask(b);
            SchedFixture.await(() -> a.resumes.get() >= RESUMES && b.resumes.get() >= RESUMES ||
                null != a.error.get() || null != b.error.get(), "both guests resumed " + RESUMES + " times");
            va.removeTask(a);
            vb.removeTask(b);
            assertNull(a.error.get());
            assertNull(b.error.get());
            assertTrue(a.released);
            assertEquals(1, a.heldHandled.get(), "the held vector is delivered once, after sti");
            assertEquals(a.root, a.heldHandledCr3, "and runs in its own guest's address space");
            assertEquals(0, b.heldHandled.get(), "never on the other guest");
            assertEquals(1, b.openHandled.get());
            assertEquals(0, a.openHandled.get());
            assertFalse(va.cpu().interruptController().isRequested(HELD_VECTOR));
            assertTrue(f.scheduler.pcpus()[0].switches() >= 2 * RESUMES - 2, "switches " +
                f.scheduler.pcpus()[0].switches());
        }
    }
}
