package io.pvio.bench.scenario;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

/**
 * What a scenario run measured, counted and derived, per guest and disk. Three kinds of figure, kept apart in both
 * the text and the JSON form: <b>measured</b> ones are timed with the wall clock over the measured window (after
 * the warm-up); <b>counted</b> ones are differences of the drivers' and the hypervisor's counters over the workload
 * (the handshake excluded); <b>derived</b> ones are ratios of the other two. The JSON form ({@link #writeJson}) is the
 * records below as they are, and reads back into an equal report ({@link #readJson}).
 *
 * @param scenario where the scenario came from: a file name or {@code built-in default}.
 * @param machine  the machine that ran it.
 * @param cpu      every domain's CPU over the split-driver workload, or null when domains ran on threads of their own
 *                 or no disk used the split driver.
 * @param emulatedCpu every domain's CPU over the emulated-disk workload (run after the split driver's), or null if no
 *                 disk was emulated.
 * @param guests   the guests, in scenario order.
 * @param dom0     dom0's hypercalls over the workload, for every disk it serves.
 * @param network  the network workloads, in scenario order; empty if none.
 * @param clean    whether every verified read matched, every written block was found in its image, no I/O failed,
 *                 and every verified datagram arrived intact.
 */
public record ScenarioReport(
    String scenario, Machine machine, Cpu cpu, Cpu emulatedCpu, List<GuestReport> guests, Hypercalls dom0,
    List<NetReport> network, boolean clean)
{
    /**
     * A report; {@code clean} is worked out from the disks' verification results.
     *
     * @param scenario where the scenario came from.
     * @param machine  the machine that ran it.
     * @param cpu      the domains' CPU over the split-driver workload, or null.
     * @param emulatedCpu the domains' CPU over the emulated-disk workload, or null.
     * @param guests   the guests.
     * @param dom0     dom0's hypercalls.
     * @return the report.
     */
    public static ScenarioReport of(
        final String scenario, final Machine machine, final Cpu cpu, final Cpu emulatedCpu,
        final List<GuestReport> guests, final Hypercalls dom0)
    {
        return of(scenario, machine, cpu, emulatedCpu, guests, dom0, List.of());
    }

    /**
     * A report with network workloads; {@code clean} is worked out from the disks' and the workloads' verification.
     *
     * @param scenario    where the scenario came from.
     * @param machine     the machine that ran it.
     * @param cpu         the domains' CPU over the split-driver workload, or null.
     * @param emulatedCpu the domains' CPU over the emulated-disk workload, or null.
     * @param guests      the guests.
     * @param dom0        dom0's hypercalls over the disks' workloads.
     * @param network     the network workloads.
     * @return the report.
     */
    public static ScenarioReport of(
        final String scenario, final Machine machine, final Cpu cpu, final Cpu emulatedCpu,
        final List<GuestReport> guests, final Hypercalls dom0, final List<NetReport> network)
    {
        boolean clean = true;
        for (final NetReport net : network)
        {
            clean &= net.verify().passed();
        }
        for (final GuestReport guest : guests)
        {
            for (final DiskReport disk : guest.disks())
            {
                clean &= disk.verify().passed() && (null == disk.nativeBaseline() ||
                    disk.nativeBaseline().verify().passed());
            }
        }
        return new ScenarioReport(scenario, machine, cpu, emulatedCpu, List.copyOf(guests), dom0,
            List.copyOf(network), clean);
    }

    /**
     * The machine.
     *
     * @param memoryBytes     machine memory.
     * @param dom0MemoryBytes dom0's memory.
     * @param backend         the back end's offer, in words.
     */
    public record Machine(long memoryBytes, long dom0MemoryBytes, String backend)
    {
    }

    /**
     * The domains' CPU over the split-driver workload.
     *
     * @param cpus        physical CPUs.
     * @param sliceMillis the scheduler's time slice.
     * @param wallSeconds length of the window (measured).
     * @param domains     dom0 first, then the guests.
     */
    public record Cpu(int cpus, double sliceMillis, double wallSeconds, List<DomainCpu> domains)
    {
    }

    /**
     * One domain's CPU over the split-driver workload, summed over its vCPUs.
     *
     * @param domain        its name.
     * @param domid         its domain id.
     * @param mode          {@code native}, {@code full}, {@code para} or {@code nested}.
     * @param vcpus         its vCPUs.
     * @param weight        its scheduler weight.
     * @param cap           its cap in percent of one physical CPU, 0 for none.
     * @param cpuSeconds    time its vCPUs spent on physical CPUs (measured).
     * @param machineShare  {@code cpuSeconds} over the window times the physical CPUs (derived).
     * @param wakeups       wake-ups of a blocked vCPU whose latency was recorded (measured).
     * @param wakeP50Micros median wake-up latency: from the event that woke the vCPU to its handler running
     *                      (measured).
     * @param wakeP99Micros 99th percentile of the same (measured).
     * @param exits         VM exits (counted; full mode only).
     * @param exitsByReason VM exits by reason, non-zero reasons only (counted).
     * @param cpuHypercalls CPU hypercalls (scheduling, timer, trap return; counted; para mode only).
     * @param injected      virtual interrupts injected on VM entry (counted).
     * @param upcalls       event upcalls into the guest kernel (counted).
     * @param modeledCycles cycles the exits, hypercalls and deliveries cost in the cost model (modeled, not measured).
     */
    public record DomainCpu(
        String domain, int domid, String mode, int vcpus, int weight, int cap, double cpuSeconds,
        double machineShare, long wakeups, double wakeP50Micros, double wakeP99Micros, long exits,
        Map<String, Long> exitsByReason, long cpuHypercalls, long injected, long upcalls, long modeledCycles)
    {
    }

    /**
     * A guest.
     *
     * @param name       its name.
     * @param domid      its domain id.
     * @param hypercalls its hypercalls over the workload.
     * @param disks      its disks.
     */
    public record GuestReport(String name, int domid, Hypercalls hypercalls, List<DiskReport> disks)
    {
    }

    /**
     * A domain's hypercalls over the workload: counted, with one derived ratio.
     *
     * @param total      calls of every kind (counted).
     * @param perRequest {@code total} per blkif request of the disks concerned (derived).
     * @param byKind     calls by kind, non-zero kinds only (counted).
     */
    public record Hypercalls(long total, double perRequest, Map<String, Long> byKind)
    {
    }

    /**
     * One disk.
     *
     * @param disk           {@code guest/devid}.
     * @param devid          its virtual device number.
     * @param image          its image file, or {@code temporary}.
     * @param workload       the workload, in words.
     * @param io             {@code pv} (the split driver) or {@code emulated} (the AHCI controller).
     * @param mode           the guest's mode: {@code native}, {@code full}, {@code para} or {@code nested}.
     * @param negotiated     what the handshake settled; null for an emulated disk.
     * @param measured       the workload through the guest's driver (measured).
     * @param counted        the split drivers' counters over the workload (counted); null for an emulated disk.
     * @param derived        ratios (derived); its per-request ratios are 0 for an emulated disk.
     * @param emulated       the emulated controller's counters over the workload (counted); null for a PV disk.
     * @param cost           what each I/O cost on its path (counted, modeled and measured, derived per I/O).
     * @param verify         verification of the run through the guest and of the image after it.
     * @param nativeBaseline the same workload natively on the image ({@link NativeBaseline}), or null if it did not
     *                       run.
     */
    public record DiskReport(
        String disk, int devid, String image, String workload, String io, String mode, Negotiated negotiated,
        Measured measured, Counted counted, Derived derived, Emulated emulated, PathCost cost, Verify verify,
        NativeBaseline nativeBaseline)
    {
        /**
         * The path in words: {@code pv/para}, {@code emulated/full}, ...
         *
         * @return io and mode.
         */
        public String path()
        {
            return io + '/' + mode;
        }
    }

    /**
     * An emulated disk's counters over its workload (counted).
     *
     * @param ios           I/Os the guest's AHCI driver completed.
     * @param mmioAccesses  the driver's register accesses for them (issue and completion; initialization excluded).
     * @param mmioExits     VM exits of the guest's vCPUs for MMIO (0 natively, where the accesses reach the device).
     * @param ioreqs        accesses forwarded to the device model in dom0 as ioreqs.
     * @param interrupts    completion interrupts the driver handled.
     * @param deviceErrors  commands the device model failed (bad DMA, LBA, command or store error).
     */
    public record Emulated(
        long ios, long mmioAccesses, long mmioExits, long ioreqs, long interrupts, long deviceErrors)
    {
    }

    /**
     * What one I/O cost on a disk's path, over the workload (derived per I/O from counted, modeled and measured
     * figures). CPU time and cycles of the guest are its share of the guest's total, by I/Os, when the guest has
     * several disks on the same path; dom0's are shared by I/Os among every disk of the phase.
     *
     * @param exitsPerIo           the guest's VM exits per I/O (counted).
     * @param notificationsPerIo   event-channel notifications per I/O between the guest and dom0, both ways
     *                             (counted: blkif events for PV, ioreq events for emulated).
     * @param guestHypercallsPerIo the guest's hypercalls per I/O (counted).
     * @param dom0HypercallsPerIo  dom0's hypercalls per I/O (counted).
     * @param modeledCyclesPerIo   cycles the cost model gives the guest's and dom0's exits, hypercalls and deliveries,
     *                             per I/O (modeled, not measured).
     * @param guestCpuMicrosPerIo  the guest's vCPU time per I/O (measured).
     * @param dom0CpuMicrosPerIo   dom0's vCPU time per I/O (measured).
     */
    public record PathCost(
        double exitsPerIo, double notificationsPerIo, double guestHypercallsPerIo, double dom0HypercallsPerIo,
        double modeledCyclesPerIo, double guestCpuMicrosPerIo, double dom0CpuMicrosPerIo)
    {
    }

    /**
     * What the xenbus handshake settled for a disk.
     *
     * @param queues              queues (rings).
     * @param ringPages           pages per ring.
     * @param persistentGrants    whether persistent grants are used.
     * @param maxIndirectSegments most segments of an indirect request, 0 if none.
     * @param dataPath            {@code grant-map} or {@code grant-copy}.
     */
    public record Negotiated(
        int queues, int ringPages, boolean persistentGrants, int maxIndirectSegments, String dataPath)
    {
    }

    /**
     * Wall-clock figures over the measured window (measured).
     *
     * @param inFlight           I/Os kept in flight: the queue depth through the split driver, the thread count
     *                           natively (a synchronous {@code FileChannel} call is one I/O in flight), which is the
     *                           same queue depth unless the disk has fewer blocks.
     * @param seconds            length of the window: from its start to the last measured completion.
     * @param ios                I/Os started in the window and completed.
     * @param bytes              their bytes.
     * @param iops               {@code ios / seconds}.
     * @param megabytesPerSecond {@code bytes / seconds / 10^6}.
     * @param latency            their latencies.
     */
    public record Measured(
        int inFlight, double seconds, long ios, long bytes, double iops, double megabytesPerSecond, Latency latency)
    {
    }

    /**
     * Latency percentiles from an HdrHistogram (3 significant digits), in microseconds; 0 without I/O.
     *
     * @param p50Micros  median.
     * @param p99Micros  99th percentile.
     * @param p999Micros 99.9th percentile.
     * @param maxMicros  largest.
     */
    public record Latency(double p50Micros, double p99Micros, double p999Micros, double maxMicros)
    {
    }

    /**
     * The drivers' counters over the workload (counted); gauges are read at its end.
     *
     * @param ios                      I/Os the front end completed.
     * @param requests                 blkif requests the front end pushed (after splitting).
     * @param indirectRequests         of which indirect.
     * @param notificationsFrontToBack events the front end sent.
     * @param notificationsBackToFront events the back end sent.
     * @param frontGrantsIssued        grants the front end issued.
     * @param frontGrantsEnded         grants the front end ended.
     * @param frontPersistentGrants    pages the front end holds granted persistently (gauge).
     * @param backGrantMaps            grant maps by the back end.
     * @param backGrantUnmaps          grant unmaps by the back end.
     * @param backGrantCopies          grant copies by the back end.
     * @param backPersistentMapped     persistent grants the back end keeps mapped (gauge).
     * @param frontErrors              I/Os the front end failed.
     * @param backErrors               requests the back end answered with an error.
     * @param backAsyncRequests        requests the back end's I/O workers served.
     * @param backAsyncDepthSum        over those, the jobs in flight at the workers at each hand-off (itself
     *                                 included); over {@code backAsyncRequests} the mean depth the image saw.
     * @param backAsyncWaitNanos       over those, the time each waited between the hand-off and a worker taking it,
     *                                 summed (measured with {@code System.nanoTime}, kept with the counters).
     * @param backAsyncServiceNanos    over those, the time each spent in the image's read or write, summed
     *                                 (measured, likewise).
     */
    public record Counted(
        long ios, long requests, long indirectRequests, long notificationsFrontToBack, long notificationsBackToFront,
        long frontGrantsIssued, long frontGrantsEnded, long frontPersistentGrants, long backGrantMaps,
        long backGrantUnmaps, long backGrantCopies, long backPersistentMapped, long frontErrors, long backErrors,
        long backAsyncRequests, long backAsyncDepthSum, long backAsyncWaitNanos, long backAsyncServiceNanos)
    {
    }

    /**
     * Ratios of measured and counted figures (derived).
     *
     * @param requestsPerIo                      blkif requests per I/O.
     * @param notificationsFrontToBackPerRequest front-to-back events per request.
     * @param notificationsBackToFrontPerRequest back-to-front events per request.
     * @param frontGrantOpsPerRequest            grants issued and ended by the front end per request.
     * @param backGrantOpsPerRequest             grant maps, unmaps and copies by the back end per request.
     * @param pvToNativeIops                     the disk's IOPS through its path (split driver or emulated) over
     *                                           native IOPS, or null without a baseline.
     */
    public record Derived(
        double requestsPerIo, double notificationsFrontToBackPerRequest, double notificationsBackToFrontPerRequest,
        double frontGrantOpsPerRequest, double backGrantOpsPerRequest, Double pvToNativeIops)
    {
    }

    /**
     * Verification results (counted).
     *
     * @param enabled            whether reads were checked.
     * @param readsChecked       reads compared with the last acknowledged write (reads of blocks of unknown
     *                           content, in an existing image never written by the run, are not checked).
     * @param mismatches         reads that differed.
     * @param errors             I/Os that failed.
     * @param firstError         the first failure's message, or null.
     * @param imageBlocksChecked written blocks read back from the image file after the run.
     * @param imageMismatches    of which differed from their last acknowledged write.
     */
    public record Verify(
        boolean enabled, long readsChecked, long mismatches, long errors, String firstError, long imageBlocksChecked,
        long imageMismatches)
    {
        /**
         * Whether nothing went wrong.
         *
         * @return true without mismatches and errors.
         */
        public boolean passed()
        {
            return 0 == mismatches && 0 == errors && 0 == imageMismatches;
        }

        /**
         * This and {@code other} together, as of one run: counts added, the first error this one's if it has one.
         *
         * @param other another run's verification, or null.
         * @return the sum, or this if {@code other} is null.
         */
        public Verify and(final Verify other)
        {
            if (null == other)
            {
                return this;
            }
            return new Verify(enabled || other.enabled, readsChecked + other.readsChecked,
                mismatches + other.mismatches, errors + other.errors,
                null != firstError ? firstError : other.firstError,
                imageBlocksChecked + other.imageBlocksChecked, imageMismatches + other.imageMismatches);
        }

        String describe()
        {
            if (!enabled)
            {
                return 0 == errors ? "off" : "off, " + errors + " I/O errors (" + firstError + ')';
            }
            final StringBuilder text = new StringBuilder();
            text.append(String.format(Locale.ROOT, "%,d reads checked, %,d mismatches", readsChecked, mismatches));
            if (imageBlocksChecked > 0 || imageMismatches > 0)
            {
                text.append(String.format(Locale.ROOT, "; image: %,d written blocks read back, %,d differ",
                    imageBlocksChecked, imageMismatches));
            }
            if (errors > 0)
            {
                text.append(String.format(Locale.ROOT, "; %,d I/O errors, first: %s", errors, firstError));
            }
            return text.toString();
        }
    }

    /**
     * The native baseline of a disk: the workload at its queue depth on the image, run before the guests' paths and
     * again after them, by the host engine the back end uses: one thread per I/O in flight, each one synchronous
     * positional {@code FileChannel} call at a time, or one thread keeping the depth in flight on an io_uring. The
     * ratios to native divide by the mean of the two runs' IOPS ({@link #referenceIops()}), so a device whose speed
     * drifts during the run (a host's virtual disk does) biases them less than a single run on one side would.
     *
     * @param queueDepth the workload's queue depth.
     * @param inFlight   I/Os kept in flight: the queue depth, or the disk's blocks if it has fewer.
     * @param ioUring    true for one thread on an io_uring, false for one thread per I/O in flight.
     * @param direct     whether the image was opened with O_DIRECT rather than through the page cache.
     * @param before     the run before the guests' paths (measured), or null if only the run after was made.
     * @param measured   the run after the guests' paths (measured).
     * @param verify     both runs' verification, each continuing from the block versions the runs before it left.
     */
    public record NativeBaseline(
        int queueDepth, int inFlight, boolean ioUring, boolean direct, Measured before, Measured measured,
        Verify verify)
    {
        /**
         * The IOPS a path's ratio to native divides by: the mean of the runs before and after, or the run after alone.
         *
         * @return native IOPS.
         */
        public double referenceIops()
        {
            return null == before ? measured.iops() : (before.iops() + measured.iops()) / 2;
        }

        /**
         * How far the two runs lie apart: the later's IOPS over the earlier's, minus one (0.1 is 10% faster after).
         *
         * @return the relative change, or 0 with one run.
         */
        public double drift()
        {
            return null == before || 0 == before.iops() ? 0 : measured.iops() / before.iops() - 1;
        }

        /**
         * How the baseline ran, in words, for example {@code native, depth 32 (32 threads, one synchronous I/O
         * each), page cache} or {@code native, depth 32 (io_uring, one thread), O_DIRECT}.
         *
         * @return one line.
         */
        public String scheme()
        {
            final String engine = ioUring ? "io_uring, one thread" :
                inFlight + (1 == inFlight ? " thread" : " threads") + ", one synchronous I/O each";
            return "native, depth " + inFlight + " (" + engine + (inFlight < queueDepth ? "; queue depth " +
                queueDepth + " clamped to the disk's " + inFlight + (1 == inFlight ? " block" : " blocks") : "") +
                "), " + (direct ? "O_DIRECT" : "page cache");
        }
    }

    /**
     * One network workload: a UDP stream or request/response between two guests' first NICs, or from a guest to the
     * host behind dom0's VXLAN uplink.
     *
     * @param name         its name.
     * @param from         the sending (requesting) guest.
     * @param to           the receiving (responding) guest, or {@code uplink}.
     * @param kind         {@code stream} or {@code rr}.
     * @param path         {@code pv/para} (vifs), {@code emulated/full} or {@code emulated/native} (e1000 NICs), or
     *                     {@code pv>emulated} and the like when the two ends differ; the sender's alone to the uplink.
     * @param payloadBytes UDP payload bytes per datagram.
     * @param frameBytes   Ethernet frame bytes per datagram (payload + 42 bytes of headers).
     * @param window       stream: frames in flight; request/response: requests outstanding.
     * @param measured     the figures over the measured window (measured).
     * @param counted      the counters over the whole workload, warm-up and drain included (counted).
     * @param derived      the counters per packet delivered, CPU time per packet, the ratio to PV (derived).
     * @param verify       payload checks at the receivers (counted).
     * @param cpu          every domain's CPU over the workload, or null without a scheduler.
     */
    public record NetReport(
        String name, String from, String to, String kind, String path, int payloadBytes, int frameBytes, int window,
        NetMeasured measured, NetCounted counted, NetDerived derived, NetVerify verify, Cpu cpu)
    {
    }

    /**
     * A network workload over its measured window: datagrams stamped from its start to its end (measured).
     *
     * @param seconds                   from the window's start to the last measured arrival.
     * @param packets                   measured frames delivered: datagrams for a stream, requests and responses
     *                                  for request/response (two per round trip).
     * @param roundTrips                measured responses received (request/response; 0 for a stream).
     * @param frameBytes                the packets' frame bytes.
     * @param packetsPerSecond          {@code packets / seconds}.
     * @param gigabitsPerSecond         {@code frameBytes * 8 / seconds / 10^9}.
     * @param payloadMegabytesPerSecond UDP payload bytes per second / 10^6.
     * @param latency                   one way (stream) or round trip (request/response).
     */
    public record NetMeasured(
        double seconds, long packets, long roundTrips, long frameBytes, double packetsPerSecond,
        double gigabitsPerSecond, double payloadMegabytesPerSecond, NetLatency latency)
    {
    }

    /**
     * Latencies from the send stamp in each payload to its arrival, from an HdrHistogram (3 significant digits), in
     * microseconds; 0 without datagrams.
     *
     * @param of         {@code one-way} or {@code round-trip}.
     * @param count      datagrams timed: every measured one (for request/response, every measured round trip).
     * @param p50Micros  median.
     * @param p90Micros  90th percentile.
     * @param p99Micros  99th percentile.
     * @param p999Micros 99.9th percentile.
     * @param maxMicros  largest.
     */
    public record NetLatency(
        String of, long count, double p50Micros, double p90Micros, double p99Micros, double p999Micros,
        double maxMicros)
    {
    }

    /**
     * A network workload's counters over the whole workload, warm-up and drain included (counted).
     *
     * @param sent             datagrams the sender transmitted (requests for request/response).
     * @param delivered        frames delivered to the receiving applications: datagrams at the receiver, or requests
     *                         at the server plus responses at the client; the per-packet figures divide by this.
     * @param lost             datagrams sent and never answered or arrived once drained ({@code sent} minus arrivals).
     * @param notifications    event-channel sends by netfront and netback (PV), or twice the ioreqs (emulated: an
     *                         event to dom0's device model and one back per trapped access, as for disks).
     * @param eventsToGuests   events netfront received (PV).
     * @param grantCopies      netback's {@code GNTTABOP_copy} operations (PV).
     * @param guestCopies      the guests' drivers' memory copies: netfront's (PV), or the e1000 driver's into its
     *                         transmit buffers (emulated).
     * @param deviceCopies     the e1000 device models' copies of frames out of and into guest memory (emulated;
     *                         netback's are its grant copies).
     * @param exits            the e1000 NICs' MMIO exits (emulated, full mode).
     * @param interrupts       interrupts the e1000 drivers took (emulated).
     * @param ioreqs           accesses forwarded to dom0's device model (emulated, full mode).
     * @param registerAccesses the e1000 drivers' register accesses (emulated).
     * @param guestHypercalls  hypercalls of the guests at both ends.
     * @param dom0Hypercalls   dom0's hypercalls.
     * @param droppedNoBuffer  frames the receiver's netback dropped for want of a posted buffer (PV).
     * @param droppedMissed    frames the receiver's e1000 device missed for want of a descriptor (emulated).
     * @param uplinkDrops      frames and datagrams the uplink dropped.
     */
    public record NetCounted(
        long sent, long delivered, long lost, long notifications, long eventsToGuests, long grantCopies,
        long guestCopies, long deviceCopies, long exits, long interrupts, long ioreqs, long registerAccesses,
        long guestHypercalls, long dom0Hypercalls, long droppedNoBuffer, long droppedMissed, long uplinkDrops)
    {
    }

    /**
     * Per packet delivered over the whole workload (derived from counted and measured figures).
     *
     * @param notificationsPerPacket   {@code notifications / delivered}.
     * @param grantCopiesPerPacket     {@code grantCopies / delivered} (0 on the emulated path).
     * @param dataCopiesPerPacket      every copy of a frame's bytes per packet: the guests' drivers' copies plus
     *                                 netback's grant copies or the device models' copies (the uplink's own copies
     *                                 into and out of Netty's buffers are not counted).
     * @param exitsPerPacket           {@code exits / delivered}.
     * @param interruptsPerPacket      interrupts into the guests per packet: events netfront received plus the e1000
     *                                 drivers' interrupts.
     * @param guestHypercallsPerPacket the guests' hypercalls per packet.
     * @param dom0HypercallsPerPacket  dom0's hypercalls per packet.
     * @param modeledCyclesPerPacket   cycles the cost model gives the guests' and dom0's exits, hypercalls and event
     *                                 deliveries, per packet (modeled, not measured: the simulated exits and
     *                                 hypercalls themselves cost little wall time).
     * @param guestCpuMicrosPerPacket  the guests' vCPU time per packet, both ends or the sender alone to the uplink
     *                                 (measured time, counted packets).
     * @param dom0CpuMicrosPerPacket   dom0's vCPU time per packet.
     * @param toPv                     on an emulated path, packets per second over those of the first PV workload
     *                                 of the same kind, payload and destination (guest or uplink); else null.
     */
    public record NetDerived(
        double notificationsPerPacket, double grantCopiesPerPacket, double dataCopiesPerPacket,
        double exitsPerPacket, double interruptsPerPacket, double guestHypercallsPerPacket,
        double dom0HypercallsPerPacket, double modeledCyclesPerPacket, double guestCpuMicrosPerPacket,
        double dom0CpuMicrosPerPacket, Double toPv)
    {
    }

    /**
     * A network workload's payload checks (counted).
     *
     * @param enabled          whether payloads were checked.
     * @param checked          payloads compared with the pattern at the receivers.
     * @param mismatches       of which differed.
     * @param checksumFailures datagrams dropped at a receiver for a bad IPv4 or UDP checksum.
     */
    public record NetVerify(boolean enabled, long checked, long mismatches, long checksumFailures)
    {
        /**
         * Whether every checked payload matched and no datagram failed its checksum.
         *
         * @return true if clean.
         */
        public boolean passed()
        {
            return 0 == mismatches && 0 == checksumFailures;
        }
    }

    /**
     * Writes the report as JSON.
     *
     * @param path the file.
     * @throws IOException if it cannot be written.
     */
    public void writeJson(final Path path) throws IOException
    {
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(path.toFile(), this);
    }

    /**
     * Reads a report written by {@link #writeJson}.
     *
     * @param path the file.
     * @return the report.
     * @throws IOException if it cannot be read or is not a report.
     */
    public static ScenarioReport readJson(final Path path) throws IOException
    {
        return new ObjectMapper().readValue(path.toFile(), ScenarioReport.class);
    }

    /**
     * Prints the report as text tables.
     *
     * @param out where to print.
     */
    public void print(final PrintWriter out)
    {
        if (hasDisks())
        {
            printDisks(out);
        }
        if (!network.isEmpty())
        {
            printNetwork(out);
        }
        out.println(clean ? "Result: clean (every checked read " + (network.isEmpty() ? "" : "and datagram ") +
            "matched, no I/O failed)" :
            "Result: FAILED (mismatches or I/O errors above)");
        out.flush();
    }

    private boolean hasDisks()
    {
        for (final GuestReport guest : guests)
        {
            if (!guest.disks().isEmpty())
            {
                return true;
            }
        }
        return false;
    }

    private void printNetwork(final PrintWriter out)
    {
        out.println();
        out.println("Network workloads (measured: wall clock over the measured window, after the warm-up; latency " +
            "from the send stamp in each payload: one way for stream, round trip for rr)");
        out.printf(Locale.ROOT, "%-28s %-16s %-6s %-14s %7s %6s %6s %11s %8s %8s %9s %9s %9s %9s %9s%n",
            "workload", "from>to", "kind", "path", "payload", "frame", "window", "packets/s", "Gbit/s", "MB/s",
            "p50 us", "p90 us", "p99 us", "p99.9 us", "max us");
        for (final NetReport n : network)
        {
            final NetMeasured m = n.measured();
            final NetLatency l = m.latency();
            out.printf(Locale.ROOT, "%-28s %-16s %-6s %-14s %7d %6d %6d %,11.0f %8.3f %8.1f %9.1f %9.1f %9.1f %9.1f " +
                "%9.1f%n", n.name(), n.from() + '>' + n.to(), n.kind(), n.path(), n.payloadBytes(), n.frameBytes(),
                n.window(), m.packetsPerSecond(), m.gigabitsPerSecond(), m.payloadMegabytesPerSecond(),
                l.p50Micros(), l.p90Micros(), l.p99Micros(), l.p999Micros(), l.maxMicros());
        }
        out.println("  (packets: datagrams delivered for stream, requests and responses for rr; Gbit/s counts " +
            "frame bytes x 8)");

        out.println();
        out.println("Network counters over each workload (counted, warm-up and drain included)");
        out.printf(Locale.ROOT, "%-28s %-14s %11s %11s %7s %11s %10s %10s %10s %10s %10s %9s %10s %10s %8s%n",
            "workload", "path", "sent", "delivered", "lost", "notify", "grant cpy", "guest cpy", "model cpy",
            "exits", "irqs", "ioreqs", "hc guests", "hc dom0", "drops");
        for (final NetReport n : network)
        {
            final NetCounted c = n.counted();
            out.printf(Locale.ROOT, "%-28s %-14s %,11d %,11d %,7d %,11d %,10d %,10d %,10d %,10d %,10d %,9d %,10d " +
                "%,10d %,8d%n", n.name(), n.path(), c.sent(), c.delivered(), c.lost(), c.notifications(),
                c.grantCopies(), c.guestCopies(), c.deviceCopies(), c.exits(), c.eventsToGuests() + c.interrupts(),
                c.ioreqs(), c.guestHypercalls(), c.dom0Hypercalls(),
                c.droppedNoBuffer() + c.droppedMissed() + c.uplinkDrops());
        }
        out.println("  (notify: netfront + netback event sends, or 2 x ioreqs emulated; guest cpy: the drivers' " +
            "copies; model cpy: the e1000 models' DMA copies; irqs: events netfront received + e1000 interrupts; " +
            "drops: receiver out of buffers + uplink)");

        out.println();
        out.println("Network paths side by side, per packet delivered (counted over the workload; cycles modeled; " +
            "CPU time measured; x PV derived from packets/s)");
        out.printf(Locale.ROOT, "%-28s %-14s %11s %8s %9s %9s %8s %8s %9s %9s %9s %9s %9s %9s %7s%n", "workload",
            "path", "packets/s", "p99 us", "notify", "grant cpy", "copies", "exits", "irqs", "hc guests", "hc dom0",
            "kcycles", "guest us", "dom0 us", "x PV");
        for (final NetReport n : network)
        {
            final NetDerived d = n.derived();
            out.printf(Locale.ROOT, "%-28s %-14s %,11.0f %8.1f %9.3f %9.3f %8.3f %8.3f %9.3f %9.3f %9.3f %9.2f %9.3f " +
                "%9.3f %7s%n", n.name(), n.path(), n.measured().packetsPerSecond(), n.measured().latency().p99Micros(),
                d.notificationsPerPacket(), d.grantCopiesPerPacket(), d.dataCopiesPerPacket(), d.exitsPerPacket(),
                d.interruptsPerPacket(), d.guestHypercallsPerPacket(), d.dom0HypercallsPerPacket(),
                d.modeledCyclesPerPacket() / 1e3, d.guestCpuMicrosPerPacket(), d.dom0CpuMicrosPerPacket(),
                ratio(d.toPv()));
        }
        out.println("  (guest us: the guests' vCPU time, both ends or the sender alone to the uplink; the sending " +
            "application runs on the sender's vCPU, so its own time is in it)");

        out.println();
        out.println("Network verification");
        for (final NetReport n : network)
        {
            final NetVerify v = n.verify();
            out.printf(Locale.ROOT, "  %-28s %s%n", n.name(), v.enabled() ? String.format(Locale.ROOT,
                "%,d payloads checked, %,d mismatches, %,d checksum failures", v.checked(), v.mismatches(),
                v.checksumFailures()) : String.format(Locale.ROOT, "off, %,d checksum failures",
                v.checksumFailures()));
        }
    }

    private void printDisks(final PrintWriter out)
    {
        out.println();
        out.println("Through the guests' drivers (measured: wall clock over the measured window, after the warm-up)");
        out.printf(Locale.ROOT, "%-22s %-14s %5s %11s %9s %9s %9s %9s %9s%n", "disk", "path", "depth", "IOPS",
            "MB/s", "p50 us", "p99 us", "p99.9 us", "max us");
        for (final GuestReport guest : guests)
        {
            for (final DiskReport disk : guest.disks())
            {
                printMeasured(out, disk.disk(), disk.path(), disk.measured());
                out.println();
            }
        }

        if (hasBaseline())
        {
            out.println();
            out.println("Native baseline on the image (measured: all disks at once, at the workload's queue depth, " +
                "by the back end's host engine: one thread per I/O in flight, or one io_uring; the scheme says which)");
            out.printf(Locale.ROOT, "%-22s %-14s %5s %11s %9s %9s %9s %9s %9s %10s  %s%n", "disk", "path", "depth",
                "IOPS", "MB/s", "p50 us", "p99 us", "p99.9 us", "max us", "x native", "scheme");
            for (final GuestReport guest : guests)
            {
                for (final DiskReport disk : guest.disks())
                {
                    final NativeBaseline base = disk.nativeBaseline();
                    if (null != base)
                    {
                        if (null != base.before())
                        {
                            printMeasured(out, disk.disk(), "native before", base.before());
                            out.printf(Locale.ROOT, " %10s  %s%n", "", base.scheme());
                        }
                        printMeasured(out, disk.disk(), null == base.before() ? "native" : "native after",
                            base.measured());
                        out.printf(Locale.ROOT, " %10s  %s%n", ratio(disk.derived().pvToNativeIops()),
                            null == base.before() ? base.scheme() : String.format(Locale.ROOT,
                            "%,.0f IOPS the mean of the two runs, after %+.0f%% on before", base.referenceIops(),
                            100 * base.drift()));
                    }
                }
            }
            out.println("  (x native: the disk's IOPS on its path over the mean of the native runs before and after " +
                "it; latency at depth > 1 includes queueing; native latency is a call on its thread, or a submission " +
                "to its completion on the io_uring)");
        }

        if (has("pv"))
        {
            out.println();
            out.println("Split-driver counters over the workload (counted; handshake excluded) and per-request " +
                "ratios (derived)");
            out.printf(Locale.ROOT, "%-22s %11s %11s %7s %10s %10s %8s %8s %17s %17s%n", "disk", "I/Os",
                "requests", "req/IO", "notify f>b", "notify b>f", "f>b/req", "b>f/req", "grants f iss/end",
                "back map/unm/cpy");
            for (final GuestReport guest : guests)
            {
                for (final DiskReport disk : guest.disks())
                {
                    final Counted c = disk.counted();
                    if (null == c)
                    {
                        continue;
                    }
                    final Derived d = disk.derived();
                    out.printf(Locale.ROOT, "%-22s %,11d %,11d %7.3f %,10d %,10d %8.4f %8.4f %17s %17s%n",
                        disk.disk(), c.ios(), c.requests(), d.requestsPerIo(), c.notificationsFrontToBack(),
                        c.notificationsBackToFront(), d.notificationsFrontToBackPerRequest(),
                        d.notificationsBackToFrontPerRequest(), c.frontGrantsIssued() + "/" + c.frontGrantsEnded(),
                        c.backGrantMaps() + "/" + c.backGrantUnmaps() + "/" + c.backGrantCopies());
                }
            }
            out.println("  (persistent grants held at the end, front/back:" + persistentSummary() + ")");
            final String depths = workerDepthSummary();
            if (!depths.isEmpty())
            {
                out.println("  (mean I/Os in flight at blkback's I/O workers when one was handed over, counted:" +
                    depths + ")");
                out.println("  (mean per I/O at the I/O workers, measured, waiting for a worker / in the image's " +
                    "read or write:" + workerTimeSummary() + ")");
            }
        }

        if (has("emulated"))
        {
            out.println();
            out.println("Emulated AHCI controller counters over the workload (counted; initialization excluded)");
            out.printf(Locale.ROOT, "%-22s %-14s %11s %11s %8s %11s %8s %11s %8s %8s%n", "disk", "path", "I/Os",
                "MMIO", "MMIO/IO", "MMIO exits", "exits/IO", "ioreqs", "irqs", "errors");
            for (final GuestReport guest : guests)
            {
                for (final DiskReport disk : guest.disks())
                {
                    final Emulated e = disk.emulated();
                    if (null == e)
                    {
                        continue;
                    }
                    out.printf(Locale.ROOT, "%-22s %-14s %,11d %,11d %8.3f %,11d %8.3f %,11d %,8d %,8d%n",
                        disk.disk(), disk.path(), e.ios(), e.mmioAccesses(), per(e.mmioAccesses(), e.ios()),
                        e.mmioExits(), per(e.mmioExits(), e.ios()), e.ioreqs(), e.interrupts(), e.deviceErrors());
                }
            }
            out.println("  (an I/O that completes alone in its interrupt costs 7 register accesses, 2 to issue and " +
                "5 to handle the interrupt; completions sharing an interrupt share its 5)");
        }

        if (null != cpu)
        {
            printCpu(out, "the split-driver workload", cpu);
        }
        if (null != emulatedCpu)
        {
            printCpu(out, "the emulated-disk workload", emulatedCpu);
        }

        out.println();
        out.println("Hypercalls over the workload (counted; per request derived: per blkif request, per I/O on an " +
            "emulated disk)");
        for (final GuestReport guest : guests)
        {
            printHypercalls(out, guest.name() + " (d" + guest.domid() + ')', guest.hypercalls());
        }
        printHypercalls(out, "dom0 (d0)", dom0);

        printSideBySide(out);

        out.println();
        out.println("Verification");
        for (final GuestReport guest : guests)
        {
            for (final DiskReport disk : guest.disks())
            {
                out.printf(Locale.ROOT, "  %-22s %s: %s%n", disk.disk(), disk.path(), disk.verify().describe());
                if (null != disk.nativeBaseline())
                {
                    out.printf(Locale.ROOT, "  %-22s native: %s%n", "", disk.nativeBaseline().verify().describe());
                }
            }
        }
    }

    /** A native run's row of the side-by-side table; its x native is the run over the runs' mean. */
    private static void printNativeSide(
        final PrintWriter out, final String disk, final String path, final Measured m, final NativeBaseline base)
    {
        out.printf(Locale.ROOT, "%-22s %-14s %,11.0f %9.1f %8.1f %8.1f %8d %8d %8d %8d %9d %9s %9s %8.2f%n", disk,
            path, m.iops(), m.megabytesPerSecond(), m.latency().p50Micros(), m.latency().p99Micros(), 0, 0, 0, 0, 0,
            "-", "-", 0 == base.referenceIops() ? 1.0 : m.iops() / base.referenceIops());
    }

    private void printSideBySide(final PrintWriter out)
    {
        out.println();
        out.println("I/O paths side by side, per I/O (IOPS, MB/s, latency and CPU time measured; exits, " +
            "notifications and hypercalls counted; cycles modeled; x native derived)");
        out.printf(Locale.ROOT, "%-22s %-14s %11s %9s %8s %8s %8s %8s %8s %8s %9s %9s %9s %8s%n", "disk", "path",
            "IOPS", "MB/s", "p50 us", "p99 us", "exits", "notify", "hc guest", "hc dom0", "kcycles", "guest us",
            "dom0 us", "x native");
        for (final GuestReport guest : guests)
        {
            for (final DiskReport disk : guest.disks())
            {
                final NativeBaseline base = disk.nativeBaseline();
                if (null != base)
                {
                    if (null != base.before())
                    {
                        printNativeSide(out, disk.disk(), "native before", base.before(), base);
                    }
                    printNativeSide(out, disk.disk(), null == base.before() ? "native" : "native after",
                        base.measured(), base);
                }
                final Measured m = disk.measured();
                final PathCost c = disk.cost();
                out.printf(Locale.ROOT, "%-22s %-14s %,11.0f %9.1f %8.1f %8.1f %8.3f %8.3f %8.3f %8.3f %9.2f %9.2f " +
                    "%9.2f %8s%n", disk.disk(), disk.path(), m.iops(), m.megabytesPerSecond(),
                    m.latency().p50Micros(), m.latency().p99Micros(), c.exitsPerIo(), c.notificationsPerIo(),
                    c.guestHypercallsPerIo(), c.dom0HypercallsPerIo(), c.modeledCyclesPerIo() / 1e3,
                    c.guestCpuMicrosPerIo(), c.dom0CpuMicrosPerIo(), ratio(disk.derived().pvToNativeIops()));
            }
        }
        out.println("  (native is the same workload on the image from host threads, run before and after the " +
            "guests' paths: no exits, notifications or hypercalls; its CPU time is the host's and not measured here; " +
            "a native run's x native is its IOPS over the two runs' mean)");
    }

    private boolean has(final String io)
    {
        for (final GuestReport guest : guests)
        {
            for (final DiskReport disk : guest.disks())
            {
                if (io.equals(disk.io()))
                {
                    return true;
                }
            }
        }
        return false;
    }

    private static String ratio(final Double ratio)
    {
        return null == ratio ? "-" : String.format(Locale.ROOT, "%.2f", ratio);
    }

    private static double per(final long count, final long ios)
    {
        return 0 == ios ? 0 : (double)count / ios;
    }

    private boolean hasBaseline()
    {
        for (final GuestReport guest : guests)
        {
            for (final DiskReport disk : guest.disks())
            {
                if (null != disk.nativeBaseline())
                {
                    return true;
                }
            }
        }
        return false;
    }

    private String workerDepthSummary()
    {
        return perDisk((c) -> 0 == c.backAsyncRequests() ? null :
            String.format(Locale.ROOT, "%.1f", (double)c.backAsyncDepthSum() / c.backAsyncRequests()));
    }

    private String workerTimeSummary()
    {
        return perDisk((c) -> 0 == c.backAsyncRequests() ? null : String.format(Locale.ROOT, "%.1f/%.1f us",
            c.backAsyncWaitNanos() / 1e3 / c.backAsyncRequests(),
            c.backAsyncServiceNanos() / 1e3 / c.backAsyncRequests()));
    }

    private String persistentSummary()
    {
        return perDisk((c) -> c.frontPersistentGrants() + "/" + c.backPersistentMapped());
    }

    /** " disk figure" for each disk with counters whose figure is not null. */
    private String perDisk(final Function<Counted, String> figure)
    {
        final StringBuilder text = new StringBuilder();
        for (final GuestReport guest : guests)
        {
            for (final DiskReport disk : guest.disks())
            {
                final String value = null == disk.counted() ? null : figure.apply(disk.counted());
                if (null != value)
                {
                    text.append(' ').append(disk.disk()).append(' ').append(value);
                }
            }
        }
        return text.toString();
    }

    private static void printCpu(final PrintWriter out, final String phase, final Cpu cpu)
    {
        out.println();
        out.printf(Locale.ROOT, "CPU over %s: %d physical CPU(s), %.1f ms slice, %.1f s " +
            "(CPU time, share and wake-up latency measured; exits, calls, injections, upcalls counted; cycles " +
            "modeled)%n", phase, cpu.cpus(), cpu.sliceMillis(), cpu.wallSeconds());
        out.printf(Locale.ROOT, "%-16s %-6s %5s %6s %4s %8s %6s %10s %9s %9s %10s %9s %9s %9s %12s%n", "domain",
            "mode", "vcpus", "weight", "cap", "cpu s", "share", "wakeups", "wake p50", "wake p99", "exits",
            "cpu calls", "injected", "upcalls", "Mcycles");
        for (final DomainCpu d : cpu.domains())
        {
            out.printf(Locale.ROOT, "%-16s %-6s %5d %6d %4s %8.3f %5.1f%% %,10d %7.1fus %7.1fus %,10d %,9d %,9d " +
                "%,9d %,12.1f%n", d.domain() + " (d" + d.domid() + ')', d.mode(), d.vcpus(), d.weight(),
                0 == d.cap() ? "-" : Integer.toString(d.cap()), d.cpuSeconds(), d.machineShare() * 100, d.wakeups(),
                d.wakeP50Micros(), d.wakeP99Micros(), d.exits(), d.cpuHypercalls(), d.injected(), d.upcalls(),
                d.modeledCycles() / 1e6);
        }
        for (final DomainCpu d : cpu.domains())
        {
            if (!d.exitsByReason().isEmpty())
            {
                final StringBuilder reasons = new StringBuilder();
                for (final Map.Entry<String, Long> entry : d.exitsByReason().entrySet())
                {
                    reasons.append(reasons.length() == 0 ? "" : ", ").append(entry.getKey()).append(' ')
                        .append(String.format(Locale.ROOT, "%,d", entry.getValue()));
                }
                out.printf(Locale.ROOT, "  exits of %s: %s%n", d.domain(), reasons);
            }
        }
    }

    private static void printMeasured(final PrintWriter out, final String name, final String path, final Measured m)
    {
        out.printf(Locale.ROOT, "%-22s %-14s %5d %,11.0f %9.1f %9.1f %9.1f %9.1f %9.1f", name, path, m.inFlight(),
            m.iops(),
            m.megabytesPerSecond(), m.latency().p50Micros(), m.latency().p99Micros(), m.latency().p999Micros(),
            m.latency().maxMicros());
    }

    private static void printHypercalls(final PrintWriter out, final String who, final Hypercalls calls)
    {
        final StringBuilder kinds = new StringBuilder();
        for (final Map.Entry<String, Long> entry : calls.byKind().entrySet())
        {
            kinds.append(kinds.length() == 0 ? "" : ", ").append(entry.getKey()).append(' ')
                .append(String.format(Locale.ROOT, "%,d", entry.getValue()));
        }
        out.printf(Locale.ROOT, "  %-22s %,11d total, %.4f per request%s%n", who, calls.total(), calls.perRequest(),
            kinds.length() == 0 ? "" : "  [" + kinds + ']');
    }
}
