package io.pvio.bench.machine;

import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.pvio.backend.net.Bridge;
import io.pvio.backend.net.NetBack;
import io.pvio.frontend.net.NetFront;
import io.pvio.frontend.net.NetFrontOptions;
import io.pvio.frontend.net.NetReceiver;
import io.pvio.hypervisor.xenstore.XenbusDevice;
import io.pvio.ring.netif.NetifXenbusKeys;

/**
 * A guest's virtual network interface, connected: the toolstack's two XenStore directories (with the vif's
 * {@code mac}), dom0's {@link NetBack} as a port of a {@link Bridge}, and the guest's {@link NetFront}. Unplugging
 * closes the front end, then the back end (its bridge port goes with it), then removes the directories.
 */
public final class PvVif implements AutoCloseable
{
    private final PvMachine machine;
    private final PvGuest guest;
    private final XenbusDevice device;
    private final NetBack back;
    private final NetFront front;
    private boolean unplugged;

    PvVif(
        final PvMachine machine, final PvGuest guest, final Bridge bridge, final int devid, final String mac,
        final NetFrontOptions options, final NetReceiver receiver)
    {
        this.machine = machine;
        this.guest = guest;
        final Map<String, String> nodes = Map.of(NetifXenbusKeys.MAC, mac, "handle", Integer.toString(devid));
        this.device = XenbusDevice.create(machine.toolstack(), NetifXenbusKeys.DEVICE_TYPE, guest.domain().id(),
            machine.dom0().id(), devid, nodes, nodes);
        this.back = NetBack.start(machine.dom0(), machine.xenStore(), device.backendPath(), bridge);
        this.front = NetFront.start(guest.domain(), machine.xenStore(), device.frontendPath(), options, receiver);
        try
        {
            if (!front.awaitConnected(PvMachine.CONNECT_TIMEOUT_SECONDS, TimeUnit.SECONDS) ||
                !back.awaitConnected(PvMachine.CONNECT_TIMEOUT_SECONDS, TimeUnit.SECONDS))
            {
                final String why = device + " did not connect in " + PvMachine.CONNECT_TIMEOUT_SECONDS + " s: front " +
                    front.state() + (null == front.brokenReason() ? "" : " (" + front.brokenReason() + ')') +
                    ", back " + back.state() +
                    (null == back.disconnectReason() ? "" : " (" + back.disconnectReason() + ')');
                close();
                throw new IllegalStateException(why);
            }
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            close();
            throw new IllegalStateException("interrupted while " + device + " was connecting", ex);
        }
    }

    /**
     * The guest's front end: transmit with it; its counters.
     *
     * @return the front end.
     */
    public NetFront front()
    {
        return front;
    }

    /**
     * dom0's back end: its counters and its bridge port.
     *
     * @return the back end.
     */
    public NetBack back()
    {
        return back;
    }

    /**
     * The guest the vif belongs to.
     *
     * @return the guest.
     */
    public PvGuest guest()
    {
        return guest;
    }

    /**
     * The vif's XenStore directories.
     *
     * @return the device.
     */
    public XenbusDevice device()
    {
        return device;
    }

    /** Unplugs the vif: front end, back end, directories. Idempotent. */
    @Override
    public synchronized void close()
    {
        if (unplugged)
        {
            return;
        }
        unplugged = true;
        try
        {
            front.close();
        }
        finally
        {
            try
            {
                back.close();
            }
            finally
            {
                device.remove(machine.toolstack());
            }
        }
    }

    @Override
    public String toString()
    {
        return "vif" + guest.domain().id() + '.' + device.devid();
    }
}
