package io.pvio.bench.scenario;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A scenario run several times ({@code pvio run --repeat N}), summed up per disk: the median, least and most of each
 * run's IOPS on the disk's path, of its native baseline's IOPS and of the ratio between the two. The host's device
 * and CPUs drift between runs and within one (by 2x and more here), so one run's ratio says little; the median of
 * several, each bracketed by its own native runs, is the figure to quote.
 */
public final class RepeatSummary
{
    private final Map<String, Disk> disks = new LinkedHashMap<>();
    private int runs;

    /** An empty summary: {@link #add} each run's report. */
    public RepeatSummary()
    {
    }

    /** One disk's figures over the runs, in run order. */
    private static final class Disk
    {
        final String disk;
        final String path;
        final List<Double> iops = new ArrayList<>();
        final List<Double> nativeIops = new ArrayList<>();
        final List<Double> toNative = new ArrayList<>();
        final List<Double> notificationsPerIo = new ArrayList<>();

        Disk(final String disk, final String path)
        {
            this.disk = disk;
            this.path = path;
        }
    }

    /**
     * Adds one run's report.
     *
     * @param report the run's report.
     * @return this.
     */
    public RepeatSummary add(final ScenarioReport report)
    {
        runs++;
        for (final ScenarioReport.GuestReport guest : report.guests())
        {
            for (final ScenarioReport.DiskReport disk : guest.disks())
            {
                final Disk figures = disks.computeIfAbsent(disk.disk() + ' ' + disk.path(),
                    key -> new Disk(disk.disk(), disk.path()));
                figures.iops.add(disk.measured().iops());
                figures.notificationsPerIo.add(disk.cost().notificationsPerIo());
                if (null != disk.nativeBaseline())
                {
                    figures.nativeIops.add(disk.nativeBaseline().referenceIops());
                }
                if (null != disk.derived().pvToNativeIops())
                {
                    figures.toNative.add(disk.derived().pvToNativeIops());
                }
            }
        }
        return this;
    }

    /**
     * Runs added so far.
     *
     * @return the count.
     */
    public int runs()
    {
        return runs;
    }

    /**
     * The median of a disk's ratio to native over the runs.
     *
     * @param disk the disk's label, e.g. {@code pv/51712}.
     * @param path its path, e.g. {@code pv/para}.
     * @return the median, or NaN if the disk had no native baseline or is unknown.
     */
    public double medianToNative(final String disk, final String path)
    {
        final Disk figures = disks.get(disk + ' ' + path);
        return null == figures ? Double.NaN : median(figures.toNative);
    }

    /**
     * Prints the summary table.
     *
     * @param out where to.
     */
    public void print(final PrintWriter out)
    {
        out.println();
        out.printf(Locale.ROOT, "Over %d runs (each bracketed by its own native runs): median [least - most]%n", runs);
        out.printf(Locale.ROOT, "%-22s %-14s %28s %28s %24s %8s%n", "disk", "path", "IOPS", "native IOPS",
            "x native", "notify");
        for (final Disk disk : disks.values())
        {
            out.printf(Locale.ROOT, "%-22s %-14s %28s %28s %24s %8.3f%n", disk.disk, disk.path,
                spread(disk.iops, "%,.0f"), spread(disk.nativeIops, "%,.0f"), spread(disk.toNative, "%.2f"),
                median(disk.notificationsPerIo));
            if (!disk.toNative.isEmpty())
            {
                final StringBuilder each = new StringBuilder();
                for (final double ratio : disk.toNative)
                {
                    each.append(each.length() == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.2f", ratio));
                }
                out.printf(Locale.ROOT, "  %-20s x native run by run: %s%n", "", each);
            }
        }
        out.flush();
    }

    private static String spread(final List<Double> values, final String format)
    {
        if (values.isEmpty())
        {
            return "-";
        }
        final double[] sorted = sorted(values);
        return String.format(Locale.ROOT, format, median(values)) + " [" +
            String.format(Locale.ROOT, format, sorted[0]) + " - " +
            String.format(Locale.ROOT, format, sorted[sorted.length - 1]) + ']';
    }

    /** The median: the middle value, or the mean of the two middle ones; NaN for none. */
    static double median(final List<Double> values)
    {
        if (values.isEmpty())
        {
            return Double.NaN;
        }
        final double[] sorted = sorted(values);
        final int half = sorted.length / 2;
        return 0 == sorted.length % 2 ? (sorted[half - 1] + sorted[half]) / 2 : sorted[half];
    }

    private static double[] sorted(final List<Double> values)
    {
        final double[] sorted = new double[values.size()];
        for (int i = 0; i < sorted.length; i++)
        {
            sorted[i] = values.get(i);
        }
        Arrays.sort(sorted);
        return sorted;
    }
}
