package io.pvio.ring;


import org.agrona.BufferUtil;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The steady state allocates nothing: a warmed-up loop that drives every operation of both ends (claim, both
 * pushes, in-place reads, copies, single copies, discards, final checks and the index queries) on one thread is
 * measured with the JVM's per-thread allocation counter and must add no bytes beyond what reading the counter
 * itself costs.
 */
class RingAllocationTest
{
    private static final RingGeometry GEOMETRY = RingGeometry.ofPages(2, 112, 16, 8);
    private static final int WARM_UP_CALLS = 40;
    private static final int WARM_UP_ITERATIONS = 10_000;
    private static final int MEASURED_ITERATIONS = 500_000;
    private static final int RING_OPERATIONS_PER_ITERATION = 16;

    private final AtomicBuffer buffer = new UnsafeBuffer(BufferUtil.allocateDirectAligned(GEOMETRY.ringBytes(), 4096));
    private final FrontRing front = FrontRing.init(buffer, GEOMETRY, 0xFFFF_FF00);
    private final BackRing back = BackRing.attach(buffer, GEOMETRY);
    private final UnsafeBuffer privateCopy = new UnsafeBuffer(new byte[GEOMETRY.entryBytes()]);
    private final RequestAnswerer answerer = new RequestAnswerer();
    private final ResponseChecker checker = new ResponseChecker();
    private long nextRequest;
    private long nextAnswer;
    private long nextResponse;

    @Test
    void shouldAllocateNothingWhenBothEndsRunWarmedUp()
    {
        final long allocated = AllocationMeter.allocatedBytes(
            this::exercise, WARM_UP_CALLS, WARM_UP_ITERATIONS, MEASURED_ITERATIONS);

        assertEquals(0, allocated, (long)MEASURED_ITERATIONS * RING_OPERATIONS_PER_ITERATION +
            " ring operations allocated " + allocated + " bytes");
        assertEquals(nextRequest, nextResponse, "every request answered and checked");
    }

    /**
     * One iteration: three requests out, three responses back, through a different consume call on each end in turn,
     * then both final checks with nothing pending.
     */
    private void exercise(final int iterations)
    {
        final FrontRing front = this.front;
        final BackRing back = this.back;
        final AtomicBuffer buffer = this.buffer;
        final int requestBytes = GEOMETRY.requestBytes();
        for (int i = 0; i < iterations; i++)
        {
            for (int r = 0; r < 3; r++)
            {
                MessagePattern.writeRequest(buffer, front.claimRequest(), requestBytes, nextRequest++);
            }
            if (0 == (i & 1))
            {
                front.pushRequests();
            }
            else
            {
                front.pushRequestsAndCheckNotify();
            }

            check(3 == back.unconsumedRequests());
            switch (i % 3)
            {
                case 0:
                    check(3 == back.copyRequests(answerer, Integer.MAX_VALUE));
                    break;
                case 1:
                    check(3 == back.readRequests(answerer, Integer.MAX_VALUE));
                    break;
                default:
                    while (back.copyNextRequest(privateCopy, 0))
                    {
                        answerer.onEntry(privateCopy, 0);
                    }
                    break;
            }
            check(0 == back.unansweredRequests() && 3 == back.unpushedResponses());
            if (0 == (i & 2))
            {
                back.pushResponses();
            }
            else
            {
                back.pushResponsesAndCheckNotify();
            }

            check(3 == front.unconsumedResponses());
            switch (i % 4)
            {
                case 0:
                    check(3 == front.readResponses(checker, Integer.MAX_VALUE));
                    break;
                case 1:
                    check(3 == front.copyResponses(checker, Integer.MAX_VALUE));
                    break;
                case 2:
                    while (front.copyNextResponse(privateCopy, 0))
                    {
                        checker.onEntry(privateCopy, 0);
                    }
                    break;
                default:
                    check(3 == front.discardResponses(Integer.MAX_VALUE));
                    nextResponse += 3;
                    break;
            }
            check(front.freeRequests() == front.size() && !front.isFull() && 0 == front.unpushedRequests());
            check(!back.finalCheckForRequests());
            check(!front.finalCheckForResponses());
        }
    }

    private static void check(final boolean condition)
    {
        if (!condition)
        {
            fail("ring state not as expected in the allocation loop");
        }
    }

    /**
     * Checks a request in order and answers it into the slot it claims.
     */
    private final class RequestAnswerer implements EntryHandler
    {
        @Override
        public void onEntry(final DirectBuffer request, final int offset)
        {
            final int requestBytes = GEOMETRY.requestBytes();
            final int wrong = MessagePattern.requestMismatch(request, offset, requestBytes, nextAnswer);
            if (MessagePattern.MATCH != wrong)
            {
                throw new AssertionError(
                    MessagePattern.describeRequestMismatch(request, offset, requestBytes, nextAnswer, wrong));
            }
            final long seq = request.getLong(offset);
            MessagePattern.writeResponse(buffer, back.claimResponse(), GEOMETRY.responseBytes(), seq);
            nextAnswer++;
        }
    }

    /**
     * Checks a response in order.
     */
    private final class ResponseChecker implements EntryHandler
    {
        @Override
        public void onEntry(final DirectBuffer response, final int offset)
        {
            final int responseBytes = GEOMETRY.responseBytes();
            final int wrong = MessagePattern.responseMismatch(response, offset, responseBytes, nextResponse);
            if (MessagePattern.MATCH != wrong)
            {
                throw new AssertionError(
                    MessagePattern.describeResponseMismatch(response, offset, responseBytes, nextResponse, wrong));
            }
            nextResponse++;
        }
    }
}
