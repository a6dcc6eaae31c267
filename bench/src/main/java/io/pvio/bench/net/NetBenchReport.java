package io.pvio.bench.net;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.results.format.ResultFormatFactory;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

import io.pvio.bench.ring.RingBenchJvm;

/**
 * {@code pvio bench net}: for 64 B and 1514 B frames, runs {@link NetGuestToGuestBenchmark} (guest to guest through
 * netfront, netback and dom0's bridge) and {@link KernelBridgeBenchmark} (the Linux kernel bridging two network
 * namespaces) one after the other in one run, the order alternating, and prints frames per second, Gbit/s of frames,
 * the pvio/kernel ratio against the target (at least {@value #TARGET_RATIO} at 1514 B) and pvio's allocation per
 * frame from JMH's GC profiler (target 0). Where the kernel peer cannot run (not root, no netsniff-ng) it says why and
 * reports pvio alone.
 */
public final class NetBenchReport
{
    /** Lowest pvio/kernel frame-rate ratio accepted at 1514 B. */
    public static final double TARGET_RATIO = 0.5;

    private static final int[] SIZES = { 64, 1514 };
    private static final String ALLOC_NORM = "gc.alloc.rate.norm";
    private static final String FRAMES = "frames";

    private final boolean quick;
    private final PrintStream out;
    private final List<RunResult> results = new ArrayList<>();
    private final double[][] rows = new double[SIZES.length][];
    private String kernelUnavailable;
    private int failures;

    private NetBenchReport(final boolean quick, final PrintStream out)
    {
        this.quick = quick;
        this.out = out;
    }

    /**
     * Runs the suite and prints the report.
     *
     * @param quick      true for 2 x 1 s warm-up and 3 x 1 s measurement, false for 3 x 2 s and 5 x 2 s.
     * @param jsonOrNull where to write JMH's JSON results, or null.
     * @param out        where progress and the table go.
     * @return 0 if every run that could run completed, 1 otherwise (targets are reported, not enforced).
     */
    public static int run(final boolean quick, final Path jsonOrNull, final PrintStream out)
    {
        final NetBenchReport report = new NetBenchReport(quick, out);
        report.runAll();
        report.print();
        if (null != jsonOrNull)
        {
            ResultFormatFactory.getInstance(ResultFormatType.JSON, jsonOrNull.toString()).writeOut(report.results);
        }
        return 0 == report.failures ? 0 : 1;
    }

    private void runAll()
    {
        kernelUnavailable = KernelBridge.unavailableReason();
        if (null != kernelUnavailable)
        {
            out.println("kernel bridge peer unavailable: " + kernelUnavailable + "; reporting pvio alone");
        }
        final int perSize = null == kernelUnavailable ? 2 : 1;
        final int total = SIZES.length * perSize;
        int index = 0;
        final long started = System.nanoTime();
        for (int s = 0; s < SIZES.length; s++)
        {
            // pvio frames/s, kernel frames/s, pvio B/op
            rows[s] = new double[] { Double.NaN, Double.NaN, Double.NaN };
            for (int t = 0; t < perSize; t++)
            {
                // alternate which runs first, so neither always meets a warmer (or busier) machine
                final boolean kernel = 2 == perSize && 1 == (s + t) % 2;
                index++;
                out.printf(Locale.ROOT, "[%d/%d] %d B frames, %s%n", index, total, SIZES[s],
                    kernel ? "Linux kernel bridge (trafgen)" : "pvio guest to guest");
                out.flush();
                try
                {
                    final RunResult result = runOne(kernel ? KernelBridgeBenchmark.class :
                        NetGuestToGuestBenchmark.class, SIZES[s], !kernel);
                    results.add(result);
                    if (kernel)
                    {
                        final Result<?> frames = result.getSecondaryResults().get(FRAMES);
                        rows[s][1] = frames.getStatistics().getPercentile(50.0);
                        out.printf(Locale.ROOT, "        %,.0f frames/s%n", rows[s][1]);
                    }
                    else
                    {
                        rows[s][0] = result.getPrimaryResult().getStatistics().getPercentile(50.0);
                        final Result<?> alloc = result.getSecondaryResults().get(ALLOC_NORM);
                        rows[s][2] = null == alloc ? Double.NaN : alloc.getStatistics().getPercentile(50.0);
                        out.printf(Locale.ROOT, "        %,.0f frames/s, alloc %.2f B/frame%n", rows[s][0], rows[s][2]);
                    }
                }
                catch (final RunnerException | RuntimeException ex)
                {
                    failures++;
                    out.printf(Locale.ROOT, "        FAILED: %s%n", ex);
                }
                out.flush();
            }
        }
        out.printf(Locale.ROOT, "%d runs in %.0f s%n%n", total, (System.nanoTime() - started) / 1e9);
    }

    private RunResult runOne(final Class<?> benchmark, final int size, final boolean gc) throws RunnerException
    {
        final OptionsBuilder options = new OptionsBuilder();
        options.include("^" + Pattern.quote(benchmark.getName()) + "\\.")
            .param("size", Integer.toString(size))
            .forks(1)
            .warmupIterations(quick ? 2 : 3)
            .warmupTime(TimeValue.seconds(quick ? 1 : 2))
            .measurementIterations(quick ? 3 : 5)
            .measurementTime(TimeValue.seconds(quick ? 1 : 2))
            .jvmArgsAppend(RingBenchJvm.jvmArgsAppend())
            .shouldFailOnError(true)
            .verbosity(VerboseMode.SILENT);
        if (gc)
        {
            options.addProfiler(GCProfiler.class);
        }
        final Collection<RunResult> run = new Runner(options.build()).run();
        return run.iterator().next();
    }

    private void print()
    {
        out.printf(Locale.ROOT, "%-6s %14s %11s %14s %11s %12s %7s %12s%n", "frame", "pvio frames/s", "pvio Gbit/s",
            "kernel fr/s", "kern Gbit/s", "pvio/kernel", "target", "pvio B/frame");
        for (int s = 0; s < SIZES.length; s++)
        {
            final double[] row = rows[s];
            final double ratio = row[0] / row[1];
            final boolean judged = SIZES[s] >= 1500 && !Double.isNaN(ratio);
            out.printf(Locale.ROOT, "%-6s %,14.0f %11.2f %,14.0f %11.2f %12.2f %7s %12.2f%n", SIZES[s] + " B", row[0],
                gbits(row[0], SIZES[s]), row[1], gbits(row[1], SIZES[s]), ratio,
                judged ? (ratio >= TARGET_RATIO ? "met" : "MISSED") : "-", row[2]);
        }
        out.printf(Locale.ROOT, "%ntargets: pvio/kernel >= %.1f at 1514 B frames, 0 B/frame on pvio's data path " +
            "(JMH's GC profiler: below 1 B is noise)%n", TARGET_RATIO);
        out.println("pvio = guest A's netfront -> A's netback -> dom0's bridge -> B's netback -> B's netfront, " +
            "domains on vCPUs, at most " + NetGuestToGuestBenchmark.WINDOW + " frames undelivered; kernel = trafgen " +
            "on one CPU into a veth, a Linux bridge in a namespace of its own, counted at the other veth. Gbit/s " +
            "counts frame bytes without the FCS. Both figures swing with the host: read the ratio.");
        if (null != kernelUnavailable)
        {
            out.println("no kernel figures: " + kernelUnavailable);
        }
        out.flush();
    }

    private static double gbits(final double framesPerSecond, final int size)
    {
        return framesPerSecond * size * 8 / 1e9;
    }
}
