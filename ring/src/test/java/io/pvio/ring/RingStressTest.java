package io.pvio.ring;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.agrona.BufferUtil;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A front thread and a back thread exchange checksummed messages over one ring, for every page order, three entry
 * shapes, single and batched pushes, spinning and parking, and start indexes that make the run cross
 * {@code 0x7FFF_FFFF -> 0x8000_0000} or {@code 0xFFFF_FFFF -> 0}.
 * <p>
 * Every byte of every request and response is a function of its sequence number ({@link MessagePattern}); the back
 * end checks each request, in order, from its private copy (and, every other pass, in place), then answers into the
 * slot it claims; the front end checks each response in order, alternately in place and copied. When parking, each
 * side's {@link ParkingIdleStrategy} is the other side's {@link Notifier}: a side notifies only when its push says
 * so, and idles only when its final check says nothing is pending, so a lost wake-up stalls the run and
 * {@link PeerLoopRunner} fails it with the parked side and the ring's indexes.
 * <p>
 * {@value #MESSAGES_PROP_NAME} sets the requests (each answered by a response) shared among the default scenarios;
 * the {@code stress-long} variant, run by {@code -Pstress}, shares {@value #LONG_MESSAGES_PROP_NAME} among fewer.
 */
class RingStressTest
{
    static final String MESSAGES_PROP_NAME = "pvio.stress.messages";
    static final long MESSAGES_DEFAULT = 60_000_000L;
    static final String LONG_MESSAGES_PROP_NAME = "pvio.stress.long.messages";
    static final long LONG_MESSAGES_DEFAULT = 400_000_000L;
    static final String STALL_SECONDS_PROP_NAME = "pvio.stress.stallSeconds";
    static final long STALL_SECONDS_DEFAULT = 10;
    static final String VERBOSE_PROP_NAME = "pvio.stress.verbose";

    /** Scenarios with fewer messages would not reach the wrap from the start indexes below. */
    private static final long MIN_MESSAGES_PER_SCENARIO = 16_384;

    /** Busy polls in a row before a spinning side also yields (two spinning threads may share one core). */
    private static final int SPINS_BEFORE_YIELD = 1000;

    /** 0, the signed overflow of the 32-bit index 4096 messages in, and its unsigned wrap 4096 messages in. */
    private static final int[] START_INDEXES = { 0, 0x7FFF_F000, 0xFFFF_F000 };

    enum Entry
    {
        NETIF_RX(8, 8),
        CACHE_LINE(64, 64),
        BLKIF(112, 16);

        final int requestBytes;
        final int responseBytes;

        Entry(final int requestBytes, final int responseBytes)
        {
            this.requestBytes = requestBytes;
            this.responseBytes = responseBytes;
        }
    }

    enum Push
    {
        /** Claim one, push one; consume one at a time. */
        SINGLE(1),
        /** Claim up to seven, push once; an odd batch straddles the end of the slot array. */
        BATCH_7(7),
        /** Claim every free slot, push once; consume everything available. */
        WHOLE_RING(Integer.MAX_VALUE);

        final int batch;

        Push(final int batch)
        {
            this.batch = batch;
        }
    }

    enum Wait
    {
        /** Busy-poll with {@link Thread#onSpinWait()}, then yields; pushes do not ask whether to notify. */
        SPIN,
        /** Final check, then park in a {@link ParkingIdleStrategy} the peer notifies when its push says so. */
        PARK
    }

    static final class Scenario
    {
        final int pages;
        final Entry entry;
        final Push push;
        final Wait wait;
        final int startIndex;
        final long messages;

        Scenario(final int pages, final Entry entry, final Push push, final Wait wait, final int startIndex,
            final long messages)
        {
            this.pages = pages;
            this.entry = entry;
            this.push = push;
            this.wait = wait;
            this.startIndex = startIndex;
            this.messages = messages;
        }

        @Override
        public String toString()
        {
            return "pages=" + pages + " entry=" + entry.requestBytes + "/" + entry.responseBytes + " push=" + push +
                " wait=" + wait + " start=0x" + Integer.toHexString(startIndex) + " messages=" + messages;
        }
    }

    static List<Scenario> defaultScenarios()
    {
        final int[] pageCounts = { 1, 2, 4, 8, 16 };
        final Entry[] entries = Entry.values();
        final Push[] pushes = Push.values();
        final Wait[] waits = Wait.values();
        final long perScenario = Math.max(MIN_MESSAGES_PER_SCENARIO, Long.getLong(MESSAGES_PROP_NAME,
            MESSAGES_DEFAULT) / (pageCounts.length * entries.length * pushes.length * waits.length));

        final List<Scenario> scenarios = new ArrayList<>();
        for (int p = 0; p < pageCounts.length; p++)
        {
            for (int e = 0; e < entries.length; e++)
            {
                for (int u = 0; u < pushes.length; u++)
                {
                    // rotate the start index so every page count, entry and push mode meets every start in both waits
                    final int start = START_INDEXES[(p + e + u) % START_INDEXES.length];
                    for (final Wait wait : waits)
                    {
                        scenarios.add(new Scenario(pageCounts[p], entries[e], pushes[u], wait, start, perScenario));
                    }
                }
            }
        }
        return scenarios;
    }

    static List<Scenario> longScenarios()
    {
        final int[] pageCounts = { 1, 16 };
        final Push[] pushes = { Push.SINGLE, Push.BATCH_7 };
        final Entry[] entries = Entry.values();
        final Wait[] waits = Wait.values();
        final long perScenario = Math.max(MIN_MESSAGES_PER_SCENARIO, Long.getLong(LONG_MESSAGES_PROP_NAME,
            LONG_MESSAGES_DEFAULT) / (pageCounts.length * pushes.length * entries.length * waits.length));

        final List<Scenario> scenarios = new ArrayList<>();
        int rotation = 0;
        for (final int pages : pageCounts)
        {
            for (final Entry entry : entries)
            {
                for (final Push push : pushes)
                {
                    final int start = START_INDEXES[rotation++ % START_INDEXES.length];
                    for (final Wait wait : waits)
                    {
                        scenarios.add(new Scenario(pages, entry, push, wait, start, perScenario));
                    }
                }
            }
        }
        return scenarios;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("defaultScenarios")
    void shouldDeliverEveryMessageIntactAndInOrderWhenTwoThreadsShareTheRing(final Scenario scenario)
    {
        exchange(scenario);
    }

    @Tag("stress-long")
    @ParameterizedTest(name = "{0}")
    @MethodSource("longScenarios")
    void shouldDeliverHundredsOfMillionsOfMessagesIntactWhenRunLong(final Scenario scenario)
    {
        exchange(scenario);
    }

    private static void exchange(final Scenario scenario)
    {
        final RingGeometry geometry = RingGeometry.ofPages(
            scenario.pages, scenario.entry.requestBytes, scenario.entry.responseBytes, 8);
        final AtomicBuffer buffer = new UnsafeBuffer(BufferUtil.allocateDirectAligned(geometry.ringBytes(), 4096));
        buffer.setMemory(0, buffer.capacity(), (byte)0xA5); // neither end may rely on zeroed entries

        final FrontRing frontRing = FrontRing.init(buffer, geometry, scenario.startIndex);
        final BackRing backRing = BackRing.attach(buffer, geometry);
        final ParkingIdleStrategy frontIdle = new ParkingIdleStrategy();
        final ParkingIdleStrategy backIdle = new ParkingIdleStrategy();
        final Front front = new Front(frontRing, scenario, frontIdle, backIdle);
        final Back back = new Back(backRing, scenario, backIdle, frontIdle);

        final long stallNs = TimeUnit.SECONDS.toNanos(Long.getLong(STALL_SECONDS_PROP_NAME, STALL_SECONDS_DEFAULT));
        final long timeoutNs = TimeUnit.SECONDS.toNanos(60) + scenario.messages * 20_000L;
        final long startNs = System.nanoTime();
        PeerLoopRunner.run(scenario.toString(), front, back, () -> PeerLoopRunner.ringIndexes(frontRing, backRing),
            timeoutNs, stallNs);
        final long elapsedNs = System.nanoTime() - startNs;

        final int end = scenario.startIndex + (int)scenario.messages;
        assertEquals(scenario.messages, back.answered, "requests answered");
        assertEquals(scenario.messages, front.received, "responses checked");
        assertEquals(end, frontRing.requestProducerIndex(), "req_prod_pvt");
        assertEquals(end, frontRing.responseConsumerIndex(), "rsp_cons");
        assertEquals(end, backRing.requestConsumerIndex(), "req_cons");
        assertEquals(end, backRing.responseProducerIndex(), "rsp_prod_pvt");
        assertEquals(end, buffer.getIntVolatile(SharedRingDescriptor.REQ_PROD_OFFSET), "req_prod");
        assertEquals(end, buffer.getIntVolatile(SharedRingDescriptor.RSP_PROD_OFFSET), "rsp_prod");
        assertTrue(front.notifications <= front.pushes, "at most one notification per request push");
        assertTrue(back.notifications <= back.pushes, "at most one notification per response push");

        if (Boolean.getBoolean(VERBOSE_PROP_NAME))
        {
            System.out.printf("%s: %.1f ms, %.2f M msg/s, front{%s} back{%s} frontParks=%d backParks=%d%n",
                scenario, elapsedNs / 1e6, scenario.messages * 1e3 / elapsedNs, front.counters(), back.counters(),
                frontIdle.parks(), backIdle.parks());
        }
    }

    /**
     * Busy-polls: spins, and after a while also yields, so a peer that lost its core gets it back sooner.
     *
     * @return the empty passes so far, this one included, counted up to the point where yielding starts.
     */
    private static int spin(final int emptyPasses)
    {
        if (emptyPasses < SPINS_BEFORE_YIELD)
        {
            Thread.onSpinWait();
            return emptyPasses + 1;
        }
        Thread.yield();
        return emptyPasses;
    }

    /**
     * Produces requests {@code 0..messages-1} and checks their responses in order.
     */
    private static final class Front extends PeerLoop implements EntryHandler
    {
        private final FrontRing ring;
        private final int requestBytes;
        private final int responseBytes;
        private final long messages;
        private final int batch;
        private final boolean park;
        private final ParkingIdleStrategy idle;
        private final Notifier back;
        long sent;
        long received;
        long pushes;
        long notifications;

        Front(final FrontRing ring, final Scenario scenario, final ParkingIdleStrategy idle, final Notifier back)
        {
            super("front");
            this.ring = ring;
            this.requestBytes = scenario.entry.requestBytes;
            this.responseBytes = scenario.entry.responseBytes;
            this.messages = scenario.messages;
            this.batch = scenario.push.batch;
            this.park = Wait.PARK == scenario.wait;
            this.idle = idle;
            this.back = back;
        }

        @Override
        void work()
        {
            final FrontRing ring = this.ring;
            final AtomicBuffer buffer = ring.buffer();
            long passes = 0;
            int emptyPasses = 0;
            while (received < messages && !stopRequested())
            {
                int claimed = 0;
                while (claimed < batch && sent < messages)
                {
                    final int offset = ring.claimRequest();
                    if (RingEnd.RING_FULL == offset)
                    {
                        break;
                    }
                    MessagePattern.writeRequest(buffer, offset, requestBytes, sent);
                    sent++;
                    claimed++;
                }
                if (claimed > 0)
                {
                    push();
                }

                final int consumed = 0 == (passes++ & 1) ? ring.readResponses(this, batch) :
                    ring.copyResponses(this, batch);
                reportProgress(sent + received);

                if (claimed + consumed > 0)
                {
                    idle.reset();
                    emptyPasses = 0;
                }
                else if (!park)
                {
                    emptyPasses = spin(emptyPasses);
                }
                else if (!ring.finalCheckForResponses())
                {
                    idle.idle();
                }
            }
        }

        private void push()
        {
            pushes++;
            if (!park)
            {
                ring.pushRequests();
            }
            else if (ring.pushRequestsAndCheckNotify())
            {
                notifications++;
                back.notifyPeer();
            }
        }

        @Override
        public void onEntry(final DirectBuffer buffer, final int offset)
        {
            final long seq = received;
            final int wrong = MessagePattern.responseMismatch(buffer, offset, responseBytes, seq);
            if (MessagePattern.MATCH != wrong)
            {
                throw new AssertionError(
                    MessagePattern.describeResponseMismatch(buffer, offset, responseBytes, seq, wrong));
            }
            received = seq + 1;
        }

        @Override
        String counters()
        {
            return "sent=" + sent + " received=" + received + " pushes=" + pushes + " notifications=" +
                notifications;
        }
    }

    /**
     * Checks requests in order and answers each one into the slot it claims.
     */
    private static final class Back extends PeerLoop implements EntryHandler
    {
        private final BackRing ring;
        private final AtomicBuffer shared;
        private final int requestBytes;
        private final int responseBytes;
        private final long messages;
        private final int batch;
        private final boolean park;
        private final ParkingIdleStrategy idle;
        private final Notifier front;
        long answered;
        long pushes;
        long notifications;

        Back(final BackRing ring, final Scenario scenario, final ParkingIdleStrategy idle, final Notifier front)
        {
            super("back");
            this.ring = ring;
            this.shared = ring.buffer();
            this.requestBytes = scenario.entry.requestBytes;
            this.responseBytes = scenario.entry.responseBytes;
            this.messages = scenario.messages;
            this.batch = scenario.push.batch;
            this.park = Wait.PARK == scenario.wait;
            this.idle = idle;
            this.front = front;
        }

        @Override
        void work()
        {
            final BackRing ring = this.ring;
            long passes = 0;
            int emptyPasses = 0;
            while (answered < messages && !stopRequested())
            {
                final int consumed = 0 == (passes++ & 1) ? ring.copyRequests(this, batch) :
                    ring.readRequests(this, batch);
                if (consumed > 0)
                {
                    push();
                    reportProgress(answered);
                    idle.reset();
                    emptyPasses = 0;
                }
                else if (!park)
                {
                    emptyPasses = spin(emptyPasses);
                }
                else if (!ring.finalCheckForRequests())
                {
                    idle.idle();
                }
            }
        }

        private void push()
        {
            pushes++;
            if (!park)
            {
                ring.pushResponses();
            }
            else if (ring.pushResponsesAndCheckNotify())
            {
                notifications++;
                front.notifyPeer();
            }
        }

        @Override
        public void onEntry(final DirectBuffer buffer, final int offset)
        {
            final long seq = answered;
            final int wrong = MessagePattern.requestMismatch(buffer, offset, requestBytes, seq);
            if (MessagePattern.MATCH != wrong)
            {
                throw new AssertionError(
                    MessagePattern.describeRequestMismatch(buffer, offset, requestBytes, seq, wrong));
            }
            // read the request's sequence number before the response overwrites the slot it is read in place from
            final long requestSeq = buffer.getLong(offset);
            MessagePattern.writeResponse(shared, ring.claimResponse(), responseBytes, requestSeq);
            answered = seq + 1;
        }

        @Override
        String counters()
        {
            return "answered=" + answered + " pushes=" + pushes + " notifications=" + notifications;
        }
    }
}
