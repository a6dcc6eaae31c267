package io.pvio.bench.scenario;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

import org.HdrHistogram.Histogram;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import io.pvio.backend.block.BlockBackCounters;
import io.pvio.backend.block.BlockBackOptions;
import io.pvio.backend.block.BlockStore;
import io.pvio.backend.block.FileBlockStore;
import io.pvio.bench.machine.PvDisk;
import io.pvio.bench.machine.PvGuest;
import io.pvio.bench.machine.PvMachine;
import io.pvio.frontend.block.BlockFrontCounters;
import io.pvio.frontend.block.BlockFrontOptions;
import io.pvio.machine.memory.MachineMemory;

/**
 * Runs a {@link Scenario}: boots the machine, plugs every disk, runs every workload at once with a progress line,
 * then the native baseline of each disk one after another, and prints the report (and writes it as JSON on request).
 * Figures are measured wall-clock values; ratios are derived from them.
 */
public final class ScenarioRunner
{
    private static final long PROGRESS_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final long FINISH_TIMEOUT_SECONDS = 60;

    private final Scenario scenario;
    private final PrintStream out;
    private final boolean interactive;

    /**
     * A runner.
     *
     * @param scenario    the checked scenario.
     * @param out         where progress and the report go.
     * @param interactive true to redraw the progress line in place (a terminal).
     */
    public ScenarioRunner(final Scenario scenario, final PrintStream out, final boolean interactive)
    {
        this.scenario = scenario;
        this.out = out;
        this.interactive = interactive;
    }

    /**
     * Runs the scenario.
     *
     * @return the report.
     * @throws IOException          if an image cannot be created or opened.
     * @throws InterruptedException if interrupted.
     */
    public ScenarioReport run() throws IOException, InterruptedException
    {
        final Path tempDir = Files.createTempDirectory("pvio-run-");
        final List<Path> images = new ArrayList<>();
        final List<Plan> plans = new ArrayList<>();
        final ScenarioReport report = new ScenarioReport();
        try
        {
            try (PvMachine machine = PvMachine.start(frames(scenario.machineMemory()), frames(scenario.dom0Memory())))
            {
                int stream = 0;
                for (final Scenario.Guest guestSpec : scenario.guests())
                {
                    final PvGuest guest = machine.createGuest(guestSpec.name(), frames(guestSpec.memory()));
                    for (final Scenario.Disk diskSpec : guestSpec.disks())
                    {
                        final Path image = null != diskSpec.image() ? diskSpec.image() :
                            tempDir.resolve(guestSpec.name() + '-' + diskSpec.devid() + ".img");
                        final BlockStore store = null != diskSpec.image() ?
                            FileBlockStore.open(image, diskSpec.readOnly()) :
                            createTemporary(image, diskSpec.size(), diskSpec.readOnly(), images);
                        final PvDisk disk = machine.attachDisk(guest, (int)diskSpec.devid(), store,
                            backOptions(scenario.backend()), frontOptions(diskSpec.frontend()));
                        final long diskBytes = Math.min(diskSpec.size(), disk.front().sectors() << 9);
                        plans.add(new Plan(guestSpec, diskSpec, disk, image,
                            new PvDiskWorkload(disk.front(), diskSpec.workload(), diskBytes, stream++), diskBytes));
                    }
                }
                out.printf(Locale.ROOT, "machine: %d MiB, dom0 %d MiB, %d guest(s), %d disk(s); back end %s%n",
                    scenario.machineMemory() >> 20, scenario.dom0Memory() >> 20, scenario.guests().size(),
                    plans.size(), describe(scenario.backend()));
                for (final Plan plan : plans)
                {
                    out.printf(Locale.ROOT, "  %s/%d: %s, %d queue(s) x %d ring page(s), persistent %s, indirect %d;" +
                        " %s%n", plan.guest.name(), plan.disk.devid(), size(plan.diskBytes), plan.disk.front().queues(),
                        plan.disk.front().ringPages(), plan.disk.front().persistentGrants() ? "on" : "off",
                        plan.disk.front().maxIndirectSegments(), describe(plan.diskSpec.workload()));
                }
                runPv(plans, machine);
                for (final Plan plan : plans)
                {
                    report.add(plan.result(machine));
                }
            }
            for (int i = 0; i < plans.size(); i++)
            {
                final Plan plan = plans.get(i);
                if (plan.diskSpec.workload().baseline())
                {
                    out.printf(Locale.ROOT, "native baseline %d/%d: %s/%d on the image with FileChannel...%n", i + 1,
                        plans.size(), plan.guest.name(), plan.diskSpec.devid());
                    final NativeDiskWorkload baseline = new NativeDiskWorkload(plan.image, plan.diskSpec.workload(),
                        plan.diskBytes, plan.queues);
                    final double iops = baseline.run();
                    report.results().get(i).baseline(iops, baseline.threads(), baseline.latency());
                }
            }
        }
        finally
        {
            for (final Path image : images)
            {
                Files.deleteIfExists(image);
            }
            Files.deleteIfExists(tempDir);
        }
        return report;
    }

    private void runPv(final List<Plan> plans, final PvMachine machine) throws InterruptedException
    {
        long longest = 0;
        boolean counted = false;
        final long start = System.nanoTime();
        for (final Plan plan : plans)
        {
            final Scenario.Workload w = plan.diskSpec.workload();
            longest = Math.max(longest, w.warmupNanos() + w.durationNanos());
            counted |= 0 != w.count();
            plan.measureFrom = start + w.warmupNanos();
            plan.workload.start(plan.measureFrom);
        }
        final long deadline = start + longest;
        long nextProgress = start + PROGRESS_NANOS;
        while (true)
        {
            final long now = System.nanoTime();
            boolean allDone = true;
            for (final Plan plan : plans)
            {
                final Scenario.Workload w = plan.diskSpec.workload();
                if (0 == w.count() && now - (start + w.warmupNanos() + w.durationNanos()) >= 0)
                {
                    plan.workload.stop();
                }
                allDone &= plan.workload.awaitFinished(0, TimeUnit.NANOSECONDS);
            }
            if (allDone || (!counted && now - deadline >= 0 && awaitAll(plans)))
            {
                break;
            }
            if (now - nextProgress >= 0)
            {
                progress(plans, now - start, longest);
                nextProgress += PROGRESS_NANOS;
            }
            Thread.sleep(20);
        }
        awaitAll(plans);
        for (final Plan plan : plans)
        {
            plan.endNanos = System.nanoTime();
        }
        if (interactive)
        {
            out.print('\r');
        }
        progress(plans, System.nanoTime() - start, longest);
        out.println();
    }

    private boolean awaitAll(final List<Plan> plans) throws InterruptedException
    {
        for (final Plan plan : plans)
        {
            plan.workload.stop();
            if (!plan.workload.awaitFinished(FINISH_TIMEOUT_SECONDS, TimeUnit.SECONDS))
            {
                throw new IllegalStateException(plan.guest.name() + "/" + plan.diskSpec.devid() +
                    ": I/O still in flight " + FINISH_TIMEOUT_SECONDS + " s after the end; front end " +
                    plan.disk.front().state() + ", back end " + plan.disk.back().state());
            }
        }
        return true;
    }

    private void progress(final List<Plan> plans, final long elapsedNanos, final long totalNanos)
    {
        final StringBuilder line = new StringBuilder();
        line.append(String.format(Locale.ROOT, "[%5.1f s", elapsedNanos / 1e9));
        if (totalNanos > 0)
        {
            line.append(String.format(Locale.ROOT, " / %.0f s", totalNanos / 1e9));
        }
        line.append(']');
        for (final Plan plan : plans)
        {
            final long completed = plan.workload.completed();
            final double seconds = Math.max(1e-9, elapsedNanos / 1e9);
            line.append(String.format(Locale.ROOT, "  %s/%d %,d I/Os (%,.0f/s)", plan.guest.name(),
                plan.diskSpec.devid(), completed, completed / seconds));
            if (plan.workload.mismatches() > 0 || plan.workload.errors() > 0)
            {
                line.append(String.format(Locale.ROOT, " mismatches %d errors %d", plan.workload.mismatches(),
                    plan.workload.errors()));
            }
        }
        if (interactive)
        {
            out.print('\r');
            out.print(line);
        }
        else
        {
            out.println(line);
        }
        out.flush();
    }

    /**
     * Prints the report as text tables.
     *
     * @param report the report.
     * @param out    where to print.
     */
    public static void print(final ScenarioReport report, final PrintStream out)
    {
        out.println();
        out.println("measured (wall clock):");
        out.printf(Locale.ROOT, "%-18s %10s %9s %9s %9s %9s %11s %11s %9s%n", "disk", "IOPS", "MB/s", "p50 us",
            "p99 us", "p99.9 us", "native IOPS", "pv/native", "verify");
        for (final ScenarioReport.DiskResult r : report.results())
        {
            out.printf(Locale.ROOT, "%-18s %,10.0f %9.1f %9.1f %9.1f %9.1f %11s %11s %9s%n", r.name(), r.iops(),
                r.megabytesPerSecond(), r.p50Micros(), r.p99Micros(), r.p999Micros(),
                Double.isNaN(r.nativeIops()) ? "-" : String.format(Locale.ROOT, "%,.0f", r.nativeIops()),
                Double.isNaN(r.nativeIops()) ? "-" : String.format(Locale.ROOT, "%.2f", r.iops() / r.nativeIops()),
                !r.verified() ? "off" : 0 == r.mismatches() && 0 == r.errors() ? "ok" :
                r.mismatches() + " BAD");
        }
        out.println();
        out.println("counted (per disk, over the whole run):");
        out.printf(Locale.ROOT, "%-18s %10s %10s %10s %10s %12s %12s %10s %10s%n", "disk", "I/Os", "requests",
            "notify f>b", "notify b>f", "grants f", "grants b", "hcalls gst", "errors");
        for (final ScenarioReport.DiskResult r : report.results())
        {
            out.printf(Locale.ROOT, "%-18s %,10d %,10d %10.4f %10.4f %12s %12s %,10d %10d%n", r.name(), r.ios(),
                r.requests(), r.notifyFrontToBackPerRequest(), r.notifyBackToFrontPerRequest(),
                r.frontGrantsIssued() + "/" + r.frontGrantsEnded(),
                r.backGrantMaps() + "m " + r.backGrantCopies() + "c", r.guestHypercalls(), r.errors());
        }
        out.printf(Locale.ROOT, "dom0 hypercalls: %,d%n", report.dom0Hypercalls());
        out.println("notify f>b / b>f: events per blkif request front to back / back to front; grants f: issued/ended" +
            " by the front end; grants b: maps and copies by the back end; native: same workload on the image with" +
            " positional FileChannel I/O, one thread per queue");
        out.flush();
    }

    /**
     * Writes the report as JSON.
     *
     * @param report the report.
     * @param path   the file.
     * @throws IOException if it cannot be written.
     */
    public static void writeJson(final ScenarioReport report, final Path path) throws IOException
    {
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(path.toFile(), report.toMap());
    }

    private static BlockStore createTemporary(final Path image, final long size, final boolean readOnly,
        final List<Path> images) throws IOException
    {
        images.add(image);
        final FileBlockStore created = FileBlockStore.createSparse(image, size);
        if (!readOnly)
        {
            return created;
        }
        created.close();
        return FileBlockStore.open(image, true);
    }

    private static BlockBackOptions backOptions(final Scenario.Backend backend)
    {
        return new BlockBackOptions().dataPath(backend.dataPath()).persistentGrants(backend.persistentGrants())
            .maxIndirectSegments(backend.maxIndirectSegments()).maxQueues(backend.maxQueues())
            .maxRingPageOrder(backend.maxRingPageOrder());
    }

    private static BlockFrontOptions frontOptions(final Scenario.Frontend front)
    {
        return new BlockFrontOptions().persistentGrants(front.persistentGrants())
            .maxIndirectSegments(front.indirectSegments()).queues(front.queues())
            .ringPageOrder(Integer.numberOfTrailingZeros(front.ringPages()));
    }

    private static int frames(final long bytes)
    {
        return (int)(bytes / MachineMemory.FRAME_SIZE);
    }

    private static String size(final long bytes)
    {
        return bytes >= 1L << 30 ? (bytes >> 30) + " GiB" : (bytes >> 20) + " MiB";
    }

    private static String describe(final Scenario.Backend b)
    {
        return (b.dataPath() == io.pvio.backend.block.BlockDataPath.GRANT_MAP ? "grant-map" : "grant-copy") +
            ", persistent " + (b.persistentGrants() ? "offered" : "off") + ", indirect " + b.maxIndirectSegments() +
            ", up to " + b.maxQueues() + " queues, ring order " + b.maxRingPageOrder();
    }

    private static String describe(final Scenario.Workload w)
    {
        return (w.random() ? "random " : "sequential ") + w.blockSize() / 1024.0 + " KiB, depth " + w.queueDepth() +
            ", " + Math.round(w.readShare() * 100) + "% reads, " + (0 == w.count() ? w.durationNanos() / 1e9 + " s" :
            w.count() + " I/Os") + (w.verify() ? ", verified" : "");
    }

    /** One disk's run. */
    private static final class Plan
    {
        final Scenario.Guest guest;
        final Scenario.Disk diskSpec;
        final PvDisk disk;
        final Path image;
        final PvDiskWorkload workload;
        final long diskBytes;
        final int queues;
        long measureFrom;
        long endNanos;

        Plan(final Scenario.Guest guest, final Scenario.Disk diskSpec, final PvDisk disk, final Path image,
            final PvDiskWorkload workload, final long diskBytes)
        {
            this.guest = guest;
            this.diskSpec = diskSpec;
            this.disk = disk;
            this.image = image;
            this.workload = workload;
            this.diskBytes = diskBytes;
            this.queues = disk.front().queues();
        }

        ScenarioReport.DiskResult result(final PvMachine machine)
        {
            final BlockFrontCounters front = disk.front().counters();
            final BlockBackCounters back = disk.back().counters();
            final double seconds = Math.max(1e-9, (endNanos - measureFrom) / 1e9);
            final Histogram latency = workload.latency();
            final long requests = Math.max(1, front.requests());
            return new ScenarioReport.DiskResult(guest.name() + "/" + diskSpec.devid(), workload.measured() / seconds,
                workload.measuredBytes() / seconds / 1e6, latency.getValueAtPercentile(50) / 1e3,
                latency.getValueAtPercentile(99) / 1e3, latency.getValueAtPercentile(99.9) / 1e3,
                diskSpec.workload().verify(), workload.mismatches(), workload.errors(), workload.firstError(),
                workload.completed(), front.requests(), (double)front.notificationsSent() / requests,
                (double)back.notificationsSent() / requests, front.grantsIssued(), front.grantsEnded(),
                back.grantMaps(), back.grantCopies(), disk.guest().domain().counters().total(),
                machine.dom0().counters().total());
        }
    }
}
