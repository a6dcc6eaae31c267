package io.pvio.bench.block;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
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
 * {@code pvio bench block}: runs {@link BlockIoBenchmark} for every workload and depth, pv (on vCPUs), pv-threads
 * and native one after the other (order rotating), and prints IOPS, the pv/native ratio against the target (at least
 * {@value #TARGET_RATIO} at depth 32), the vCPU/thread ratio against its target (at least
 * {@value #TARGET_VCPUS_RATIO} at depth 32), the notifications per request in each direction (read from the pv forks'
 * device counters) against its target (below {@value #TARGET_NOTIFY}), and the allocation per I/O from JMH's GC
 * profiler.
 */
public final class BlockBenchReport
{
    /** Lowest pv/native IOPS ratio accepted at depth 32. */
    public static final double TARGET_RATIO = 0.8;

    /** Lowest IOPS ratio accepted at depth 32 of domains on vCPUs against thread-per-domain execution. */
    public static final double TARGET_VCPUS_RATIO = 0.9;

    /** Highest notifications per request accepted at depth 32, each direction. */
    public static final double TARGET_NOTIFY = 0.1;

    /** System property naming the file the pv forks append their device counters to. */
    public static final String STATS_PROPERTY = "pvio.bench.block.stats";

    private static final String ALLOC_NORM = "gc.alloc.rate.norm";

    private final boolean quick;
    private final PrintStream out;
    private final Path stats;
    private final List<RunResult> results = new ArrayList<>();
    private final Map<String, double[]> rows = new LinkedHashMap<>();
    private int failures;

    private BlockBenchReport(final boolean quick, final PrintStream out, final Path stats)
    {
        this.quick = quick;
        this.out = out;
        this.stats = stats;
    }

    /**
     * Runs the suite and prints the report.
     *
     * @param quick      true for 2 x 1 s warm-up and 3 x 1 s measurement, false for 3 x 2 s and 5 x 2 s.
     * @param jsonOrNull where to write JMH's JSON results, or null.
     * @param out        where progress and the tables go.
     * @return 0 if every run completed, 1 otherwise (targets are reported, not enforced).
     */
    public static int run(final boolean quick, final Path jsonOrNull, final PrintStream out)
    {
        final Path stats;
        try
        {
            stats = Files.createTempFile("pvio-block-stats-", ".txt");
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
        try
        {
            final BlockBenchReport report = new BlockBenchReport(quick, out, stats);
            report.runAll();
            report.print();
            if (null != jsonOrNull)
            {
                ResultFormatFactory.getInstance(ResultFormatType.JSON, jsonOrNull.toString()).writeOut(report.results);
            }
            return 0 == report.failures ? 0 : 1;
        }
        finally
        {
            try
            {
                Files.deleteIfExists(stats);
            }
            catch (final IOException ignore)
            {
                // a temporary file: nothing else to do
            }
        }
    }

    /**
     * Appends one pv fork's counters to the stats file, if the property names one. Called by the benchmark.
     *
     * @param workload   the workload.
     * @param depth      the depth.
     * @param requests   blkif requests pushed by the front end.
     * @param frontToBack events sent by the front end.
     * @param backToFront events sent by the back end.
     */
    static void recordStats(
        final String target, final BlockWorkload workload, final int depth, final long requests, final long frontToBack,
        final long backToFront)
    {
        final String file = System.getProperty(STATS_PROPERTY);
        if (null == file)
        {
            return;
        }
        final String line = target + " " + workload + " " + depth + " " + requests + " " + frontToBack + " " + backToFront + "\n";
        try
        {
            Files.writeString(Path.of(file), line, StandardCharsets.US_ASCII,
                java.nio.file.StandardOpenOption.APPEND);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }

    private void runAll()
    {
        final String[] targets = { BlockIoBenchmark.PV, BlockIoBenchmark.PV_THREADS, BlockIoBenchmark.NATIVE };
        final int total = BlockWorkload.values().length * 2 * targets.length;
        int index = 0;
        final long started = System.nanoTime();
        for (final BlockWorkload workload : BlockWorkload.values())
        {
            for (final int depth : new int[] { 1, 32 })
            {
                // rotate the order, so that no target always runs first (or last) on a warming machine
                final int shift = index / targets.length % targets.length;
                final double[] row = rows.computeIfAbsent(key(workload, depth), k -> new double[] {
                    Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN });
                for (int t = 0; t < targets.length; t++)
                {
                    final int column = (t + shift) % targets.length;
                    final String target = targets[column];
                    index++;
                    out.printf(Locale.ROOT, "[%2d/%d] %s depth %d %s%n", index, total, workload, depth, target);
                    out.flush();
                    try
                    {
                        final Collection<RunResult> run = new Runner(new OptionsBuilder()
                            .include("^" + Pattern.quote(BlockIoBenchmark.class.getName()) + "\\.")
                            .param("workload", workload.name())
                            .param("depth", Integer.toString(depth))
                            .param("target", target)
                            .forks(1)
                            .warmupIterations(quick ? 2 : 3)
                            .warmupTime(TimeValue.seconds(quick ? 1 : 2))
                            .measurementIterations(quick ? 3 : 5)
                            .measurementTime(TimeValue.seconds(quick ? 1 : 2))
                            .jvmArgsAppend(jvmArgs())
                            .addProfiler(GCProfiler.class)
                            .shouldFailOnError(true)
                            .verbosity(VerboseMode.SILENT)
                            .build()).run();
                        results.addAll(run);
                        final RunResult result = run.iterator().next();
                        final double iops = result.getPrimaryResult().getStatistics().getPercentile(50.0);
                        row[column] = iops;
                        final Result<?> alloc = result.getSecondaryResults().get(ALLOC_NORM);
                        if (column < 2 && null != alloc)
                        {
                            row[3 + column] = alloc.getStatistics().getPercentile(50.0);
                        }
                        out.printf(Locale.ROOT, "        %,.0f IOPS%s%n", iops, null == alloc ? "" :
                            String.format(Locale.ROOT, ", alloc %.2f B/op", alloc.getStatistics().getPercentile(50.0)));
                    }
                    catch (final RunnerException | RuntimeException ex)
                    {
                        failures++;
                        out.printf(Locale.ROOT, "        FAILED: %s%n", ex);
                    }
                    out.flush();
                }
            }
        }
        out.printf(Locale.ROOT, "%d runs in %.0f s%n%n", total, (System.nanoTime() - started) / 1e9);
    }

    private String[] jvmArgs()
    {
        final String[] base = RingBenchJvm.jvmArgsAppend();
        final String[] args = java.util.Arrays.copyOf(base, base.length + 1);
        args[base.length] = "-D" + STATS_PROPERTY + '=' + stats;
        return args;
    }

    private void print()
    {
        final Map<String, long[]> notify = readStats();
        out.printf(Locale.ROOT, "%-16s %5s %12s %12s %12s %9s %7s %9s %7s %10s %10s %9s %9s%n", "workload", "depth",
            "pv IOPS", "thread IOPS", "native IOPS", "pv/native", "target", "pv/thread", "target", "notify f>b",
            "notify b>f", "pv B/op", "thr B/op");
        for (final Map.Entry<String, double[]> entry : rows.entrySet())
        {
            final double[] row = entry.getValue();
            final long[] n = notify.get(entry.getKey());
            final boolean deep = entry.getKey().endsWith(" 32");
            final double ratio = row[0] / row[2];
            final double vcpus = row[0] / row[1];
            out.printf(Locale.ROOT, "%-16s %5s %,12.0f %,12.0f %,12.0f %9.2f %7s %9.2f %7s %10s %10s %9.2f %9.2f%n",
                entry.getKey().split(" ")[0], entry.getKey().split(" ")[1], row[0], row[1], row[2], ratio,
                deep ? (ratio >= TARGET_RATIO ? "met" : "MISSED") : "-", vcpus,
                deep ? (vcpus >= TARGET_VCPUS_RATIO ? "met" : "MISSED") : "-",
                null == n ? "-" : String.format(Locale.ROOT, "%.4f", (double)n[1] / n[0]),
                null == n ? "-" : String.format(Locale.ROOT, "%.4f", (double)n[2] / n[0]), row[3], row[4]);
        }
        out.printf(Locale.ROOT, "%ntargets at depth 32: pv/native >= %.1f, pv/thread >= %.1f, notifications per " +
            "request < %.1f each way, 0 B/op on the pv data path%n", TARGET_RATIO, TARGET_VCPUS_RATIO, TARGET_NOTIFY);
        out.println("pv = domains on vCPUs under the credit scheduler; thread = each domain's event loop and the back " +
            "end's queue on a host thread of its own (no scheduler); native = positional FileChannel I/O from one " +
            "thread, one I/O in flight (as the back end's one queue); pv counters include warm-up");
        out.flush();
    }

    private Map<String, long[]> readStats()
    {
        final Map<String, long[]> sums = new LinkedHashMap<>();
        try
        {
            for (final String line : Files.readAllLines(stats, StandardCharsets.US_ASCII))
            {
                final String[] f = line.trim().split(" ");
                if (6 == f.length && BlockIoBenchmark.PV.equals(f[0]))
                {
                    final long[] sum = sums.computeIfAbsent(f[1] + ' ' + f[2], k -> new long[3]);
                    sum[0] += Long.parseLong(f[3]);
                    sum[1] += Long.parseLong(f[4]);
                    sum[2] += Long.parseLong(f[5]);
                }
            }
        }
        catch (final IOException ex)
        {
            out.println("could not read the notification counters: " + ex);
        }
        return sums;
    }

    private static String key(final BlockWorkload workload, final int depth)
    {
        return workload.name() + ' ' + depth;
    }
}
