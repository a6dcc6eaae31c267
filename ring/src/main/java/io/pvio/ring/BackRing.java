package io.pvio.ring;

import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The back end of a ring: it consumes requests and produces responses, as Xen's {@code <name>_back_ring} with its
 * private {@code rsp_prod_pvt} and {@code req_cons}.
 * <p>
 * The front end is untrusted. Its {@code req_prod} is read once per refresh, with acquire, and must lie between the
 * last value seen and {@code rsp_prod_pvt + RING_SIZE} ({@code RING_REQUEST_PROD_OVERFLOW}); otherwise the ring
 * breaks with a {@link RingProtocolException} before any entry is read, and stays broken. Entries are read in place
 * with {@link #readRequests(EntryHandler, int)} when the front end is trusted, or copied once into private memory
 * with {@link #copyRequests(EntryHandler, int)} ({@code RING_COPY_REQUEST}) so that checks and use see the same
 * bytes.
 * <p>
 * A response goes into the slot claimed by {@link #claimResponse()}; in Xen's usual in-order use that is the slot
 * of the request it answers, so read (or copy) the request before writing its response. One thread at a time;
 * nothing here allocates after construction. The back end never initialises the shared ring.
 */
public final class BackRing extends RingEnd
{
    private final UnsafeBuffer requestCopy;

    private BackRing(final AtomicBuffer buffer, final RingGeometry geometry, final int startIndex)
    {
        super(buffer, geometry, false);
        this.producerPvt = startIndex;
        this.published = startIndex;
        this.consumer = startIndex;
        this.peerProducer = startIndex;
        this.requestCopy = new UnsafeBuffer(new byte[geometry.requestBytes()]);
    }

    /**
     * Attaches a back end to a ring the front end has initialised: {@code BACK_RING_ATTACH} at the live
     * {@code rsp_prod}, which on a fresh ring equals {@code BACK_RING_INIT}. A back end that restarts re-attaches
     * this way and serves the requests the front end published after the last response.
     *
     * @param buffer   the shared area; at least {@code geometry.ringBytes()} bytes, 8-byte aligned.
     * @param geometry the ring's shape.
     * @return the back end.
     * @throws RingProtocolException if {@code req_prod - rsp_prod} exceeds the ring size.
     */
    public static BackRing attach(final AtomicBuffer buffer, final RingGeometry geometry)
    {
        final int rspProd = (int)attachIndexes(buffer, geometry);
        return new BackRing(buffer, geometry, rspProd);
    }

    /**
     * Private request consumer index, {@code req_cons}.
     *
     * @return the index, an unsigned 32-bit value.
     */
    public int requestConsumerIndex()
    {
        return consumer;
    }

    /**
     * Private response producer index, {@code rsp_prod_pvt}: the index the next claimed response gets.
     *
     * @return the index, an unsigned 32-bit value.
     */
    public int responseProducerIndex()
    {
        return producerPvt;
    }

    /**
     * Requests consumed that have no response claimed yet.
     *
     * @return the count.
     */
    public int unansweredRequests()
    {
        return consumer - producerPvt;
    }

    /**
     * Responses claimed but not yet pushed.
     *
     * @return the count.
     */
    public int unpushedResponses()
    {
        return producerPvt - published;
    }

    /**
     * Reads the shared {@code req_prod} and returns the requests not yet consumed,
     * {@code RING_HAS_UNCONSUMED_REQUESTS}. Never more than the free response space allows.
     *
     * @return unconsumed requests.
     * @throws RingProtocolException if the front end's {@code req_prod} is impossible.
     */
    public int unconsumedRequests()
    {
        return unconsumed();
    }

    /**
     * Consumes up to {@code limit} requests in place; each is valid only during its handler call. Use only with a
     * trusted front end, since the bytes can change under the handler; see {@link #copyRequests(EntryHandler, int)}.
     * The handler may claim and write the response; if it throws, the request it was given counts as consumed.
     *
     * @param handler receives each request in shared memory.
     * @param limit   most requests to consume.
     * @return requests consumed.
     * @throws IllegalArgumentException if {@code limit} is negative.
     * @throws RingProtocolException if the front end's {@code req_prod} is impossible.
     */
    public int readRequests(final EntryHandler handler, final int limit)
    {
        return readInPlace(handler, limit);
    }

    /**
     * Consumes up to {@code limit} requests, copying each into private memory first ({@code RING_COPY_REQUEST}),
     * so the handler validates and uses bytes the front end can no longer change.
     *
     * @param handler receives each private copy at offset 0; the copy is reused for the next request.
     * @param limit   most requests to consume.
     * @return requests consumed.
     * @throws IllegalArgumentException if {@code limit} is negative.
     * @throws RingProtocolException if the front end's {@code req_prod} is impossible.
     */
    public int copyRequests(final EntryHandler handler, final int limit)
    {
        return readCopies(requestCopy, handler, limit);
    }

    /**
     * Copies the next request into {@code dst} and consumes it.
     *
     * @param dst       private destination, at least {@code requestBytes} long from {@code dstOffset}.
     * @param dstOffset where the copy starts.
     * @return true if a request was copied, false if none was available.
     * @throws RingProtocolException if the front end's {@code req_prod} is impossible.
     */
    public boolean copyNextRequest(final MutableDirectBuffer dst, final int dstOffset)
    {
        return copyNext(dst, dstOffset, requestCopy.capacity());
    }

    /**
     * Claims the next response slot, {@code RING_GET_RESPONSE(r, r->rsp_prod_pvt++)}. The caller writes every byte
     * of the response in place (stale bytes would leak to the front end), then pushes.
     *
     * @return offset of the slot in {@link #buffer()}.
     * @throws IllegalStateException if every consumed request already has a response.
     */
    public int claimResponse()
    {
        final int producerPvt = this.producerPvt;
        if (producerPvt == consumer)
        {
            throw noRequestToAnswer(producerPvt, consumer);
        }
        this.producerPvt = producerPvt + 1;
        return SharedRingDescriptor.HEADER_LENGTH + (producerPvt & mask) * entryBytes;
    }

    /**
     * Publishes every claimed response, {@code RING_PUSH_RESPONSES}, without asking whether to notify.
     */
    public void pushResponses()
    {
        push();
    }

    /**
     * Publishes every claimed response and says whether the front end asked to be notified,
     * {@code RING_PUSH_RESPONSES_AND_CHECK_NOTIFY}.
     *
     * @return true if the caller must notify the front end.
     */
    public boolean pushResponsesAndCheckNotify()
    {
        return pushAndCheckNotify();
    }

    /**
     * {@code RING_FINAL_CHECK_FOR_REQUESTS}: call when out of work, before waiting for an event. If nothing is
     * pending it sets {@code req_event = req_cons + 1} and checks again behind a full fence, so a request pushed
     * concurrently is either seen here or announced by an event.
     *
     * @return true if requests are waiting (do not sleep), false if an event will announce the next one.
     * @throws RingProtocolException if the front end's {@code req_prod} is impossible.
     */
    public boolean finalCheckForRequests()
    {
        return finalCheck();
    }

    private static IllegalStateException noRequestToAnswer(final int producerPvt, final int consumer)
    {
        return new IllegalStateException("no consumed request to answer: rsp_prod_pvt=" +
            Integer.toUnsignedString(producerPvt) + " req_cons=" + Integer.toUnsignedString(consumer));
    }

    @Override
    int peerProducerLimit()
    {
        // every request needs a slot for its response: req_prod <= rsp_prod_pvt + size
        return producerPvt + mask + 1;
    }

    @Override
    RingProtocolException peerProducerViolation(final int reqProd, final int last)
    {
        final boolean backwards = reqProd - last < 0;
        return breakRing(
            backwards ? RingProtocolException.Reason.REQUEST_PRODUCER_BACKWARDS :
                RingProtocolException.Reason.REQUEST_PRODUCER_OVERFLOW,
            "req_prod=" + Integer.toUnsignedString(reqProd) +
            " previous req_prod=" + Integer.toUnsignedString(last) +
            " req_cons=" + Integer.toUnsignedString(consumer) +
            " rsp_prod_pvt=" + Integer.toUnsignedString(producerPvt) +
            " size=" + size() + " (expected: previous req_prod <= req_prod <= rsp_prod_pvt + size)");
    }
}
