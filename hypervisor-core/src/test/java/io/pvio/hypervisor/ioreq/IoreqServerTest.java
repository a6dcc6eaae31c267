package io.pvio.hypervisor.ioreq;

import io.pvio.hypervisor.Domain;
import io.pvio.hypervisor.HypercallKind;
import io.pvio.hypervisor.Hypervisor;
import io.pvio.hypervisor.sched.CreditScheduler;
import io.pvio.hypervisor.sched.SchedulerConfig;
import io.pvio.hypervisor.sched.Vcpu;
import io.pvio.hypervisor.sched.VcpuTask;
import io.pvio.machine.cpu.CpuCounters;
import io.pvio.machine.cpu.DeviceBus;
import io.pvio.machine.cpu.ExitReason;
import io.pvio.machine.cpu.GuestCpu;
import io.pvio.machine.memory.MachineMemory;
import io.pvio.machine.vm.PagingMode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A full-mode guest's vCPU driving a device model in dom0 through an ioreq server, on real physical CPUs: each access
 * is one exit and one ioreq, the vCPU waits for the answer, the values are the model's, and set-up, notifications and
 * interrupts are counted as the hypercalls they are.
 */
class IoreqServerTest
{
    private static final long BASE = 0xFEBF_0000L;

    private Hypervisor hypervisor;
    private CreditScheduler scheduler;

    private Domain start(final int pcpus, final PagingMode guestMode)
    {
        hypervisor = new Hypervisor(new MachineMemory(2048L * MachineMemory.FRAME_SIZE), 256, 1);
        scheduler = new CreditScheduler(hypervisor, new SchedulerConfig().pcpus(pcpus));
        scheduler.addDomain(hypervisor.dom0());
        final Domain guest = hypervisor.dom0().hypercalls().createDomain("hvm", 64, 1, guestMode);
        scheduler.addDomain(guest);
        scheduler.start();
        return guest;
    }

    @AfterEach
    void close()
    {
        if (null != hypervisor)
        {
            hypervisor.close();
        }
    }

    @ParameterizedTest(name = "{0} physical CPU(s)")
    @ValueSource(ints = {1, 2})
    void everyAccessIsOneExitAndOneIoreqAnsweredByTheModel(final int pcpus)
    {
        final Domain guest = start(pcpus, PagingMode.FULL);
        final Registers model = new Registers();
        final IoreqServer server = new IoreqServer(hypervisor, hypervisor.dom0(), guest, model);
        server.mapMmio(BASE, BASE + 0xFFF);
        server.mapPorts(0x1F0, 0x1F7);
        server.enable();
        final Vcpu vcpu = guest.vcpu(0);
        final long sendsBefore = hypervisor.dom0().counters().get(HypercallKind.EVTCHN_SEND);

        final int pairs = 1 == pcpus ? 2_000 : 10_000; // answers land both before and after the vCPU blocks
        final Program program = new Program(vcpu.cpu(), pairs);
        vcpu.addTask(program);
        await(() -> program.done || null != program.failure.get(), "the guest's register program");

        assertNull(program.failure.get(), "guest saw a wrong value");
        final int accesses = 2 * pairs;
        final CpuCounters counters = vcpu.cpu().counters();
        assertEquals(accesses / 2, counters.exits(ExitReason.EPT_VIOLATION), "one MMIO exit per MMIO access");
        assertEquals(accesses / 2, counters.exits(ExitReason.IO_INSTRUCTION), "one I/O exit per port access");
        assertEquals(accesses, counters.deviceModelAccesses(), "every claimed access went to the model");
        assertEquals(accesses, server.answered(0));
        assertEquals(accesses, vcpu.deviceStalls(), "the vCPU stopped once per access");
        assertEquals(accesses, model.accesses.get());
        assertEquals(accesses, hypervisor.dom0().counters().get(HypercallKind.EVTCHN_SEND) - sendsBefore,
            "the model notified once per answer");
        assertTrue(model.sawPort.get() && model.sawMmio.get(), "both ioreq types reached the model");
        assertEquals(0, server.modelErrors());
    }

    @Test
    void accessesOutsideTheClaimedRangesStayWithThePreviousBus()
    {
        final Domain guest = start(1, PagingMode.FULL);
        final Registers model = new Registers();
        final IoreqServer server = new IoreqServer(hypervisor, hypervisor.dom0(), guest, model);
        server.mapMmio(BASE, BASE + 0xFFF);
        server.enable();
        final Vcpu vcpu = guest.vcpu(0);
        final AtomicReference<Long> read = new AtomicReference<>();
        vcpu.addTask(once(() -> read.set(vcpu.cpu().mmioRead(BASE + 0x1000, 4))));
        await(() -> null != read.get(), "the unclaimed read");
        assertEquals(0xFFFF_FFFFL, read.get(), "an empty bus reads all ones");
        assertEquals(0, vcpu.cpu().counters().deviceModelAccesses());
        assertEquals(0, model.accesses.get());
        assertEquals(1, vcpu.cpu().counters().exits(ExitReason.EPT_VIOLATION), "still a trapped access");
    }

    @Test
    void aFailingModelAnswersAllOnesAndTheGuestCarriesOn()
    {
        final Domain guest = start(1, PagingMode.FULL);
        final DeviceBus broken = new DeviceBus()
        {
            @Override
            public long read(final boolean mmio, final long address, final int size)
            {
                throw new IllegalStateException("model bug");
            }

            @Override
            public void write(final boolean mmio, final long address, final int size, final long value)
            {
                throw new IllegalStateException("model bug");
            }
        };
        final IoreqServer server = new IoreqServer(hypervisor, hypervisor.dom0(), guest, broken);
        server.mapMmio(BASE, BASE + 0xFFF);
        server.enable();
        final Vcpu vcpu = guest.vcpu(0);
        final AtomicReference<Long> read = new AtomicReference<>();
        final AtomicInteger step = new AtomicInteger();
        vcpu.addTask(new VcpuTask()
        {
            @Override
            public int doWork()
            {
                if (0 == step.get())
                {
                    vcpu.cpu().mmioWrite(BASE, 4, 7);
                    step.set(1);
                    return 1;
                }
                if (1 == step.get())
                {
                    read.set(vcpu.cpu().mmioRead(BASE, 2));
                    step.set(2);
                    return 1;
                }
                return 0;
            }

            @Override
            public String roleName()
            {
                return "broken-model-guest";
            }
        });
        await(() -> null != read.get(), "the guest's read");
        assertEquals(0xFFFFL, read.get());
        assertEquals(2, server.modelErrors());
    }

    @Test
    void interruptsFromTheModelAreInjectedAsDmOps()
    {
        final Domain guest = start(1, PagingMode.FULL);
        final IoreqServer server = new IoreqServer(hypervisor, hypervisor.dom0(), guest, new Registers());
        server.mapMmio(BASE, BASE + 0xFFF);
        server.enable();
        final long dmOps = hypervisor.dom0().counters().get(HypercallKind.DM_OP);
        final Vcpu vcpu = guest.vcpu(0);
        final AtomicInteger handled = new AtomicInteger();
        final AtomicInteger step = new AtomicInteger();
        vcpu.addTask(once(() ->
        {
            vcpu.cpu().setHandler(0x41, (cpu, vector, error) -> handled.incrementAndGet());
            vcpu.cpu().enableInterrupts();
            step.set(1);
        }));
        await(() -> 1 == step.get(), "the guest's handler set-up");
        server.injectMsi(0x41);
        await(() -> 1 == handled.get(), "the injected interrupt");
        assertEquals(1, hypervisor.dom0().counters().get(HypercallKind.DM_OP) - dmOps);
        assertTrue(vcpu.cpu().counters().injected() >= 1);
        assertThrows(IllegalArgumentException.class, () -> server.injectMsi(3));
    }

    @Test
    void onlyFullModeGuestsGetAServerAndRangesAreChecked()
    {
        final Domain para = start(1, PagingMode.PARA);
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
            () -> new IoreqServer(hypervisor, hypervisor.dom0(), para, new Registers()));
        assertTrue(ex.getMessage().contains("full-mode"), ex.getMessage());

        final Domain hvm = hypervisor.dom0().hypercalls().createDomain("hvm2", 64, 1, PagingMode.FULL);
        scheduler.addDomain(hvm);
        final int ownedBefore = hypervisor.memory().framesOwnedBy(hypervisor.dom0().id());
        final IoreqServer server = new IoreqServer(hypervisor, hypervisor.dom0(), hvm, new Registers());
        assertEquals(ownedBefore + 1, hypervisor.memory().framesOwnedBy(hypervisor.dom0().id()), "the ioreq page");
        server.mapMmio(BASE, BASE + 0xFFF);
        assertThrows(IllegalArgumentException.class, () -> server.mapMmio(BASE + 0xFFF, BASE + 0x1FFF), "overlap");
        assertThrows(IllegalArgumentException.class, () -> server.mapMmio(BASE + 10, BASE), "empty");
        assertThrows(IllegalArgumentException.class, () -> server.mapPorts(0xFFF0, 0x10000), "past 0xffff");
        server.enable();
        assertThrows(IllegalStateException.class, () -> server.mapMmio(0, 1), "mapping after enable");
        server.close();
        assertEquals(ownedBefore, hypervisor.memory().framesOwnedBy(hypervisor.dom0().id()), "page freed");
        assertEquals(DeviceBus.NONE, hvm.vcpu(0).deviceBus(), "the vCPU's bus given back");
    }

    private static VcpuTask once(final Runnable action)
    {
        final AtomicInteger ran = new AtomicInteger();
        return new VcpuTask()
        {
            @Override
            public int doWork()
            {
                if (0 != ran.get())
                {
                    return 0;
                }
                action.run();
                ran.set(1);
                return 1;
            }

            @Override
            public String roleName()
            {
                return "once";
            }
        };
    }

    private static void await(final BooleanSupplier condition, final String what)
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() - deadline > 0)
            {
                throw new AssertionError("timed out waiting for " + what);
            }
            try
            {
                Thread.sleep(1);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
                throw new AssertionError(ex);
            }
        }
    }

    /**
     * A guest register program: writes a value, reads it back, alternating MMIO and port registers; one access per
     * step, the step advanced only after the access returned (IoPending's retry contract).
     */
    private static final class Program implements VcpuTask
    {
        private final GuestCpu cpu;
        private final int pairs;
        private final AtomicReference<String> failure = new AtomicReference<>();
        private int step;
        private volatile boolean done;

        Program(final GuestCpu cpu, final int pairs)
        {
            this.cpu = cpu;
            this.pairs = pairs;
        }

        @Override
        public int doWork()
        {
            if (done)
            {
                return 0;
            }
            final int pair = step / 2;
            final boolean mmio = 0 == pair % 2;
            final long value = 0x1000L + pair;
            if (0 == step % 2)
            {
                if (mmio)
                {
                    cpu.mmioWrite(BASE + 8 * (pair % 16), 4, value);
                }
                else
                {
                    cpu.out(0x1F0 + pair % 8, 2, value);
                }
            }
            else
            {
                final long read = mmio ? cpu.mmioRead(BASE + 8 * (pair % 16), 4) : cpu.in(0x1F0 + pair % 8, 2);
                if (read != value)
                {
                    failure.compareAndSet(null, "pair " + pair + ": read 0x" + Long.toHexString(read) + ", wrote 0x" +
                        Long.toHexString(value));
                }
            }
            step++;
            done = step == 2 * pairs;
            return 1;
        }

        @Override
        public String roleName()
        {
            return "register-program";
        }
    }

    /** A device model with a register file per address; counts what reaches it. */
    private static final class Registers implements DeviceBus
    {
        private final ConcurrentHashMap<Long, Long> values = new ConcurrentHashMap<>();
        private final AtomicInteger accesses = new AtomicInteger();
        private final AtomicBoolean sawMmio = new AtomicBoolean();
        private final AtomicBoolean sawPort = new AtomicBoolean();

        @Override
        public long read(final boolean mmio, final long address, final int size)
        {
            note(mmio);
            return values.getOrDefault((mmio ? 0 : 1L << 62) | address, 0L);
        }

        @Override
        public void write(final boolean mmio, final long address, final int size, final long value)
        {
            note(mmio);
            values.put((mmio ? 0 : 1L << 62) | address, value);
        }

        private void note(final boolean mmio)
        {
            accesses.incrementAndGet();
            (mmio ? sawMmio : sawPort).set(true);
        }
    }
}
