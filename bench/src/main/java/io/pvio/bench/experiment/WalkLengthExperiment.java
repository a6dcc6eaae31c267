package io.pvio.bench.experiment;

import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

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
 * E6: TLB-miss walk length against page-table exits. Each configuration measures references per TLB miss on a walk
 * that always misses (a one-entry TLB), then runs an MMU-heavy workload (context switches and mmap churn) with a
 * normal TLB and counts hypervisor exits per million translations. Nested paging has no page-table exits but walks
 * up to 24 entries; shadow paging walks 4 but exits on table updates; paging-structure caches and 2 MiB pages
 * shorten the nested walk.
 */
final class WalkLengthExperiment implements Experiment
{
    private static final int WALK_CACHE = 16;

    /** Clock rate that turns modeled cycles into modeled seconds (assumption). */
    private static final double CLOCK_HZ = 3e9;

    @Override
    public String name()
    {
        return "e6";
    }

    @Override
    public String summary()
    {
        return "TLB-miss walk length (native 4, nested 24) and page-table exits, with walk caches and 2 MiB pages";
    }

    @Override
    public ExperimentResult run(final ExperimentContext context)
    {
        final CostModel cost = new CostModel();
        final ExperimentResult result = new ExperimentResult(name(),
            "Memory references per TLB miss and exits per million translations",
            "config", "refs_per_miss", "exits_per_million", "pt_update_exits_per_million", "tlb_misses_per_million",
            "modeled_cycles_per_translation", "exits_per_modeled_second");
        final Object[][] configs = {
            {"native", PagingMode.NATIVE, 0, false, false},
            {"native+pwc", PagingMode.NATIVE, WALK_CACHE, false, false},
            {"native+2M", PagingMode.NATIVE, 0, false, true},
            {"shadow", PagingMode.FULL, 0, false, false},
            {"shadow+pwc", PagingMode.FULL, WALK_CACHE, false, false},
            {"shadow-nocache", PagingMode.FULL, 0, false, false},
            {"nested", PagingMode.NESTED, 0, false, false},
            {"nested+pwc", PagingMode.NESTED, WALK_CACHE, false, false},
            {"nested+host2M", PagingMode.NESTED, 0, true, false},
            {"nested+both2M", PagingMode.NESTED, 0, true, true},
        };
        final int touches = context.scaled(20_000, 2_000);
        final int switches = context.scaled(400, 40);
        for (final Object[] c : configs)
        {
            final String name = (String)c[0];
            final PagingMode mode = (PagingMode)c[1];
            final KernelOptions options = new KernelOptions().withWalkCacheEntries((Integer)c[2])
                .withHostLargePages((Boolean)c[3])
                .withShadowCacheFrames(name.endsWith("nocache") ? 0 : ShadowPager.DEFAULT_CACHE_FRAMES)
                .withContiguousMemory(name.endsWith("2M")); // 2 MiB machine pages need machine-contiguous memory
            context.progress("e6: " + name);
            final double refs = walkReferences(mode, options.withTlbEntries(1), (Boolean)c[4], touches, cost);
            try (MachineMemory memory = new MachineMemory(16384L * MachineMemory.FRAME_SIZE);
                GuestKernel kernel = new GuestKernel(mode, memory, 1, 4096, cost, null, options))
            {
                final SplittableRandom random = new SplittableRandom(context.seed());
                final AddressSpace[] processes = {
                    GuestWorkloads.startProcess(kernel, 64), GuestWorkloads.startProcess(kernel, 64)};
                final VirtCounters before = kernel.counters();
                GuestWorkloads.contextSwitches(kernel, processes, 64, switches, 50, random);
                GuestWorkloads.mmapChurn(kernel, processes[1], switches / 20, 16);
                final VirtCounters d = kernel.counters().minus(before);
                final double translations = d.tlbHits() + d.tlbMisses();
                final long ptExits = d.pteWriteTraps() + d.cr3Traps() + d.invlpgTraps() + d.hiddenFaults();
                final double modeledSeconds = d.modeledCycles() / CLOCK_HZ;
                result.row(name, refs, 1e6 * d.hypervisorEntries() / translations, 1e6 * ptExits / translations,
                    1e6 * d.tlbMisses() / translations, d.modeledCycles() / translations,
                    d.hypervisorEntries() / modeledSeconds);
            }
        }
        final double nativeRefs = result.number(result.find("config", "native"), "refs_per_miss");
        final double shadowRefs = result.number(result.find("config", "shadow"), "refs_per_miss");
        final double nestedRefs = result.number(result.find("config", "nested"), "refs_per_miss");
        final double host2M = result.number(result.find("config", "nested+host2M"), "refs_per_miss");
        final double both2M = result.number(result.find("config", "nested+both2M"), "refs_per_miss");
        final double nestedPwc = result.number(result.find("config", "nested+pwc"), "refs_per_miss");
        final double nativePwc = result.number(result.find("config", "native+pwc"), "refs_per_miss");
        final double shadowExits = result.number(result.find("config", "shadow"), "pt_update_exits_per_million");
        final double nestedExits = result.number(result.find("config", "nested"), "pt_update_exits_per_million");
        result.check("nested walks are longest: 24 references against 4 for native and shadow",
            Math.abs(nestedRefs - 24) < 0.5 && Math.abs(nativeRefs - 4) < 0.5 && Math.abs(shadowRefs - 4) < 0.5,
            String.format(Locale.ROOT, "native %.1f, shadow %.1f, nested %.1f", nativeRefs, shadowRefs, nestedRefs));
        result.check("nested has no page-table exits; shadow the reverse", 0 == nestedExits && shadowExits > 0,
            String.format(Locale.ROOT, "shadow %.0f, nested %.0f per million", shadowExits, nestedExits));
        result.check("large pages shrink nested walks", host2M < nestedRefs && both2M < host2M,
            String.format(Locale.ROOT, "24 -> %.1f (host 2M) -> %.1f (both)", host2M, both2M));
        result.check("a paging-structure cache shortens walks", nestedPwc < nestedRefs && nativePwc < nativeRefs,
            String.format(Locale.ROOT, "nested %.1f, native %.1f with a %d-entry cache", nestedPwc, nativePwc,
                WALK_CACHE));
        result.note("exits_per_modeled_second: hypervisor entries over the workload's modeled cycles at 3 GHz " +
            "(translation, faults, traps; the workload's own instructions are not modeled)");
        result.note("refs_per_miss: a one-entry TLB and 64 pages (or one 2 MiB page) touched in turn; the other " +
            "columns: two 64-page processes switched " + switches + " times (50 reads per slice) plus mmap/munmap " +
            "churn, with a 64-entry TLB");
        final double noCacheExits = result.number(result.find("config", "shadow-nocache"),
            "pt_update_exits_per_million");
        result.check("a shadow cache across CR3 loads cuts shadow paging's exits", shadowExits < noCacheExits,
            String.format(Locale.ROOT, "%.0f with the cache, %.0f without, per million", shadowExits, noCacheExits));
        result.note("shadow keeps shadows across CR3 loads (up to " + ShadowPager.DEFAULT_CACHE_FRAMES +
            " frames); shadow-nocache drops them on every load and refills them through hidden faults; 2 MiB " +
            "guest pages are not offered in shadow mode");
        result.chart(new ExperimentResult.Chart(ExperimentResult.Chart.Kind.BAR, "config",
            List.of("refs_per_miss"), null, "configuration", "memory references per TLB miss", false));
        return result;
    }

    private static double walkReferences(
        final PagingMode mode, final KernelOptions options, final boolean guestLarge, final int touches,
        final CostModel cost)
    {
        try (MachineMemory memory = new MachineMemory(16384L * MachineMemory.FRAME_SIZE);
            GuestKernel kernel = new GuestKernel(mode, memory, 1, 4096, cost, null, options))
        {
            final AddressSpace space = kernel.createAddressSpace();
            if (guestLarge)
            {
                kernel.mapLarge(space, GuestWorkloads.HEAP);
            }
            else
            {
                for (int i = 0; i < 64; i++)
                {
                    kernel.map(space, GuestWorkloads.HEAP + (long)i * 4096, true);
                }
            }
            kernel.switchTo(space);
            for (int i = 0; i < 64; i++)
            {
                kernel.access(GuestWorkloads.HEAP + (long)i * 4096, true, i + 1); // accessed, dirty, shadows filled
            }
            final VirtCounters before = kernel.counters();
            for (int i = 0; i < touches; i++)
            {
                kernel.access(GuestWorkloads.HEAP + (long)(i & 63) * 4096, false, 0);
            }
            return kernel.counters().minus(before).referencesPerMiss();
        }
    }
}
