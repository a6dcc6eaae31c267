package io.pvio.backend.net;

import java.util.ArrayList;
import java.util.List;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The learning bridge: learning, forwarding, flooding, no hairpin, ageing, unplug, a bounded table and malformed
 * frames dropped and counted against their sender.
 */
class BridgeTest
{
    private static final long A = 0x00163e000001L;
    private static final long B = 0x00163e000002L;
    private static final long C = 0x00163e000003L;
    private static final long BROADCAST = 0xffffffffffffL;
    private static final long MULTICAST = 0x01005e000001L;
    private static final long SEC = 1_000_000_000L;

    private final Bridge bridge = new Bridge(10 * SEC);
    private final List<List<byte[]>> inbox = new ArrayList<>();

    private int port(final String name)
    {
        final List<byte[]> frames = new ArrayList<>();
        inbox.add(frames);
        return bridge.addPort(name, (frame, offset, length) ->
        {
            final byte[] copy = new byte[length];
            frame.getBytes(offset, copy);
            frames.add(copy);
        });
    }

    private static UnsafeBuffer frame(final long destination, final long source, final int payload)
    {
        final UnsafeBuffer frame = new UnsafeBuffer(new byte[Bridge.HEADER_BYTES + payload]);
        for (int i = 0; i < 6; i++)
        {
            frame.putByte(i, (byte)(destination >>> (40 - 8 * i)));
            frame.putByte(6 + i, (byte)(source >>> (40 - 8 * i)));
        }
        frame.putShort(12, (short)0x0800);
        for (int i = 0; i < payload; i++)
        {
            frame.putByte(Bridge.HEADER_BYTES + i, (byte)i);
        }
        return frame;
    }

    private int send(final int port, final DirectBuffer frame, final long now)
    {
        return bridge.receive(port, frame, 0, frame.capacity(), now);
    }

    @Test
    void floodsUnknownThenForwardsToTheLearnedPortOnly()
    {
        final int p0 = port("vif1.0");
        final int p1 = port("vif2.0");
        final int p2 = port("uplink");
        final UnsafeBuffer aToB = frame(B, A, 46);
        assertEquals(2, send(p0, aToB, 0), "B unknown: flooded to both other ports");
        assertEquals(1, inbox.get(p1).size());
        assertEquals(1, inbox.get(p2).size());
        assertArrayEquals(aToB.byteArray(), inbox.get(p1).get(0));
        assertEquals(p0, bridge.portOf(A, 0));

        assertEquals(1, send(p1, frame(A, B, 46), 1), "A learned on vif1.0: forwarded there only");
        assertEquals(1, inbox.get(p0).size());
        assertEquals(1, inbox.get(p2).size(), "the uplink saw no unicast to A");
        assertEquals(1, send(p0, frame(B, A, 46), 2), "B is learned now");
        assertEquals(2, inbox.get(p1).size());
        assertEquals(1, inbox.get(p2).size());

        final Bridge.PortCounters c0 = bridge.counters(p0);
        assertEquals(2, c0.received());
        assertEquals(1, c0.sent());
        assertEquals(1, c0.flooded());
        assertEquals(60, c0.bytesSent());
    }

    @Test
    void broadcastAndMulticastAreFloodedToEveryOtherPort()
    {
        final int p0 = port("a");
        final int p1 = port("b");
        final int p2 = port("c");
        send(p1, frame(BROADCAST, B, 0), 0); // learn B on p1; p0 and p2 get it
        assertEquals(2, send(p0, frame(BROADCAST, A, 28), 1));
        assertEquals(2, send(p0, frame(MULTICAST, A, 28), 2));
        assertEquals(1, inbox.get(p0).size(), "never back to the sender: only B's broadcast");
        assertEquals(3, inbox.get(p2).size());
        assertEquals(2, inbox.get(p1).size());
    }

    @Test
    void aFrameToAMacOnItsOwnPortIsFilteredNotHairpinned()
    {
        final int p0 = port("a");
        port("b");
        send(p0, frame(BROADCAST, A, 0), 0);
        send(p0, frame(BROADCAST, C, 0), 0); // A and C both behind p0
        assertEquals(0, send(p0, frame(C, A, 10), 1));
        assertEquals(1, bridge.counters(p0).filtered());
        assertEquals(0, inbox.get(p0).size());
    }

    @Test
    void aMacAgesOutAndAMovedMacFollowsItsNewPort()
    {
        final int p0 = port("a");
        final int p1 = port("b");
        final int p2 = port("c");
        send(p0, frame(BROADCAST, A, 0), 0);
        assertEquals(p0, bridge.portOf(A, 9 * SEC));
        assertEquals(-1, bridge.portOf(A, 10 * SEC), "aged out after 10 s");
        assertEquals(2, send(p1, frame(A, B, 0), 10 * SEC), "aged: flooded again");

        send(p2, frame(BROADCAST, A, 0), 11 * SEC); // A migrated behind p2
        assertEquals(p2, bridge.portOf(A, 11 * SEC));
        final int before = inbox.get(p0).size();
        assertEquals(1, send(p1, frame(A, B, 0), 12 * SEC));
        assertEquals(before, inbox.get(p0).size());
    }

    @Test
    void anUnpluggedPortGetsNothingAndItsMacsAreForgotten()
    {
        final int p0 = port("a");
        final int p1 = port("b");
        final int p2 = port("c");
        send(p1, frame(BROADCAST, B, 0), 0);
        bridge.removePort(p1);
        assertEquals(-1, bridge.portOf(B, 0));
        final int seen = inbox.get(p1).size();
        assertEquals(1, send(p0, frame(B, A, 0), 1), "B unknown again: flooded, but not to the removed port");
        assertEquals(2, inbox.get(p2).size(), "B's broadcast, then the flood");
        assertEquals(0, send(p1, frame(A, B, 0), 2), "a removed port's frames go nowhere");
        assertEquals(seen, inbox.get(p1).size());
    }

    @Test
    void malformedFramesAreDroppedAndCountedAgainstTheSender()
    {
        final int p0 = port("hostile");
        final int p1 = port("b");
        assertEquals(0, bridge.receive(p0, new UnsafeBuffer(new byte[13]), 0, 13, 0), "runt");
        final UnsafeBuffer huge = new UnsafeBuffer(new byte[Bridge.MAX_FRAME_BYTES + 1]);
        assertEquals(0, bridge.receive(p0, huge, 0, huge.capacity(), 0), "oversize");
        assertEquals(0, send(p0, frame(B, MULTICAST, 10), 0), "group source MAC");
        assertEquals(3, bridge.counters(p0).dropped());
        assertEquals(0, bridge.learnedMacs(), "nothing learned from a dropped frame");
        assertEquals(0, inbox.get(p1).size());
        assertThrows(IllegalArgumentException.class, () -> bridge.receive(7, huge, 0, 14, 0));
    }

    @Test
    void aSprayOfSourceMacsCannotGrowTheTableOrEvictLiveEntries()
    {
        final int hostile = port("hostile");
        final int p1 = port("b");
        final int p2 = port("c");
        send(p1, frame(BROADCAST, B, 0), 0);
        for (long i = 0; i < 3 * Bridge.MAX_MACS; i++)
        {
            send(hostile, frame(BROADCAST, 0x020000000000L + i, 0), 1);
        }
        assertEquals(Bridge.MAX_MACS, bridge.learnedMacs());
        assertEquals(p1, bridge.portOf(B, 2), "a live entry is not evicted by the spray");
        assertEquals(1, send(p2, frame(B, C, 0), 2), "B still forwarded, not flooded");
        // once the sprayed entries age, new sources are learned again
        send(p2, frame(BROADCAST, C, 0), 20 * SEC);
        assertEquals(p2, bridge.portOf(C, 20 * SEC));
        assertTrue(bridge.learnedMacs() <= Bridge.MAX_MACS);
    }
}
