package io.pvio.bench.experiment;

import java.util.List;
import java.util.Locale;

import io.pvio.machine.CostModel;
import io.pvio.machine.memory.MachineMemory;
import io.pvio.machine.paging.ShadowPager;
import io.pvio.machine.vm.GuestKernel;
import io.pvio.machine.vm.GuestKernel.AddressSpace;
import io.pvio.machine.vm.GuestWorkloads;
import io.pvio.machine.vm.KernelOptions;
import io.pvio.machine.vm.PagingMode;
import io.pvio.machine.vm.VirtCounters;

/**
 * E4: page-table update cost, shadow paging against validated hypercalls. One guest kernel runs the same
 * fork/exec/exit/wait loop in each mode; full mode traps every write to a shadowed table, para mode pays one
 * hypercall per batch (or per entry with batching off), native and nested pay a store.
 */
final class PteUpdateExperiment implements Experiment
{
    private static final int PARENT_PAGES = 256;

    @Override
    public String name()
    {
        return "e4";
    }

    @Override
    public String summary()
    {
        return "page-table updates: traps per PTE write (full) vs batched mmu_update hypercalls (para), per fork/exec";
    }

    @Override
    public ExperimentResult run(final ExperimentContext context)
    {
        final CostModel cost = new CostModel();
        final ExperimentResult result = new ExperimentResult(name(),
            "Page-table update cost per fork/exec/exit (modeled cycles)",
            "mode", "pte_writes_per_fork", "pte_write_traps_per_fork", "hypercalls_per_fork",
            "hypervisor_entries_per_fork", "modeled_kcycles_per_fork", "x_native", "modeled_cycles_per_pte_write");
        final int forks = context.scaled(200, 10);
        final String[] configs = {"native", "full", "para-batched", "para-unbatched", "nested", "full-nocache"};
        final double[] perFork = new double[configs.length];
        for (int i = 0; i < configs.length; i++)
        {
            final String config = configs[i];
            context.progress("e4: " + config + ", " + forks + " fork/exec cycles");
            final PagingMode mode = config.startsWith("para") ? PagingMode.PARA : config.startsWith("full") ?
                PagingMode.FULL : PagingMode.valueOf(config.toUpperCase(Locale.ROOT));
            final KernelOptions options = new KernelOptions().withBatching(!"para-unbatched".equals(config))
                .withShadowCacheFrames("full-nocache".equals(config) ? 0 : ShadowPager.DEFAULT_CACHE_FRAMES);
            try (MachineMemory memory = new MachineMemory(16384L * MachineMemory.FRAME_SIZE);
                GuestKernel kernel = new GuestKernel(mode, memory, 1, 4096, cost, null, options))
            {
                final AddressSpace init = GuestWorkloads.startProcess(kernel, PARENT_PAGES);
                GuestWorkloads.forkExec(kernel, init, 16, 64, 8);
                final VirtCounters before = kernel.counters();
                for (int f = 0; f < forks; f++)
                {
                    GuestWorkloads.forkExec(kernel, init, 16, 64, 8);
                }
                final VirtCounters d = kernel.counters().minus(before);
                perFork[i] = (double)d.modeledCycles() / forks;
                result.row(config, per(d.pteWrites(), forks), per(d.pteWriteTraps(), forks),
                    per(d.hypercalls(), forks), per(d.hypervisorEntries(), forks), perFork[i] / 1000.0,
                    perFork[i] / perFork[0], ptUpdateCycles(mode, d, cost) / Math.max(1, d.pteWrites()));
            }
        }
        final double nativeCycles = perFork[0];
        final double full = perFork[1];
        final double batched = perFork[2];
        final double unbatched = perFork[3];
        result.check("full mode costs far more than batched para mode per fork", full > 3 * batched,
            String.format(Locale.ROOT, "full %.0f vs para-batched %.0f kcycles", full / 1000, batched / 1000));
        result.check("unbatched para sits between batched para and full", batched < unbatched && unbatched < full,
            String.format(Locale.ROOT, "%.0f < %.0f < %.0f kcycles", batched / 1000, unbatched / 1000,
                full / 1000));
        result.check("para stays under 2x native", batched / nativeCycles < 2,
            String.format(Locale.ROOT, "para/native = %.2f", batched / nativeCycles));
        result.check("full is several times native", full / nativeCycles >= 3,
            String.format(Locale.ROOT, "full/native = %.1f", full / nativeCycles));
        final double traps = result.number(1, "pte_write_traps_per_fork");
        final double batchedCalls = result.number(2, "hypercalls_per_fork");
        final double unbatchedCalls = result.number(3, "hypercalls_per_fork");
        result.check("full traps on PTE writes; batching cuts para's hypercalls to one per batch",
            traps > 0 && batchedCalls * 3 < unbatchedCalls,
            String.format(Locale.ROOT, "full %.0f traps/fork; para %.0f hypercalls batched vs %.0f unbatched " +
                "(each fault still makes one)", traps, batchedCalls, unbatchedCalls));
        result.note("per fork: fork a " + PARENT_PAGES + "-page parent (copy on write), the child writes 16 pages, " +
            "execs an image that demand-faults 64 pages and makes 8 syscalls, exits; the parent rewrites its pages");
        result.note("full keeps shadows across CR3 loads, so tables of a process that is not running stay " +
            "write-protected and its teardown traps; full-nocache drops every shadow on each CR3 load instead and " +
            "refills them through hidden faults");
        result.note("modeled cycles from CostModel: " + cost);
        result.chart(new ExperimentResult.Chart(ExperimentResult.Chart.Kind.BAR, "mode",
            List.of("modeled_kcycles_per_fork"), null, "paging mode", "modeled kcycles per fork/exec",
            false));
        return result;
    }

    private static double per(final long count, final int n)
    {
        return (double)count / n;
    }

    /** Cycles of the page-table update path alone: trapped or plain stores, or hypercalls and validation. */
    private static double ptUpdateCycles(final PagingMode mode, final VirtCounters d, final CostModel cost)
    {
        switch (mode)
        {
            case FULL:
                return d.pteWriteTraps() * (double)cost.trappedPteWrite() +
                    (d.pteWrites() - d.pteWriteTraps()) * (double)cost.nativePteWrite();
            case PARA:
                return d.hypercalls() * (double)cost.hypercall() + d.validatedEntries() * (double)cost.pteValidation();
            default:
                return d.pteWrites() * (double)cost.nativePteWrite();
        }
    }
}
