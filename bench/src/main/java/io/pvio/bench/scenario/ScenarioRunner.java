package io.pvio.bench.scenario;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;

import org.HdrHistogram.Histogram;

import io.pvio.backend.block.BlockBackCounters;
import io.pvio.backend.block.BlockBackOptions;
import io.pvio.backend.block.BlockDataPath;
import io.pvio.backend.block.BlockStore;
import io.pvio.backend.block.FileBlockStore;
import io.pvio.bench.machine.GuestOptions;
import io.pvio.bench.machine.MachineOptions;
import io.pvio.bench.machine.PvDisk;
import io.pvio.bench.machine.PvGuest;
import io.pvio.bench.machine.PvMachine;
import io.pvio.frontend.block.BlockFrontCounters;
import io.pvio.frontend.block.BlockFrontOptions;
import io.pvio.frontend.block.BlockIo;
import io.pvio.hypervisor.Domain;
import io.pvio.hypervisor.HypercallKind;
import io.pvio.hypervisor.sched.SchedulerConfig;
import io.pvio.hypervisor.sched.Vcpu;
import io.pvio.hypervisor.xenstore.XenStoreSocketServer;
import io.pvio.machine.memory.MachineMemory;

/**
 * Runs a {@link Scenario}. In order: opens (or creates) every disk image, so that nothing starts if one cannot be
 * (with O_DIRECT writing temporary images in full); runs the native baseline of every disk at once on its image, at
 * the workload's queue depth ({@link NativeDiskWorkload}); boots the {@link PvMachine} with dom0 and the guests and
 * plugs every disk (each waits for its xenbus handshake); runs every disk's workload through its {@code BlockFront}
 * at once, with a progress line each second; reads every block a verified workload wrote back from its image file;
 * runs the native baselines again; and returns the {@link ScenarioReport}, whose ratios to native divide by the mean
 * of the two. The network workloads, if any ({@link NetRunner}), run on the same machine, each in turn, after the
 * disks' workloads and before the second native baselines.
 * Temporary images are deleted at the end, whatever happens.
 * <p>
 * With {@link Scenario.Backend#oDirect() O_DIRECT} every image is opened with it: blkback's {@link FileBlockStore},
 * whose logical block size is then the file system's block size (so the guest's I/O is aligned for O_DIRECT), the
 * native baseline and the read-back check. Temporary images then go in a directory under the first of
 * {@code java.io.tmpdir} and {@code /var/tmp} that accepts O_DIRECT. An image on a file system that refuses it, or a
 * workload block size that is not a multiple of the file system's block size, is a {@link ScenarioException}.
 */
public final class ScenarioRunner
{
    private static final long PROGRESS_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final long STALL_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(60);
    private static final long NATIVE_STREAM = 1_000_000;
    /** Added to a disk's native stream for the run before the guests, so the two native runs differ. */
    private static final long NATIVE_BEFORE_STREAM = 500_000;

    private final Scenario scenario;
    private final String name;
    private final PrintWriter out;
    private final boolean interactive;
    private int progressWidth;
    private ScenarioReport.Cpu cpu;
    private ScenarioReport.Cpu emulatedCpu;
    private List<ScenarioReport.NetReport> network = List.of();
    private Path xenStoreSocket;

    /**
     * A runner.
     *
     * @param scenario    the checked scenario.
     * @param name        where it came from, for the report: a file name or {@code built-in default}.
     * @param out         where progress goes.
     * @param interactive true to redraw the progress line in place (a terminal), false for one line per update.
     */
    public ScenarioRunner(final Scenario scenario, final String name, final PrintWriter out, final boolean interactive)
    {
        this.scenario = scenario;
        this.name = name;
        this.out = out;
        this.interactive = interactive;
    }

    /**
     * Serves the machine's XenStore on a Unix domain socket while the guests run, for Xen's {@code xenstore-*}
     * tools; by default it is not served. A socket that cannot be bound is reported and the run goes on.
     *
     * @param socket the socket file, in an existing directory, or null for none.
     * @return this runner.
     */
    public ScenarioRunner xenStoreSocket(final Path socket)
    {
        this.xenStoreSocket = socket;
        return this;
    }

    /**
     * Runs the scenario.
     *
     * @return the report.
     * @throws IOException           if an image cannot be created, opened or read back.
     * @throws InterruptedException  if interrupted.
     * @throws IllegalStateException if a disk does not connect, or I/O stops completing for a minute.
     */
    public ScenarioReport run() throws IOException, InterruptedException
    {
        out.println("scenario: " + name + (scenario.description().isEmpty() ? "" : ": " + scenario.description()));
        boolean disks = false;
        for (final Scenario.Guest guest : scenario.guests())
        {
            disks |= !guest.disks().isEmpty();
        }
        out.printf(Locale.ROOT, "machine: %s, dom0 %s, %d guest(s), %s%s%n",
            size(scenario.machineMemory()), size(scenario.dom0Memory()), scenario.guests().size(),
            describe(scenario.cpus()), disks ? "; back end offers " + describe(scenario.backend()) : "");
        out.flush();
        final List<Plan> plans = new ArrayList<>();
        Path tempDir = null;
        try
        {
            final boolean direct = scenario.backend().oDirect();
            for (int g = 0; g < scenario.guests().size(); g++)
            {
                final Scenario.Guest guest = scenario.guests().get(g);
                for (int d = 0; d < guest.disks().size(); d++)
                {
                    final Scenario.Disk disk = guest.disks().get(d);
                    if (Scenario.ImageKind.TEMPORARY == disk.imageKind() && null == tempDir)
                    {
                        tempDir = temporaryDirectory(direct);
                        tempDir.toFile().deleteOnExit();
                    }
                    final Plan plan = Plan.open(guest, disk, plans.size(), tempDir, direct,
                        "guests[" + g + "].disks[" + d + ']');
                    plans.add(plan);
                    plan.sizeUp();
                }
            }
            // native, then the guests' paths, then native again: the two native runs bracket the others, so a drift of
            // the host's device over the run (it moves by 2x here between minutes) shows, and half cancels in the ratio
            runNative(plans, true);
            final Hypercalls hypercalls = runGuests(plans);
            checkImages(plans);
            runNative(plans, false);
            return report(plans, hypercalls);
        }
        finally
        {
            for (final Plan plan : plans)
            {
                plan.close();
            }
            if (null != tempDir)
            {
                try
                {
                    Files.deleteIfExists(tempDir);
                }
                catch (final IOException ex)
                {
                    out.println("warning: cannot delete " + tempDir + ": " + ex);
                }
            }
        }
    }

    /**
     * A new directory for temporary images: under {@code java.io.tmpdir}, or with O_DIRECT under the first of it and
     * {@code /var/tmp} whose file system accepts O_DIRECT.
     */
    private static Path temporaryDirectory(final boolean direct) throws IOException
    {
        if (!direct)
        {
            return Files.createTempDirectory("pvio-run-");
        }
        final Path tmp = Path.of(System.getProperty("java.io.tmpdir")).toAbsolutePath().normalize();
        final Path varTmp = Path.of("/var/tmp");
        final List<String> refused = new ArrayList<>();
        for (final Path parent : tmp.equals(varTmp) ? List.of(tmp) : List.of(tmp, varTmp))
        {
            if (!Files.isDirectory(parent))
            {
                continue;
            }
            try
            {
                final Path dir = Files.createTempDirectory(parent, "pvio-run-");
                final String refusal = directRefusal(dir);
                if (null == refusal)
                {
                    return dir;
                }
                Files.deleteIfExists(dir);
                refused.add(parent + " (" + refusal + ")");
            }
            catch (final IOException ex)
            {
                refused.add(parent + " (" + ex + ")");
            }
        }
        throw new ScenarioException("backend.o-direct: no directory for temporary images accepts O_DIRECT (tried " +
            String.join(", ", refused) + "); give each disk an image: on a file system that does, or point " +
            "java.io.tmpdir at one (PVIO_JAVA_OPTS=-Djava.io.tmpdir=DIR)");
    }

    /** Why a directory's files cannot use O_DIRECT, or null if they can. */
    private static String directRefusal(final Path dir)
    {
        try
        {
            return FileBlockStore.supportsDirectIo(dir) ? null : Files.getFileStore(dir).type() + " refuses O_DIRECT";
        }
        catch (final IOException ex)
        {
            return ex.toString();
        }
    }

    private Hypercalls runGuests(final List<Plan> plans) throws IOException, InterruptedException
    {
        try (PvMachine machine = PvMachine.start(frames(scenario.machineMemory()), frames(scenario.dom0Memory()),
            machineOptions(scenario.cpus())))
        {
            final BlockBackOptions back = backOptions(scenario.backend());
            int p = 0;
            for (final Scenario.Guest guestSpec : scenario.guests())
            {
                final PvGuest guest = machine.createGuest(guestSpec.name(), frames(guestSpec.memory()),
                    new GuestOptions().vcpus(guestSpec.vcpus()).mode(guestSpec.mode()).weight(guestSpec.weight())
                    .cap(guestSpec.cap()));
                for (int d = 0; d < guestSpec.disks().size(); d++)
                {
                    plans.get(p++).attach(machine, guest, back, dataPath(scenario.backend().dataPath()));
                }
            }
            for (final Plan plan : plans)
            {
                if (null != plan.disk)
                {
                    out.printf(Locale.ROOT, "  %s: %s %s%s, split driver, %d queue(s) x %d ring page(s), persistent " +
                        "grants %s, indirect segments %d; %s%n", plan.label, size(plan.diskBytes), plan.imageText(),
                        direct(plan), plan.disk.front().queues(), plan.disk.front().ringPages(),
                        plan.disk.front().persistentGrants() ? "on" : "off", plan.disk.front().maxIndirectSegments(),
                        describe(plan.spec.workload()));
                }
                else
                {
                    out.printf(Locale.ROOT, "  %s: %s %s%s, emulated AHCI controller (%s); %s%n", plan.label,
                        size(plan.diskBytes), plan.imageText(), direct(plan), plan.emulated.describe(),
                        describe(plan.spec.workload()));
                }
            }
            final XenStoreSocketServer xenStoreServer = serveXenStore(machine);
            try
            {
                final Hypercalls calls = measureGuests(machine, plans);
                if (!scenario.network().isEmpty())
                {
                    network = new NetRunner(scenario, machine, out, interactive).run();
                }
                return calls;
            }
            finally
            {
                if (null != xenStoreServer)
                {
                    xenStoreServer.close(); // before the machine and its store go
                }
            }
        }
    }

    /**
     * Serves the machine's XenStore on {@link #xenStoreSocket(Path)}'s socket, or says why it cannot and carries on:
     * the run does not need it.
     *
     * @return the server, or null if none is to run or it could not start.
     */
    private XenStoreSocketServer serveXenStore(final PvMachine machine)
    {
        if (null == xenStoreSocket)
        {
            return null;
        }
        try
        {
            final XenStoreSocketServer server = XenStoreSocketServer.start(machine.xenStore(), xenStoreSocket,
                line ->
                {
                    synchronized (out)
                    {
                        out.println(line);
                        out.flush();
                    }
                });
            out.println("xenstore: dom0's store on " + server.path() + " while the workloads run (XENSTORED_PATH=" +
                server.path() + " xenstore-ls)");
            return server;
        }
        catch (final IOException ex)
        {
            out.println("xenstore: not served on " + xenStoreSocket + ": " + ex.getMessage());
            return null;
        }
        finally
        {
            out.flush();
        }
    }

    /** Runs the guests' phases on the attached disks and counts their hypercalls. */
    private Hypercalls measureGuests(final PvMachine machine, final List<Plan> plans) throws InterruptedException
    {
        final List<Map<HypercallKind, Long>> guestsBefore = new ArrayList<>();
        for (final PvGuest guest : machine.guests())
        {
            guestsBefore.add(guest.domain().counters().snapshot());
        }
        final Map<HypercallKind, Long> dom0Before = machine.dom0().counters().snapshot();
        final List<CpuBoundTask> loops = startCpuBoundLoops(machine);
        try
        {
            cpu = runGuestPhase(machine, plans, Scenario.Io.PV);
            emulatedCpu = runGuestPhase(machine, plans, Scenario.Io.EMULATED);
        }
        finally
        {
            for (final CpuBoundTask loop : loops)
            {
                loop.stop();
            }
            for (final Plan plan : plans)
            {
                if (null != plan.emulated)
                {
                    plan.emulated.close(); // before the machine destroys the guest whose memory it uses
                }
            }
        }
        final List<Map<String, Long>> guestCalls = new ArrayList<>();
        final List<Integer> domids = new ArrayList<>();
        for (int g = 0; g < machine.guests().size(); g++)
        {
            final Domain domain = machine.guests().get(g).domain();
            guestCalls.add(delta(domain.counters().snapshot(), guestsBefore.get(g)));
            domids.add(domain.id());
        }
        return new Hypercalls(guestCalls, domids, delta(machine.dom0().counters().snapshot(), dom0Before));
    }

    /**
     * Runs the workloads of every disk on one path at once (the split driver's, then the emulated controller's, so
     * that dom0's CPU and calls can be told apart by path), and works out what each I/O cost.
     *
     * @return the domains' CPU over the phase, or null if no disk is on that path or there is no scheduler.
     */
    private ScenarioReport.Cpu runGuestPhase(final PvMachine machine, final List<Plan> plans, final Scenario.Io io)
        throws InterruptedException
    {
        final List<Plan> phase = new ArrayList<>();
        for (final Plan plan : plans)
        {
            if (io == plan.spec.io())
            {
                phase.add(plan);
            }
        }
        if (phase.isEmpty())
        {
            return null;
        }
        final List<PvGuest> guests = machine.guests();
        final List<Map<HypercallKind, Long>> callsBefore = new ArrayList<>();
        for (final PvGuest guest : guests)
        {
            callsBefore.add(guest.domain().counters().snapshot());
        }
        final Map<HypercallKind, Long> dom0Before = machine.dom0().counters().snapshot();
        for (final Plan plan : phase)
        {
            plan.snapshotCounters();
        }
        final List<CpuSample> cpuBefore = sampleCpus(machine);
        final long phaseStart = System.nanoTime();
        final List<Lane> lanes = new ArrayList<>();
        for (final Plan plan : phase)
        {
            final Lane lane = new Lane(plan.label, plan.spec.workload(), plan.pv, plan::state);
            lane.guest = plan.guest(machine);
            lanes.add(lane);
        }
        runPhase(Scenario.Io.PV == io ? "split driver" : "emulated", lanes);
        final ScenarioReport.Cpu cpus = cpuReport(machine, cpuBefore, System.nanoTime() - phaseStart);

        long phaseIos = 0;
        for (final Plan plan : phase)
        {
            plan.countersSince();
            phaseIos += plan.pv.stats().completed();
        }
        final long dom0Calls = total(machine.dom0().counters().snapshot(), dom0Before);
        final ScenarioReport.DomainCpu dom0Cpu = null == cpus ? null : cpus.domains().get(0);
        for (final Plan plan : phase)
        {
            final int g = guests.indexOf(plan.guest(machine));
            long guestIos = 0;
            for (final Plan other : phase)
            {
                if (other.guest == plan.guest)
                {
                    guestIos += other.pv.stats().completed();
                }
            }
            final ScenarioReport.DomainCpu guestCpu = null == cpus ? null : cpus.domains().get(g + 1);
            final long guestCalls = total(guests.get(g).domain().counters().snapshot(), callsBefore.get(g));
            final long ios = plan.pv.stats().completed();
            final long notifications = null != plan.counted ?
                plan.counted.notificationsFrontToBack() + plan.counted.notificationsBackToFront() :
                2 * plan.emulatedCounted.ioreqs();
            final double cycles = (null == guestCpu ? 0 : ratio(guestCpu.modeledCycles(), guestIos)) +
                (null == dom0Cpu ? 0 : ratio(dom0Cpu.modeledCycles(), phaseIos));
            plan.cost = new ScenarioReport.PathCost(null == guestCpu ? 0 : ratio(guestCpu.exits(), guestIos),
                ratio(notifications, ios), ratio(guestCalls, guestIos), ratio(dom0Calls, phaseIos), cycles,
                null == guestCpu ? 0 : ratio(guestCpu.cpuSeconds() * 1e6, guestIos),
                null == dom0Cpu ? 0 : ratio(dom0Cpu.cpuSeconds() * 1e6, phaseIos));
        }
        return cpus;
    }

    private static String direct(final Plan plan)
    {
        return plan.store.isDirect() ? " (O_DIRECT, " + plan.store.sectorSize() + "-byte sectors)" : "";
    }

    private static long total(final Map<HypercallKind, Long> after, final Map<HypercallKind, Long> from)
    {
        long total = 0;
        for (final Map.Entry<HypercallKind, Long> entry : after.entrySet())
        {
            total += entry.getValue() - from.getOrDefault(entry.getKey(), 0L);
        }
        return total;
    }

    private static MachineOptions machineOptions(final Scenario.Cpus cpus)
    {
        if (!cpus.vcpus())
        {
            return new MachineOptions().execution(MachineOptions.Execution.THREADS).dom0Vcpus(cpus.dom0Vcpus());
        }
        return new MachineOptions().dom0Vcpus(cpus.dom0Vcpus()).scheduler(new SchedulerConfig().pcpus(cpus.cpus())
            .sliceNanos(cpus.sliceNanos()).tickNanos(cpus.tickNanos()).haltPollNanos(cpus.haltPollNanos())
            .haltPollAdaptive(cpus.haltPollAdaptive()));
    }

    private List<CpuBoundTask> startCpuBoundLoops(final PvMachine machine)
    {
        final List<CpuBoundTask> loops = new ArrayList<>();
        for (int g = 0; g < scenario.guests().size(); g++)
        {
            if (scenario.guests().get(g).cpuBound())
            {
                for (final Vcpu vcpu : machine.guests().get(g).vcpus())
                {
                    loops.add(CpuBoundTask.start(vcpu));
                }
            }
        }
        return loops;
    }

    static List<CpuSample> sampleCpus(final PvMachine machine)
    {
        final List<CpuSample> samples = new ArrayList<>();
        if (null != machine.scheduler())
        {
            samples.add(CpuSample.of(machine.scheduler(), machine.dom0()));
            for (final PvGuest guest : machine.guests())
            {
                samples.add(CpuSample.of(machine.scheduler(), guest.domain()));
            }
        }
        return samples;
    }

    static ScenarioReport.Cpu cpuReport(
        final PvMachine machine, final List<CpuSample> before, final long wallNanos)
    {
        if (null == machine.scheduler())
        {
            return null;
        }
        final List<CpuSample> after = sampleCpus(machine);
        final int pcpus = machine.scheduler().pcpus().length;
        final List<ScenarioReport.DomainCpu> domains = new ArrayList<>();
        for (int i = 0; i < after.size(); i++)
        {
            final String who = 0 == i ? "dom0" : machine.guests().get(i - 1).domain().name();
            domains.add(after.get(i).since(before.get(i), machine.scheduler(), who, wallNanos, pcpus));
        }
        return new ScenarioReport.Cpu(pcpus, machine.scheduler().config().sliceNanos() / 1e6, wallNanos / 1e9,
            List.copyOf(domains));
    }

    private void checkImages(final List<Plan> plans) throws IOException
    {
        for (final Plan plan : plans)
        {
            if (null != plan.versions && !plan.spec.readOnly())
            {
                final long[] result = NativeDiskWorkload.checkImage(plan.image, plan.versions,
                    plan.spec.workload().blockSize(), plan.spec.workload().seed(), plan.store.isDirect());
                plan.imageChecked = result[0];
                plan.imageMismatches = result[1];
            }
        }
    }

    /**
     * Runs every disk's native baseline at once: {@code before} the guests' paths, or after them (each run its own
     * stream of offsets, continuing the block versions the runs before it left).
     */
    private void runNative(final List<Plan> plans, final boolean before) throws InterruptedException
    {
        final List<Lane> lanes = new ArrayList<>();
        for (final Plan plan : plans)
        {
            if (plan.spec.workload().baseline())
            {
                // the host engine blkback uses: like for like, so the ratio is the virtualization's, not the engine's
                final long stream = NATIVE_STREAM * (plan.index + 1) + (before ? NATIVE_BEFORE_STREAM : 0);
                final NativeDiskWorkload baseline = scenario.backend().ioUring() ?
                    NativeDiskWorkload.ioUring(plan.image, plan.spec.workload(), plan.diskBytes, stream, plan.versions,
                        plan.store.isDirect()) :
                    new NativeDiskWorkload(plan.image, plan.spec.workload(), plan.diskBytes, stream, plan.versions,
                        plan.store.isDirect());
                if (before)
                {
                    plan.baselineBefore = baseline;
                }
                else
                {
                    plan.baseline = baseline;
                }
                lanes.add(new Lane(plan.label, plan.spec.workload(), baseline, () -> "native on " + plan.image));
            }
        }
        if (!lanes.isEmpty())
        {
            runPhase(before ? "native (before)" : "native (after)", lanes);
        }
    }

    private ScenarioReport report(final List<Plan> plans, final Hypercalls hypercalls)
    {
        final List<ScenarioReport.GuestReport> guests = new ArrayList<>();
        long allRequests = 0;
        int p = 0;
        for (int g = 0; g < scenario.guests().size(); g++)
        {
            final Scenario.Guest guest = scenario.guests().get(g);
            final List<ScenarioReport.DiskReport> disks = new ArrayList<>();
            long requests = 0;
            for (int d = 0; d < guest.disks().size(); d++)
            {
                final Plan plan = plans.get(p++);
                disks.add(plan.report());
                requests += null == plan.counted ? plan.emulatedCounted.ios() : plan.counted.requests();
            }
            allRequests += requests;
            guests.add(new ScenarioReport.GuestReport(guest.name(), hypercalls.domids.get(g),
                hypercalls(hypercalls.guests.get(g), requests), List.copyOf(disks)));
        }
        final ScenarioReport.Machine machine = new ScenarioReport.Machine(scenario.machineMemory(),
            scenario.dom0Memory(), describe(scenario.backend()));
        return ScenarioReport.of(name, machine, cpu, emulatedCpu, guests, hypercalls(hypercalls.dom0, allRequests),
            network);
    }

    private void runPhase(final String title, final List<Lane> lanes) throws InterruptedException
    {
        final long start = System.nanoTime();
        long longest = 0;
        for (final Lane lane : lanes)
        {
            lane.measureFrom = start + lane.workload.warmupNanos();
            if (0 == lane.workload.count())
            {
                lane.stopAt = lane.measureFrom + lane.workload.durationNanos();
                longest = Math.max(longest, lane.stopAt - start);
            }
            if (null == lane.guest)
            {
                lane.engine.start(lane.measureFrom);
            }
            else
            {
                final long measureFrom = lane.measureFrom;
                lane.guest.runOnVcpu(() -> lane.engine.start(measureFrom)); // the guest's workload runs in the guest
            }
        }
        long lastProgress = start;
        long lastChange = start;
        long lastTotal = 0;
        while (true)
        {
            Thread.sleep(10);
            final long now = System.nanoTime();
            boolean finished = true;
            long total = 0;
            for (final Lane lane : lanes)
            {
                if (!lane.stopped && 0 == lane.workload.count() && now - lane.stopAt >= 0)
                {
                    lane.engine.stop();
                    lane.stopped = true;
                }
                finished &= lane.engine.awaitFinished(0, TimeUnit.NANOSECONDS);
                total += lane.engine.stats().completed();
            }
            if (finished)
            {
                break;
            }
            if (total != lastTotal)
            {
                lastTotal = total;
                lastChange = now;
            }
            else if (now - lastChange > STALL_TIMEOUT_NANOS)
            {
                stall(title, lanes);
            }
            if (now - lastProgress >= PROGRESS_INTERVAL_NANOS && !draining(lanes))
            {
                progress(title, lanes, now - start, now - lastProgress, longest, false);
                lastProgress = now;
            }
        }
        final long now = System.nanoTime();
        progress(title, lanes, now - start, now - lastProgress, longest, true);
    }

    private static boolean draining(final List<Lane> lanes)
    {
        for (final Lane lane : lanes)
        {
            if (!lane.stopped)
            {
                return false;
            }
        }
        return true;
    }

    private void stall(final String title, final List<Lane> lanes) throws InterruptedException
    {
        final StringBuilder text = new StringBuilder(title + ": no I/O completed for " +
            TimeUnit.NANOSECONDS.toSeconds(STALL_TIMEOUT_NANOS) + " s:");
        for (final Lane lane : lanes)
        {
            lane.engine.stop();
            if (!lane.engine.awaitFinished(0, TimeUnit.NANOSECONDS))
            {
                text.append(' ').append(lane.label).append(" has I/O in flight (").append(lane.state.get())
                    .append(");");
            }
        }
        throw new IllegalStateException(text.toString());
    }

    private void progress(
        final String title, final List<Lane> lanes, final long elapsedNanos, final long intervalNanos,
        final long totalNanos, final boolean last)
    {
        final StringBuilder line = new StringBuilder();
        line.append(String.format(Locale.ROOT, "[%5.1f s", elapsedNanos / 1e9));
        if (totalNanos > 0)
        {
            line.append(String.format(Locale.ROOT, " of %.0f", totalNanos / 1e9));
        }
        line.append("] ").append(title).append(':');
        for (int i = 0; i < lanes.size(); i++)
        {
            final Lane lane = lanes.get(i);
            final long completed = lane.engine.stats().completed();
            line.append(0 == i ? " " : ", ").append(lane.label).append(' ');
            if (last)
            {
                line.append(String.format(Locale.ROOT, "%,d I/Os", completed));
            }
            else
            {
                line.append(String.format(Locale.ROOT, "%,.0f IOPS", (completed - lane.lastCompleted) * 1e9 /
                    Math.max(1, intervalNanos)));
                if (0 != lane.workload.count())
                {
                    line.append(String.format(Locale.ROOT, " %d%%", completed * 100 / lane.workload.count()));
                }
                if (elapsedNanos < lane.workload.warmupNanos())
                {
                    line.append(" (warm-up)");
                }
            }
            lane.lastCompleted = completed;
            final WorkloadStats stats = lane.engine.stats();
            if (stats.mismatches() > 0 || stats.errors() > 0)
            {
                line.append(String.format(Locale.ROOT, " MISMATCHES %d ERRORS %d", stats.mismatches(),
                    stats.errors()));
            }
        }
        if (interactive)
        {
            final int width = line.length();
            while (line.length() < progressWidth)
            {
                line.append(' ');
            }
            progressWidth = width;
            out.print('\r');
            out.print(line);
            if (last)
            {
                out.println();
                progressWidth = 0;
            }
        }
        else
        {
            out.println(line);
        }
        out.flush();
    }

    private static ScenarioReport.Counted read(final PvDisk disk)
    {
        final BlockFrontCounters f = disk.front().counters();
        final BlockBackCounters b = disk.back().counters();
        return new ScenarioReport.Counted(f.ios(), f.requests(), f.indirectRequests(), f.notificationsSent(),
            b.notificationsSent(), f.grantsIssued(), f.grantsEnded(), f.persistentGrants(), b.grantMaps(),
            b.grantUnmaps(), b.grantCopies(), b.persistentMapped(), f.errors(), b.errorsInvalid() +
            b.errorsNotSupported() + b.errorsIo() + b.errorsGrant() + b.protocolViolations(), b.asyncRequests(),
            b.asyncDepthSum(), b.asyncWaitNanos(), b.asyncServiceNanos());
    }

    private static ScenarioReport.Counted delta(final ScenarioReport.Counted after, final ScenarioReport.Counted from)
    {
        return new ScenarioReport.Counted(after.ios() - from.ios(), after.requests() - from.requests(),
            after.indirectRequests() - from.indirectRequests(),
            after.notificationsFrontToBack() - from.notificationsFrontToBack(),
            after.notificationsBackToFront() - from.notificationsBackToFront(),
            after.frontGrantsIssued() - from.frontGrantsIssued(), after.frontGrantsEnded() - from.frontGrantsEnded(),
            after.frontPersistentGrants(), after.backGrantMaps() - from.backGrantMaps(),
            after.backGrantUnmaps() - from.backGrantUnmaps(), after.backGrantCopies() - from.backGrantCopies(),
            after.backPersistentMapped(), after.frontErrors() - from.frontErrors(),
            after.backErrors() - from.backErrors(), after.backAsyncRequests() - from.backAsyncRequests(),
            after.backAsyncDepthSum() - from.backAsyncDepthSum(),
            after.backAsyncWaitNanos() - from.backAsyncWaitNanos(),
            after.backAsyncServiceNanos() - from.backAsyncServiceNanos());
    }

    private static Map<String, Long> delta(final Map<HypercallKind, Long> after, final Map<HypercallKind, Long> from)
    {
        final Map<String, Long> delta = new LinkedHashMap<>();
        for (final Map.Entry<HypercallKind, Long> entry : after.entrySet())
        {
            final long calls = entry.getValue() - from.getOrDefault(entry.getKey(), 0L);
            if (0 != calls)
            {
                delta.put(entry.getKey().name(), calls);
            }
        }
        return delta;
    }

    private static ScenarioReport.Hypercalls hypercalls(final Map<String, Long> byKind, final long requests)
    {
        long total = 0;
        for (final long calls : byKind.values())
        {
            total += calls;
        }
        return new ScenarioReport.Hypercalls(total, ratio(total, requests), byKind);
    }

    static ScenarioReport.Measured measured(final WorkloadStats stats, final int inFlight)
    {
        final long ios = stats.measured();
        final double seconds = 0 == ios ? 0 : Math.max(1, stats.measuredNanos()) / 1e9;
        final Histogram latency = stats.latency();
        return new ScenarioReport.Measured(inFlight, seconds, ios, stats.measuredBytes(), 0 == ios ? 0 : ios / seconds,
            0 == ios ? 0 : stats.measuredBytes() / seconds / 1e6, 0 == ios ?
            new ScenarioReport.Latency(0, 0, 0, 0) :
            new ScenarioReport.Latency(latency.getValueAtPercentile(50) / 1e3, latency.getValueAtPercentile(99) / 1e3,
            latency.getValueAtPercentile(99.9) / 1e3, latency.getMaxValue() / 1e3));
    }

    static double ratio(final double numerator, final double denominator)
    {
        return 0 == denominator ? 0 : numerator / denominator;
    }

    private static BlockBackOptions backOptions(final Scenario.Backend backend)
    {
        return new BlockBackOptions().dataPath(backend.dataPath()).persistentGrants(backend.persistentGrants())
            .maxIndirectSegments(backend.maxIndirectSegments()).maxQueues(backend.maxQueues())
            .ioWorkers(backend.ioWorkers()).ioUring(backend.ioUring())
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
        return 0 == bytes % (1L << 30) ? (bytes >> 30) + " GiB" : 0 == bytes % (1L << 20) ? (bytes >> 20) + " MiB" :
            (bytes >> 10) + " KiB";
    }

    private static String dataPath(final BlockDataPath path)
    {
        return BlockDataPath.GRANT_MAP == path ? "grant-map" : "grant-copy";
    }

    private static String describe(final Scenario.Cpus cpus)
    {
        if (!cpus.vcpus())
        {
            return "no scheduler (a host thread per event loop and back-end queue)";
        }
        return String.format(Locale.ROOT, "%d physical CPU(s), credit scheduler (%s slice, %s tick, halt polling %s)" +
            ", dom0 %d vCPU(s)", cpus.cpus(), millis(cpus.sliceNanos()), millis(cpus.tickNanos()),
            0 == cpus.haltPollNanos() ? "off" : (cpus.haltPollAdaptive() ? "adaptive up to " : "fixed ") +
            cpus.haltPollNanos() / 1000 + " us", cpus.dom0Vcpus());
    }

    private static String millis(final long nanos)
    {
        return 0 == nanos % 1_000_000 ? nanos / 1_000_000 + " ms" : String.format(Locale.ROOT, "%.1f ms", nanos / 1e6);
    }

    private static String describe(final Scenario.Backend b)
    {
        return dataPath(b.dataPath()) + ", persistent grants " + (b.persistentGrants() ? "on" : "off") +
            ", indirect segments " + b.maxIndirectSegments() + ", up to " + b.maxQueues() + " queues, ring order up" +
            " to " + b.maxRingPageOrder() + (b.oDirect() ? ", images opened O_DIRECT" : "") +
            (b.ioUring() ? ", an io_uring per ring" :
            b.ioWorkers() > 0 ? ", " + b.ioWorkers() + " I/O workers per ring" : "");
    }

    static String describe(final Scenario.Workload w)
    {
        final String block = 0 == w.blockSize() % 1024 ? w.blockSize() / 1024 + " KiB" : w.blockSize() + " B";
        final String length = 0 == w.count() ? String.format(Locale.ROOT, "%s warm-up + %s", seconds(w.warmupNanos()),
            seconds(w.durationNanos())) : String.format(Locale.ROOT, "%,d I/Os", w.count()) +
            (0 == w.warmupNanos() ? "" : " (" + seconds(w.warmupNanos()) + " warm-up)");
        return (w.random() ? "random " : "sequential ") + block + ", depth " + w.queueDepth() + ", " +
            String.format(Locale.ROOT, "%.0f%% reads, ", w.readShare() * 100) + length +
            (w.verify() ? ", verified" : "") + ", seed " + w.seed();
    }

    private static String seconds(final long nanos)
    {
        return 0 == nanos % 1_000_000_000L ? nanos / 1_000_000_000L + " s" : nanos / 1_000_000 + " ms";
    }

    /** Hypercall differences over the workload. */
    private static final class Hypercalls
    {
        final List<Map<String, Long>> guests;
        final List<Integer> domids;
        final Map<String, Long> dom0;

        Hypercalls(final List<Map<String, Long>> guests, final List<Integer> domids, final Map<String, Long> dom0)
        {
            this.guests = guests;
            this.domids = domids;
            this.dom0 = dom0;
        }
    }

    /** One workload engine in a phase. */
    private static final class Lane
    {
        final String label;
        final Scenario.Workload workload;
        final DiskWorkload engine;
        final Supplier<String> state;
        PvGuest guest;
        long measureFrom;
        long stopAt;
        boolean stopped;
        long lastCompleted;

        Lane(final String label, final Scenario.Workload workload, final DiskWorkload engine,
            final Supplier<String> state)
        {
            this.label = label;
            this.workload = workload;
            this.engine = engine;
            this.state = state;
        }
    }

    /** One disk: its image, its device, its engines and what they found. */
    private static final class Plan
    {
        final Scenario.Guest guest;
        final Scenario.Disk spec;
        final int index;
        final String label;
        final Path image;
        final boolean temporary;
        final FileBlockStore store;
        PvDisk disk;
        EmulatedPath emulated;
        PvGuest pvGuest;
        String dataPathText;
        long diskBytes;
        BlockVersions versions;
        PvDiskWorkload pv;
        NativeDiskWorkload baselineBefore;
        NativeDiskWorkload baseline;
        ScenarioReport.Counted countedBefore;
        ScenarioReport.Counted counted;
        ScenarioReport.Negotiated negotiated;
        ScenarioReport.Emulated emulatedBefore;
        ScenarioReport.Emulated emulatedCounted;
        ScenarioReport.PathCost cost;
        long imageChecked;
        long imageMismatches;

        private Plan(final Scenario.Guest guest, final Scenario.Disk spec, final int index, final Path image,
            final boolean temporary, final FileBlockStore store)
        {
            this.guest = guest;
            this.spec = spec;
            this.index = index;
            this.label = guest.name() + '/' + spec.devid();
            this.image = image;
            this.temporary = temporary;
            this.store = store;
        }

        static Plan open(
            final Scenario.Guest guest, final Scenario.Disk spec, final int index, final Path tempDir,
            final boolean direct, final String where) throws IOException
        {
            final boolean temporary = Scenario.ImageKind.TEMPORARY == spec.imageKind();
            final Path image = temporary ? tempDir.resolve(guest.name() + '-' + spec.devid() + ".img") : spec.image();
            final int sectorSize = direct ? directSectorSize(spec, image, where) : BlockStore.SECTOR_SIZE;
            try
            {
                switch (spec.imageKind())
                {
                    case TEMPORARY:
                    {
                        image.toFile().deleteOnExit();
                        FileBlockStore store = FileBlockStore.createSparse(image, spec.size(), sectorSize, direct);
                        if (direct)
                        {
                            allocate(image, spec.size());
                        }
                        if (spec.readOnly())
                        {
                            store.close();
                            store = FileBlockStore.open(image, true, sectorSize, direct);
                        }
                        return new Plan(guest, spec, index, image, true, store);
                    }
                    case CREATED:
                        return new Plan(guest, spec, index, image, false,
                            FileBlockStore.createSparse(image, spec.size(), sectorSize, direct));
                    default:
                        return new Plan(guest, spec, index, image, false,
                            FileBlockStore.open(image, spec.readOnly(), sectorSize, direct));
                }
            }
            catch (final FileBlockStore.DirectIoUnsupportedException ex)
            {
                throw new ScenarioException(where + ".image: " + ex.getMessage() + "; put the image on a file " +
                    "system that supports O_DIRECT, or set backend.o-direct: false");
            }
        }

        /**
         * Writes a temporary image's every block (with zeros, what a sparse image reads anyway), so that with
         * O_DIRECT reads reach the device instead of a hole the file system answers from its extent map.
         */
        private static void allocate(final Path image, final long bytes) throws IOException
        {
            final ByteBuffer zeros = ByteBuffer.allocate(1 << 20);
            try (FileChannel channel = FileChannel.open(image, StandardOpenOption.WRITE))
            {
                for (long at = 0; at < bytes; at += zeros.capacity())
                {
                    zeros.clear().limit((int)Math.min(zeros.capacity(), bytes - at));
                    while (zeros.hasRemaining())
                    {
                        channel.write(zeros, at + zeros.position());
                    }
                }
                channel.force(false);
            }
        }

        /**
         * The logical block size of a direct store: the image's file system's block size, which the workload's
         * block size must be a multiple of.
         */
        private static int directSectorSize(final Scenario.Disk spec, final Path image, final String where)
            throws IOException
        {
            final int alignment = FileBlockStore.directAlignment(
                Scenario.ImageKind.EXISTING == spec.imageKind() ? image : image.getParent());
            if (alignment < BlockStore.SECTOR_SIZE || alignment > BlockStore.MAX_SECTOR_SIZE)
            {
                throw new ScenarioException(where + ".image: " + image + ": the file system's block size is " +
                    alignment + " bytes; backend.o-direct needs one from " + BlockStore.SECTOR_SIZE + " to " +
                    BlockStore.MAX_SECTOR_SIZE);
            }
            final int blockSize = spec.workload().blockSize();
            if (0 != blockSize % alignment)
            {
                throw new ScenarioException(where + ".workload.block-size: expected a multiple of " + alignment +
                    " (the block size of the file system of " + image + ", which backend.o-direct needs), got " +
                    blockSize);
            }
            return alignment;
        }

        void attach(
            final PvMachine machine, final PvGuest guest, final BlockBackOptions back, final String dataPath)
        {
            pvGuest = guest;
            dataPathText = dataPath;
            final long sectors;
            final Consumer<BlockIo> device;
            if (Scenario.Io.EMULATED == spec.io())
            {
                emulated = EmulatedPath.attach(machine, guest, store);
                sectors = emulated.sectors();
                device = emulated::submit;
            }
            else
            {
                disk = machine.attachDisk(guest, spec.devid(), store, back, frontOptions(spec.frontend()));
                sectors = disk.front().sectors();
                device = disk.front()::submit;
            }
            final Scenario.Workload w = spec.workload();
            if (bytesOf(sectors) != diskBytes)
            {
                throw new IllegalStateException(label + ": the device has " + sectors + " sectors, the image " +
                    store.sectors());
            }
            pv = new PvDiskWorkload(device, w, diskBytes, index, versions);
        }

        /** The workload's extent on the image and, if it verifies, the versions of its blocks, before any run. */
        void sizeUp()
        {
            final Scenario.Workload w = spec.workload();
            diskBytes = bytesOf(store.sectors());
            versions = w.verify() ?
                new BlockVersions(diskBytes / w.blockSize(), Scenario.ImageKind.EXISTING != spec.imageKind()) : null;
        }

        /** The bytes of {@code sectors} (of 512 bytes) the workload uses: whole blocks, at most the disk's size. */
        private long bytesOf(final long sectors)
        {
            final int blockSize = spec.workload().blockSize();
            return Math.min(spec.size(), sectors << 9) / blockSize * blockSize;
        }

        PvGuest guest(final PvMachine machine)
        {
            return pvGuest;
        }

        /** Before the workload: the counters to subtract. */
        void snapshotCounters()
        {
            if (null != disk)
            {
                countedBefore = read(disk);
            }
            else
            {
                emulatedBefore = emulated.counters();
            }
        }

        /** After the workload: what it counted. */
        void countersSince()
        {
            if (null != disk)
            {
                counted = delta(read(disk), countedBefore);
                negotiated = new ScenarioReport.Negotiated(disk.front().queues(), disk.front().ringPages(),
                    disk.front().persistentGrants(), disk.front().maxIndirectSegments(), dataPathText);
            }
            else
            {
                final ScenarioReport.Emulated now = emulated.counters();
                emulatedCounted = new ScenarioReport.Emulated(now.ios() - emulatedBefore.ios(),
                    now.mmioAccesses() - emulatedBefore.mmioAccesses(), now.mmioExits() - emulatedBefore.mmioExits(),
                    now.ioreqs() - emulatedBefore.ioreqs(), now.interrupts() - emulatedBefore.interrupts(),
                    now.deviceErrors() - emulatedBefore.deviceErrors());
            }
        }

        /** What the device is doing, for a stall's message. */
        String state()
        {
            if (null == disk)
            {
                return emulated.state();
            }
            return "front end " + disk.front().state() + ", back end " + disk.back().state() +
                (null == disk.back().disconnectReason() ? "" : " (" + disk.back().disconnectReason() + ')');
        }

        String imageText()
        {
            return temporary ? "temporary image" : spec.imageKind() == Scenario.ImageKind.CREATED ?
                "new image " + image : "image " + image;
        }

        ScenarioReport.DiskReport report()
        {
            final ScenarioReport.Measured measured = measured(pv.stats(), pv.inFlight());
            final ScenarioReport.NativeBaseline nativeBaseline = null == baseline ? null :
                new ScenarioReport.NativeBaseline(baseline.queueDepth(), baseline.inFlight(), baseline.isIoUring(),
                baseline.direct(),
                null == baselineBefore ? null : measured(baselineBefore.stats(), baselineBefore.inFlight()),
                measured(baseline.stats(), baseline.inFlight()),
                verify(baseline.stats(), 0, 0)
                    .and(null == baselineBefore ? null : verify(baselineBefore.stats(), 0, 0)));
            final Double toNative = null == nativeBaseline || 0 == nativeBaseline.referenceIops() ? null :
                measured.iops() / nativeBaseline.referenceIops();
            final ScenarioReport.Derived derived;
            if (null == counted)
            {
                derived = new ScenarioReport.Derived(0, 0, 0, 0, 0, toNative);
            }
            else
            {
                final long requests = counted.requests();
                derived = new ScenarioReport.Derived(ratio(requests, counted.ios()),
                    ratio(counted.notificationsFrontToBack(), requests),
                    ratio(counted.notificationsBackToFront(), requests),
                    ratio(counted.frontGrantsIssued() + counted.frontGrantsEnded(), requests),
                    ratio(counted.backGrantMaps() + counted.backGrantUnmaps() + counted.backGrantCopies(), requests),
                    toNative);
            }
            return new ScenarioReport.DiskReport(label, spec.devid(), temporary ? "temporary" : image.toString(),
                describe(spec.workload()), spec.io().name().toLowerCase(Locale.ROOT),
                guest.mode().name().toLowerCase(Locale.ROOT), negotiated, measured, counted, derived,
                emulatedCounted, cost, verify(pv.stats(), imageChecked, imageMismatches), nativeBaseline);
        }

        private ScenarioReport.Verify verify(final WorkloadStats stats, final long checked, final long differ)
        {
            return new ScenarioReport.Verify(null != versions, stats.readsChecked(), stats.mismatches(),
                stats.errors(), stats.firstError(), checked, differ);
        }

        /** Closes the store (the machine may have closed it already) and deletes a temporary image. */
        void close()
        {
            if (null != emulated)
            {
                emulated.close();
            }
            try
            {
                store.close();
            }
            catch (final RuntimeException ex)
            {
                // the image is deleted or kept all the same; the run's own outcome is what gets reported
            }
            if (temporary)
            {
                try
                {
                    Files.deleteIfExists(image);
                }
                catch (final IOException ex)
                {
                    image.toFile().deleteOnExit();
                }
            }
        }
    }
}
