package io.pvio.ring;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import org.agrona.BufferUtil;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Millions of park/notify cycles through the ring's event indexes: a ping-pong in which each side sends one message
 * and then has nothing to do until the other answers, so every message goes through a final check and, usually, a
 * park in a {@link ParkingIdleStrategy} that only the peer's notification ends. A lost wake-up stalls the ping-pong
 * and {@link PeerLoopRunner} fails the test, naming the parked side and the indexes.
 * <p>
 * The first two tests force the park: the answering side holds each push until the waiting thread is parked in its
 * strategy, so the waiting side's final check has re-armed its event index and the push must ask for a
 * notification, every time. The third lets both sides park and race freely, which exercises a notification landing
 * between the final check and the park.
 * <p>
 * {@value #ROUND_TRIPS_PROP_NAME} sets the round trips per test.
 */
class ParkNotifyStressTest
{
    static final String ROUND_TRIPS_PROP_NAME = "pvio.stress.roundTrips";
    static final long ROUND_TRIPS_DEFAULT = 400_000;

    /**
     * How many park returns one notification can account for. HotSpot's {@code Parker::park} returns at once, without
     * taking the permit, when an unpark holds the parker's mutex at that moment; the permit that unpark leaves then
     * ends the next park as well (seen here about twice per thousand forced parks). So "every park was ended by a
     * notification" reads {@code parks <= 2 * notifications}, plus {@link #spuriousWakeAllowance}.
     */
    private static final long PARKS_PER_NOTIFICATION = 2;

    private static final RingGeometry GEOMETRY = RingGeometry.ofPages(1, 112, 16, 8);

    private final long roundTrips = Long.getLong(ROUND_TRIPS_PROP_NAME, ROUND_TRIPS_DEFAULT);

    /**
     * {@link LockSupport#park(Object)} may also return for no reason at all; this many such returns are tolerated.
     */
    private final long spuriousWakeAllowance = 16 + roundTrips / 1000;

    private final AtomicBuffer buffer = new UnsafeBuffer(BufferUtil.allocateDirectAligned(GEOMETRY.ringBytes(), 4096));
    private final FrontRing frontRing = FrontRing.init(buffer, GEOMETRY, 0xFFFF_0000);
    private final BackRing backRing = BackRing.attach(buffer, GEOMETRY);
    private final ParkingIdleStrategy frontIdle = new ParkingIdleStrategy();
    private final ParkingIdleStrategy backIdle = new ParkingIdleStrategy();

    @Test
    void shouldWakeParkedFrontForEveryResponseWhenBackPushesOnlyOnceFrontIsParked()
    {
        final Ping front = new Ping(frontRing, roundTrips, true, false, frontIdle);
        final Pong back = new Pong(backRing, roundTrips, false, true, backIdle);

        pingPong("front-waits", front, back);

        assertEquals(roundTrips, back.pushes);
        assertNearlyEveryPushNotified(back.notifications, "front", "rsp_event");
        assertTrue(frontIdle.parks() >= roundTrips, "front parks=" + frontIdle.parks());
        assertParksEndedByNotifications("front", frontIdle.parks(), back.notifications);
        assertEquals(0, backIdle.parks(), "the back spins in this test");
    }

    @Test
    void shouldWakeParkedBackForEveryRequestWhenFrontPushesOnlyOnceBackIsParked()
    {
        final Ping front = new Ping(frontRing, roundTrips, false, true, frontIdle);
        final Pong back = new Pong(backRing, roundTrips, true, false, backIdle);

        pingPong("back-waits", front, back);

        assertEquals(roundTrips, front.pushes);
        assertNearlyEveryPushNotified(front.notifications, "back", "req_event");
        assertTrue(backIdle.parks() >= roundTrips, "back parks=" + backIdle.parks());
        assertParksEndedByNotifications("back", backIdle.parks(), front.notifications);
        assertEquals(0, frontIdle.parks(), "the front spins in this test");
    }

    @Test
    void shouldNeverLoseAWakeUpWhenBothSidesParkAndRaceFreely()
    {
        final Ping front = new Ping(frontRing, roundTrips, true, false, frontIdle);
        final Pong back = new Pong(backRing, roundTrips, true, false, backIdle);

        pingPong("both-park", front, back);

        assertTrue(frontIdle.parks() + backIdle.parks() > 0, "nobody parked: the test did not test wake-ups");
        assertParksEndedByNotifications("front", frontIdle.parks(), back.notifications);
        assertParksEndedByNotifications("back", backIdle.parks(), front.notifications);
    }

    private void pingPong(final String name, final Ping front, final Pong back)
    {
        front.peer(back, backIdle);
        back.peer(front, frontIdle);
        final long startNs = System.nanoTime();
        PeerLoopRunner.run(name, front, back, () -> PeerLoopRunner.ringIndexes(frontRing, backRing),
            TimeUnit.SECONDS.toNanos(60) + roundTrips * 200_000L, TimeUnit.SECONDS.toNanos(Long.getLong(
            RingStressTest.STALL_SECONDS_PROP_NAME, RingStressTest.STALL_SECONDS_DEFAULT)));
        final long elapsedNs = System.nanoTime() - startNs;

        assertEquals(roundTrips, front.received, "responses checked");
        assertEquals(roundTrips, back.answered, "requests answered");
        assertEquals(0xFFFF_0000 + (int)roundTrips, buffer.getIntVolatile(SharedRingDescriptor.RSP_PROD_OFFSET));
        assertTrue(front.notifications <= front.pushes, "at most one notification per request push");
        assertTrue(back.notifications <= back.pushes, "at most one notification per response push");

        if (Boolean.getBoolean(RingStressTest.VERBOSE_PROP_NAME))
        {
            System.out.printf("%s: %d round trips in %.1f ms (%.2f us each), front{%s parks=%d} back{%s parks=%d}%n",
                name, roundTrips, elapsedNs / 1e6, elapsedNs / 1e3 / roundTrips, front.counters(), frontIdle.parks(),
                back.counters(), backIdle.parks());
        }
    }

    private void assertParksEndedByNotifications(final String side, final long parks, final long notifications)
    {
        assertTrue(parks <= PARKS_PER_NOTIFICATION * notifications + spuriousWakeAllowance,
            side + " parks=" + parks + " cannot all have been ended by " + notifications + " notifications");
    }

    /**
     * Spins until {@code peer} is parked in {@code peerIdle}, or the run is being stopped.
     */
    /**
     * The pusher waits until the peer's blocker says it is parked, and the peer arms its event index before it parks,
     * so a push should always be told to notify. The blocker is only a hint, though: it is left set for a moment after
     * a park returns, and once in a few hundred thousand round trips the pusher sees it while the peer is already
     * running again and about to re-arm; that push is correctly not notified, and the peer finds the request in its
     * final check. A push that should have notified and did not would leave the peer parked, and the run would stall
     * and fail; so the exact count is not the safety property, and a near-total count proves the parking really
     * happened.
     */
    private void assertNearlyEveryPushNotified(final long notifications, final String parker, final String event)
    {
        assertTrue(notifications <= roundTrips, "at most one notification per push: " + notifications);
        assertTrue(notifications >= roundTrips - Math.max(1, roundTrips / 1000),
            "the " + parker + " parked with " + event + " armed before (nearly) every push, so (nearly) every push " +
            "must ask to notify: notifications=" + notifications + " pushes=" + roundTrips);
    }

    private static void awaitParked(final PeerLoop self, final PeerLoop peer, final ParkingIdleStrategy peerIdle)
    {
        Thread peerThread;
        while ((null == (peerThread = peer.thread()) || LockSupport.getBlocker(peerThread) != peerIdle) &&
            !self.stopRequested())
        {
            Thread.onSpinWait();
        }
    }

    /**
     * Sends one request, then waits for its response before sending the next.
     */
    private static final class Ping extends PeerLoop implements EntryHandler
    {
        private final FrontRing ring;
        private final long roundTrips;
        private final boolean parkWhenIdle;
        private final boolean holdUntilPeerParked;
        private final ParkingIdleStrategy idle;
        private PeerLoop peer;
        private ParkingIdleStrategy peerIdle;
        long received;
        long pushes;
        long notifications;

        Ping(final FrontRing ring, final long roundTrips, final boolean parkWhenIdle,
            final boolean holdUntilPeerParked, final ParkingIdleStrategy idle)
        {
            super("front");
            this.ring = ring;
            this.roundTrips = roundTrips;
            this.parkWhenIdle = parkWhenIdle;
            this.holdUntilPeerParked = holdUntilPeerParked;
            this.idle = idle;
        }

        void peer(final PeerLoop peer, final ParkingIdleStrategy peerIdle)
        {
            this.peer = peer;
            this.peerIdle = peerIdle;
        }

        @Override
        void work()
        {
            final FrontRing ring = this.ring;
            final int requestBytes = ring.geometry().requestBytes();
            for (long seq = 0; seq < roundTrips && !stopRequested(); seq++)
            {
                MessagePattern.writeRequest(ring.buffer(), ring.claimRequest(), requestBytes, seq);
                if (holdUntilPeerParked)
                {
                    awaitParked(this, peer, peerIdle);
                }
                pushes++;
                if (ring.pushRequestsAndCheckNotify())
                {
                    notifications++;
                    peerIdle.notifyPeer();
                }

                while (0 == ring.copyResponses(this, 1) && !stopRequested())
                {
                    if (!parkWhenIdle)
                    {
                        Thread.onSpinWait();
                    }
                    else if (!ring.finalCheckForResponses())
                    {
                        idle.idle();
                    }
                }
                reportProgress(received);
            }
        }

        @Override
        public void onEntry(final DirectBuffer buffer, final int offset)
        {
            final int responseBytes = ring.geometry().responseBytes();
            final int wrong = MessagePattern.responseMismatch(buffer, offset, responseBytes, received);
            if (MessagePattern.MATCH != wrong)
            {
                throw new AssertionError(
                    MessagePattern.describeResponseMismatch(buffer, offset, responseBytes, received, wrong));
            }
            received++;
        }

        @Override
        String counters()
        {
            return "received=" + received + " pushes=" + pushes + " notifications=" + notifications;
        }
    }

    /**
     * Waits for one request, answers it, and waits again.
     */
    private static final class Pong extends PeerLoop implements EntryHandler
    {
        private final BackRing ring;
        private final long roundTrips;
        private final boolean parkWhenIdle;
        private final boolean holdUntilPeerParked;
        private final ParkingIdleStrategy idle;
        private PeerLoop peer;
        private ParkingIdleStrategy peerIdle;
        long answered;
        long pushes;
        long notifications;

        Pong(final BackRing ring, final long roundTrips, final boolean parkWhenIdle,
            final boolean holdUntilPeerParked, final ParkingIdleStrategy idle)
        {
            super("back");
            this.ring = ring;
            this.roundTrips = roundTrips;
            this.parkWhenIdle = parkWhenIdle;
            this.holdUntilPeerParked = holdUntilPeerParked;
            this.idle = idle;
        }

        void peer(final PeerLoop peer, final ParkingIdleStrategy peerIdle)
        {
            this.peer = peer;
            this.peerIdle = peerIdle;
        }

        @Override
        void work()
        {
            final BackRing ring = this.ring;
            while (answered < roundTrips && !stopRequested())
            {
                while (0 == ring.copyRequests(this, 1))
                {
                    if (stopRequested())
                    {
                        return;
                    }
                    if (!parkWhenIdle)
                    {
                        Thread.onSpinWait();
                    }
                    else if (!ring.finalCheckForRequests())
                    {
                        idle.idle();
                    }
                }
                if (holdUntilPeerParked)
                {
                    awaitParked(this, peer, peerIdle);
                }
                pushes++;
                if (ring.pushResponsesAndCheckNotify())
                {
                    notifications++;
                    peerIdle.notifyPeer();
                }
                reportProgress(answered);
            }
        }

        @Override
        public void onEntry(final DirectBuffer buffer, final int offset)
        {
            final int requestBytes = ring.geometry().requestBytes();
            final int wrong = MessagePattern.requestMismatch(buffer, offset, requestBytes, answered);
            if (MessagePattern.MATCH != wrong)
            {
                throw new AssertionError(
                    MessagePattern.describeRequestMismatch(buffer, offset, requestBytes, answered, wrong));
            }
            MessagePattern.writeResponse(
                ring.buffer(), ring.claimResponse(), ring.geometry().responseBytes(), buffer.getLong(offset));
            answered++;
        }

        @Override
        String counters()
        {
            return "answered=" + answered + " pushes=" + pushes + " notifications=" + notifications;
        }
    }
}
