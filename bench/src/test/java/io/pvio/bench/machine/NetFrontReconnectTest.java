package io.pvio.bench.machine;

import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.pvio.backend.net.Bridge;
import io.pvio.backend.net.NetBack;
import io.pvio.frontend.net.NetFront;
import io.pvio.frontend.net.NetFrontOptions;
import io.pvio.hypervisor.xenstore.XenbusDevice;
import io.pvio.ring.netif.NetifXenbusKeys;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A netfront that closes and a new one on the same device: the state key still says Closed from the first, so the new
 * front end must say Initialising for netback to offer its features again and connect.
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
                for (int connection = 0; connection < 4; connection++)
                {
                    final NetFront front = NetFront.start(guest.domain(), machine.xenStore(), device.frontendPath(),
                        new NetFrontOptions(), (f, o, l) -> { });
                    try
                    {
                        assertTrue(front.awaitConnected(30, TimeUnit.SECONDS), "front end, connection " + connection);
                        assertTrue(back.awaitConnected(30, TimeUnit.SECONDS), "back end, connection " + connection);
                        assertTrue(back.bridgePort() >= 0, "the vif is on the bridge, connection " + connection);
                    }
                    finally
                    {
                        front.close();
                    }
                    NetRig.await(() -> !back.isConnected(), "netback lets go of the closed front end");
                }
            }
            finally
            {
                back.close();
            }
        }
    }
}
