package io.pvio.backend.net;


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
public final class NetBack extends XenbusBackend
{
    private final Bridge bridge;
    private final NetBackCounters counters = new NetBackCounters();
    private final long[] deviceSlab = counters.newSlab();
    private final int devid;
    private final String name;
    private volatile NetbackQueue queue;

    private NetBack(final Domain driverDomain, final XenStore xenStore, final String backendPath, final Bridge bridge)
    {
        super(driverDomain, xenStore, backendPath, "xenbus-netback-" + vifName(backendPath));
        this.bridge = bridge;
        final String[] parts = backendPath.split("/");
        this.devid = XenbusValues.parseInt(parts[parts.length - 1], "devid", 0, Integer.MAX_VALUE);
        this.name = vifName(backendPath);
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
        back.startThread();
        return back;
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

    void onProtocolViolation(final String reason)
    {
        reportViolation(reason);
    }

    @Override
    protected boolean connectsOn(final XenbusState frontState)
    {
        return XenbusState.INITIALISED == frontState || XenbusState.CONNECTED == frontState;
    }

    @Override
    protected boolean serving()
    {
        return isConnected();
    }

    @Override
    protected void countViolation()
    {
        NetBackCounters.add(deviceSlab, NetBackCounters.PROTOCOL_VIOLATIONS, 1);
    }

    @Override
    protected void publishFeatures()
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

    @Override
    protected void connect()
    {
        final int txRef;
        final int rxRef;
        final int remotePort;
        final boolean sg;
        try
        {
            if (null == readOptional(frontendPath() + '/' + NetifXenbusKeys.EVENT_CHANNEL) &&
                null != readOptional(frontendPath() + '/' + NetifXenbusKeys.EVENT_CHANNEL_TX))
            {
                throw new IllegalArgumentException("split event channels, but feature-split-event-channels=0");
            }
            frontInt(NetifXenbusKeys.MULTI_QUEUE_NUM_QUEUES, 1, 1, 1); // one queue offered: absent or 1
            if (1 != frontInt(NetifXenbusKeys.REQUEST_RX_COPY, 0, 1, 0))
            {
                throw new IllegalArgumentException(NetifXenbusKeys.REQUEST_RX_COPY +
                    " is not 1 (receive by page flipping is not offered)");
            }
            sg = 1 == frontInt(NetifXenbusKeys.FEATURE_SG, 0, 1, 0);
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
            port = events.bindInterdomain(frontendId(), remotePort);
            made = new NetbackQueue(this, driverDomain, frontendId(), bridge, txRing, txBuffer, rxRing, rxBuffer,
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
        final int handle = grants.map(frontendId(), ref, false, view);
        NetBackCounters.add(deviceSlab, NetBackCounters.GRANT_MAPS, 1);
        if (handle < 0)
        {
            throw new IllegalArgumentException(key + " " + Integer.toUnsignedString(ref) +
                " cannot be mapped (grant status " + handle + ")");
        }
        return handle;
    }

    @Override
    protected void disconnect()
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
        // nothing writes them any more: no delivery runs after removePort, the agent has stopped, the port's handler
        // is gone; the next connection's queue counts on in them
        counters.recycle(current.txSlab());
        counters.recycle(current.rxSlab());
        queue = null;
    }

    private String readFront(final String node)
    {
        return xs.readString(frontendPath() + '/' + node);
    }

    private int frontInt(final String node, final int min, final int max, final int absent)
    {
        return optionalInt(frontendPath() + '/' + node, node, min, max, absent);
    }

    private static String vifName(final String backendPath)
    {
        final String[] parts = backendPath.split("/");
        return parts.length >= 2 ? "vif" + parts[parts.length - 2] + '.' + parts[parts.length - 1] : backendPath;
    }

    @Override
    public String toString()
    {
        return "NetBack{" + backendPath + ", state=" + state() + ", bridgePort=" + bridgePort() + '}';
    }
}
