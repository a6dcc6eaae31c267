package io.pvio.bench.scenario;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import io.pvio.backend.block.BlockDataPath;
import io.pvio.machine.vm.PagingMode;

/**
 * A checked scenario: a machine, the back end's offer, and guests with their disks and workloads. Sizes are bytes,
 * durations nanoseconds. Built by {@link ScenarioParser}, which checks every field before anything is built.
 *
 * @param description   what the scenario is about, printed before it runs; empty if none.
 * @param machineMemory bytes of machine memory.
 * @param dom0Memory    bytes given to dom0.
 * @param cpus          the physical CPUs and how domains run on them.
 * @param backend       the back end's offer, the same for every disk.
 * @param guests        the guests, at least one.
 * @param network       the network workloads, run in turn after the disks' workloads; empty for none.
 */
public record Scenario(
    String description, long machineMemory, long dom0Memory, Cpus cpus, Backend backend, List<Guest> guests,
    List<NetWorkload> network)
{
    /** The {@code to} of a network workload whose receiver is the host behind dom0's VXLAN uplink. */
    public static final String UPLINK = "uplink";

    /**
     * The same scenario with every workload running for {@code durationNanos} after its warm-up instead of its own
     * duration or count.
     *
     * @param durationNanos the measured duration of every workload.
     * @return a new scenario.
     */
    public Scenario withDuration(final long durationNanos)
    {
        final List<Guest> changed = new ArrayList<>();
        for (final Guest guest : guests)
        {
            final List<Disk> disks = new ArrayList<>();
            for (final Disk disk : guest.disks())
            {
                final Workload w = disk.workload();
                disks.add(new Disk(disk.devid(), disk.size(), disk.image(), disk.imageKind(), disk.readOnly(),
                    disk.io(), disk.frontend(), new Workload(w.random(), w.blockSize(), w.queueDepth(), w.readShare(),
                    durationNanos, 0, w.warmupNanos(), w.verify(), w.seed(), w.baseline())));
            }
            changed.add(new Guest(guest.name(), guest.memory(), guest.vcpus(), guest.mode(), guest.weight(),
                guest.cap(), guest.cpuBound(), List.copyOf(disks), guest.nics()));
        }
        final List<NetWorkload> net = new ArrayList<>();
        for (final NetWorkload w : network)
        {
            net.add(new NetWorkload(w.name(), w.from(), w.to(), w.kind(), w.payload(), durationNanos, w.warmupNanos(),
                w.window(), w.verify()));
        }
        return new Scenario(description, machineMemory, dom0Memory, cpus, backend, List.copyOf(changed),
            List.copyOf(net));
    }

    /**
     * A guest by name.
     *
     * @param name the guest's name.
     * @return the guest, or null if none has that name.
     */
    public Guest guest(final String name)
    {
        for (final Guest guest : guests)
        {
            if (guest.name().equals(name))
            {
                return guest;
            }
        }
        return null;
    }

    /**
     * Where a disk's bytes live.
     */
    public enum ImageKind
    {
        /**
         * A sparse image created in a temporary directory and deleted after the run: it starts as zeros. The directory
         * is made under {@code java.io.tmpdir}; with {@link Backend#oDirect() O_DIRECT} under the first of
         * {@code java.io.tmpdir} and {@code /var/tmp} whose file system accepts it.
         */
        TEMPORARY,
        /** An existing image file named by the scenario: its contents are unknown until written. */
        EXISTING,
        /** An image file named by the scenario that does not exist yet: created sparse (zeros) and kept. */
        CREATED
    }

    /**
     * The machine's physical CPUs and how domains run on them.
     *
     * @param vcpus      true to run every domain's code on its vCPUs, scheduled on {@code cpus} physical CPUs by the
     *                   credit scheduler; false for a host thread per event loop and back-end queue (no scheduler).
     * @param cpus       physical CPUs.
     * @param dom0Vcpus  dom0's vCPUs.
     * @param sliceNanos the scheduler's time slice.
     * @param tickNanos  the scheduler's tick.
     * @param haltPollNanos    the longest an idle vCPU polls before it blocks (0 blocks at once).
     * @param haltPollAdaptive whether each vCPU adapts its polling window up to {@code haltPollNanos}, as KVM does,
     *                         rather than always polling for all of it.
     */
    public record Cpus(
        boolean vcpus, int cpus, int dom0Vcpus, long sliceNanos, long tickNanos, long haltPollNanos,
        boolean haltPollAdaptive)
    {
    }

    /**
     * What every back end offers.
     *
     * @param dataPath            grant map or grant copy.
     * @param persistentGrants    whether persistent grants are offered.
     * @param maxIndirectSegments {@code feature-max-indirect-segments}, 0 for none.
     * @param maxQueues           {@code multi-queue-max-queues}.
     * @param maxRingPageOrder    {@code max-ring-page-order}.
     * @param oDirect             whether images are opened with O_DIRECT, bypassing the page cache: blkback's store
     *                            (whose logical block size becomes the file system's block size), the native
     *                            baseline and the read-back check alike.
     * @param ioWorkers           I/O worker threads per ring (the host's block layer), so reads and writes on
     *                            persistent grants are served asynchronously; 0 serves each on the ring's agent.
     * @param ioUring             whether those reads and writes go to one io_uring per ring instead (batched
     *                            submission, completions from the ring), and the native baseline issues its I/O
     *                            through an io_uring too.
     */
    public record Backend(
        BlockDataPath dataPath, boolean persistentGrants, int maxIndirectSegments, int maxQueues, int maxRingPageOrder,
        boolean oDirect, int ioWorkers, boolean ioUring)
    {
    }

    /**
     * A guest.
     *
     * @param name   its domain name.
     * @param memory bytes of memory.
     * @param vcpus  its vCPUs.
     * @param mode   how its CPU and memory are virtualized.
     * @param weight its credit-scheduler weight (256 is Xen's default).
     * @param cap    the most CPU it may use, in percent of one physical CPU; 0 for no cap.
     * @param cpuBound whether each of its vCPUs also runs a CPU-bound loop during the workload.
     * @param disks  its disks; at least one unless it has a NIC.
     * @param nics   its network interfaces, up to 4; the first is the one its network workloads use.
     */
    public record Guest(
        String name, long memory, int vcpus, PagingMode mode, int weight, int cap, boolean cpuBound,
        List<Disk> disks, List<Nic> nics)
    {
    }

    /**
     * A guest's network interface, a port of dom0's bridge.
     *
     * @param io  {@link Io#PV} for a vif (netfront in a para guest, netback in dom0), {@link Io#EMULATED} for an
     *            e1000 NIC (in a native or full-mode guest).
     * @param mac its MAC address, 48 bits, unicast.
     */
    public record Nic(Io io, long mac)
    {
    }

    /**
     * What a network workload does.
     */
    public enum NetKind
    {
        /** UDP stream: datagrams as fast as the window of frames in flight allows, counted where they arrive. */
        STREAM,
        /** UDP request/response: {@code window} requests outstanding, each echoed, timed per round trip. */
        RR
    }

    /**
     * A network workload between two guests' first NICs, or from a guest to the host behind the uplink.
     *
     * @param name          its name in the report.
     * @param from          the sending guest (the requester for {@link NetKind#RR}).
     * @param to            the receiving guest (the responder), or {@link #UPLINK}.
     * @param kind          stream or request/response.
     * @param payload       UDP payload bytes, 18 to 1472 (frames of 60 to 1514 bytes).
     * @param durationNanos how long to measure after the warm-up.
     * @param warmupNanos   time run before measuring.
     * @param window        stream: frames sent and not yet arrived; request/response: requests outstanding.
     * @param verify        whether the receiver checks every payload byte.
     */
    public record NetWorkload(
        String name, String from, String to, NetKind kind, int payload, long durationNanos, long warmupNanos,
        int window, boolean verify)
    {
        /**
         * Whether the receiver is the host behind the uplink.
         *
         * @return true for {@code to: uplink}.
         */
        public boolean toUplink()
        {
            return UPLINK.equals(to);
        }
    }

    /**
     * A virtual disk and the workload run on it.
     *
     * @param devid     the virtual device number (51712 is xvda, +16 per disk).
     * @param size      bytes.
     * @param image     the image file, or null for a {@link ImageKind#TEMPORARY temporary} image.
     * @param imageKind where the bytes live.
     * @param readOnly  whether the disk refuses writes.
     * @param io        how the guest reaches it: the split driver or an emulated controller.
     * @param frontend  what the front end asks for (split driver only).
     * @param workload  the workload.
     */
    public record Disk(
        int devid, long size, Path image, ImageKind imageKind, boolean readOnly, Io io, Frontend frontend,
        Workload workload)
    {
    }

    /**
     * How a guest reaches a disk or a network.
     */
    public enum Io
    {
        /**
         * The split driver: blkfront (netfront) in the guest, blkback (netback) in dom0, shared rings, grants and
         * event channels.
         */
        PV,
        /**
         * An emulated AHCI controller (e1000 NIC): the guest's unmodified driver programs its registers, each access
         * trapping to the device model in dom0 in full mode (reaching the device directly natively).
         */
        EMULATED
    }

    /**
     * What a front end asks for; the negotiated values are the smaller of this and the back end's offer.
     *
     * @param persistentGrants whether to use persistent grants.
     * @param indirectSegments the most indirect segments, 0 for none.
     * @param queues           queues wanted.
     * @param ringPages        pages per ring wanted: 1, 2, 4, 8 or 16.
     */
    public record Frontend(boolean persistentGrants, int indirectSegments, int queues, int ringPages)
    {
    }

    /**
     * A workload.
     *
     * @param random        random offsets rather than sequential.
     * @param blockSize     bytes per I/O, a multiple of 512.
     * @param queueDepth    I/Os in flight through the split driver.
     * @param readShare     share of reads, 0 to 1.
     * @param durationNanos how long to measure after the warm-up, or 0 when {@code count} is set.
     * @param count         how many I/Os, or 0 when {@code durationNanos} is set.
     * @param warmupNanos   time run before measuring.
     * @param verify        whether every read is checked against the last acknowledged write.
     * @param seed          seed of the offsets, the read/write choice and the data.
     * @param baseline      whether to run the same workload natively on the image afterwards.
     */
    public record Workload(
        boolean random, int blockSize, int queueDepth, double readShare, long durationNanos, long count,
        long warmupNanos, boolean verify, long seed, boolean baseline)
    {
    }
}
