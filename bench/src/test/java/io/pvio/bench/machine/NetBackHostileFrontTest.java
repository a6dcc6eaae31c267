package io.pvio.bench.machine;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import io.pvio.frontend.net.NetFrontOptions;
import io.pvio.hypervisor.xenstore.XenbusState;
import io.pvio.ring.netif.NetifDescriptor.ExtraInfo;
import io.pvio.ring.netif.NetifDescriptor.TxRequest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * netback against a netfront that writes what it likes into its transmit ring (Xen protocol notes, section 7.3):
 * every malformed request cuts that vif off, naming the fault, with its rings unmapped and its bridge port unplugged,
 * while two verified guests on the same bridge keep exchanging frames byte for byte.
 */
class NetBackHostileFrontTest
{
    private static final int MORE = TxRequest.FLAG_MORE_DATA;

    static Stream<Arguments> malformed()
    {
        return Stream.of(
            bad("grant reference never granted", "bad grant reference 300: grant copy failed",
                (f, ref) -> f.request(300, 0, 0, 1, 60)),
            bad("grant reference beyond the table", "bad grant reference 3000 (the front end's table has 512 entries)",
                (f, ref) -> f.request(3000, 0, 0, 1, 60)),
            bad("grant reference outside the table", "bad grant reference 4294967294",
                (f, ref) -> f.request(-2, 0, 0, 1, 60)),
            bad("fragment offset+size beyond the page", "offset 4000 + size 150 crosses the page", (f, ref) ->
            {
                f.request(ref, 0, MORE, 1, 200);
                f.request(ref, 4000, 0, 2, 150);
            }),
            bad("first slot beyond the page", "first slot: offset 4090 + size 60 crosses the page",
                (f, ref) -> f.request(ref, 4090, 0, 1, 60)),
            bad("too many fragments", "more than 18 slots", (f, ref) ->
            {
                f.request(ref, 0, MORE, 1, 400);
                for (int i = 0; i < 19; i++)
                {
                    f.request(ref, 0, i < 18 ? MORE : 0, 2 + i, 10);
                }
            }),
            bad("size mismatch", "size mismatch: fragments after the first hold 200 bytes, more than the packet's " +
                "size 100", (f, ref) ->
                {
                    f.request(ref, 0, MORE, 1, 100);
                    f.request(ref, 0, 0, 2, 200);
                }),
            bad("runt", "packet size 10 is below the 14-byte Ethernet header", (f, ref) -> f.request(ref, 0, 0, 1, 10)),
            bad("unknown flags", "unknown flags 0x10", (f, ref) -> f.request(ref, 0, 0x10, 1, 60)),
            bad("extra info of an unknown type", "extra info of unknown type 9", (f, ref) ->
            {
                f.request(ref, 0, TxRequest.FLAG_EXTRA_INFO, 1, 60);
                f.raw(new byte[] { 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 });
            }),
            bad("GSO not offered", "GSO extra info", (f, ref) ->
            {
                f.request(ref, 0, TxRequest.FLAG_EXTRA_INFO, 1, 60);
                f.raw(new byte[] { ExtraInfo.TYPE_GSO, 0, (byte)0xB4, 5, 1, 0, 0, 0, 0, 0, 0, 0 });
            }),
            bad("multicast control not offered", "neither feature-multicast-control nor hashing", (f, ref) ->
            {
                f.request(ref, 0, TxRequest.FLAG_EXTRA_INFO, 1, 60);
                f.raw(new byte[] { ExtraInfo.TYPE_MCAST_ADD, 0, 1, 0, 0x5e, 0, 0, 1, 0, 0, 0, 0 });
            }));
    }

    private interface Fill
    {
        void fill(RawNetFront front, int goodRef);
    }

    private static Arguments bad(final String name, final String fault, final Fill fill)
    {
        return Arguments.of(name, fault, fill);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformed")
    void aMalformedRequestCutsOffOnlyThatVif(final String name, final String fault, final Fill fill)
    {
        try (NetRig rig = new NetRig(16_384))
        {
            final NetRig.Vif a = rig.plug("a", 1, new NetFrontOptions());
            final NetRig.Vif b = rig.plug("b", 2, new NetFrontOptions());
            exchange(a, b, 10, 0);
            try (RawNetFront hostile = new RawNetFront(rig.machine, rig.machine.createGuest("hostile", 512),
                rig.bridge))
            {
                // first a well-formed frame, which reaches b
                final int ref = hostile.framePage(b.mac());
                final long before = b.receivedCount.get();
                hostile.request(ref, 0, 0, 7, 100);
                hostile.push();
                NetRig.await(() -> b.receivedCount.get() == before + 1, "the hostile guest's good frame at b");
                NetRig.await(() -> 1 == hostile.drainResponses(), "its response");
                b.received.clear();

                fill.fill(hostile, ref);
                hostile.push();
                hostile.awaitBack(XenbusState.CLOSING);
                final String reason = hostile.back.disconnectReason();
                assertNotNull(reason);
                assertTrue(reason.contains("cut off") && reason.contains(fault), name + ": " + reason);
                assertEquals(1, hostile.back.counters().protocolViolations());
                assertEquals(-1, hostile.back.bridgePort(), "unplugged from the bridge");
                assertEquals(0, hostile.guest.grantTable().mappingCount(), "nothing of the hostile guest mapped");
                exchange(a, b, 20, 100);
                assertNull(a.back.disconnectReason());
                assertNull(b.back.disconnectReason());
                assertEquals(XenbusState.CONNECTED, a.back.state());
            }
        }
    }

    @Test
    void aProducerIndexBeyondTheRingCutsOffOnlyThatVif()
    {
        try (NetRig rig = new NetRig(16_384))
        {
            final NetRig.Vif a = rig.plug("a", 1, new NetFrontOptions());
            final NetRig.Vif b = rig.plug("b", 2, new NetFrontOptions());
            try (RawNetFront hostile = new RawNetFront(rig.machine, rig.machine.createGuest("hostile", 512),
                rig.bridge))
            {
                hostile.forceRequestProducer(1000);
                hostile.awaitBack(XenbusState.CLOSING);
                final String reason = hostile.back.disconnectReason();
                assertTrue(reason.contains("tx ring: REQUEST_PRODUCER_OVERFLOW: req_prod=1000"), reason);
                assertEquals(0, hostile.guest.grantTable().mappingCount());
                exchange(a, b, 20, 0);
            }
        }
    }

    @Test
    void aReceiveProducerIndexBeyondTheRingCutsOffOnlyThatVif()
    {
        try (NetRig rig = new NetRig(16_384))
        {
            final NetRig.Vif a = rig.plug("a", 1, new NetFrontOptions());
            final NetRig.Vif b = rig.plug("b", 2, new NetFrontOptions());
            try (RawNetFront hostile = new RawNetFront(rig.machine, rig.machine.createGuest("hostile", 512),
                rig.bridge))
            {
                hostile.forceRxRequestProducer(5000);
                a.send(NetRig.frame(0xFFFF_FFFF_FFFFL, a.mac(), 60, 1)); // flooded to the hostile vif too
                hostile.awaitBack(XenbusState.CLOSING);
                final String reason = hostile.back.disconnectReason();
                assertTrue(reason.contains("rx ring: REQUEST_PRODUCER_OVERFLOW: req_prod=5000"), reason);
                assertEquals(0, hostile.guest.grantTable().mappingCount());
                exchange(a, b, 20, 0);
            }
        }
    }

    @Test
    void aBadReceiveGrantGetsAnErrorStatusAndTheVifCarriesOn()
    {
        try (NetRig rig = new NetRig(16_384))
        {
            final NetRig.Vif a = rig.plug("a", 1, new NetFrontOptions());
            try (RawNetFront hostile = new RawNetFront(rig.machine, rig.machine.createGuest("hostile", 512),
                rig.bridge))
            {
                hostile.postRx(3, 300);
                a.send(NetRig.frame(0xFFFF_FFFF_FFFFL, a.mac(), 60, 1));
                NetRig.await(() -> 1 == hostile.back.counters().rxErrorsGrant(), "the failed copy counted");
                NetRig.await(() -> 1 == hostile.rx.unconsumedResponses(), "the error response");
                assertEquals(XenbusState.CONNECTED, hostile.back.state());
                assertNull(hostile.back.disconnectReason());
                // a good buffer then receives the next frame
                final long gfn = hostile.guest.pageAllocator().allocate();
                hostile.postRx(4, hostile.grant(gfn, false));
                final byte[] frame = NetRig.frame(0xFFFF_FFFF_FFFFL, a.mac(), 300, 2);
                a.send(frame);
                NetRig.await(() -> 1 == hostile.back.counters().rxFrames(), "the frame copied");
                final byte[] got = new byte[300];
                hostile.guest.guestFrame(gfn).getBytes(0, got);
                assertArrayEquals(frame, got);
            }
        }
    }

    @Test
    void aFuzzingFrontEndCannotDisturbTwoVerifiedGuests()
    {
        final Random random = new Random(12);
        final byte[] junk = new byte[TxRequest.LENGTH];
        try (NetRig rig = new NetRig(16_384))
        {
            final NetRig.Vif a = rig.plug("a", 1, new NetFrontOptions());
            final NetRig.Vif b = rig.plug("b", 2, new NetFrontOptions());
            int cutOff = 0;
            for (int round = 0; round < 12; round++)
            {
                try (RawNetFront fuzzer = new RawNetFront(rig.machine, rig.machine.createGuest("fuzz" + round, 256),
                    rig.bridge))
                {
                    final int ref = fuzzer.framePage(random.nextBoolean() ? b.mac() : 0xFFFF_FFFF_FFFFL);
                    // count requests sent, not turns of the loop: on a loaded machine most turns wait for room
                    for (int sent = 0; sent < 300 && XenbusState.CONNECTED == fuzzer.back.state(); )
                    {
                        fuzzer.drainResponses();
                        if (fuzzer.tx.freeRequests() < 2)
                        {
                            Thread.yield();
                            continue;
                        }
                        sent++;
                        random.nextBytes(junk);
                        if (random.nextInt(3) > 0)
                        {
                            // mostly plausible requests, so the checks past the first are reached too
                            junk[0] = (byte)ref;
                            junk[1] = (byte)(ref >>> 8);
                            junk[2] = 0;
                            junk[3] = 0;
                            junk[6] &= (byte)(random.nextBoolean() ? MORE : 0);
                            junk[7] = 0;
                            junk[5] &= 0x0F;
                            junk[11] &= 0x0F;
                        }
                        fuzzer.raw(junk);
                        fuzzer.push();
                    }
                    settle(fuzzer);
                    if (XenbusState.CONNECTED != fuzzer.back.state())
                    {
                        fuzzer.awaitBack(XenbusState.CLOSING);
                        cutOff++;
                        assertTrue(fuzzer.back.disconnectReason().contains("cut off"),
                            fuzzer.back.disconnectReason());
                    }
                    fuzzer.back.close();
                    assertEquals(0, fuzzer.guest.grantTable().mappingCount(), "round " + round + " left a mapping");
                }
                b.received.clear();
                a.received.clear();
                exchange(a, b, 5, 1000 * round);
            }
            assertTrue(cutOff > 0, "the fuzzers were cut off");
            assertEquals(0, a.back.counters().protocolViolations() + b.back.counters().protocolViolations());
        }
    }

    /**
     * Gives the back end up to two seconds to answer every request pushed (or to cut the front end off), so a round
     * is scored on what it sent, not on how far a loaded machine got. A request left waiting for the rest of its
     * packet is never answered; the wait then simply ends.
     */
    private static void settle(final RawNetFront fuzzer)
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        while (XenbusState.CONNECTED == fuzzer.back.state() && System.nanoTime() - deadline < 0)
        {
            fuzzer.drainResponses();
            if (fuzzer.tx.responseConsumerIndex() == fuzzer.tx.requestProducerIndex())
            {
                return;
            }
            Thread.yield();
        }
    }

    /** Sends {@code count} frames each way between {@code a} and {@code b} and checks each byte for byte. */
    static void exchange(final NetRig.Vif a, final NetRig.Vif b, final int count, final int seed)
    {
        final byte[][] toB = new byte[count][];
        final byte[][] toA = new byte[count][];
        for (int i = 0; i < count; i++)
        {
            toB[i] = NetRig.frame(b.mac(), a.mac(), 60 + 997 * i % 9000, seed + i);
            toA[i] = NetRig.frame(a.mac(), b.mac(), 1514, seed - i);
            a.send(toB[i]);
            b.send(toA[i]);
        }
        final List<byte[]> atB = collect(b, a.mac(), count);
        final List<byte[]> atA = collect(a, b.mac(), count);
        for (int i = 0; i < count; i++)
        {
            assertArrayEquals(toB[i], atB.get(i), "frame " + i + " to b");
            assertArrayEquals(toA[i], atA.get(i), "frame " + i + " to a");
        }
    }

    /** The next {@code count} frames {@code vif} receives from {@code source} to itself; others are skipped. */
    static List<byte[]> collect(final NetRig.Vif vif, final long source, final int count)
    {
        final List<byte[]> out = new ArrayList<>();
        NetRig.await(() ->
        {
            byte[] frame;
            while (out.size() < count && null != (frame = vif.received.poll()))
            {
                if (NetRig.source(frame) == source && NetRig.destination(frame) == vif.mac())
                {
                    out.add(frame);
                }
            }
            return out.size() >= count;
        }, count + " frames at " + vif);
        return out;
    }
}
