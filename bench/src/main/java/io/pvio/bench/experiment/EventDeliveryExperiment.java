package io.pvio.bench.experiment;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import io.pvio.hypervisor.sched.SchedulerConfig;
import io.pvio.hypervisor.sched.Vcpu;
import io.pvio.hypervisor.sched.VcpuTask;
import io.pvio.machine.CostModel;
import io.pvio.machine.cpu.CpuCounters;
import io.pvio.machine.cpu.CpuMode;
import io.pvio.machine.cpu.ExitReason;
import io.pvio.machine.cpu.GuestCpu;
import io.pvio.machine.cpu.Vectors;
import io.pvio.machine.vm.PagingMode;

/**
 * E5 (CPU part, the companion of {@link FaultDeliveryExperiment}): what each kind of event costs a native, a full
 * (trap-and-emulate) and a para (hypercall) vCPU running on the credit scheduler: system calls, a divide error, a page
 * fault's delivery, a device interrupt, an event-channel notification from dom0 (to a blocked vCPU and to a running
 * one) and a one-shot timer tick re-armed by its handler. Per event it counts VM exits, hypercalls, bounces,
 * injections, upcalls and IDT deliveries on the vCPU's own counters, and the cycles the cost model prices them at.
 * <p>
 * Para mode enters its fast system-call handler without the hypervisor, takes exceptions as one bounce, and gets
 * events and ticks as upcalls with no exit; full mode exits for every exception, for the end of every interrupt
 * (x2APIC EOI without APIC virtualization), for timer programming, and once more when an interrupt arrives while the
 * guest runs; native enters no hypervisor at all.
 */
final class EventDeliveryExperiment implements Experiment
{
    /** A device's interrupt vector (native and full; para has no APIC, its devices signal by event). */
    static final int DEVICE_VECTOR = 0x40;

    private static final long TICK_NANOS = TimeUnit.MICROSECONDS.toNanos(50);
    private static final long SETTLE_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

    @Override
    public String name()
    {
        return "e5b";
    }

    @Override
    public String summary()
    {
        return "exception, interrupt, event and timer delivery: exits, hypercalls, upcalls per event in each mode";
    }

    @Override
    public ExperimentResult run(final ExperimentContext context)
    {
        final CostModel cost = new CostModel();
        final ExperimentResult result = new ExperimentResult(name(),
            "Exits, hypercalls and modeled cycles per delivered event (counted on the vCPU)",
            "case", "event", "mode", "n", "exits", "external_interrupt_exits", "hypercalls", "bounces", "injected",
            "upcalls", "idt_deliveries", "hypervisor_entries", "modeled_cycles", "exit_reasons");
        final int n = context.scaled(2000, 200);
        final int events = context.scaled(800, 100);
        for (final CpuMode mode : CpuMode.values())
        {
            context.progress("e5b: " + mode + ", " + n + " syscalls, exceptions and faults, " + events +
                " interrupts, events and ticks");
            runMode(result, mode, n, events, cost);
        }
        check(result);
        result.note("one domain with one vCPU per mode on a one-pCPU credit scheduler; dom0 (the experiment's " +
            "thread) sends the events; halt polling is off, so a vCPU with nothing to do blocks at once");
        result.note("event_idle: each notification finds the vCPU blocked; event_busy: the vCPU runs a " +
            "CPU-bound task, so a full-mode guest is in guest mode when the interrupt arrives");
        result.note("timer_tick: a one-shot timer " + TICK_NANOS / 1000 + " us ahead, re-armed by the tick " +
            "handler (set_timer_op in para, the TSC-deadline MSR natively and in full)");
        result.note("counts are per event; modeled cycles come from the CostModel (vmExit " + cost.vmExit() +
            ", hypercall " + cost.hypercall() + " (assumption), delivery " + cost.exceptionDelivery() +
            ", upcall " + cost.upcall() + " (assumption)), not measured");
        result.note("page-fault handling by the MMU (shadow fills, mmu_update) is in e5; here only the delivery " +
            "of the fault to the guest's handler is counted");
        result.chart(new ExperimentResult.Chart(ExperimentResult.Chart.Kind.BAR, "case",
            List.of("exits", "hypercalls", "upcalls"), null, "event and mode", "per event", false));
        return result;
    }

    private static void runMode(
        final ExperimentResult result, final CpuMode mode, final int n, final int events, final CostModel cost)
    {
        final SchedulerConfig config = new SchedulerConfig().pcpus(1).haltPollNanos(0).cost(cost);
        try (SchedRig rig = new SchedRig(config, 1))
        {
            final PagingMode paging = CpuMode.NATIVE == mode ? PagingMode.NATIVE :
                CpuMode.FULL == mode ? PagingMode.FULL : PagingMode.PARA;
            final Vcpu vcpu = rig.domain(mode.name().toLowerCase(Locale.ROOT), paging);
            final GuestCpu cpu = vcpu.cpu();
            final Program program = new Program(vcpu);
            vcpu.addTask(program);
            final AtomicLong handled = new AtomicLong();
            final AtomicLong ticks = new AtomicLong();
            final int port = rig.channelFromDom0(vcpu, handled::incrementAndGet);
            program.execute(() ->
            {
                cpu.setHandler(Vectors.DIVIDE_ERROR, (c, vector, error) -> handled.incrementAndGet());
                cpu.setHandler(Vectors.PAGE_FAULT, (c, vector, error) -> handled.incrementAndGet());
                if (CpuMode.PARA != mode)
                {
                    cpu.setHandler(DEVICE_VECTOR, (c, vector, error) -> handled.incrementAndGet());
                }
                cpu.setSyscallHandler((c, number) -> number + 1);
                cpu.setTimerHandler(() ->
                {
                    if (ticks.incrementAndGet() < events)
                    {
                        cpu.setTimer(System.nanoTime() + TICK_NANOS);
                    }
                });
            });
            final String m = mode.name().toLowerCase(Locale.ROOT);
            measure(result, "syscall", m, n, program, () -> program.execute(() ->
            {
                for (int i = 0; i < n; i++)
                {
                    cpu.syscall(i);
                }
            }));
            measure(result, "divide_error", m, n, program, () -> program.execute(() ->
            {
                for (int i = 0; i < n; i++)
                {
                    cpu.raiseException(Vectors.DIVIDE_ERROR, 0);
                }
            }));
            measure(result, "page_fault", m, n, program, () -> program.execute(() ->
            {
                for (int i = 0; i < n; i++)
                {
                    cpu.pageFault(0x40_0000L + 4096L * i, 0x6);
                }
            }));
            if (CpuMode.PARA != mode)
            {
                measure(result, "device_irq", m, events, program, () ->
                    toBlockedVcpu(vcpu, handled, events, () -> cpu.postInterrupt(DEVICE_VECTOR)));
            }
            measure(result, "event_idle", m, events, program, () ->
                toBlockedVcpu(vcpu, handled, events, () -> rig.send(port)));
            measure(result, "event_busy", m, events, program, () ->
            {
                program.busy(true);
                for (int i = 0; i < events; i++)
                {
                    final long before = handled.get();
                    rig.send(port);
                    SchedRig.await(() -> handled.get() > before, "event " + i + " handled");
                }
                program.busy(false);
            });
            measure(result, "timer_tick", m, events, program, () ->
            {
                program.execute(() -> cpu.setTimer(System.nanoTime() + TICK_NANOS));
                SchedRig.await(() -> ticks.get() >= events, events + " timer ticks");
            });
        }
    }

    /** Sends {@code events} interrupts one at a time, each once the vCPU has handled the last and blocked. */
    private static void toBlockedVcpu(final Vcpu vcpu, final AtomicLong handled, final int events, final Runnable send)
    {
        SchedRig.pause(SETTLE_NANOS);
        for (int i = 0; i < events; i++)
        {
            final long before = handled.get();
            final long blocks = vcpu.stats().blocks();
            send.run();
            SchedRig.await(() -> handled.get() > before && vcpu.stats().blocks() > blocks,
                "interrupt " + i + " handled");
        }
    }

    private static void measure(
        final ExperimentResult result, final String event, final String mode, final int n, final Program program,
        final Runnable phase)
    {
        final CpuCounters before = program.snapshot();
        phase.run();
        SchedRig.pause(SETTLE_NANOS);
        final CpuCounters d = program.snapshot().minus(before);
        final StringBuilder reasons = new StringBuilder();
        for (final ExitReason reason : ExitReason.values())
        {
            final long count = d.exits(reason);
            if (0 != count)
            {
                reasons.append(reasons.length() == 0 ? "" : " ").append(reason).append('=')
                    .append(String.format(Locale.ROOT, "%.2f", (double)count / n));
            }
        }
        result.row(event + " " + mode, event, mode, n, per(d.exits(), n),
            per(d.exits(ExitReason.EXTERNAL_INTERRUPT), n), per(d.calls(), n), per(d.bounces(), n),
            per(d.injected(), n), per(d.upcalls(), n), per(d.interrupts(), n), per(d.hypervisorEntries(), n),
            per(d.modeledCycles(), n),
            reasons.length() == 0 ? "-" : reasons.toString());
    }

    private static void check(final ExperimentResult result)
    {
        final List<String> external = List.of("device_irq", "event_idle", "event_busy", "timer_tick");
        final List<String> all = new ArrayList<>(List.of("syscall", "divide_error", "page_fault"));
        all.addAll(external);
        double nativeEntries = 0;
        for (final String event : all)
        {
            nativeEntries += cell(result, event, "native", "hypervisor_entries") +
                cell(result, event, "native", "exits");
        }
        result.check("native enters no hypervisor for any event", 0 == nativeEntries,
            "native entries + exits, all events: " + nativeEntries);
        result.check("para system calls use the fast handler: 0 hypervisor entries; full enters the monitor for each",
            0 == cell(result, "syscall", "para", "hypervisor_entries") &&
                cell(result, "syscall", "full", "hypervisor_entries") >= 1,
            "para " + cell(result, "syscall", "para", "hypervisor_entries") + ", full " +
                cell(result, "syscall", "full", "hypervisor_entries"));
        boolean bounces = true;
        boolean reflections = true;
        final StringBuilder detail = new StringBuilder();
        for (final String event : List.of("divide_error", "page_fault"))
        {
            bounces &= 1.0 == cell(result, event, "para", "bounces") && 0 == cell(result, event, "para", "exits");
            reflections &= 1.0 == cell(result, event, "full", "exits") &&
                1.0 == cell(result, event, "full", "injected");
            detail.append(event).append(": para bounces ").append(cell(result, event, "para", "bounces"))
                .append(", full exits ").append(cell(result, event, "full", "exits")).append("; ");
        }
        result.check("para exceptions bounce through the hypervisor exactly once with no exit", bounces,
            detail.toString());
        result.check("full-mode exceptions exit once (EXCEPTION) and are reflected (injected) once", reflections,
            detail.toString());
        boolean fullExits = true;
        final StringBuilder exits = new StringBuilder();
        for (final String event : external)
        {
            fullExits &= cell(result, event, "full", "exits") >= 1;
            exits.append(event).append(' ').append(cell(result, event, "full", "exits")).append("; ");
        }
        result.check("full mode has at least one exit per external interrupt, event and timer tick", fullExits,
            exits.toString());
        final double busyExternal = cell(result, "event_busy", "full", "external_interrupt_exits");
        final double idleExternal = cell(result, "event_idle", "full", "external_interrupt_exits");
        result.check("an interrupt that arrives while a full-mode guest runs adds an external-interrupt exit",
            busyExternal >= 0.9 && idleExternal <= 0.1,
            String.format(Locale.ROOT, "external-interrupt exits per event: running %.3f, blocked %.3f",
                busyExternal, idleExternal));
        boolean upcalls = true;
        final StringBuilder para = new StringBuilder();
        for (final String event : List.of("event_idle", "event_busy", "timer_tick"))
        {
            final double u = cell(result, event, "para", "upcalls");
            upcalls &= 0 == cell(result, event, "para", "exits") && u >= 0.99 && u <= 1.01 &&
                0 == cell(result, event, "para", "injected");
            para.append(event).append(": upcalls ").append(u).append(", exits ")
                .append(cell(result, event, "para", "exits")).append("; ");
        }
        result.check("para delivers events and timer ticks by one upcall each, with 0 exits", upcalls,
            para.toString());
        boolean cheaper = true;
        final StringBuilder cycles = new StringBuilder();
        for (final String event : List.of("event_idle", "event_busy", "timer_tick", "divide_error"))
        {
            final double p = cell(result, event, "para", "modeled_cycles");
            final double f = cell(result, event, "full", "modeled_cycles");
            cheaper &= p < f;
            cycles.append(String.format(Locale.ROOT, "%s para %.0f vs full %.0f; ", event, p, f));
        }
        result.check("para costs fewer modeled cycles than full per event, tick and exception", cheaper,
            cycles.toString());
    }

    private static double cell(final ExperimentResult result, final String event, final String mode,
        final String column)
    {
        return result.number(result.find("case", event + " " + mode), column);
    }

    private static double per(final long count, final int n)
    {
        return (double)count / n;
    }

    /**
     * The guest kernel's side: runs code the experiment hands it on the vCPU's thread (where guest-facing CPU
     * methods must run), and while {@code busy} keeps the vCPU in guest mode with a CPU-bound loop.
     */
    private static final class Program implements VcpuTask
    {
        private final Vcpu vcpu;
        private final AtomicReference<Runnable> command = new AtomicReference<>();
        private volatile CountDownLatch done;
        private volatile boolean busy;
        private volatile CpuCounters snapshot;
        private long spin = 1;

        Program(final Vcpu vcpu)
        {
            this.vcpu = vcpu;
        }

        @Override
        public int doWork()
        {
            final Runnable next = command.getAndSet(null);
            if (null != next)
            {
                next.run();
                done.countDown();
                return 1;
            }
            if (busy)
            {
                long x = spin;
                for (int i = 0; i < 4000; i++)
                {
                    x = x * 6364136223846793005L + 1442695040888963407L;
                }
                spin = x;
                return 1;
            }
            return 0;
        }

        @Override
        public String roleName()
        {
            return "e5b-program";
        }

        /** Runs {@code code} on the vCPU and waits for it. */
        void execute(final Runnable code)
        {
            final CountDownLatch latch = new CountDownLatch(1);
            done = latch;
            command.set(code);
            vcpu.wake();
            try
            {
                if (!latch.await(20, TimeUnit.SECONDS))
                {
                    throw new IllegalStateException(vcpu + " did not run its command in 20 s");
                }
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", ex);
            }
        }

        /** The vCPU's counters, read on its own thread between passes' work. */
        CpuCounters snapshot()
        {
            execute(() -> snapshot = vcpu.cpu().counters().snapshot());
            return snapshot;
        }

        void busy(final boolean value)
        {
            busy = value;
            vcpu.wake();
        }
    }
}
