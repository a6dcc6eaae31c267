package io.pvio.backend.block;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import org.agrona.concurrent.UnsafeBuffer;

import io.pvio.hypervisor.Domain;
import io.pvio.hypervisor.event.EventChannelOps;
import io.pvio.hypervisor.grant.GrantTableOps;
import io.pvio.hypervisor.xenstore.XenStore;
import io.pvio.hypervisor.xenstore.XenStoreConnection;
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
public final class BlockBack implements AutoCloseable
{
    private static final long PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
    private static final int WATCH_EVENTS_PER_POLL = 64;

    private final Domain driverDomain;
    private final XenStoreConnection xs;
    private final String backendPath;
    private final BlockStore store;
    private final BlockBackOptions options;
    private final BlockBackCounters counters = new BlockBackCounters();
    private final long[] deviceSlab = counters.newSlab();
    private final int devid;
    private final Thread thread;
    private final List<BlkbackQueue> queues = new ArrayList<>();
    private volatile XenbusState state = XenbusState.INITIALISING;
    private volatile String disconnectReason;
    private volatile String pendingViolation;
    private volatile boolean closeRequested;
    private String frontendPath;
    private int frontendId;
    private XenbusStateWatcher watcher;
    private boolean connected;

    private BlockBack(
        final Domain driverDomain,
        final XenStore xenStore,
        final String backendPath,
        final BlockStore store,
        final BlockBackOptions options)
    {
        this.driverDomain = driverDomain;
        this.backendPath = backendPath;
        this.store = store;
        this.options = options.copy();
        this.devid = parseDevid(backendPath);
        this.thread = new Thread(this::run, "xenbus-blkback-" + deviceName(backendPath));
        this.thread.setDaemon(true);
        this.xs = xenStore.connect(driverDomain.id(), () -> LockSupport.unpark(thread));
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
        back.thread.start();
        return back;
    }

    /**
     * This end's xenbus state.
     *
     * @return the state last written.
     */
    public XenbusState state()
    {
        return state;
    }

    /**
     * Waits until the device is connected.
     *
     * @param timeout how long to wait.
     * @param unit    its unit.
     * @return true if connected.
     * @throws InterruptedException if interrupted.
     */
    public boolean awaitConnected(final long timeout, final TimeUnit unit) throws InterruptedException
    {
        final long deadline = System.nanoTime() + unit.toNanos(timeout);
        while (XenbusState.CONNECTED != state)
        {
            if (System.nanoTime() - deadline > 0)
            {
                return false;
            }
            Thread.sleep(1);
        }
        return true;
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
     * Why the front end was refused or cut off.
     *
     * @return the reason, or null if it never was.
     */
    public String disconnectReason()
    {
        return disconnectReason;
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

    /**
     * Stops serving, as a driver domain restarting the device does: the agents stop, every grant is unmapped and every
     * port closed, the state goes {@code Closing} then {@code Closed}. The store stays open. Idempotent; waits for the
     * xenbus thread.
     */
    @Override
    public void close()
    {
        closeRequested = true;
        LockSupport.unpark(thread);
        if (Thread.currentThread() != thread)
        {
            try
            {
                thread.join(TimeUnit.SECONDS.toMillis(30));
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
        }
    }

    void onProtocolViolation(final String reason)
    {
        pendingViolation = reason;
        LockSupport.unpark(thread);
    }

    private void run()
    {
        try
        {
            frontendPath = xs.readString(backendPath + '/' + BlkifXenbusKeys.FRONTEND);
            frontendId = XenbusValues.parseInt(xs.readString(backendPath + '/' + BlkifXenbusKeys.FRONTEND_ID),
                BlkifXenbusKeys.FRONTEND_ID, 0, XenStore.MAX_DOMAIN_ID);
            watcher = new XenbusStateWatcher(xs, backendPath, frontendPath, this::onFrontendState);
            publishFeatures();
            switchState(XenbusState.INIT_WAIT);
            watcher.start();
            while (!closeRequested)
            {
                final String violation = pendingViolation;
                if (null != violation)
                {
                    pendingViolation = null;
                    if (connected)
                    {
                        refuse(violation);
                    }
                }
                if (0 == xs.pollWatchEvents(watcher, WATCH_EVENTS_PER_POLL) && !closeRequested &&
                    null == pendingViolation)
                {
                    LockSupport.parkNanos(this, PARK_NANOS);
                }
            }
            disconnect();
            switchState(XenbusState.CLOSING);
            switchState(XenbusState.CLOSED);
        }
        catch (final RuntimeException ex)
        {
            disconnectReason = "xenbus thread failed: " + ex;
            disconnect();
        }
        finally
        {
            if (null != watcher)
            {
                watcher.stop();
            }
            xs.close();
        }
    }

    private void onFrontendState(final XenbusState previous, final XenbusState current)
    {
        switch (current)
        {
            case INITIALISED:
                if (!connected && XenbusState.INIT_WAIT == state)
                {
                    connect();
                }
                break;
            case CLOSING:
                disconnect();
                switchState(XenbusState.CLOSING);
                break;
            case CLOSED:
            case UNKNOWN:
                disconnect();
                switchState(XenbusState.CLOSED);
                break;
            case INITIALISING:
                if (XenbusState.CLOSED == state || XenbusState.CLOSING == state)
                {
                    publishFeatures();
                    switchState(XenbusState.INIT_WAIT);
                }
                break;
            default:
                break;
        }
    }

    private void publishFeatures()
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

    private void connect()
    {
        final List<BlkbackQueue> made = new ArrayList<>();
        try
        {
            final String protocol = readOptional(frontendPath + '/' + BlkifXenbusKeys.PROTOCOL);
            if (null != protocol && !BlkifXenbusKeys.PROTOCOL_X86_64.equals(protocol))
            {
                throw new IllegalArgumentException(BlkifXenbusKeys.PROTOCOL + "=\"" + protocol +
                    "\" (expected: " + BlkifXenbusKeys.PROTOCOL_X86_64 + ")");
            }
            final int queueCount = optionalInt(frontendPath + '/' + BlkifXenbusKeys.MULTI_QUEUE_NUM_QUEUES,
                BlkifXenbusKeys.MULTI_QUEUE_NUM_QUEUES, 1, options.maxQueues(), 1);
            final int order = optionalInt(frontendPath + '/' + BlkifXenbusKeys.RING_PAGE_ORDER,
                BlkifXenbusKeys.RING_PAGE_ORDER, 0, options.maxRingPageOrder(), 0);
            final boolean persistent = options.persistentGrants() && 1 == optionalInt(
                frontendPath + '/' + BlkifXenbusKeys.FEATURE_PERSISTENT, BlkifXenbusKeys.FEATURE_PERSISTENT, 0, 1, 0);
            final int pages = 1 << order;
            for (int q = 0; q < queueCount; q++)
            {
                final String dir = 1 == queueCount ? frontendPath :
                    frontendPath + '/' + BlkifXenbusKeys.queueDirectory(q);
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
                final int handle = grants.map(frontendId, refs[p], false, view);
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
            final int port = events.bindInterdomain(frontendId, remotePort);
            final BlkbackQueue queue = new BlkbackQueue(this, index, driverDomain, frontendId, store, options,
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

    private void refuseBeforeConnect(final String reason)
    {
        disconnectReason = "front end " + frontendId + " refused: " + reason;
        BlockBackCounters.add(deviceSlab, BlockBackCounters.PROTOCOL_VIOLATIONS, 1);
        switchState(XenbusState.CLOSING);
    }

    private void refuse(final String reason)
    {
        disconnectReason = "front end " + frontendId + " cut off: " + reason;
        disconnect();
        switchState(XenbusState.CLOSING);
    }

    private void disconnect()
    {
        final List<BlkbackQueue> toStop;
        synchronized (this)
        {
            toStop = new ArrayList<>(queues);
            queues.clear();
        }
        for (final BlkbackQueue queue : toStop)
        {
            queue.stop();
        }
        for (final BlkbackQueue queue : toStop)
        {
            closePort(queue.port());
            queue.release();
        }
        connected = false;
    }

    private void closePort(final int port)
    {
        try
        {
            driverDomain.hypercalls().eventChannelOp().close(port);
        }
        catch (final RuntimeException ignore)
        {
            // already closed with its peer's domain
        }
    }

    private void switchState(final XenbusState newState)
    {
        try
        {
            watcher.switchState(newState);
        }
        catch (final XenStoreException ex)
        {
            if (XsError.ENOENT != ex.error())
            {
                throw ex;
            }
        }
        state = newState;
    }

    private void write(final int tx, final String node, final String value)
    {
        xs.write(tx, backendPath + '/' + node, value);
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

    private String readOptional(final String path)
    {
        try
        {
            return xs.readString(path);
        }
        catch (final XenStoreException ex)
        {
            if (XsError.ENOENT == ex.error())
            {
                return null;
            }
            throw ex;
        }
    }

    private int optionalInt(final String path, final String name, final int min, final int max, final int absent)
    {
        final String value = readOptional(path);
        return null == value ? absent : XenbusValues.parseInt(value, name, min, max);
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
        return "BlockBack{" + backendPath + ", state=" + state + ", queues=" + connectedQueues() + '}';
    }
}
