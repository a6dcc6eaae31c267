package io.pvio.ring.example;

import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;

import io.pvio.ring.BackRing;
import io.pvio.ring.EntryHandler;
import io.pvio.ring.FrontRing;
import io.pvio.ring.ParkingIdleStrategy;
import io.pvio.ring.RingEnd;
import io.pvio.ring.RingGeometry;

/**
 * The README's embedding example: a front end on the calling thread sends numbers, a back end on its own thread
 * answers each with its double, and both sides park when idle and are woken only when the ring says so.
 */
public final class EchoExample
{
    private EchoExample()
    {
    }

    /**
     * Runs the example.
     *
     * @param count how many requests to send.
     * @return the sum of all responses.
     * @throws InterruptedException if interrupted while joining the back-end thread.
     */
    public static long run(final long count) throws InterruptedException
    {
        // tag::example[]
        final RingGeometry geometry = RingGeometry.ofPages(1, 64, 64); // 1 page: 32 entries of 64 bytes
        final UnsafeBuffer shared = new UnsafeBuffer(BufferUtil.allocateDirectAligned(geometry.ringBytes(), 64));
        final FrontRing front = FrontRing.init(shared, geometry);      // only the front initialises
        final BackRing back = BackRing.attach(shared, geometry);
        final ParkingIdleStrategy frontIdle = new ParkingIdleStrategy(100, 10, 0);
        final ParkingIdleStrategy backIdle = new ParkingIdleStrategy(100, 10, 0);

        final Thread backEnd = new Thread(() ->
        {
            final EntryHandler doubler = (request, offset) ->      // request is a private copy
                shared.putLong(back.claimResponse(), request.getLong(offset) * 2);
            for (long answered = 0; answered < count; )
            {
                final int n = back.copyRequests(doubler, 32);
                answered += n;
                if (back.pushResponsesAndCheckNotify())
                {
                    frontIdle.notifyPeer();
                }
                if (0 == n && !back.finalCheckForRequests())
                {
                    backIdle.idle();                                   // woken by the front's notify
                }
                else if (0 != n)
                {
                    backIdle.reset();
                }
            }
        });
        backEnd.start();

        final long[] sum = new long[1];
        final EntryHandler collect = (response, offset) -> sum[0] += response.getLong(offset);
        long sent = 0;
        long received = 0;
        while (received < count)
        {
            int slot;
            while (sent < count && (slot = front.claimRequest()) != RingEnd.RING_FULL)
            {
                shared.putLong(slot, sent++);                          // write the request in place
            }
            if (front.pushRequestsAndCheckNotify())                    // one publish per batch
            {
                backIdle.notifyPeer();
            }
            final int n = front.copyResponses(collect, Integer.MAX_VALUE);
            received += n;
            if (0 == n && !front.finalCheckForResponses())
            {
                frontIdle.idle();
            }
            else if (0 != n)
            {
                frontIdle.reset();
            }
        }
        backEnd.join();
        // end::example[]
        return sum[0];
    }

    /**
     * Runs the example with a million requests and prints the sum.
     *
     * @param args ignored.
     * @throws InterruptedException if interrupted.
     */
    public static void main(final String[] args) throws InterruptedException
    {
        System.out.println(run(1_000_000));
    }
}
