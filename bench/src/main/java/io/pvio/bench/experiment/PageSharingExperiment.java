package io.pvio.bench.experiment;

import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

import org.agrona.concurrent.UnsafeBuffer;

import io.pvio.hypervisor.Domain;
import io.pvio.hypervisor.Hypervisor;
import io.pvio.hypervisor.memory.MemoryManager;
import io.pvio.hypervisor.memory.PageSharing;
import io.pvio.machine.memory.MachineMemory;

/**
 * E8: content-based page sharing across K guests. Each guest's memory is 60% pages of a common image (the same
 * contents in every guest booted from it), 10% zero pages and 30% private data. The scanner visits each guest's
 * pages in random order at a fixed rate; reclaimed memory should approach s (K - 1) / K + z for identical guests and
 * only the zero pages for guests booted from different images. Writes afterwards break sharing and take memory back.
 */
final class PageSharingExperiment implements Experiment
{
    private static final int PAGES = 512;
    private static final double IMAGE = 0.6;
    private static final double ZERO = 0.1;
    private static final int RATE = 64;

    @Override
    public String name()
    {
        return "e8";
    }

    @Override
    public String summary()
    {
        return "content-based page sharing vs K identical guests: shared and reclaimed memory, zero pages, COW breaks";
    }

    @Override
    public ExperimentResult run(final ExperimentContext context)
    {
        final ExperimentResult result = new ExperimentResult(name(),
            "Page sharing: memory reclaimed vs number of guests",
            "guests", "series", "scan_rate", "shared_pct", "reclaimed_pct", "predicted_pct", "zero_share_pct",
            "ticks_to_converge", "cow_breaks", "reclaimed_after_writes_pct");
        final int maxGuests = context.scale() < 1 ? 4 : 10;
        for (int k = 1; k <= maxGuests; k++)
        {
            context.progress("e8: " + k + " identical guests");
            run(result, k, true, RATE, context.seed());
        }
        for (int k = 2; k <= maxGuests; k += 2)
        {
            context.progress("e8: " + k + " guests from different images");
            run(result, k, false, RATE, context.seed());
        }
        for (final int rate : new int[] {16, 256})
        {
            context.progress("e8: 4 identical guests, scan rate " + rate);
            run(result, 4, true, rate, context.seed());
        }
        boolean tracks = true;
        boolean grows = true;
        double previous = -1;
        for (int k = 1; k <= maxGuests; k++)
        {
            final int row = k - 1;
            final double reclaimed = result.number(row, "reclaimed_pct");
            tracks &= Math.abs(reclaimed - result.number(row, "predicted_pct")) < 2.0;
            grows &= reclaimed > previous;
            previous = reclaimed;
        }
        final double last = result.number(maxGuests - 1, "reclaimed_pct");
        final double secondLast = result.number(maxGuests - 2, "reclaimed_pct");
        final double first = result.number(1, "reclaimed_pct") - result.number(0, "reclaimed_pct");
        result.check("reclaimed memory follows s (K - 1) / K + z within 2 points", tracks, "see predicted_pct");
        result.check("it grows with K and saturates", grows && (last - secondLast) < first / 4,
            String.format(Locale.ROOT, "K=1->2 +%.1f points, K=%d->%d +%.1f points", first, maxGuests - 1,
                maxGuests, last - secondLast));
        final int hetero = maxGuests + maxGuests / 2 - 1;
        result.check("guests from different images save much less (zero pages only)",
            result.number(hetero, "reclaimed_pct") < last / 3,
            String.format(Locale.ROOT, "%d different: %.1f%% vs identical %.1f%%", maxGuests,
                result.number(hetero, "reclaimed_pct"), last));
        boolean breaksReturn = true;
        for (int row = 0; row < result.rows().size(); row++)
        {
            breaksReturn &= result.number(row, "reclaimed_after_writes_pct") <= result.number(row, "reclaimed_pct");
        }
        result.check("copy-on-write breaks give memory back", breaksReturn &&
            result.number(maxGuests - 1, "cow_breaks") > 0, "reclaimed_after_writes_pct <= reclaimed_pct");
        final int slow = result.rows().size() - 2;
        final int fast = result.rows().size() - 1;
        result.check("a faster scan converges sooner",
            result.number(fast, "ticks_to_converge") < result.number(3, "ticks_to_converge") &&
                result.number(3, "ticks_to_converge") < result.number(slow, "ticks_to_converge"),
            String.format(Locale.ROOT, "rate 16/64/256: %.0f/%.0f/%.0f ticks", result.number(slow, "ticks_to_converge"),
                result.number(3, "ticks_to_converge"), result.number(fast, "ticks_to_converge")));
        result.note("each guest " + PAGES + " pages: " + (int)(IMAGE * 100) + "% image, " + (int)(ZERO * 100) +
            "% zero, the rest private; scan_rate pages per guest per tick; converged = 95% of the final reclaim");
        result.note("after converging each guest writes 5% of its pages at random (cow_breaks)");
        result.chart(new ExperimentResult.Chart(ExperimentResult.Chart.Kind.LINE, "guests",
            List.of("reclaimed_pct"), "series", "guests (K)", "memory reclaimed (%)", false));
        return result;
    }

    private static void run(
        final ExperimentResult result, final int k, final boolean identical, final int rate, final long seed)
    {
        try (Hypervisor hypervisor = new Hypervisor(
            new MachineMemory((long)(k * PAGES + 128) * MachineMemory.FRAME_SIZE), 64, 1))
        {
            final MemoryManager manager = hypervisor.memoryManager();
            final Domain[] guests = new Domain[k];
            for (int g = 0; g < k; g++)
            {
                guests[g] = hypervisor.dom0().hypercalls().createDomain("guest" + g, PAGES, 1);
                fill(guests[g], identical ? 1 : g + 1, g);
            }
            final PageSharing sharing = manager.sharing();
            final SplittableRandom random = new SplittableRandom(seed);
            final int ticks = 2 * PAGES / rate;
            final long[] reclaimedAt = new long[ticks];
            for (int t = 0; t < ticks; t++)
            {
                for (final Domain guest : guests)
                {
                    sharing.scan(guest, rate, random);
                }
                reclaimedAt[t] = sharing.reclaimedFrames();
            }
            final long reclaimed = sharing.reclaimedFrames();
            int converged = ticks;
            for (int t = 0; t < ticks; t++)
            {
                if (reclaimedAt[t] >= 0.95 * reclaimed)
                {
                    converged = t + 1;
                    break;
                }
            }
            final double total = (double)k * PAGES;
            final long shared = sharing.sharedGuestPages();
            final long zero = sharing.zeroPages();
            final long imagePages = Math.round(IMAGE * PAGES);
            final long zeroPages = Math.round(ZERO * PAGES);
            final double predicted = ((identical ? imagePages * (k - 1) : 0) + (zeroPages * k - 1)) / total;
            final long breaksBefore = sharing.breaks();
            for (final Domain guest : guests)
            {
                for (int w = 0; w < PAGES / 20; w++)
                {
                    final long gfn = random.nextInt(PAGES);
                    manager.writeLong(guest, gfn, 8, manager.readLong(guest, gfn, 8) + 1);
                }
            }
            final String series = (identical ? "identical" : "different") + (RATE == rate ? "" : ", scan rate " + rate);
            result.row(k, series, rate, 100 * shared / total, 100 * reclaimed / total,
                100 * predicted, 0 == shared ? 0.0 : 100.0 * zero / shared, converged,
                sharing.breaks() - breaksBefore, 100 * sharing.reclaimedFrames() / total);
        }
    }

    /** Image pages: contents from the image seed and page index; zero pages; private pages from the guest. */
    private static void fill(final Domain guest, final int image, final int guestIndex)
    {
        final int imagePages = (int)Math.round(IMAGE * PAGES);
        final int zeroPages = (int)Math.round(ZERO * PAGES);
        for (int gfn = 0; gfn < PAGES; gfn++)
        {
            final UnsafeBuffer frame = guest.guestFrame(gfn);
            final long seed;
            if (gfn < imagePages)
            {
                seed = ((long)image << 32) | gfn;
            }
            else if (gfn < imagePages + zeroPages)
            {
                frame.setMemory(0, MachineMemory.FRAME_SIZE, (byte)0);
                continue;
            }
            else
            {
                seed = (1L << 62) | ((long)guestIndex << 32) | gfn;
            }
            final SplittableRandom bytes = new SplittableRandom(seed);
            for (int offset = 0; offset < MachineMemory.FRAME_SIZE; offset += 8)
            {
                frame.putLong(offset, bytes.nextLong());
            }
        }
    }
}
