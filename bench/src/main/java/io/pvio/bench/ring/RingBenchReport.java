package io.pvio.bench.ring;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.results.format.ResultFormatFactory;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

/**
 * Runs the few ring benchmark combinations the performance targets name, one JMH run each, and prints the absolute
 * figures and the pvio/peer ratios against the targets:
 * <ul>
 *   <li>request/response pairs per second at depth 32 with 112-byte requests in a one-page ring:
 *       at least 1.2x two JCTools queues and 2x two Agrona rings;</li>
 *   <li>round trip, one 8-byte request in flight (the {@code ping} score, lower is better): at most 1.0x JCTools and
 *       0.9x Agrona;</li>
 *   <li>streaming 8-byte messages in batches of 32: at least 1.1x JCTools {@code fill}/{@code drain};</li>
 *   <li>no allocation on pvio's paths: {@code gc.alloc.rate.norm} about 0 B/op.</li>
 * </ul>
 * The runs are grouped in rounds; a round runs a {@link C2cProbe} (which names the vCPU placement, without which
 * absolute figures from a VM mean little), then every implementation of every measure one after another, pvio first in
 * odd rounds and last in even ones. A figure is the median over the measurement iterations of its run; a ratio is
 * computed within each round, from runs a minute or two apart, and the report gives the median over rounds of both.
 * The runner forks one JVM at a time; keep the machine otherwise idle, since two spinning threads on a 2-vCPU machine
 * are slowed by orders of magnitude by any third busy thread.
 */
public final class RingBenchReport
{
    private static final String PVIO = Impl.PVIO;
    private static final String PROBE = "probe";
    private static final double ALLOC_ZERO_BYTES = 0.5;
    private static final String ALLOC_NORM = "gc.alloc.rate.norm";

    private final Plan plan;
    private final PrintStream out;
    private final List<RunResult> allResults = new ArrayList<>();
    private final Map<String, List<Double>> figures = new LinkedHashMap<>();
    private final Map<String, Double> allocations = new LinkedHashMap<>();
    private int failures;

    private RingBenchReport(final Plan plan, final PrintStream out)
    {
        this.plan = plan;
        this.out = out;
    }

    /**
     * Runs the selection and prints the report.
     *
     * @param quick      true for one round of single forks with 2 x 1 s warm-up and 3 x 1 s measurement over pvio,
     *                   JCTools {@code SpscArrayQueue} and Agrona; false for three rounds of 3 + 5 iterations that add
     *                   JCTools' VarHandle queue, and Agrona to the streaming measure.
     * @param jsonOrNull where to write every run's results in JMH's JSON format, or null.
     * @param out        where the progress lines and the tables go.
     * @return 0 if every benchmark ran (targets are reported, not enforced), 1 if any failed.
     */
    public static int run(final boolean quick, final Path jsonOrNull, final PrintStream out)
    {
        final RingBenchReport report = new RingBenchReport(quick ? Plan.QUICK : Plan.FULL, out);
        report.runAll();
        report.print();
        if (null != jsonOrNull)
        {
            report.writeJson(jsonOrNull);
        }
        return 0 == report.failures ? 0 : 1;
    }

    /**
     * Command-line entry: {@code [--quick] [--json FILE]}.
     *
     * @param args the arguments.
     */
    public static void main(final String[] args)
    {
        boolean quick = false;
        Path json = null;
        for (int i = 0; i < args.length; i++)
        {
            if ("--quick".equals(args[i]))
            {
                quick = true;
            }
            else if ("--json".equals(args[i]) && i + 1 < args.length)
            {
                json = Path.of(args[++i]);
            }
            else
            {
                System.err.println("usage: RingBenchReport [--quick] [--json FILE]");
                System.exit(2);
            }
        }
        System.exit(run(quick, json, System.out));
    }

    private void runAll()
    {
        final List<Case> cases = new ArrayList<>();
        for (int round = 1; round <= plan.rounds; round++)
        {
            cases.add(Case.probe(round));
            for (final Measure measure : Measure.values())
            {
                final List<String> impls = plan.impls(measure);
                if (0 == round % 2)
                {
                    Collections.reverse(impls);
                }
                for (final String impl : impls)
                {
                    cases.add(new Case(measure, impl, round));
                }
            }
        }

        final long started = System.nanoTime();
        for (int i = 0; i < cases.size(); i++)
        {
            final Case c = cases.get(i);
            out.printf(Locale.ROOT, "[%2d/%d] round %d: %s%n", i + 1, cases.size(), c.round, c.describe());
            out.flush();
            final long caseStarted = System.nanoTime();
            double figure = Double.NaN;
            try
            {
                final Collection<RunResult> results = new Runner(options(c)).run();
                allResults.addAll(results);
                final RunResult result = results.iterator().next();
                figure = median(result, c.label);
                final Result<?> alloc = result.getSecondaryResults().get(ALLOC_NORM);
                final double allocNorm = null == alloc ? Double.NaN : alloc.getStatistics().getPercentile(50.0);
                if (null != c.impl && !Double.isNaN(allocNorm))
                {
                    allocations.merge(c.impl, allocNorm, Math::max);
                }
                out.printf(Locale.ROOT, "        %s %s%s (%.0f s)%n", format(figure), c.unit(),
                    Double.isNaN(allocNorm) ? "" : String.format(Locale.ROOT, ", alloc %.2f B/op", allocNorm),
                    seconds(caseStarted));
            }
            catch (final RunnerException | RuntimeException ex)
            {
                failures++;
                out.printf(Locale.ROOT, "        FAILED: %s%n", ex);
            }
            figures.computeIfAbsent(c.key, k -> new ArrayList<>()).add(figure);
            out.flush();
        }
        out.printf(Locale.ROOT, "%d runs in %.0f s%n%n", cases.size(), seconds(started));
    }

    private org.openjdk.jmh.runner.options.Options options(final Case c)
    {
        final ChainedOptionsBuilder builder = new OptionsBuilder()
            .include("^" + Pattern.quote(c.benchmark.getName()) + "\\.")
            .mode(c.mode)
            .timeUnit(Mode.AverageTime == c.mode ? TimeUnit.NANOSECONDS : TimeUnit.MICROSECONDS)
            .forks(1)
            .warmupIterations(plan.warmupIterations)
            .warmupTime(TimeValue.seconds(1))
            .measurementIterations(plan.measurementIterations)
            .measurementTime(TimeValue.seconds(1))
            .jvmArgsAppend(RingBenchJvm.jvmArgsAppend())
            .shouldFailOnError(true)
            .verbosity(VerboseMode.SILENT);
        if (null != c.impl)
        {
            builder.param("impl", c.impl).addProfiler(GCProfiler.class);
        }
        for (int i = 0; i < c.params.length; i += 2)
        {
            builder.param(c.params[i], c.params[i + 1]);
        }
        return builder.build();
    }

    private void print()
    {
        final StringBuilder placement = new StringBuilder("placement (core-to-core round trip, per round):");
        final Set<String> kinds = new TreeSet<>();
        for (final Double probe : figures.getOrDefault(PROBE, List.of()))
        {
            placement.append(' ').append(placement(probe));
            if (!probe.isNaN())
            {
                kinds.add(C2cProbe.classify(probe));
            }
        }
        out.println(placement);
        if (kinds.size() > 1 || kinds.contains("far"))
        {
            out.println("WARNING: the vCPUs were not near each other throughout; compare ratios, not absolute figures");
        }
        out.printf(Locale.ROOT, "settings: %d round(s) of single forks, %d x 1 s warm-up, %d x 1 s measurement%n%n",
            plan.rounds, plan.warmupIterations, plan.measurementIterations);

        final List<String> impls = plan.impls(null);
        final StringBuilder header = new StringBuilder(String.format(Locale.ROOT, "%-40s", "median"));
        for (final String impl : impls)
        {
            header.append(String.format(Locale.ROOT, " %14s", impl));
        }
        out.println(header);
        for (final Measure measure : Measure.values())
        {
            final StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "%-40s", measure.title));
            for (final String impl : impls)
            {
                row.append(String.format(Locale.ROOT, " %14s", format(median(figures.get(measure.key(impl))))));
            }
            out.println(row);
        }
        final StringBuilder allocRow = new StringBuilder(String.format(Locale.ROOT, "%-40s", "allocation (B/op, max)"));
        for (final String impl : impls)
        {
            allocRow.append(String.format(Locale.ROOT, " %14s", format(allocations.get(impl))));
        }
        out.println(allocRow);

        out.println();
        out.printf(Locale.ROOT, "%-40s %-14s %9s %8s  %-8s %s%n",
            "target", "peer", "pvio/peer", "target", "verdict", "per round");
        for (final Target target : Target.values())
        {
            final List<Double> ratios = ratios(target);
            final double ratio = median(ratios);
            final String verdict = Double.isNaN(ratio) ? "no data" : target.met(ratio) ? "met" : "MISSED";
            final StringBuilder perRound = new StringBuilder();
            for (final Double r : ratios)
            {
                perRound.append(format(r)).append(' ');
            }
            out.printf(Locale.ROOT, "%-40s %-14s %9s %8s  %-8s %s%n", target.measure.title, target.peer,
                format(ratio), (target.higherIsBetter ? ">= " : "<= ") + target.bound, verdict, perRound);
        }
        final Double pvioAlloc = allocations.get(PVIO);
        out.printf(Locale.ROOT, "%-40s %-14s %9s %8s  %s%n", "allocation on pvio paths (B/op)", "-",
            format(pvioAlloc), "~ 0", null == pvioAlloc ? "no data" : pvioAlloc < ALLOC_ZERO_BYTES ? "met" : "MISSED");
        out.flush();
    }

    private List<Double> ratios(final Target target)
    {
        final List<Double> pvio = figures.getOrDefault(target.measure.key(PVIO), List.of());
        final List<Double> peer = figures.getOrDefault(target.measure.key(target.peer), List.of());
        final List<Double> ratios = new ArrayList<>();
        for (int i = 0; i < Math.min(pvio.size(), peer.size()); i++)
        {
            ratios.add(pvio.get(i) / peer.get(i));
        }
        return ratios;
    }

    private static double median(final List<Double> values)
    {
        if (null == values)
        {
            return Double.NaN;
        }
        final double[] sorted = values.stream().mapToDouble(Double::doubleValue).filter(v -> !Double.isNaN(v))
            .sorted().toArray();
        if (0 == sorted.length)
        {
            return Double.NaN;
        }
        final int middle = sorted.length / 2;
        return 0 == sorted.length % 2 ? (sorted[middle - 1] + sorted[middle]) / 2 : sorted[middle];
    }

    private void writeJson(final Path json)
    {
        ResultFormatFactory.getInstance(ResultFormatType.JSON, json.toString()).writeOut(allResults);
        out.printf(Locale.ROOT, "%nJMH results: %s%n", json);
    }

    private static double median(final RunResult result, final String label)
    {
        final Result<?> secondary = result.getSecondaryResults().get(label);
        final Result<?> chosen = null != secondary ? secondary : result.getPrimaryResult();
        return chosen.getStatistics().getPercentile(50.0);
    }

    private static String placement(final Double roundTripNs)
    {
        return null == roundTripNs ? "not measured" :
            String.format(Locale.ROOT, "%.0f ns (%s)", roundTripNs, C2cProbe.classify(roundTripNs));
    }

    private static String format(final Double value)
    {
        if (null == value || value.isNaN())
        {
            return "-";
        }
        return String.format(Locale.ROOT, Math.abs(value) >= 100.0 ? "%.0f" : "%.2f", value);
    }

    private static double seconds(final long startedNs)
    {
        return (System.nanoTime() - startedNs) / 1e9;
    }

    private enum Plan
    {
        QUICK(1, 2, 3, false),
        FULL(3, 3, 5, true);

        final int rounds;
        final int warmupIterations;
        final int measurementIterations;
        final boolean full;

        Plan(final int rounds, final int warmupIterations, final int measurementIterations, final boolean full)
        {
            this.rounds = rounds;
            this.warmupIterations = warmupIterations;
            this.measurementIterations = measurementIterations;
            this.full = full;
        }

        /**
         * The implementations run for a measure, pvio first, or for the table (null) all of them.
         */
        List<String> impls(final Measure measureOrNull)
        {
            final List<String> impls = new ArrayList<>();
            impls.add(PVIO);
            impls.add(Impl.JCTOOLS_SPSC);
            if (full)
            {
                impls.add(Impl.JCTOOLS_SPSC_VH);
            }
            if (full || Measure.STREAM != measureOrNull)
            {
                impls.add(Impl.AGRONA_O2O);
            }
            return impls;
        }
    }

    private enum Measure
    {
        REQUEST_RESPONSE(
            "rr", "req/resp depth 32, 112 B (M pairs/s)", RingRequestResponseBenchmark.class, Mode.Throughput,
            "completed", "depth", "32", "requestBytes", "112", "ringPages", "1", "responsePush", "each"),
        ROUND_TRIP(
            "rtt", "round trip 8 B (ns, lower is better)", RingRoundTripBenchmark.class, Mode.AverageTime,
            "ping", "payloadBytes", "8"),
        STREAM(
            "tpt", "stream 8 B batch 32 (M msg/s)", RingThroughputBenchmark.class, Mode.Throughput,
            "received", "payloadBytes", "8", "batch", "32", "ringPages", "4");

        final String prefix;
        final String title;
        final Class<?> benchmark;
        final Mode mode;
        final String label;
        final String[] params;

        Measure(final String prefix, final String title, final Class<?> benchmark, final Mode mode, final String label,
            final String... params)
        {
            this.prefix = prefix;
            this.title = title;
            this.benchmark = benchmark;
            this.mode = mode;
            this.label = label;
            this.params = params;
        }

        String key(final String impl)
        {
            return prefix + "." + impl;
        }
    }

    private enum Target
    {
        RR_JCTOOLS(Measure.REQUEST_RESPONSE, Impl.JCTOOLS_SPSC, true, 1.2),
        RR_AGRONA(Measure.REQUEST_RESPONSE, Impl.AGRONA_O2O, true, 2.0),
        RTT_JCTOOLS(Measure.ROUND_TRIP, Impl.JCTOOLS_SPSC, false, 1.0),
        RTT_AGRONA(Measure.ROUND_TRIP, Impl.AGRONA_O2O, false, 0.9),
        STREAM_JCTOOLS(Measure.STREAM, Impl.JCTOOLS_SPSC, true, 1.1);

        final Measure measure;
        final String peer;
        final boolean higherIsBetter;
        final double bound;

        Target(final Measure measure, final String peer, final boolean higherIsBetter, final double bound)
        {
            this.measure = measure;
            this.peer = peer;
            this.higherIsBetter = higherIsBetter;
            this.bound = bound;
        }

        boolean met(final double ratio)
        {
            return higherIsBetter ? ratio >= bound : ratio <= bound;
        }
    }

    private static final class Case
    {
        final String key;
        final int round;
        final Class<?> benchmark;
        final Mode mode;
        final String impl;
        final String label;
        final String[] params;

        Case(final Measure measure, final String impl, final int round)
        {
            this.key = measure.key(impl);
            this.round = round;
            this.benchmark = measure.benchmark;
            this.mode = measure.mode;
            this.impl = impl;
            this.label = measure.label;
            this.params = measure.params;
        }

        private Case(final int round)
        {
            this.key = PROBE;
            this.round = round;
            this.benchmark = C2cProbe.class;
            this.mode = Mode.AverageTime;
            this.impl = null;
            this.label = "ping";
            this.params = new String[0];
        }

        static Case probe(final int round)
        {
            return new Case(round);
        }

        String unit()
        {
            return Mode.AverageTime == mode ? "ns" : "M/s";
        }

        String describe()
        {
            final StringBuilder text = new StringBuilder(benchmark.getSimpleName());
            if (null != impl)
            {
                text.append(" impl=").append(impl);
            }
            for (int i = 0; i < params.length; i += 2)
            {
                text.append(' ').append(params[i]).append('=').append(params[i + 1]);
            }
            return text.append(" [").append(label).append(']').toString();
        }
    }
}
