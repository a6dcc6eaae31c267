package io.pvio.bench.machine;

import java.util.ArrayList;
import java.util.List;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import io.pvio.frontend.net.NetFrontOptions;
import io.pvio.frontend.net.NetFrontState;
import io.pvio.hypervisor.Domain;
import io.pvio.hypervisor.event.PortState;
import io.pvio.hypervisor.xenstore.XenStoreConnection;
import io.pvio.hypervisor.xenstore.XenbusState;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Guests exchanging Ethernet frames through netfront, netback and dom0's bridge, checked byte for byte, with every
 * counter on the way agreeing, and nothing of any guest left granted, mapped or allocated after unplug.
 */
class NetEndToEndTest
{
    private static final int[] SIZES = { 60, 64, 1514, 4000, 4096, 4097, 9000, 32_768, 65_535 };

    @Test
    void framesOfEverySizeArriveByteForByteAndCountersAgree()
    {
        try (NetRig rig = new NetRig(16_384))
        {
            final NetRig.Vif a = rig.plug("a", 1, new NetFrontOptions());
            final NetRig.Vif b = rig.plug("b", 2, new NetFrontOptions());
            assertEquals(NetRig.mac(1), a.front.mac(), "MAC read from the toolstack's node");
            assertTrue(a.front.scatterGather());
            final List<byte[]> sent = new ArrayList<>();
            long bytes = 0;
            for (int round = 0; round < 3; round++)
            {
                for (final int size : SIZES)
                {
                    final byte[] frame = NetRig.frame(b.mac(), a.mac(), size, sent.size());
                    sent.add(frame);
                    bytes += size;
                    a.send(frame);
                }
            }
            NetRig.await(() -> b.receivedCount.get() >= sent.size(), "every frame at b");
            final List<byte[]> got = new ArrayList<>(b.received);
            assertEquals(sent.size(), got.size());
            for (int i = 0; i < sent.size(); i++)
            {
                assertArrayEquals(sent.get(i), got.get(i), "frame " + i + " of " + sent.get(i).length + " bytes");
            }
            final long total = bytes;
            NetRig.await(() -> a.front.counters().txSlots() > 0 && a.back.counters().txFrames() == sent.size(),
                "netback counts");
            assertEquals(sent.size(), a.front.counters().txFrames());
            assertEquals(total, a.front.counters().txBytes());
            assertEquals(total, a.back.counters().txBytes());
            assertEquals(a.front.counters().txSlots(), a.back.counters().txSlots(), "one slot per fragment");
            assertTrue(a.front.counters().txSlots() > sent.size(), "large frames went out in several slots");
            assertEquals(sent.size(), b.back.counters().rxFrames());
            assertEquals(total, b.back.counters().rxBytes());
            assertEquals(sent.size(), b.front.counters().rxFrames());
            assertEquals(total, b.front.counters().rxBytes());
            assertEquals(b.back.counters().rxSlots(), b.front.counters().rxSlots());
            assertEquals(0, b.back.counters().rxDroppedNoBuffer());
            assertEquals(0, a.front.counters().txErrors() + b.front.counters().rxErrors());
            assertEquals(sent.size(), rig.bridge.counters(a.back.bridgePort()).received());
            assertEquals(0, a.back.counters().protocolViolations() + b.back.counters().protocolViolations());
            assertTrue(a.back.counters().grantCopies() >= a.front.counters().txSlots());
            assertEquals(0, a.received.size(), "nothing came back to the sender");
        }
    }

    @Test
    void theHandshakeWritesXensKeys()
    {
        try (NetRig rig = new NetRig(16_384))
        {
            final NetRig.Vif a = rig.plug("a", 1, new NetFrontOptions());
            final String front = a.device.frontendPath() + '/';
            final String back = a.device.backendPath() + '/';
            final XenStoreConnection xs = rig.machine.toolstack();
            for (final String key : new String[] { "tx-ring-ref", "rx-ring-ref", "event-channel" })
            {
                assertTrue(Long.parseLong(xs.readString(front + key)) > 0, key);
            }
            assertEquals("1", xs.readString(front + "request-rx-copy"));
            assertEquals("1", xs.readString(front + "feature-rx-notify"));
            assertEquals("1", xs.readString(front + "feature-sg"));
            assertEquals("4", xs.readString(front + "state"));
            assertEquals("1", xs.readString(back + "feature-sg"));
            assertEquals("1", xs.readString(back + "feature-rx-copy"));
            assertEquals("0", xs.readString(back + "feature-split-event-channels"));
            assertEquals("1", xs.readString(back + "multi-queue-max-queues"));
            assertEquals("4", xs.readString(back + "state"));
        }
    }

    @Test
    void aFrameGivenInPiecesGoesOutAsOneFrame()
    {
        try (NetRig rig = new NetRig(16_384))
        {
            final NetRig.Vif a = rig.plug("a", 1, new NetFrontOptions());
            final NetRig.Vif b = rig.plug("b", 2, new NetFrontOptions());
            final byte[] frame = NetRig.frame(b.mac(), a.mac(), 7_000, 77);
            final int[] cuts = { 0, 14, 100, 5_000, 7_000 };
            final DirectBuffer[] pieces = new DirectBuffer[cuts.length - 1];
            final int[] offsets = new int[pieces.length];
            final int[] lengths = new int[pieces.length];
            for (int i = 0; i < pieces.length; i++)
            {
                pieces[i] = new UnsafeBuffer(frame);
                offsets[i] = cuts[i];
                lengths[i] = cuts[i + 1] - cuts[i];
            }
            assertTrue(a.front.transmit(pieces, offsets, lengths, pieces.length));
            NetRig.await(() -> 1 == b.receivedCount.get(), "the frame at b");
            assertArrayEquals(frame, b.received.peek());
            NetRig.await(() -> a.back.counters().txSlots() >= 5, "netback counts");
            assertEquals(5, a.front.counters().txSlots(), "header, 86 bytes, 4900 bytes in two, 2000 bytes");
            assertThrows(IllegalArgumentException.class,
                () -> a.front.transmit(new UnsafeBuffer(new byte[10]), 0, 10), "a runt is the caller's error");
        }
    }

    @Test
    void broadcastReachesEveryOtherPortAndUnicastOnlyItsMac()
    {
        try (NetRig rig = new NetRig(16_384))
        {
            final NetRig.Vif a = rig.plug("a", 1, new NetFrontOptions());
            final NetRig.Vif b = rig.plug("b", 2, new NetFrontOptions());
            final NetRig.Vif c = rig.plug("c", 3, new NetFrontOptions());
            final byte[] broadcast = NetRig.frame(0xFFFF_FFFF_FFFFL, a.mac(), 60, 1);
            a.send(broadcast);
            NetRig.await(() -> 1 == b.receivedCount.get() && 1 == c.receivedCount.get(), "broadcast at b and c");
            assertArrayEquals(broadcast, b.received.poll());
            assertArrayEquals(broadcast, c.received.poll());
            // c speaks, so the bridge learns where c is; a's unicast to c then reaches c only
            c.send(NetRig.frame(a.mac(), c.mac(), 60, 2));
            NetRig.await(() -> 1 == a.receivedCount.get(), "c's frame at a");
            final byte[] unicast = NetRig.frame(c.mac(), a.mac(), 1514, 3);
            a.send(unicast);
            NetRig.await(() -> 2 == c.receivedCount.get(), "unicast at c");
            assertArrayEquals(unicast, c.received.poll());
            assertEquals(1, b.receivedCount.get(), "b got the broadcast only");
            assertEquals(1, rig.bridge.counters(a.back.bridgePort()).flooded());
        }
    }

    @Test
    void framesForAGuestWithNoPostedBufferAreDroppedAndCounted()
    {
        try (NetRig rig = new NetRig(16_384))
        {
            final NetRig.Vif a = rig.plug("a", 1, new NetFrontOptions());
            final NetRig.Vif starved = rig.plug("starved", 2, new NetFrontOptions().rxBuffers(0));
            final NetRig.Vif few = rig.plug("few", 3, new NetFrontOptions().rxBuffers(1));
            // both speak first, so the bridge forwards to each only what is addressed to it
            starved.send(NetRig.frame(a.mac(), starved.mac(), 60, -1));
            few.send(NetRig.frame(a.mac(), few.mac(), 60, -2));
            NetRig.await(() -> 2 == a.receivedCount.get(), "both at a");
            // few's frame was flooded (a was not known yet) and dropped at the starved vif
            final long base = starved.back.counters().rxDroppedNoBuffer();
            for (int i = 0; i < 500; i++)
            {
                a.send(NetRig.frame(starved.mac(), a.mac(), 1514, i));
            }
            NetRig.await(() -> base + 500 <= starved.back.counters().rxDroppedNoBuffer(),
                "500 drops at the starved vif");
            assertEquals(base + 500, starved.back.counters().rxDroppedNoBuffer(), starved.back.counters().toString());
            assertEquals(0, starved.receivedCount.get());
            assertEquals(500, a.back.counters().txFrames(), "the sender was never held up");
            // one posted buffer: a frame needing two is dropped, a one-page frame gets through
            a.send(NetRig.frame(few.mac(), a.mac(), 6_000, 1));
            NetRig.await(() -> 1 <= few.back.counters().rxDroppedNoBuffer(), "two-buffer frame dropped");
            assertEquals(1, few.back.counters().rxDroppedNoBuffer(), few.back.counters().toString());
            final byte[] small = NetRig.frame(few.mac(), a.mac(), 100, 2);
            a.send(small);
            assertArrayEquals(small, NetBackHostileFrontTest.collect(few, a.mac(), 1).get(0));
            assertEquals(XenbusState.CONNECTED, starved.back.state());
            assertEquals(NetFrontState.CONNECTED, starved.front.state());
        }
    }

    @Test
    void unplugEndsEveryGrantFreesEveryPageAndClosesEveryPort()
    {
        try (NetRig rig = new NetRig(16_384))
        {
            final int dom0Pages = rig.machine.dom0().pageAllocator().inUse();
            final NetRig.Vif a = rig.plug("a", 1, new NetFrontOptions());
            final NetRig.Vif b = rig.plug("b", 2, new NetFrontOptions());
            for (int i = 0; i < 300; i++)
            {
                a.send(NetRig.frame(b.mac(), a.mac(), SIZES[i % SIZES.length], i));
                b.send(NetRig.frame(a.mac(), b.mac(), SIZES[(i + 3) % SIZES.length], i));
                final int sent = i + 1;
                // a window of 8 frames, so that no receive ring runs out of posted buffers
                NetRig.await(() -> a.receivedCount.get() > sent - 8 && b.receivedCount.get() > sent - 8, "window");
            }
            NetRig.await(() -> 300 == a.receivedCount.get() && 300 == b.receivedCount.get(), "traffic both ways");
            assertTrue(rig.machine.dom0().grantTable().mappingCount() >= 0);
            final int aPort = Integer.parseInt(rig.machine.toolstack().readString(
                a.device.frontendPath() + "/event-channel"));
            final int aBackPort = a.back.bridgePort();
            a.unplug();
            assertEquals(XenbusState.CLOSED, a.back.state());
            final Domain guest = a.guest.domain();
            assertEquals(PortState.FREE, guest.hypercalls().eventChannelOp().status(aPort).state(), "port closed");
            assertEquals(0, guest.grantTable().grantedCount(), "every grant ended");
            assertEquals(0, guest.grantTable().mappingCount(), "nothing of the guest mapped");
            assertEquals(0, a.guest.pages().inUse(), "every page of the guest's vif freed");
            assertEquals(0, a.front.counters().leakedPages());
            assertEquals(-1, a.back.bridgePort());
            // the bridge no longer knows a: a frame to it is flooded to the ports left, which are none
            b.send(NetRig.frame(a.mac(), b.mac(), 60, 9));
            NetRig.await(() -> 301 == b.back.counters().txFrames(), "b's frame into the bridge");
            assertEquals(-1, rig.bridge.portOf(a.mac(), System.nanoTime()), "a's MAC forgotten");
            assertTrue(rig.bridge.counters(aBackPort).sent() <= 300 + 1);
            b.unplug();
            assertEquals(0, b.guest.domain().grantTable().grantedCount());
            assertEquals(0, b.guest.pages().inUse());
            assertEquals(dom0Pages, rig.machine.dom0().pageAllocator().inUse(), "netback's staging pages freed");
            assertNull(a.back.disconnectReason());
            assertFalse(a.back.isConnected());
        }
    }

    @Test
    void aDestroyedGuestsVifIsUnpluggedAndTheOthersCarryOn()
    {
        try (NetRig rig = new NetRig(16_384))
        {
            final NetRig.Vif a = rig.plug("a", 1, new NetFrontOptions());
            final NetRig.Vif b = rig.plug("b", 2, new NetFrontOptions());
            final NetRig.Vif doomed = rig.plug("doomed", 3, new NetFrontOptions());
            NetBackHostileFrontTest.exchange(a, doomed, 10, 0);
            doomed.guest.destroy();
            doomed.device.removeFrontend(rig.machine.toolstack());
            NetRig.await(() -> XenbusState.CLOSED == doomed.back.state(), "the back end closed");
            assertEquals(-1, doomed.back.bridgePort(), "unplugged from the bridge");
            assertFalse(doomed.back.isConnected());
            // frames to the dead guest's MAC are flooded to the ports left, and a and b go on
            a.send(NetRig.frame(doomed.mac(), a.mac(), 60, 5));
            NetBackHostileFrontTest.exchange(a, b, 20, 100);
            assertEquals(0, a.back.counters().protocolViolations() + b.back.counters().protocolViolations());
        }
    }
}
