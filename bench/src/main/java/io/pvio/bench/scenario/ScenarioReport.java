package io.pvio.bench.scenario;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.HdrHistogram.Histogram;

/**
 * What a scenario run measured and counted, per disk.
 */
public final class ScenarioReport
{
    private final List<DiskResult> results = new ArrayList<>();

    ScenarioReport()
    {
    }

    void add(final DiskResult result)
    {
        results.add(result);
    }

    /**
     * The disks' results, in scenario order.
     *
     * @return the live list.
     */
    public List<DiskResult> results()
    {
        return results;
    }

    /**
     * Hypercalls made by dom0 during the run (all devices).
     *
     * @return the count, or 0 without results.
     */
    public long dom0Hypercalls()
    {
        return results.isEmpty() ? 0 : results.get(results.size() - 1).dom0Hypercalls;
    }

    /**
     * Whether every verified disk read back exactly what was written, and no I/O failed.
     *
     * @return true if clean.
     */
    public boolean isClean()
    {
        for (final DiskResult r : results)
        {
            if (r.mismatches > 0 || r.errors > 0)
            {
                return false;
            }
        }
        return true;
    }

    /**
     * The report as nested maps, for JSON.
     *
     * @return a new map.
     */
    public Map<String, Object> toMap()
    {
        final Map<String, Object> map = new LinkedHashMap<>();
        final List<Map<String, Object>> disks = new ArrayList<>();
        for (final DiskResult r : results)
        {
            disks.add(r.toMap());
        }
        map.put("disks", disks);
        map.put("dom0Hypercalls", dom0Hypercalls());
        map.put("clean", isClean());
        return map;
    }

    /**
     * One disk's figures: measured ones over the measured window, counted ones over the whole run.
     */
    public static final class DiskResult
    {
        private final String name;
        private final double iops;
        private final double megabytesPerSecond;
        private final double p50Micros;
        private final double p99Micros;
        private final double p999Micros;
        private final boolean verified;
        private final long mismatches;
        private final long errors;
        private final String firstError;
        private final long ios;
        private final long requests;
        private final double notifyFrontToBackPerRequest;
        private final double notifyBackToFrontPerRequest;
        private final long frontGrantsIssued;
        private final long frontGrantsEnded;
        private final long backGrantMaps;
        private final long backGrantCopies;
        private final long guestHypercalls;
        private final long dom0Hypercalls;
        private double nativeIops = Double.NaN;
        private int nativeThreads;
        private double nativeP50Micros = Double.NaN;
        private double nativeP99Micros = Double.NaN;

        DiskResult(
            final String name, final double iops, final double megabytesPerSecond, final double p50Micros,
            final double p99Micros, final double p999Micros, final boolean verified, final long mismatches,
            final long errors, final String firstError, final long ios, final long requests,
            final double notifyFrontToBackPerRequest, final double notifyBackToFrontPerRequest,
            final long frontGrantsIssued, final long frontGrantsEnded, final long backGrantMaps,
            final long backGrantCopies, final long guestHypercalls, final long dom0Hypercalls)
        {
            this.name = name;
            this.iops = iops;
            this.megabytesPerSecond = megabytesPerSecond;
            this.p50Micros = p50Micros;
            this.p99Micros = p99Micros;
            this.p999Micros = p999Micros;
            this.verified = verified;
            this.mismatches = mismatches;
            this.errors = errors;
            this.firstError = firstError;
            this.ios = ios;
            this.requests = requests;
            this.notifyFrontToBackPerRequest = notifyFrontToBackPerRequest;
            this.notifyBackToFrontPerRequest = notifyBackToFrontPerRequest;
            this.frontGrantsIssued = frontGrantsIssued;
            this.frontGrantsEnded = frontGrantsEnded;
            this.backGrantMaps = backGrantMaps;
            this.backGrantCopies = backGrantCopies;
            this.guestHypercalls = guestHypercalls;
            this.dom0Hypercalls = dom0Hypercalls;
        }

        void baseline(final double iops, final int threads, final Histogram latency)
        {
            nativeIops = iops;
            nativeThreads = threads;
            nativeP50Micros = latency.getValueAtPercentile(50) / 1e3;
            nativeP99Micros = latency.getValueAtPercentile(99) / 1e3;
        }

        /**
         * The disk, {@code guest/devid}.
         *
         * @return the name.
         */
        public String name()
        {
            return name;
        }

        /**
         * I/Os per second through the split driver, measured.
         *
         * @return the rate.
         */
        public double iops()
        {
            return iops;
        }

        /**
         * Megabytes (10^6) per second, measured.
         *
         * @return the rate.
         */
        public double megabytesPerSecond()
        {
            return megabytesPerSecond;
        }

        /**
         * Median latency, measured.
         *
         * @return microseconds.
         */
        public double p50Micros()
        {
            return p50Micros;
        }

        /**
         * 99th percentile latency, measured.
         *
         * @return microseconds.
         */
        public double p99Micros()
        {
            return p99Micros;
        }

        /**
         * 99.9th percentile latency, measured.
         *
         * @return microseconds.
         */
        public double p999Micros()
        {
            return p999Micros;
        }

        /**
         * Whether reads were verified.
         *
         * @return true if verified.
         */
        public boolean verified()
        {
            return verified;
        }

        /**
         * Reads that did not return the last acknowledged write.
         *
         * @return the count.
         */
        public long mismatches()
        {
            return mismatches;
        }

        /**
         * I/Os that failed.
         *
         * @return the count.
         */
        public long errors()
        {
            return errors;
        }

        /**
         * I/Os completed over the whole run.
         *
         * @return the count.
         */
        public long ios()
        {
            return ios;
        }

        /**
         * blkif requests pushed over the whole run.
         *
         * @return the count.
         */
        public long requests()
        {
            return requests;
        }

        /**
         * Front-to-back events per request.
         *
         * @return the ratio.
         */
        public double notifyFrontToBackPerRequest()
        {
            return notifyFrontToBackPerRequest;
        }

        /**
         * Back-to-front events per request.
         *
         * @return the ratio.
         */
        public double notifyBackToFrontPerRequest()
        {
            return notifyBackToFrontPerRequest;
        }

        /**
         * Grants the front end issued.
         *
         * @return the count.
         */
        public long frontGrantsIssued()
        {
            return frontGrantsIssued;
        }

        /**
         * Grants the front end ended.
         *
         * @return the count.
         */
        public long frontGrantsEnded()
        {
            return frontGrantsEnded;
        }

        /**
         * Grant maps by the back end.
         *
         * @return the count.
         */
        public long backGrantMaps()
        {
            return backGrantMaps;
        }

        /**
         * Grant copies by the back end.
         *
         * @return the count.
         */
        public long backGrantCopies()
        {
            return backGrantCopies;
        }

        /**
         * Hypercalls made by the guest.
         *
         * @return the count.
         */
        public long guestHypercalls()
        {
            return guestHypercalls;
        }

        /**
         * The native baseline's I/Os per second.
         *
         * @return the rate, NaN when no baseline ran.
         */
        public double nativeIops()
        {
            return nativeIops;
        }

        Map<String, Object> toMap()
        {
            final Map<String, Object> map = new LinkedHashMap<>();
            map.put("disk", name);
            final Map<String, Object> measured = new LinkedHashMap<>();
            measured.put("iops", iops);
            measured.put("megabytesPerSecond", megabytesPerSecond);
            measured.put("latencyP50Micros", p50Micros);
            measured.put("latencyP99Micros", p99Micros);
            measured.put("latencyP999Micros", p999Micros);
            map.put("measured", measured);
            final Map<String, Object> counted = new LinkedHashMap<>();
            counted.put("ios", ios);
            counted.put("requests", requests);
            counted.put("notificationsFrontToBackPerRequest", notifyFrontToBackPerRequest);
            counted.put("notificationsBackToFrontPerRequest", notifyBackToFrontPerRequest);
            counted.put("frontGrantsIssued", frontGrantsIssued);
            counted.put("frontGrantsEnded", frontGrantsEnded);
            counted.put("backGrantMaps", backGrantMaps);
            counted.put("backGrantCopies", backGrantCopies);
            counted.put("guestHypercalls", guestHypercalls);
            counted.put("dom0Hypercalls", dom0Hypercalls);
            map.put("counted", counted);
            final Map<String, Object> verify = new LinkedHashMap<>();
            verify.put("enabled", verified);
            verify.put("mismatches", mismatches);
            verify.put("errors", errors);
            verify.put("firstError", firstError);
            map.put("verify", verify);
            if (!Double.isNaN(nativeIops))
            {
                final Map<String, Object> baseline = new LinkedHashMap<>();
                baseline.put("iops", nativeIops);
                baseline.put("threads", nativeThreads);
                baseline.put("latencyP50Micros", nativeP50Micros);
                baseline.put("latencyP99Micros", nativeP99Micros);
                baseline.put("pvToNativeIopsRatio", iops / nativeIops);
                map.put("nativeBaseline", baseline);
            }
            return map;
        }
    }
}
