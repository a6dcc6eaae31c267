package io.pvio.bench.scenario;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The summary of repeated runs: medians of odd and even counts, spreads, and disks without a native baseline. */
class RepeatSummaryTest
{
    @Test
    void shouldTakeTheMiddleOrTheMeanOfTheTwoMiddleValues()
    {
        assertEquals(3.0, RepeatSummary.median(List.of(5.0, 1.0, 3.0)));
        assertEquals(2.5, RepeatSummary.median(List.of(4.0, 1.0, 3.0, 2.0)));
        assertEquals(7.0, RepeatSummary.median(List.of(7.0)));
        assertTrue(Double.isNaN(RepeatSummary.median(List.of())));
    }

    @Test
    void shouldSumUpEachDiskOverTheRuns()
    {
        final RepeatSummary summary = new RepeatSummary();
        for (final double[] run : new double[][]{ { 40_000, 50_000 }, { 45_000, 50_000 }, { 20_000, 40_000 } })
        {
            summary.add(report(run[0], run[1]));
        }
        assertEquals(3, summary.runs());
        assertEquals(0.8, summary.medianToNative("g/51712", "pv/para"), 1e-9, "0.8, 0.9 and 0.5");
        assertTrue(Double.isNaN(summary.medianToNative("g/51712", "emulated/full")), "no such disk");
        final StringWriter text = new StringWriter();
        summary.print(new PrintWriter(text));
        final String out = text.toString();
        assertTrue(out.contains("40,000 [20,000 - 45,000]"), out);
        assertTrue(out.contains("50,000 [40,000 - 50,000]"), out);
        assertTrue(out.contains("0.80 [0.50 - 0.90]"), out);
        assertTrue(out.contains("x native run by run: 0.80, 0.90, 0.50"), out);
    }

    /** A report of one PV disk with {@code iops} against a native baseline of {@code nativeIops}. */
    private static ScenarioReport report(final double iops, final double nativeIops)
    {
        final ScenarioReport.Measured measured = measured(iops);
        final ScenarioReport.Verify verify = new ScenarioReport.Verify(false, 0, 0, 0, null, 0, 0);
        final ScenarioReport.DiskReport disk = new ScenarioReport.DiskReport("g/51712", 51712, "/tmp/g.img",
            "random 4K", "pv", "para", null, measured, null,
            new ScenarioReport.Derived(1, 0, 0, 0, 0, iops / nativeIops),
            null, new ScenarioReport.PathCost(0, 0.05, 0, 0, 0, 0, 0), verify,
            new ScenarioReport.NativeBaseline(32, 32, false, true, null, measured(nativeIops), verify));
        final ScenarioReport.Hypercalls none = new ScenarioReport.Hypercalls(0, 0, Map.of());
        return ScenarioReport.of("r", new ScenarioReport.Machine(1 << 29, 1 << 26, "back end"), null, null,
            List.of(new ScenarioReport.GuestReport("g", 1, none, List.of(disk))), none);
    }

    private static ScenarioReport.Measured measured(final double iops)
    {
        return new ScenarioReport.Measured(32, 1.0, (long)iops, (long)iops * 4096, iops, iops * 4096 / 1e6,
            new ScenarioReport.Latency(100, 200, 300, 400));
    }
}
