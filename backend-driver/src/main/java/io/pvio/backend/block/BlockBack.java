package io.pvio.backend.block;

import java.util.ArrayList;
import java.util.List;

import org.agrona.concurrent.UnsafeBuffer;

import io.pvio.backend.XenbusBackend;
import io.pvio.hypervisor.Domain;
import io.pvio.hypervisor.event.EventChannelOps;
import io.pvio.hypervisor.grant.GrantTableOps;
import io.pvio.hypervisor.xenstore.XenStore;
import io.pvio.hypervisor.xenstore.XenStoreException;
import io.pvio.hypervisor.xenstore.XenbusState;
import io.pvio.hypervisor.xenstore.XenbusStateWatcher;
import io.pvio.hypervisor.xenstore.XenbusValues;
import io.pvio.hypervisor.xenstore.XsError;
import io.pvio.machine.memory.MachineMemory;
import io.pvio.ring.BackRing;
import io.pvio.ring.RingGeometry;
import io.pvio.ring.RingProtocolException;
import io.pvio.ring.blkif.BlkifRequestDescriptor;
import io.pvio.ring.blkif.BlkifXenbusKeys;

/**
 * blkback: the back end of one virtual block device, in the driver domain. It owns a xenbus thread that runs the
 * handshake and one {@link BlkbackQueue} agent thread per ring.
 * <p>
 * <b>Handshake</b> (Xen's {@code io/blkif.h}; Linux's {@code xen-blkback/xenbus.c}): on start it publishes the disk
 * ({@code sectors}, {@code sector-size}, {@code physical-sector-size}, {@code info}) and its features
 * ({@code feature-flush-cache}, {@code feature-barrier=0}, {@code feature-discard} with its parameters,
 * {@code feature-persistent}, {@code feature-max-indirect-segments}, {@code multi-queue-max-queues},
 * {@code max-ring-page-order}) in one transaction and goes {@code InitWait}. When the front end is
 * {@code Initialised} it reads the transport keys, checks every one strictly (decimal, in range, present, protocol
 * {@code x86_64-abi}), maps the rings, binds the event channels, starts the agents and goes {@code Connected}.
 * It connects only on {@code Initialised}, not on a front end already {@code Connected}: a restarted back end must
 * not attach to the rings of the front end's previous connection, which the front end is about to replace.
 * <p>
 * <b>Teardown</b>: a front end going {@code Closing} makes it stop its agents, unmap everything, close its ports and go
 * {@code Closing}; {@code Closed} (or its directory vanishing, when the guest is destroyed) makes it disconnect and go
 * {@code Closed}; a front end back at {@code Initialising} while it is {@code Closed} gets the features again and
 * {@code InitWait}. {@link #close()} is the driver domain restarting or removing the device: disconnect,
 * {@code Closing}, {@code Closed}; the directories stay.
 * <p>
 * <b>Multi-page rings</b>: real Xen maps a ring's pages at consecutive virtual addresses; pvio's driver domain has
 * no page tables, so a multi-page ring must be granted on machine-consecutive frames (the front end allocates it so)
 * and the back end refuses the connection otherwise.
 * <p>
 * <b>Hostile front end</b>: bad transport keys refuse the connection; a queue whose ring indexes are impossible cuts
 * the front end off ({@code Closing}, {@link #disconnectReason()}); other devices are untouched.
 */
public final class BlockBack extends XenbusBackend
{
    private final BlockStore store;
    private final BlockBackOptions options;
    private final BlockBackCounters counters = new BlockBackCounters();
    private final long[] deviceSlab = counters.newSlab();
    private final int devid;
    private final List<BlkbackQueue> queues = new ArrayList<>();
    private boolean connected;

    private BlockBack(
        final Domain driverDomain,
        final XenStore xenStore,
        final String backendPath,
        final BlockStore store,
        final BlockBackOptions options)
    {
        super(driverDomain, xenStore, backendPath, "xenbus-blkback-" + deviceName(backendPath));
        this.store = store;
        this.options = options.copy();
        this.devid = parseDevid(backendPath);
    }

    /**
     * Starts a back end on a device directory the toolstack created; returns at once, the handshake runs on the
     * device's xenbus thread.
     *
     * @param driverDomain the driver domain (usually dom0).
     * @param xenStore     the store.
     * @param backendPath  the back end's directory, {@code /local/domain/<be>/backend/vbd/<fe>/<devid>}.
     * @param store        the disk; the caller keeps ownership.
     * @param options      what to offer; copied.
     * @return the back end.
     */
    public static BlockBack start(
        final Domain driverDomain,
        final XenStore xenStore,
        final String backendPath,
        final BlockStore store,
        final BlockBackOptions options)
    {
        final BlockBack back = new BlockBack(driverDomain, xenStore, backendPath, store, options);
        back.startThread();
        return back;
    }

    /**
     * Queues of the current connection.
     *
     * @return 0 when not connected.
     */
    public synchronized int connectedQueues()
    {
        return queues.size();
    }

    /**
     * The device's counters, over every connection.
     *
     * @return the live counters.
     */
    public BlockBackCounters counters()
    {
        return counters;
    }

    /**
     * The virtual device number, the last element of the directory.
     *
     * @return the devid.
     */
    public int devid()
    {
        return devid;
    }

    void onProtocolViolation(final String reason)
    {
        reportViolation(reason);
    }

    @Override
    protected boolean connectsOn(final XenbusState frontState)
    {
        // not on a front end already Connected: a restarted back end must not attach to the old connection's rings
        return XenbusState.INITIALISED == frontState;
    }

    @Override
    protected boolean serving()
    {
        return connected;
    }

    @Override
    protected void countViolation()
    {
        BlockBackCounters.add(deviceSlab, BlockBackCounters.PROTOCOL_VIOLATIONS, 1);
    }

    @Override
    protected void publishFeatures()
    {
        final String mode = readOptional(backendPath + '/' + BlkifXenbusKeys.MODE);
        final boolean readOnly = store.isReadOnly() || "r".equals(mode);
        xs.transaction(XenbusStateWatcher.SWITCH_STATE_ATTEMPTS, (tx) ->
        {
            write(tx, BlkifXenbusKeys.SECTORS, Long.toString(store.sectors()));
            write(tx, BlkifXenbusKeys.SECTOR_SIZE, Integer.toString(store.sectorSize()));
            write(tx, BlkifXenbusKeys.PHYSICAL_SECTOR_SIZE, Integer.toString(store.sectorSize()));
            write(tx, BlkifXenbusKeys.INFO, Integer.toString(readOnly ? BlkifXenbusKeys.VDISK_READONLY : 0));
            write(tx, BlkifXenbusKeys.FEATURE_FLUSH_CACHE, options.flushCache() ? "1" : "0");
            write(tx, BlkifXenbusKeys.FEATURE_BARRIER, "0");
            write(tx, BlkifXenbusKeys.FEATURE_DISCARD, options.discard() && !readOnly ? "1" : "0");
            if (options.discard() && !readOnly)
            {
                write(tx, BlkifXenbusKeys.DISCARD_GRANULARITY, Integer.toString(store.sectorSize()));
                write(tx, BlkifXenbusKeys.DISCARD_ALIGNMENT, "0");
                write(tx, BlkifXenbusKeys.DISCARD_SECURE, "0");
            }
            write(tx, BlkifXenbusKeys.FEATURE_PERSISTENT, options.persistentGrants() ? "1" : "0");
            if (options.maxIndirectSegments() > 0)
            {
                write(tx, BlkifXenbusKeys.FEATURE_MAX_INDIRECT_SEGMENTS, Integer.toString(options.maxIndirectSegments()));
            }
            else
            {
                removeQuietly(tx, backendPath + '/' + BlkifXenbusKeys.FEATURE_MAX_INDIRECT_SEGMENTS);
            }
            write(tx, BlkifXenbusKeys.MULTI_QUEUE_MAX_QUEUES, Integer.toString(options.maxQueues()));
            write(tx, BlkifXenbusKeys.MAX_RING_PAGE_ORDER, Integer.toString(options.maxRingPageOrder()));
            return null;
        });
    }

    @Override
    protected void connect()
    {
        final List<BlkbackQueue> made = new ArrayList<>();
        try
        {
            final String protocol = readOptional(frontendPath() + '/' + BlkifXenbusKeys.PROTOCOL);
            if (null != protocol && !BlkifXenbusKeys.PROTOCOL_X86_64.equals(protocol))
            {
                throw new IllegalArgumentException(BlkifXenbusKeys.PROTOCOL + "=\"" + protocol +
                    "\" (expected: " + BlkifXenbusKeys.PROTOCOL_X86_64 + ")");
            }
            final int queueCount = optionalInt(frontendPath() + '/' + BlkifXenbusKeys.MULTI_QUEUE_NUM_QUEUES,
                BlkifXenbusKeys.MULTI_QUEUE_NUM_QUEUES, 1, options.maxQueues(), 1);
            final int order = optionalInt(frontendPath() + '/' + BlkifXenbusKeys.RING_PAGE_ORDER,
                BlkifXenbusKeys.RING_PAGE_ORDER, 0, options.maxRingPageOrder(), 0);
            final boolean persistent = options.persistentGrants() && 1 == optionalInt(
                frontendPath() + '/' + BlkifXenbusKeys.FEATURE_PERSISTENT, BlkifXenbusKeys.FEATURE_PERSISTENT, 0, 1, 0);
            final int pages = 1 << order;
            for (int q = 0; q < queueCount; q++)
            {
                final String dir = 1 == queueCount ? frontendPath() :
                    frontendPath() + '/' + BlkifXenbusKeys.queueDirectory(q);
                final int[] refs = new int[pages];
                for (int p = 0; p < pages; p++)
                {
                    final String name = 0 == order ? BlkifXenbusKeys.RING_REF : BlkifXenbusKeys.ringRef(p);
                    refs[p] = (int)XenbusValues.parseDecimal(xs.readString(dir + '/' + name), name, 0, 0xFFFF_FFFFL);
                }
                final int remotePort = XenbusValues.parseInt(xs.readString(dir + '/' + BlkifXenbusKeys.EVENT_CHANNEL),
                    BlkifXenbusKeys.EVENT_CHANNEL, 1, Integer.MAX_VALUE);
                made.add(makeQueue(q, refs, remotePort, persistent));
            }
        }
        catch (final RuntimeException ex)
        {
            for (final BlkbackQueue queue : made)
            {
                closePort(queue.port());
                queue.release();
            }
            refuseBeforeConnect(ex instanceof XenStoreException && XsError.ENOENT == ((XenStoreException)ex).error() ?
                "missing transport key: " + ex.getMessage() : ex.getMessage());
            return;
        }
        synchronized (this)
        {
            queues.addAll(made);
        }
        connected = true;
        for (final BlkbackQueue queue : made)
        {
            queue.start();
        }
        switchState(XenbusState.CONNECTED);
    }

    private BlkbackQueue makeQueue(final int index, final int[] refs, final int remotePort, final boolean persistent)
    {
        final GrantTableOps grants = driverDomain.hypercalls().grantTableOp();
        final int[] handles = new int[refs.length];
        final UnsafeBuffer view = new UnsafeBuffer(0, 0);
        int mapped = 0;
        long base = 0;
        try
        {
            for (int p = 0; p < refs.length; p++)
            {
                final int handle = grants.map(frontendId(), refs[p], false, view);
                BlockBackCounters.add(deviceSlab, BlockBackCounters.GRANT_MAPS, 1);
                if (handle < 0)
                {
                    throw new IllegalArgumentException("queue " + index + ": ring-ref " + Integer.toUnsignedString(
                        refs[p]) + " cannot be mapped (grant status " + handle + ")");
                }
                handles[mapped++] = handle;
                if (0 == p)
                {
                    base = view.addressOffset();
                }
                else if (view.addressOffset() != base + (long)p * MachineMemory.FRAME_SIZE)
                {
                    throw new IllegalArgumentException("queue " + index + ": the " + refs.length +
                        " ring pages are not machine-contiguous");
                }
            }
            final RingGeometry geometry = BlkifRequestDescriptor.blkifRing(refs.length);
            final UnsafeBuffer ringBuffer = new UnsafeBuffer(base, geometry.ringBytes());
            final BackRing ring = BackRing.attach(ringBuffer, geometry);
            final EventChannelOps events = driverDomain.hypercalls().eventChannelOp();
            final int port = events.bindInterdomain(frontendId(), remotePort);
            final BlkbackQueue queue = new BlkbackQueue(this, index, driverDomain, frontendId(), store, options,
                persistent, ring, ringBuffer, handles, port, counters.newSlab(), counters.newSlab());
            driverDomain.eventChannels().bindHandler(port, queue::onEvent);
            return queue;
        }
        catch (final RuntimeException ex)
        {
            for (int i = 0; i < mapped; i++)
            {
                grants.unmap(handles[i]);
            }
            if (ex instanceof RingProtocolException)
            {
                throw new IllegalArgumentException("queue " + index + ": " + ex.getMessage(), ex);
            }
            throw ex;
        }
    }

    @Override
    protected void disconnect()
    {
        final List<BlkbackQueue> toStop;
        synchronized (this)
        {
            toStop = new ArrayList<>(queues);
            queues.clear();
        }
        final boolean[] quiet = new boolean[toStop.size()];
        for (int q = 0; q < quiet.length; q++)
        {
            quiet[q] = toStop.get(q).stop();
        }
        for (int q = 0; q < quiet.length; q++)
        {
            final BlkbackQueue queue = toStop.get(q);
            closePort(queue.port());
            queue.release();
            if (quiet[q])
            {
                // nothing writes them any more (the agent stopped, the workers ended, the port's handler is gone):
                // the next connection's queues count on in them
                counters.recycle(queue.slab());
                counters.recycle(queue.completionSlab());
            }
        }
        connected = false;
    }

    private void removeQuietly(final int tx, final String path)
    {
        try
        {
            xs.rm(tx, path);
        }
        catch (final XenStoreException ex)
        {
            if (XsError.ENOENT != ex.error())
            {
                throw ex;
            }
        }
    }


    private static int parseDevid(final String backendPath)
    {
        final String last = backendPath.substring(backendPath.lastIndexOf('/') + 1);
        return XenbusValues.parseInt(last, "devid", 0, Integer.MAX_VALUE);
    }

    private static String deviceName(final String backendPath)
    {
        final String[] parts = backendPath.split("/");
        return parts.length >= 2 ? "d" + parts[parts.length - 2] + '-' + parts[parts.length - 1] : backendPath;
    }

    @Override
    public String toString()
    {
        return "BlockBack{" + backendPath + ", state=" + state() + ", queues=" + connectedQueues() + '}';
    }
}
