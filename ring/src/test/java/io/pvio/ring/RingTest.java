package io.pvio.ring;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

import org.agrona.BufferUtil;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static io.pvio.ring.SharedRingDescriptor.REQ_EVENT_OFFSET;
import static io.pvio.ring.SharedRingDescriptor.REQ_PROD_OFFSET;
import static io.pvio.ring.SharedRingDescriptor.RSP_EVENT_OFFSET;
import static io.pvio.ring.SharedRingDescriptor.RSP_PROD_OFFSET;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RingTest
{
    private static final RingGeometry BLKIF_ONE_PAGE = RingGeometry.ofPages(1, 112, 16, 8);

    private final UnsafeBuffer buffer = new UnsafeBuffer(BufferUtil.allocateDirectAligned(4096, 64));
    private final List<Long> seen = new ArrayList<>();
    private final EntryHandler recordLong = (b, offset) -> seen.add(b.getLong(offset));

    @BeforeEach
    void fillWithGarbage()
    {
        buffer.setMemory(0, buffer.capacity(), (byte)0xAA);
    }

    @Test
    void shouldInitialiseHeaderAsSharedRingInitDoes()
    {
        FrontRing.init(buffer, BLKIF_ONE_PAGE);

        final ByteBuffer raw = buffer.byteBuffer().duplicate().order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(0, raw.getInt(0), "req_prod");
        assertEquals(1, raw.getInt(4), "req_event");
        assertEquals(0, raw.getInt(8), "rsp_prod");
        assertEquals(1, raw.getInt(12), "rsp_event");
        for (int i = 16; i < 64; i++)
        {
            assertEquals(0, raw.get(i), "pvt and pad zeroed at " + i);
        }
        assertEquals((byte)0xAA, raw.get(64), "entries are not touched");
    }

    @Test
    void shouldReportFullWhenEverySlotHoldsARequestOrUnconsumedResponse()
    {
        final FrontRing front = FrontRing.init(buffer, BLKIF_ONE_PAGE);
        final BackRing back = BackRing.attach(buffer, BLKIF_ONE_PAGE);
        assertEquals(32, front.size());

        for (int i = 0; i < 32; i++)
        {
            assertEquals(64 + i * 112, front.claimRequest());
        }
        assertTrue(front.isFull());
        assertEquals(0, front.freeRequests());
        assertEquals(RingEnd.RING_FULL, front.claimRequest());
        assertEquals(32, front.unpushedRequests());
        front.pushRequests();

        assertEquals(32, back.unconsumedRequests());
        assertEquals(32, back.readRequests((b, o) -> {}, Integer.MAX_VALUE));
        assertEquals(RingEnd.RING_FULL, front.claimRequest(), "consumed requests do not free slots");

        for (int i = 0; i < 5; i++)
        {
            back.claimResponse();
        }
        back.pushResponses();
        assertEquals(RingEnd.RING_FULL, front.claimRequest(), "unconsumed responses do not free slots");
        assertEquals(5, front.discardResponses(Integer.MAX_VALUE));
        assertEquals(5, front.freeRequests());
        assertEquals(64, front.claimRequest(), "slot 0 is reused for request 32");
    }

    @Test
    void shouldCarryRequestsAndResponsesInPlace()
    {
        final FrontRing front = FrontRing.init(buffer, BLKIF_ONE_PAGE);
        final BackRing back = BackRing.attach(buffer, BLKIF_ONE_PAGE);

        for (long i = 0; i < 3; i++)
        {
            final int offset = front.claimRequest();
            buffer.putLong(offset, 100 + i);
            buffer.putByte(offset + 111, (byte)i);
        }
        assertTrue(front.pushRequestsAndCheckNotify(), "back end starts asking for the first request");

        assertEquals(3, back.copyRequests((b, offset) ->
        {
            assertEquals(112, b.capacity(), "the copy is private and request-sized");
            seen.add(b.getLong(offset) * 1000 + b.getByte(offset + 111));
        }, 10));
        assertEquals(List.of(100_000L, 101_001L, 102_002L), seen);

        for (int i = 0; i < 3; i++)
        {
            final int offset = back.claimResponse();
            buffer.putLong(offset, 7 + i);
            buffer.putLong(offset + 8, 0);
        }
        assertTrue(back.pushResponsesAndCheckNotify(), "front end starts asking for the first response");

        seen.clear();
        assertEquals(2, front.readResponses(recordLong, 2));
        assertEquals(1, front.readResponses(recordLong, 2));
        assertEquals(0, front.readResponses(recordLong, 2));
        assertEquals(List.of(7L, 8L, 9L), seen);
    }

    @Test
    void shouldHoldOffNotificationsUntilConsumerRearms()
    {
        final FrontRing front = FrontRing.init(buffer, BLKIF_ONE_PAGE);
        final BackRing back = BackRing.attach(buffer, BLKIF_ONE_PAGE);

        front.claimRequest();
        assertTrue(front.pushRequestsAndCheckNotify(), "req_event=1 covers request 0");
        front.claimRequest();
        assertFalse(front.pushRequestsAndCheckNotify(), "back end has not re-armed: it is busy");
        assertFalse(front.pushRequestsAndCheckNotify(), "nothing new to push");

        assertTrue(back.finalCheckForRequests(), "requests pending: do not sleep");
        assertEquals(1, buffer.getInt(REQ_EVENT_OFFSET), "final check with work pending leaves req_event alone");
        assertEquals(2, back.readRequests((b, o) -> {}, 10));
        assertFalse(back.finalCheckForRequests(), "drained: safe to sleep");
        assertEquals(3, buffer.getInt(REQ_EVENT_OFFSET), "req_event = req_cons + 1");

        front.claimRequest();
        front.claimRequest();
        assertTrue(front.pushRequestsAndCheckNotify(), "the sleeping back end asked for request 2");
    }

    @Test
    void shouldSeeRequestPushedBeforeFinalCheck()
    {
        final FrontRing front = FrontRing.init(buffer, BLKIF_ONE_PAGE);
        final BackRing back = BackRing.attach(buffer, BLKIF_ONE_PAGE);
        assertFalse(back.finalCheckForRequests());
        assertEquals(1, buffer.getInt(REQ_EVENT_OFFSET));

        front.claimRequest();
        front.pushRequests();
        assertTrue(back.finalCheckForRequests());

        back.readRequests((b, o) -> {}, 1);
        back.claimResponse();
        assertTrue(back.pushResponsesAndCheckNotify());
        assertTrue(front.finalCheckForResponses());
        front.discardResponses(1);
        assertFalse(front.finalCheckForResponses());
        assertEquals(2, buffer.getInt(RSP_EVENT_OFFSET), "rsp_event = rsp_cons + 1");
    }

    @Test
    void shouldCrossTheIndexWrap()
    {
        final int start = 0xFFFF_FFF0;
        final FrontRing front = FrontRing.init(buffer, BLKIF_ONE_PAGE, start);
        final BackRing back = BackRing.attach(buffer, BLKIF_ONE_PAGE);
        assertEquals(start, back.requestConsumerIndex());
        long next = 0;
        long expected = 0;
        for (int round = 0; round < 10; round++)
        {
            int offset;
            while ((offset = front.claimRequest()) != RingEnd.RING_FULL)
            {
                buffer.putLong(offset, next++);
            }
            front.pushRequestsAndCheckNotify();
            while (back.unconsumedRequests() > 0)
            {
                final long[] value = new long[1];
                back.copyRequests((b, o) -> value[0] = b.getLong(o), 1);
                buffer.putLong(back.claimResponse(), value[0]);
            }
            back.pushResponsesAndCheckNotify();
            seen.clear();
            front.readResponses(recordLong, Integer.MAX_VALUE);
            for (final long value : seen)
            {
                assertEquals(expected++, value);
            }
        }
        assertEquals(320, expected);
        assertEquals(start + 320, front.requestProducerIndex());
        assertEquals(start + 320, buffer.getInt(RSP_PROD_OFFSET));
    }

    @Test
    void shouldBreakWhenFrontClaimsMoreRequestsThanSlots()
    {
        FrontRing.init(buffer, BLKIF_ONE_PAGE);
        final BackRing back = BackRing.attach(buffer, BLKIF_ONE_PAGE);
        buffer.putIntVolatile(REQ_PROD_OFFSET, 33);

        final RingProtocolException ex = assertThrows(
            RingProtocolException.class, () -> back.readRequests((b, o) -> seen.add(0L), 100));
        assertEquals(RingProtocolException.Reason.REQUEST_PRODUCER_OVERFLOW, ex.reason());
        assertEquals(
            "REQUEST_PRODUCER_OVERFLOW: req_prod=33 previous req_prod=0 req_cons=0 rsp_prod_pvt=0 size=32 " +
            "(expected: previous req_prod <= req_prod <= rsp_prod_pvt + size)", ex.getMessage());
        assertTrue(back.isBroken());
        assertTrue(seen.isEmpty(), "no entry was read");

        buffer.putIntVolatile(REQ_PROD_OFFSET, 1);
        assertSame(ex, assertThrows(RingProtocolException.class, back::unconsumedRequests), "stays broken");
        assertSame(ex, assertThrows(RingProtocolException.class, back::finalCheckForRequests));
        assertSame(ex, back.brokenBy());
    }

    @Test
    void shouldBreakWhenOutstandingRequestsWouldExceedFreeResponseSlots()
    {
        final FrontRing front = FrontRing.init(buffer, BLKIF_ONE_PAGE);
        final BackRing back = BackRing.attach(buffer, BLKIF_ONE_PAGE);
        for (int i = 0; i < 32; i++)
        {
            front.claimRequest();
        }
        front.pushRequests();
        assertEquals(32, back.readRequests((b, o) -> {}, 32));
        back.claimResponse();
        back.pushResponses();

        buffer.putIntVolatile(REQ_PROD_OFFSET, 34);
        final RingProtocolException ex = assertThrows(RingProtocolException.class, back::unconsumedRequests);
        assertEquals(RingProtocolException.Reason.REQUEST_PRODUCER_OVERFLOW, ex.reason());
    }

    @Test
    void shouldBreakWhenRequestProducerMovesBackwards()
    {
        final FrontRing front = FrontRing.init(buffer, BLKIF_ONE_PAGE);
        final BackRing back = BackRing.attach(buffer, BLKIF_ONE_PAGE);
        for (int i = 0; i < 10; i++)
        {
            front.claimRequest();
        }
        front.pushRequests();
        assertEquals(4, back.readRequests((b, o) -> {}, 4));
        assertEquals(6, back.readRequests((b, o) -> {}, 100));

        buffer.putIntVolatile(REQ_PROD_OFFSET, 5);
        final RingProtocolException ex = assertThrows(
            RingProtocolException.class, () -> back.readRequests((b, o) -> {}, 100));
        assertEquals(RingProtocolException.Reason.REQUEST_PRODUCER_BACKWARDS, ex.reason());
    }

    @Test
    void shouldBreakWhenBackAnswersRequestsNeverPublished()
    {
        final FrontRing front = FrontRing.init(buffer, BLKIF_ONE_PAGE);
        front.claimRequest();
        front.claimRequest();
        front.pushRequests();
        front.claimRequest();
        buffer.putIntVolatile(RSP_PROD_OFFSET, 3);

        final RingProtocolException ex = assertThrows(
            RingProtocolException.class, () -> front.readResponses(recordLong, 10));
        assertEquals(
            "RESPONSE_PRODUCER_OVERFLOW: rsp_prod=3 previous rsp_prod=0 req_prod=2 rsp_cons=0 size=32 " +
            "(expected: previous rsp_prod <= rsp_prod <= req_prod)", ex.getMessage());
        assertTrue(seen.isEmpty());
        assertSame(ex, assertThrows(RingProtocolException.class, front::finalCheckForResponses));
    }

    @Test
    void shouldBreakWhenResponseProducerMovesBackwards()
    {
        final FrontRing front = FrontRing.init(buffer, BLKIF_ONE_PAGE);
        for (int i = 0; i < 4; i++)
        {
            front.claimRequest();
        }
        front.pushRequests();
        buffer.putIntVolatile(RSP_PROD_OFFSET, 3);
        assertEquals(3, front.unconsumedResponses());
        buffer.putIntVolatile(RSP_PROD_OFFSET, 0xFFFF_FFFF);

        final RingProtocolException ex = assertThrows(RingProtocolException.class, front::unconsumedResponses);
        assertEquals(RingProtocolException.Reason.RESPONSE_PRODUCER_BACKWARDS, ex.reason());
    }

    @Test
    void shouldRefuseToAttachToInconsistentRing()
    {
        FrontRing.init(buffer, BLKIF_ONE_PAGE);
        buffer.putIntVolatile(REQ_PROD_OFFSET, 1000);

        final RingProtocolException back = assertThrows(
            RingProtocolException.class, () -> BackRing.attach(buffer, BLKIF_ONE_PAGE));
        assertEquals(
            "ATTACH_INCONSISTENT: req_prod=1000 rsp_prod=0 size=32 (expected: req_prod - rsp_prod <= size)",
            back.getMessage());
        assertThrows(RingProtocolException.class, () -> FrontRing.attach(buffer, BLKIF_ONE_PAGE));
    }

    @Test
    void shouldReattachBackEndAtLiveResponseProducerAndServeOutstandingRequests()
    {
        final FrontRing front = FrontRing.init(buffer, BLKIF_ONE_PAGE);
        for (long i = 0; i < 5; i++)
        {
            buffer.putLong(front.claimRequest(), i);
        }
        front.pushRequests();

        final BackRing first = BackRing.attach(buffer, BLKIF_ONE_PAGE);
        first.copyRequests((b, o) -> {}, 5);
        buffer.putLong(first.claimResponse(), 0);
        buffer.putLong(first.claimResponse(), 1);
        first.pushResponses();

        final BackRing restarted = BackRing.attach(buffer, BLKIF_ONE_PAGE);
        assertEquals(2, restarted.requestConsumerIndex());
        assertEquals(3, restarted.copyRequests(recordLong, 10));
        assertEquals(List.of(2L, 3L, 4L), seen);
    }

    @Test
    void shouldAttachFrontEndToLiveRing()
    {
        final FrontRing first = FrontRing.init(buffer, BLKIF_ONE_PAGE, 77);
        first.claimRequest();
        first.claimRequest();
        first.pushRequests();

        final FrontRing attached = FrontRing.attach(buffer, BLKIF_ONE_PAGE);
        assertEquals(79, attached.requestProducerIndex());
        assertEquals(77, attached.responseConsumerIndex());
        assertEquals(30, attached.freeRequests());
    }

    @Test
    void shouldRefuseResponseWithoutConsumedRequest()
    {
        FrontRing.init(buffer, BLKIF_ONE_PAGE);
        final BackRing back = BackRing.attach(buffer, BLKIF_ONE_PAGE);

        final IllegalStateException ex = assertThrows(IllegalStateException.class, back::claimResponse);
        assertEquals("no consumed request to answer: rsp_prod_pvt=0 req_cons=0", ex.getMessage());
    }

    @Test
    void shouldCountEntryAsConsumedWhenHandlerThrows()
    {
        final FrontRing front = FrontRing.init(buffer, BLKIF_ONE_PAGE);
        final BackRing back = BackRing.attach(buffer, BLKIF_ONE_PAGE);
        for (long i = 0; i < 3; i++)
        {
            buffer.putLong(front.claimRequest(), i);
        }
        front.pushRequests();

        final EntryHandler failOnOne = (b, o) ->
        {
            if (b.getLong(o) == 1)
            {
                throw new IllegalStateException("bad request");
            }
        };
        assertThrows(IllegalStateException.class, () -> back.readRequests(failOnOne, 10));
        assertEquals(2, back.requestConsumerIndex());
        assertEquals(1, back.readRequests(recordLong, 10));
        assertEquals(List.of(2L), seen);
    }

    @Test
    void shouldCopyNextEntryIntoCallerMemory()
    {
        final FrontRing front = FrontRing.init(buffer, BLKIF_ONE_PAGE);
        final BackRing back = BackRing.attach(buffer, BLKIF_ONE_PAGE);
        final UnsafeBuffer requestCopy = new UnsafeBuffer(new byte[120]);
        final UnsafeBuffer responseCopy = new UnsafeBuffer(new byte[20]);

        assertFalse(back.copyNextRequest(requestCopy, 8));
        final int offset = front.claimRequest();
        buffer.putLong(offset, 0x1122_3344_5566_7788L);
        buffer.putLong(offset + 104, -1L);
        front.pushRequests();
        assertTrue(back.copyNextRequest(requestCopy, 8));
        buffer.putLong(offset, 0);
        assertEquals(0x1122_3344_5566_7788L, requestCopy.getLong(8), "the copy does not follow shared memory");
        assertEquals(-1L, requestCopy.getLong(112));

        final int rsp = back.claimResponse();
        buffer.putLong(rsp, 5);
        buffer.putLong(rsp + 8, 6);
        back.pushResponses();
        assertTrue(front.copyNextResponse(responseCopy, 4));
        assertEquals(5, responseCopy.getLong(4));
        assertEquals(6, responseCopy.getLong(12));
        assertFalse(front.copyNextResponse(responseCopy, 4));
    }

    @Test
    void shouldReadIndexesWrittenAsLittleEndianBytes()
    {
        final FrontRing front = FrontRing.init(buffer, BLKIF_ONE_PAGE);
        final ByteBuffer raw = buffer.byteBuffer().duplicate().order(ByteOrder.LITTLE_ENDIAN);
        final BackRing back = BackRing.attach(buffer, BLKIF_ONE_PAGE);
        raw.put(0, (byte)3).put(1, (byte)0).put(2, (byte)0).put(3, (byte)0);
        assertEquals(3, back.unconsumedRequests(), "req_prod is a little-endian uint32 at offset 0");
        front.claimRequest();
        front.pushRequests();
        assertEquals(1, raw.getInt(0));
    }

    @Test
    void shouldRejectBufferThatIsTooSmallOrMisaligned()
    {
        final UnsafeBuffer small = new UnsafeBuffer(BufferUtil.allocateDirectAligned(2048, 64));
        final IllegalArgumentException tooSmall = assertThrows(
            IllegalArgumentException.class, () -> FrontRing.init(small, BLKIF_ONE_PAGE));
        assertEquals("buffer smaller than the ring: capacity=2048, ringBytes=4096", tooSmall.getMessage());

        final UnsafeBuffer misaligned = new UnsafeBuffer(
            BufferUtil.allocateDirectAligned(8192, 64), 4, 4096);
        assertThrows(IllegalArgumentException.class, () -> BackRing.attach(misaligned, BLKIF_ONE_PAGE));
    }

    @Test
    void shouldRejectNegativeLimit()
    {
        final FrontRing front = FrontRing.init(buffer, BLKIF_ONE_PAGE);
        final BackRing back = BackRing.attach(buffer, BLKIF_ONE_PAGE);
        final IllegalArgumentException ex = assertThrows(
            IllegalArgumentException.class, () -> front.readResponses(recordLong, -1));
        assertEquals("limit must not be negative: limit=-1", ex.getMessage());
        assertThrows(IllegalArgumentException.class, () -> back.copyRequests(recordLong, -5));
        assertThrows(IllegalArgumentException.class, () -> front.discardResponses(-1));
        assertNull(front.brokenBy());
        assertEquals(0, front.readResponses(recordLong, 0));
    }

    @Test
    void shouldHandEntriesAsReadOnlyView()
    {
        final FrontRing front = FrontRing.init(buffer, BLKIF_ONE_PAGE);
        final BackRing back = BackRing.attach(buffer, BLKIF_ONE_PAGE);
        front.claimRequest();
        front.pushRequests();
        final DirectBuffer[] given = new DirectBuffer[1];
        back.readRequests((b, o) -> given[0] = b, 1);
        assertSame(buffer, given[0], "in place means the shared buffer itself");
    }
}
