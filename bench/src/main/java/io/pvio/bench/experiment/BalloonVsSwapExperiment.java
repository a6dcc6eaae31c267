package io.pvio.bench.experiment;

import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

import io.pvio.bench.experiment.MemoryRig.Guest;
import io.pvio.machine.CostModel;

/**
 * E7: ballooning against hypervisor swapping. A guest of M pages runs a workload whose hot set fits in M/2 (98% of
 * touches) with a larger cold tail, so it always pages a little itself. Memory is then reclaimed from it three ways:
 * its balloon driver inflates (the guest chooses what to give up), the hypervisor swaps random pages out behind its
 * back, or the guest is simply configured smaller. Throughput is modeled from operations and page I/Os.
 */
final class BalloonVsSwapExperiment implements Experiment
{
    private static final int PAGES = 1024;
    private static final int HOT = 512;
    private static final int VIRTUAL = 1280;
    private static final int HOT_PERCENT = 98;

    @Override
    public String name()
    {
        return "e7";
    }

    @Override
    public String summary()
    {
        return "ballooning vs hypervisor swapping: throughput, guest and hypervisor page-outs, double paging";
    }

    @Override
    public ExperimentResult run(final ExperimentContext context)
    {
        final ExperimentResult result = new ExperimentResult(name(),
            "Reclaiming memory: balloon vs hypervisor swapping vs a smaller VM",
            "method", "reclaimed_pct", "relative_throughput", "ops_per_mcycle", "guest_page_outs",
            "hypervisor_page_outs", "double_paging");
        final int touches = context.scaled(60_000, 8_000);
        final double[] fractions = {0, 0.1, 0.2, 0.3, 0.4, 0.5};
        final String[] methods = {"balloon", "host-swap", "smaller-vm"};
        double baseline = 0;
        for (final String method : methods)
        {
            for (final double fraction : fractions)
            {
                context.progress(String.format(Locale.ROOT, "e7: %s, %.0f%% reclaimed", method, fraction * 100));
                final long[] out = measure(method, fraction, touches, context.seed());
                final double opsPerMcycle = 1e6 * touches / out[0];
                if (0 == baseline)
                {
                    baseline = opsPerMcycle;
                }
                result.row(method, fraction * 100, opsPerMcycle / baseline, opsPerMcycle, out[1], out[2], out[3]);
            }
        }
        boolean balloonTracksSmall = true;
        boolean swapWorse = true;
        final StringBuilder detail = new StringBuilder();
        long doublePaging = 0;
        long balloonDouble = 0;
        for (int i = 0; i < fractions.length; i++)
        {
            final double balloon = result.number(i, "ops_per_mcycle");
            final double swap = result.number(fractions.length + i, "ops_per_mcycle");
            final double small = result.number(2 * fractions.length + i, "ops_per_mcycle");
            balloonTracksSmall &= Math.abs(balloon - small) <= 0.1 * small;
            if (fractions[i] >= 0.2)
            {
                swapWorse &= swap < 0.9 * balloon;
            }
            doublePaging += (long)result.number(fractions.length + i, "double_paging");
            balloonDouble += (long)result.number(i, "double_paging");
            detail.append(String.format(Locale.ROOT, "%.0f%%: %.2f/%.2f/%.2f ", fractions[i] * 100, balloon, swap,
                small));
        }
        result.check("ballooning performs like a VM configured that small (within 10%)", balloonTracksSmall,
            "ops/Mcycle balloon/swap/smaller: " + detail.toString().trim());
        result.check("random hypervisor swapping degrades earlier (>10% below the balloon from 20% reclaimed)",
            swapWorse, "see the table");
        final double atForty = result.number(4, "relative_throughput");
        final double atFifty = result.number(5, "relative_throughput");
        result.check("the balloon degrades gently until the hot set no longer fits, then falls",
            atForty >= 0.6 && atFifty < 0.5 * atForty,
            String.format(Locale.ROOT, "relative throughput %.2f at 40%%, %.2f at 50%% (hot set = 50%% of memory)",
                atForty, atFifty));
        result.check("hypervisor swapping shows double paging, ballooning none", doublePaging > 0 && 0 == balloonDouble,
            "double paging: host-swap " + doublePaging + ", balloon " + balloonDouble);
        result.note("guest of " + PAGES + " pages; " + VIRTUAL + " virtual pages touched, " + HOT_PERCENT +
            "% in a hot set of " + HOT +
            " pages; " + touches + " touches measured after a warm-up; the guest pages with the clock algorithm");
        result.note("modeled throughput: " + MemoryRig.OP_CYCLES + " cycles per operation (assumption) plus " +
            new CostModel().diskPageIo() + " cycles per page moved to or from a swap device " +
            "(CostModel assumption); relative to the balloon at 0%");
        result.chart(new ExperimentResult.Chart(ExperimentResult.Chart.Kind.LINE, "reclaimed_pct",
            List.of("relative_throughput"), "method", "memory reclaimed (%)", "throughput relative to no reclaim",
            false));
        return result;
    }

    /** Returns modeled cycles, guest page-outs, hypervisor page-outs, double paging of the measured window. */
    private static long[] measure(final String method, final double fraction, final int touches, final long seed)
    {
        final int reclaimed = (int)Math.round(PAGES * fraction);
        final int configured = "smaller-vm".equals(method) ? PAGES - reclaimed : PAGES;
        try (MemoryRig rig = new MemoryRig(PAGES + 256))
        {
            final Guest guest = rig.guest("guest", configured, VIRTUAL, 64);
            final SplittableRandom random = new SplittableRandom(seed);
            rig.memoryManager().seedVictims(seed);
            for (int page = 0; page < VIRTUAL; page++)
            {
                guest.pager.touch(page, true); // a guest that has been up a while has used all its memory
            }
            run(guest, 2 * PAGES, random);
            if ("balloon".equals(method) && reclaimed > 0)
            {
                guest.target(PAGES - reclaimed);
                guest.settle();
            }
            if ("host-swap".equals(method) && reclaimed > 0)
            {
                rig.memoryManager().setHostLimit(guest.domain, PAGES - reclaimed, new SplittableRandom(seed + 1));
            }
            run(guest, 2 * PAGES, random);
            final long ios = guest.pageIos();
            final long outs = guest.pager.pageOuts();
            final long hostOuts = rig.memoryManager().stats(guest.domain).hostSwapOuts();
            final long doubles = guest.pager.doublePaging();
            run(guest, touches, random);
            return new long[] {
                rig.modeledCycles(touches, guest.pageIos() - ios), guest.pager.pageOuts() - outs,
                rig.memoryManager().stats(guest.domain).hostSwapOuts() - hostOuts,
                guest.pager.doublePaging() - doubles};
        }
    }

    private static void run(final Guest guest, final int touches, final SplittableRandom random)
    {
        for (int i = 0; i < touches; i++)
        {
            final int page = random.nextInt(100) < HOT_PERCENT ? random.nextInt(HOT) :
                HOT + random.nextInt(VIRTUAL - HOT);
            guest.pager.touch(page, random.nextInt(4) == 0);
        }
    }
}
