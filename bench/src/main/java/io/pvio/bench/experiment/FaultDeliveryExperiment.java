package io.pvio.bench.experiment;

import java.util.List;
import java.util.Locale;

import io.pvio.machine.CostModel;
import io.pvio.machine.memory.MachineMemory;
import io.pvio.machine.vm.GuestKernel;
import io.pvio.machine.vm.GuestKernel.AddressSpace;
import io.pvio.machine.vm.GuestWorkloads;
import io.pvio.machine.vm.KernelOptions;
import io.pvio.machine.vm.PagingMode;
import io.pvio.machine.vm.VirtCounters;

/**
 * E5 (page-fault part, with system calls): how many times the hypervisor is entered per system call and per guest
 * page fault in each mode. Para mode's fast system-call handler bypasses the hypervisor and its faults bounce through
 * it once (only it can read CR2); full mode enters the monitor for both and adds hidden shadow-fill faults. Its
 * companion {@link EventDeliveryExperiment} ({@code e5b}) covers the CPU side: exceptions, device interrupts, events
 * and timer ticks on vCPUs of the credit scheduler.
 */
final class FaultDeliveryExperiment implements Experiment
{
    @Override
    public String name()
    {
        return "e5";
    }

    @Override
    public String summary()
    {
        return "syscall and page-fault delivery: hypervisor entries per syscall and per fault in each mode";
    }

    @Override
    public ExperimentResult run(final ExperimentContext context)
    {
        final CostModel cost = new CostModel();
        final ExperimentResult result = new ExperimentResult(name(),
            "Hypervisor entries per system call and per guest page fault",
            "mode", "entries_per_syscall", "entries_per_fault", "bounces_per_fault", "reflections_per_fault",
            "hidden_faults_per_fault", "hypercalls_per_fault", "modeled_cycles_per_syscall",
            "modeled_cycles_per_fault");
        final int n = context.scaled(2000, 100);
        for (final PagingMode mode : PagingMode.values())
        {
            context.progress("e5: " + mode + ", " + n + " syscalls and " + n + " demand faults");
            try (MachineMemory memory = new MachineMemory(16384L * MachineMemory.FRAME_SIZE);
                GuestKernel kernel = new GuestKernel(mode, memory, 1, 8192, cost, null, new KernelOptions()))
            {
                final AddressSpace space = kernel.createAddressSpace();
                kernel.demandRegion(space, GuestWorkloads.HEAP, GuestWorkloads.HEAP + (long)n * 4096);
                kernel.switchTo(space);
                final VirtCounters start = kernel.counters();
                for (int i = 0; i < n; i++)
                {
                    kernel.syscall();
                }
                final VirtCounters afterSyscalls = kernel.counters();
                for (int i = 0; i < n; i++)
                {
                    kernel.access(GuestWorkloads.HEAP + (long)i * 4096, true, i + 1);
                }
                final VirtCounters s = afterSyscalls.minus(start);
                final VirtCounters f = kernel.counters().minus(afterSyscalls);
                result.row(mode.name().toLowerCase(Locale.ROOT), per(s.hypervisorEntries(), n),
                    per(f.hypervisorEntries(), n), per(f.faultBounces(), n), per(f.faultReflections(), n),
                    per(f.hiddenFaults(), n), per(f.hypercalls(), n), per(s.modeledCycles(), n),
                    per(f.modeledCycles(), n));
            }
        }
        final int nativeRow = result.find("mode", "native");
        final int full = result.find("mode", "full");
        final int para = result.find("mode", "para");
        final int nested = result.find("mode", "nested");
        result.check("para syscalls enter the hypervisor 0 times", 0 == result.number(para, "entries_per_syscall"),
            "para " + result.number(para, "entries_per_syscall"));
        result.check("para page faults bounce through the hypervisor exactly once",
            1.0 == result.number(para, "bounces_per_fault"), "para " + result.number(para, "bounces_per_fault"));
        result.check("full mode enters the monitor at least once per syscall and per fault",
            result.number(full, "entries_per_syscall") >= 1 && result.number(full, "entries_per_fault") >= 1,
            "full " + result.number(full, "entries_per_syscall") + " / " + result.number(full, "entries_per_fault"));
        result.check("hidden (shadow-fill) faults appear only in full mode",
            result.number(full, "hidden_faults_per_fault") >= 1 &&
                0 == result.number(para, "hidden_faults_per_fault") &&
                0 == result.number(nativeRow, "hidden_faults_per_fault") &&
                0 == result.number(nested, "hidden_faults_per_fault"),
            "full " + result.number(full, "hidden_faults_per_fault"));
        result.check("native and nested enter no hypervisor for syscalls or faults",
            0 == result.number(nativeRow, "entries_per_syscall") + result.number(nativeRow, "entries_per_fault") +
                result.number(nested, "entries_per_syscall") + result.number(nested, "entries_per_fault"),
            "native and nested 0");
        result.note("a para fault also makes one mmu_update hypercall: the handler installs the new entry and " +
            "flushes its batch before returning to user mode");
        result.note("modeled cycles per syscall count only what virtualization adds (binary translation: " +
            cost.syscallEmulation() + " cycles, Adams and Agesen 2006); CostModel: " + cost);
        result.note("exceptions, device interrupts, events and timer ticks per mode: see e5b");
        result.chart(new ExperimentResult.Chart(ExperimentResult.Chart.Kind.BAR, "mode",
            List.of("entries_per_syscall", "entries_per_fault", "hidden_faults_per_fault"), null,
            "paging mode", "hypervisor entries", false));
        return result;
    }

    private static double per(final long count, final int n)
    {
        return (double)count / n;
    }
}
