package io.pvio.backend.net;

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
import io.pvio.ring.BackRing;
import io.pvio.ring.RingGeometry;
import io.pvio.ring.netif.NetifDescriptor;
import io.pvio.ring.netif.NetifXenbusKeys;

/**
 * netback: the back end of one virtual network interface (a vif), in the driver domain, and its port on dom0's
 * {@link Bridge}. It owns a xenbus thread that runs the handshake and one {@link NetbackQueue} agent.
 * <p>
 * <b>Handshake</b> (Xen's {@code io/netif.h}; Linux's {@code xen-netback/xenbus.c}): on start it publishes its
 * features ({@code feature-sg=1}, {@code feature-rx-copy=1}, {@code feature-rx-flip=0},
 * {@code feature-split-event-channels=0}, {@code multi-queue-max-queues=1}) in one transaction and goes
 * {@code InitWait}. When the front end is {@code Connected} (netfront skips {@code Initialised}; that is accepted
 * too) it reads the transport keys and checks each strictly: {@code tx-ring-ref}, {@code rx-ring-ref} and
 * {@code event-channel} present and decimal, {@code request-rx-copy=1}, {@code multi-queue-num-queues} absent or 1,
 * no split channels; then it maps both rings, binds the event channel, joins the bridge, starts the agent and goes
 * {@code Connected}. Nothing else of the guest is ever mapped: packet data moves by grant copy only.
 * <p>
 * <b>Teardown</b>: a front end going {@code Closing} makes it leave the bridge, stop the agent, unmap both rings,
 * close the port and go {@code Closing}; {@code Closed} (or the directory vanishing) does the same and goes
 * {@code Closed}; a front end back at {@code Initialising} after that gets the features and {@code InitWait} again.
 * {@link #close()} is the driver domain removing the vif.
 * <p>
 * <b>Hostile front end</b>: bad transport keys refuse the connection; a malformed transmit request or impossible
 * ring indexes cut the vif off ({@code Closing}, {@link #disconnectReason()} naming the fault, the bridge port
 * unplugged); other vifs are untouched.
 */
public final class NetBack implements AutoCloseable
{
    private static final long PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
    private static final int WATCH_EVENTS_PER_POLL = 64;

    private final Domain driverDomain;
    private final XenStoreConnection xs;
    private final String backendPath;
    private final Bridge bridge;
    private final NetBackCounters counters = new NetBackCounters();
    private final long[] deviceSlab = counters.newSlab();
    private final int devid;
    private final String name;
    private final Thread thread;
    private volatile XenbusState state = XenbusState.INITIALISING;
    private volatile String disconnectReason;
    private volatile String pendingViolation;
    private volatile boolean closeRequested;
    private volatile NetbackQueue queue;
    private String frontendPath;
    private int frontendId;
    private XenbusStateWatcher watcher;

    private NetBack(final Domain driverDomain, final XenStore xenStore, final String backendPath, final Bridge bridge)
    {
        this.driverDomain = driverDomain;
        this.backendPath = backendPath;
        this.bridge = bridge;
        final String[] parts = backendPath.split("/");
        this.devid = XenbusValues.parseInt(parts[parts.length - 1], "devid", 0, Integer.MAX_VALUE);
        this.name = parts.length >= 2 ? "vif" + parts[parts.length - 2] + '.' + parts[parts.length - 1] : backendPath;
        this.thread = new Thread(this::run, "xenbus-netback-" + name);
        this.thread.setDaemon(true);
        this.xs = xenStore.connect(driverDomain.id(), () -> LockSupport.unpark(thread));
    }

    /**
     * Starts a back end on a vif directory the toolstack created; returns at once, the handshake runs on the vif's
     * xenbus thread.
     *
     * @param driverDomain the driver domain (usually dom0).
     * @param xenStore     the store.
     * @param backendPath  the back end's directory, {@code /local/domain/<be>/backend/vif/<fe>/<devid>}.
     * @param bridge       the bridge the vif joins while connected.
     * @return the back end.
     */
    public static NetBack start(
        final Domain driverDomain, final XenStore xenStore, final String backendPath, final Bridge bridge)
    {
        final NetBack back = new NetBack(driverDomain, xenStore, backendPath, bridge);
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
     * Waits until the vif is connected.
     *
     * @param timeout how long to wait.
     * @param unit    its unit.
     * @return true if connected.
     * @throws InterruptedException if interrupted.
     */
    public boolean awaitConnected(final long timeout, final TimeUnit unit) throws InterruptedException
    {
        return awaitState(XenbusState.CONNECTED, timeout, unit);
    }

    /**
     * Waits until this end has written {@code wanted}.
     *
     * @param wanted  the state.
     * @param timeout how long to wait.
     * @param unit    its unit.
     * @return true if reached.
     * @throws InterruptedException if interrupted.
     */
    public boolean awaitState(final XenbusState wanted, final long timeout, final TimeUnit unit)
        throws InterruptedException
    {
        final long deadline = System.nanoTime() + unit.toNanos(timeout);
        while (wanted != state)
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
     * The vif's counters, over every connection.
     *
     * @return the live counters.
     */
    public NetBackCounters counters()
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
     * The vif's port on the bridge while connected.
     *
     * @return the port id, or -1 when not connected.
     */
    public int bridgePort()
    {
        final NetbackQueue current = queue;
        return null == current ? -1 : current.bridgePort();
    }

    /**
     * Whether the vif is connected and serving.
     *
     * @return true if a queue is running.
     */
    public boolean isConnected()
    {
        return null != queue;
    }

    /**
     * Stops serving, as a driver domain removing the vif does: the bridge port is unplugged, the agent stops, both
     * rings are unmapped and the port closed, the state goes {@code Closing} then {@code Closed}. Idempotent; waits
     * for the xenbus thread.
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
            frontendPath = xs.readString(backendPath + '/' + NetifXenbusKeys.FRONTEND);
            frontendId = XenbusValues.parseInt(xs.readString(backendPath + '/' + NetifXenbusKeys.FRONTEND_ID),
                NetifXenbusKeys.FRONTEND_ID, 0, XenStore.MAX_DOMAIN_ID);
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
                    if (null != queue)
                    {
                        disconnectReason = "front end " + frontendId + " cut off: " + violation;
                        disconnect();
                        switchState(XenbusState.CLOSING);
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
            case CONNECTED:
                if (null == queue && XenbusState.INIT_WAIT == state)
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
        xs.transaction(XenbusStateWatcher.SWITCH_STATE_ATTEMPTS, (tx) ->
        {
            write(tx, NetifXenbusKeys.FEATURE_SG, "1");
            write(tx, NetifXenbusKeys.FEATURE_RX_COPY, "1");
            write(tx, NetifXenbusKeys.FEATURE_RX_FLIP, "0");
            write(tx, NetifXenbusKeys.FEATURE_SPLIT_EVENT_CHANNELS, "0");
            write(tx, NetifXenbusKeys.MULTI_QUEUE_MAX_QUEUES, "1");
            return null;
        });
    }

    private void connect()
    {
        final int txRef;
        final int rxRef;
        final int remotePort;
        final boolean sg;
        try
        {
            if (null == readOptional(frontendPath + '/' + NetifXenbusKeys.EVENT_CHANNEL) &&
                null != readOptional(frontendPath + '/' + NetifXenbusKeys.EVENT_CHANNEL_TX))
            {
                throw new IllegalArgumentException("split event channels, but feature-split-event-channels=0");
            }
            optionalInt(NetifXenbusKeys.MULTI_QUEUE_NUM_QUEUES, 1, 1, 1); // one queue offered: absent or 1
            if (1 != optionalInt(NetifXenbusKeys.REQUEST_RX_COPY, 0, 1, 0))
            {
                throw new IllegalArgumentException(NetifXenbusKeys.REQUEST_RX_COPY +
                    " is not 1 (receive by page flipping is not offered)");
            }
            sg = 1 == optionalInt(NetifXenbusKeys.FEATURE_SG, 0, 1, 0);
            txRef = (int)XenbusValues.parseDecimal(readFront(NetifXenbusKeys.TX_RING_REF), NetifXenbusKeys.TX_RING_REF,
                0, 0xFFFF_FFFFL);
            rxRef = (int)XenbusValues.parseDecimal(readFront(NetifXenbusKeys.RX_RING_REF), NetifXenbusKeys.RX_RING_REF,
                0, 0xFFFF_FFFFL);
            remotePort = XenbusValues.parseInt(readFront(NetifXenbusKeys.EVENT_CHANNEL),
                NetifXenbusKeys.EVENT_CHANNEL, 1, Integer.MAX_VALUE);
        }
        catch (final RuntimeException ex)
        {
            refuseBeforeConnect(ex instanceof XenStoreException && XsError.ENOENT == ((XenStoreException)ex).error() ?
                "missing transport key: " + ex.getMessage() : ex.getMessage());
            return;
        }
        final NetbackQueue made;
        try
        {
            made = makeQueue(txRef, rxRef, remotePort, sg);
        }
        catch (final RuntimeException ex)
        {
            refuseBeforeConnect(ex.getMessage());
            return;
        }
        final int portId = bridge.addPort(name, made);
        queue = made;
        made.start(portId);
        switchState(XenbusState.CONNECTED);
    }

    private NetbackQueue makeQueue(final int txRef, final int rxRef, final int remotePort, final boolean sg)
    {
        final GrantTableOps grants = driverDomain.hypercalls().grantTableOp();
        final int[] handles = new int[2];
        final UnsafeBuffer txView = new UnsafeBuffer(0, 0);
        final UnsafeBuffer rxView = new UnsafeBuffer(0, 0);
        int mapped = 0;
        int port = -1;
        NetbackQueue made = null;
        try
        {
            handles[0] = mapRing(grants, txRef, NetifXenbusKeys.TX_RING_REF, txView);
            mapped++;
            handles[1] = mapRing(grants, rxRef, NetifXenbusKeys.RX_RING_REF, rxView);
            mapped++;
            final RingGeometry txGeometry = NetifDescriptor.txRing(1);
            final RingGeometry rxGeometry = NetifDescriptor.rxRing(1);
            final UnsafeBuffer txBuffer = new UnsafeBuffer(txView.addressOffset(), txGeometry.ringBytes());
            final UnsafeBuffer rxBuffer = new UnsafeBuffer(rxView.addressOffset(), rxGeometry.ringBytes());
            final BackRing txRing = BackRing.attach(txBuffer, txGeometry);
            final BackRing rxRing = BackRing.attach(rxBuffer, rxGeometry);
            final EventChannelOps events = driverDomain.hypercalls().eventChannelOp();
            port = events.bindInterdomain(frontendId, remotePort);
            made = new NetbackQueue(this, driverDomain, frontendId, bridge, txRing, txBuffer, rxRing, rxBuffer,
                handles, port, sg, counters);
            driverDomain.eventChannels().bindHandler(port, made::onEvent);
            return made;
        }
        catch (final RuntimeException ex)
        {
            if (port > 0)
            {
                closePort(port);
            }
            if (null != made)
            {
                made.release(deviceSlab); // unmaps both rings and frees the staging pages it allocated
            }
            else
            {
                for (int i = 0; i < mapped; i++)
                {
                    grants.unmap(handles[i]);
                    NetBackCounters.add(deviceSlab, NetBackCounters.GRANT_UNMAPS, 1);
                }
            }
            throw ex;
        }
    }

    private int mapRing(final GrantTableOps grants, final int ref, final String key, final UnsafeBuffer view)
    {
        final int handle = grants.map(frontendId, ref, false, view);
        NetBackCounters.add(deviceSlab, NetBackCounters.GRANT_MAPS, 1);
        if (handle < 0)
        {
            throw new IllegalArgumentException(key + " " + Integer.toUnsignedString(ref) +
                " cannot be mapped (grant status " + handle + ")");
        }
        return handle;
    }

    private void refuseBeforeConnect(final String reason)
    {
        disconnectReason = "front end " + frontendId + " refused: " + reason;
        NetBackCounters.add(deviceSlab, NetBackCounters.PROTOCOL_VIOLATIONS, 1);
        switchState(XenbusState.CLOSING);
    }

    private void disconnect()
    {
        final NetbackQueue current = queue;
        if (null == current)
        {
            return;
        }
        // unplug first: once removePort returns (it takes the bridge's lock) no delivery to this vif is running
        bridge.removePort(current.bridgePort());
        current.stop();
        closePort(current.port());
        current.release(deviceSlab);
        queue = null;
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

    private String readFront(final String node)
    {
        return xs.readString(frontendPath + '/' + node);
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

    private int optionalInt(final String node, final int min, final int max, final int absent)
    {
        final String value = readOptional(frontendPath + '/' + node);
        return null == value ? absent : XenbusValues.parseInt(value, node, min, max);
    }

    @Override
    public String toString()
    {
        return "NetBack{" + backendPath + ", state=" + state + ", bridgePort=" + bridgePort() + '}';
    }
}
