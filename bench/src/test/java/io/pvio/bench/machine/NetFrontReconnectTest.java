package io.pvio.bench.machine;

import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.pvio.backend.net.Bridge;
import io.pvio.backend.net.NetBack;
import io.pvio.frontend.net.NetFront;
import io.pvio.frontend.net.NetFrontOptions;
import io.pvio.hypervisor.xenstore.XenbusDevice;
import io.pvio.ring.netif.NetifXenbusKeys;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A netfront that closes and a new one on the same device: the state key still says Closed from the first, so the new
 * front end must say Initialising for netback to offer its features again and connect. Each connection's queue counts
 * on in the slabs of the one before, so the totals go on and the slabs do not grow.
 */
class NetFrontReconnectTest
{
    @Test
    @Timeout(120)
    void aNewFrontEndOnADeviceAnEarlierOneClosedConnectsAgain() throws Exception
    {
        try (PvMachine machine = PvMachine.start(16_384, 2048))
        {
            final Bridge bridge = new Bridge();
            final PvGuest guest = machine.createGuest("guest", 1024);
            final XenbusDevice device = XenbusDevice.create(machine.toolstack(), NetifXenbusKeys.DEVICE_TYPE,
                guest.domain().id(), machine.dom0().id(), 0, Map.of(NetifXenbusKeys.MAC, NetRig.macText(1)),
                Map.of(NetifXenbusKeys.MAC, NetRig.macText(1)));
            final NetBack back = NetBack.start(machine.dom0(), machine.xenStore(), device.backendPath(), bridge);
            try
            {
                int slabs = -1;
                for (int connection = 0; connection < 4; connection++)
                {
                    final NetFront front = NetFront.start(guest.domain(), machine.xenStore(), device.frontendPath(),
                        new NetFrontOptions(), (f, o, l) -> { });
                    try
                    {
                        assertTrue(front.awaitConnected(30, TimeUnit.SECONDS), "front end, connection " + connection);
                        assertTrue(back.awaitConnected(30, TimeUnit.SECONDS), "back end, connection " + connection);
                        assertTrue(back.bridgePort() >= 0, "the vif is on the bridge, connection " + connection);
                        final UnsafeBuffer frame = new UnsafeBuffer(
                            NetRig.frame(NetRig.mac(2), NetRig.mac(1), 60 + connection, connection));
                        assertTrue(front.transmit(frame, 0, frame.capacity()), "connection " + connection);
                        final long sent = connection + 1;
                        NetRig.await(() -> back.counters().txFrames() == sent, "frame " + sent + " into the bridge");
                        if (0 == connection)
                        {
                            slabs = back.counters().slabs();
                        }
                    }
                    finally
                    {
                        front.close();
                    }
                    NetRig.await(() -> !back.isConnected(), "netback lets go of the closed front end");
                }
                // every later connection counts on in the first one's slabs, and the totals go on over all four
                assertEquals(slabs, back.counters().slabs(), "slabs after 4 connections");
                assertTrue(slabs <= 3, "the xenbus thread's, the transmit agent's and the receive path's: " + slabs);
                assertEquals(4, back.counters().txFrames());
                assertEquals(4 * 2, back.counters().grantUnmaps(), "both rings of each connection unmapped");
            }
            finally
            {
                back.close();
            }
        }
    }
}
