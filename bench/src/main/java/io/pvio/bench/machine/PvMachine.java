package io.pvio.bench.machine;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.pvio.backend.block.BlockBackOptions;
import io.pvio.backend.block.BlockStore;
import io.pvio.backend.net.Bridge;
import io.pvio.frontend.block.BlockFrontOptions;
import io.pvio.frontend.net.NetFrontOptions;
import io.pvio.frontend.net.NetReceiver;
import io.pvio.hypervisor.Domain;
import io.pvio.hypervisor.Hypervisor;
import io.pvio.hypervisor.grant.GrantTable;
import io.pvio.hypervisor.sched.CreditScheduler;
import io.pvio.hypervisor.xenstore.XenStore;
import io.pvio.hypervisor.xenstore.XenStoreConnection;
import io.pvio.hypervisor.xenstore.XenbusDevice;
import io.pvio.machine.memory.MachineMemory;
import io.pvio.ring.blkif.BlkifXenbusKeys;

/**
 * A machine with a hypervisor, a XenStore, a driver domain (dom0) serving block devices, and guests using them; every
 * block device has a {@code BlockBack} in dom0 and a {@code BlockFront} in its guest, connected through the xenbus
 * handshake.
 * <p>
 * By default ({@link MachineOptions.Execution#VCPUS}) a {@link CreditScheduler} runs every domain's vCPUs on physical
 * CPUs: each domain's event loop is its vCPU 0's upcall handler, back-end queues are tasks of dom0's vCPUs, and a
 * guest's workload starts on its vCPU ({@link PvGuest#runOnVcpu}), so domains really compete for CPU and really wait
 * to be scheduled. With {@link MachineOptions.Execution#THREADS} each domain's event loop and each back-end queue
 * runs on a daemon thread of its own instead. The devices' xenbus handshakes run on threads of their own in both.
 * <p>
 * {@link #close()} tears everything down in order (fronts close, backs close, guests are destroyed, threads stop,
 * machine memory is freed) and closes the block stores handed to {@link #attachDisk}: the machine owns them.
 * Not thread-safe: build and close it from one thread; the devices themselves are used from any thread.
 */
public final class PvMachine implements AutoCloseable
{
    /** How long {@link #attachDisk} waits for the handshake, in seconds. */
    public static final long CONNECT_TIMEOUT_SECONDS = 30;

    /** Dom0's name in XenStore, as Xen's toolstack writes it. */
    public static final String DOM0_NAME = "Domain-0";

    private final Hypervisor hypervisor;
    private final XenStore xenStore;
    private final XenStoreConnection toolstack;
    private final MachineOptions options;
    private final CreditScheduler scheduler;
    private final DomainThread dom0Thread;
    private final List<PvGuest> guests = new ArrayList<>();
    private final List<PvVif> vifs = new ArrayList<>();
    private final List<EmulatedNic> nics = new ArrayList<>();
    private boolean closed;

    private PvMachine(final Hypervisor hypervisor, final MachineOptions options)
    {
        this.hypervisor = hypervisor;
        this.options = options;
        // a driver domain maps every ring and persistent grant of every guest: give it Xen's largest maptrack
        hypervisor.dom0().grantTable().configureLimits(GrantTable.MAX_FRAMES_DEFAULT, GrantTable.MAX_MAPTRACK_LIMIT);
        this.xenStore = new XenStore();
        this.toolstack = xenStore.connect(hypervisor.dom0().id());
        xenStore.introduceDomain(hypervisor.dom0().id(), DOM0_NAME);
        if (MachineOptions.Execution.VCPUS == options.execution())
        {
            this.scheduler = new CreditScheduler(hypervisor, options.scheduler());
            scheduler.addDomain(hypervisor.dom0());
            scheduler.start();
            this.dom0Thread = null;
        }
        else
        {
            this.scheduler = null;
            this.dom0Thread = DomainThread.start(hypervisor.dom0());
        }
    }

    /**
     * Boots a machine: allocates its memory, creates dom0 and starts dom0's event loop.
     *
     * @param machineFrames 4 KiB frames of machine memory.
     * @param dom0Frames    frames given to dom0.
     * @return the running machine.
     * @throws IllegalArgumentException if the sizes do not fit.
     */
    public static PvMachine start(final int machineFrames, final int dom0Frames)
    {
        return start(machineFrames, dom0Frames, new MachineOptions());
    }

    /**
     * Boots a machine with the given execution model: allocates its memory, creates dom0 and starts its vCPUs on the
     * scheduler's physical CPUs (or its event-loop thread).
     *
     * @param machineFrames 4 KiB frames of machine memory.
     * @param dom0Frames    frames given to dom0.
     * @param options       execution model, scheduler settings, dom0's vCPUs.
     * @return the running machine.
     * @throws IllegalArgumentException if the sizes do not fit.
     */
    public static PvMachine start(final int machineFrames, final int dom0Frames, final MachineOptions options)
    {
        if (machineFrames <= 0 || dom0Frames <= 0 || dom0Frames > machineFrames)
        {
            throw new IllegalArgumentException("machineFrames=" + machineFrames + ", dom0Frames=" + dom0Frames +
                " (expected 0 < dom0Frames <= machineFrames)");
        }
        final MachineMemory memory = new MachineMemory((long)machineFrames * MachineMemory.FRAME_SIZE);
        try
        {
            return new PvMachine(new Hypervisor(memory, dom0Frames, options.resolvedDom0Vcpus()), options);
        }
        catch (final RuntimeException ex)
        {
            memory.close();
            throw ex;
        }
    }

    /**
     * The hypervisor.
     *
     * @return the hypervisor, with its machine memory.
     */
    public Hypervisor hypervisor()
    {
        return hypervisor;
    }

    /**
     * The scheduler that runs the domains' vCPUs.
     *
     * @return the scheduler, or null with {@link MachineOptions.Execution#THREADS}.
     */
    public CreditScheduler scheduler()
    {
        return scheduler;
    }

    /**
     * How the machine runs its domains.
     *
     * @return the options it was started with.
     */
    public MachineOptions options()
    {
        return options;
    }

    /**
     * The XenStore every domain connects to.
     *
     * @return the store.
     */
    public XenStore xenStore()
    {
        return xenStore;
    }

    /**
     * The driver domain.
     *
     * @return dom0.
     */
    public Domain dom0()
    {
        return hypervisor.dom0();
    }

    /**
     * The toolstack's XenStore connection (dom0's).
     *
     * @return the connection.
     */
    public XenStoreConnection toolstack()
    {
        return toolstack;
    }

    /**
     * The guests created so far, destroyed ones included.
     *
     * @return a copy of the list.
     */
    public List<PvGuest> guests()
    {
        return new ArrayList<>(guests);
    }

    /**
     * Creates a guest: its domain, its introduction to XenStore and its event-loop thread.
     *
     * @param name   the domain's name.
     * @param frames its memory in 4 KiB frames.
     * @return the running guest.
     */
    public PvGuest createGuest(final String name, final int frames)
    {
        return createGuest(name, frames, new GuestOptions());
    }

    /**
     * Creates a guest with the given vCPUs, mode, weight and cap: its domain, its introduction to XenStore and its
     * vCPUs on the scheduler (or, with threads, its event-loop thread; weight and cap then mean nothing).
     *
     * @param name    the domain's name.
     * @param frames  its memory in 4 KiB frames.
     * @param options vCPUs, mode, weight, cap.
     * @return the running guest.
     */
    public PvGuest createGuest(final String name, final int frames, final GuestOptions options)
    {
        checkOpen();
        final Domain domain = dom0().hypercalls().createDomain(name, frames, options.vcpus(), options.mode());
        xenStore.introduceDomain(domain.id(), name);
        final PvGuest guest;
        if (null != scheduler)
        {
            scheduler.addDomain(domain);
            dom0().hypercalls().setSchedulerParameters(domain.id(), options.weight(), options.cap());
            guest = new PvGuest(this, domain, null);
        }
        else
        {
            guest = new PvGuest(this, domain, DomainThread.start(domain));
        }
        guests.add(guest);
        return guest;
    }

    /**
     * Plugs a virtual disk into a guest: the toolstack writes both XenStore directories, dom0 starts the back end on
     * {@code store}, the guest starts its front end, and this call waits until both are connected. The machine owns
     * the store from now on.
     *
     * @param guest   the guest.
     * @param devid   the virtual device number (51712 is xvda).
     * @param store   the disk.
     * @param back    the back end's options.
     * @param front   the front end's options.
     * @return the connected disk.
     * @throws IllegalStateException if the handshake does not complete in {@value #CONNECT_TIMEOUT_SECONDS} s.
     */
    public PvDisk attachDisk(
        final PvGuest guest,
        final int devid,
        final BlockStore store,
        final BlockBackOptions back,
        final BlockFrontOptions front)
    {
        checkOpen();
        final XenbusDevice device = XenbusDevice.create(toolstack, BlkifXenbusKeys.DEVICE_TYPE, guest.domain().id(),
            dom0().id(), devid,
            Map.of(BlkifXenbusKeys.MODE, store.isReadOnly() ? "r" : "w", BlkifXenbusKeys.TYPE, "file"),
            Map.of(BlkifXenbusKeys.VIRTUAL_DEVICE, Integer.toString(devid), BlkifXenbusKeys.DEVICE_TYPE_NODE, "disk"));
        final PvDisk disk = new PvDisk(this, guest, device, store, back);
        guest.add(disk);
        disk.startFront(front);
        try
        {
            if (!disk.front().awaitConnected(CONNECT_TIMEOUT_SECONDS, TimeUnit.SECONDS))
            {
                throw new IllegalStateException(device + " did not connect in " + CONNECT_TIMEOUT_SECONDS +
                    " s: front " + disk.front().state() + ", back " + disk.back().state() +
                    (null == disk.back().disconnectReason() ? "" : " (" + disk.back().disconnectReason() + ')'));
            }
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while " + device + " was connecting", ex);
        }
        return disk;
    }

    /**
     * Plugs a virtual network interface into a guest: the toolstack writes both XenStore directories with the
     * vif's MAC, dom0 starts netback as a port of {@code bridge}, the guest starts netfront, and this call waits
     * until both are connected. The machine unplugs it on close if the caller has not.
     *
     * @param guest    the guest.
     * @param bridge   dom0's bridge the vif joins.
     * @param devid    the vif's number in the guest (0 is eth0).
     * @param mac      its MAC address, such as {@code 00:16:3e:00:00:02}.
     * @param options  netfront's options.
     * @param receiver told about each frame the guest receives, on the guest's event loop.
     * @return the connected vif.
     * @throws IllegalStateException if the handshake does not complete in {@value #CONNECT_TIMEOUT_SECONDS} s.
     */
    public PvVif attachVif(
        final PvGuest guest, final Bridge bridge, final int devid, final String mac, final NetFrontOptions options,
        final NetReceiver receiver)
    {
        checkOpen();
        final PvVif vif = new PvVif(this, guest, bridge, devid, mac, options, receiver);
        synchronized (vifs)
        {
            vifs.add(vif);
        }
        return vif;
    }

    /**
     * Attaches an emulated e1000 NIC to a native or full-mode guest as a port of {@code bridge} (see
     * {@link EmulatedNic}) and waits until the guest's driver has initialized it. The machine detaches it on close if
     * the caller has not.
     *
     * @param guest    the guest.
     * @param bridge   dom0's bridge the NIC joins.
     * @param mac      its MAC address (48 bits, first byte most significant), unicast.
     * @param receiver told about each frame the guest receives, on its vCPU 0.
     * @return the NIC, its driver ready.
     * @throws IllegalArgumentException if the guest is in para mode or the machine has no vCPUs.
     */
    public EmulatedNic attachEmulatedNic(
        final PvGuest guest, final Bridge bridge, final long mac, final NetReceiver receiver)
    {
        checkOpen();
        final EmulatedNic nic = EmulatedNic.attach(this, guest, bridge, mac, receiver);
        synchronized (nics)
        {
            nics.add(nic);
        }
        return nic;
    }

    /**
     * Detaches every emulated NIC, unplugs every vif, closes every disk, destroys every guest, stops every domain
     * thread and frees the machine memory. Idempotent.
     */
    @Override
    public void close()
    {
        if (closed)
        {
            return;
        }
        closed = true;
        RuntimeException failure = null;
        synchronized (nics)
        {
            for (final EmulatedNic nic : nics)
            {
                try
                {
                    nic.close();
                }
                catch (final RuntimeException ex)
                {
                    failure = addSuppressed(failure, ex);
                }
            }
        }
        synchronized (vifs)
        {
            for (final PvVif vif : vifs)
            {
                try
                {
                    vif.close();
                }
                catch (final RuntimeException ex)
                {
                    failure = addSuppressed(failure, ex);
                }
            }
        }
        for (final PvGuest guest : guests)
        {
            try
            {
                guest.shutdown();
            }
            catch (final RuntimeException ex)
            {
                failure = addSuppressed(failure, ex);
            }
        }
        if (null != dom0Thread)
        {
            dom0Thread.stop();
        }
        toolstack.close();
        hypervisor.close();
        if (null != failure)
        {
            throw failure;
        }
    }

    static RuntimeException addSuppressed(final RuntimeException first, final RuntimeException next)
    {
        if (null == first)
        {
            return next;
        }
        first.addSuppressed(next);
        return first;
    }

    private void checkOpen()
    {
        if (closed)
        {
            throw new IllegalStateException("machine is closed");
        }
    }
}
