package io.pvio.ring;

import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import static io.pvio.ring.SharedRingDescriptor.INITIAL_EVENT_INDEX;
import static io.pvio.ring.SharedRingDescriptor.PVT_OFFSET;
import static io.pvio.ring.SharedRingDescriptor.REQ_EVENT_OFFSET;
import static io.pvio.ring.SharedRingDescriptor.REQ_PROD_OFFSET;
import static io.pvio.ring.SharedRingDescriptor.RSP_EVENT_OFFSET;
import static io.pvio.ring.SharedRingDescriptor.RSP_PROD_OFFSET;

/**
 * The front end of a ring: it produces requests and consumes responses, as Xen's {@code <name>_front_ring} with its
 * private {@code req_prod_pvt} and {@code rsp_cons}.
 * <p>
 * A request slot is claimed with {@link #claimRequest()}, filled in place, and published with
 * {@link #pushRequests()} or {@link #pushRequestsAndCheckNotify()}; claim many and push once to batch. A slot is
 * reusable only once its response has been consumed, because requests and responses share the slots. Responses are
 * consumed in place with {@link #readResponses(EntryHandler, int)} or as private copies with
 * {@link #copyResponses(EntryHandler, int)}. Before waiting for an event, call {@link #finalCheckForResponses()}.
 * <p>
 * One thread at a time; nothing here allocates after construction. The back end's {@code rsp_prod} is untrusted:
 * it must stay within the requests this front end has published, or the ring breaks with a
 * {@link RingProtocolException} before any response is read.
 */
public final class FrontRing extends RingEnd
{
    private final UnsafeBuffer responseCopy;

    private FrontRing(final AtomicBuffer buffer, final RingGeometry geometry, final int requestIndex,
        final int responseIndex)
    {
        super(buffer, geometry, true);
        this.producerPvt = requestIndex;
        this.published = requestIndex;
        this.consumer = responseIndex;
        this.peerProducer = responseIndex;
        this.responseCopy = new UnsafeBuffer(new byte[geometry.responseBytes()]);
    }

    /**
     * Initialises a new shared ring and returns its front end: {@code SHARED_RING_INIT} then {@code FRONT_RING_INIT}.
     * Only the front end initialises a ring, and it must do so before the back end can see the memory.
     *
     * @param buffer   the shared area; at least {@code geometry.ringBytes()} bytes, 8-byte aligned.
     * @param geometry the ring's shape.
     * @return the front end.
     */
    public static FrontRing init(final AtomicBuffer buffer, final RingGeometry geometry)
    {
        return init(buffer, geometry, 0);
    }

    /**
     * Initialises a new shared ring whose indexes start at {@code startIndex} instead of 0 (Xen starts at 0; another
     * start lets tests and tools cross the 2^32 wrap quickly). Entry bytes are left as they are.
     *
     * @param buffer     the shared area; at least {@code geometry.ringBytes()} bytes, 8-byte aligned.
     * @param geometry   the ring's shape.
     * @param startIndex first request and response index.
     * @return the front end.
     */
    public static FrontRing init(final AtomicBuffer buffer, final RingGeometry geometry, final int startIndex)
    {
        final FrontRing ring = new FrontRing(buffer, geometry, startIndex, startIndex);
        buffer.setMemory(PVT_OFFSET, SharedRingDescriptor.HEADER_LENGTH - PVT_OFFSET, (byte)0);
        buffer.putInt(REQ_EVENT_OFFSET, startIndex + INITIAL_EVENT_INDEX);
        buffer.putInt(RSP_EVENT_OFFSET, startIndex + INITIAL_EVENT_INDEX);
        buffer.putInt(RSP_PROD_OFFSET, startIndex);
        // volatile: a back end that attaches after any later synchronisation sees a complete header
        buffer.putIntVolatile(REQ_PROD_OFFSET, startIndex);
        return ring;
    }

    /**
     * Attaches a front end to a live ring that another front end initialised ({@code FRONT_RING_ATTACH}): private
     * indexes start at the shared {@code req_prod} and {@code rsp_prod}. Requests still outstanding are answered to
     * this front end.
     *
     * @param buffer   the shared area.
     * @param geometry the ring's shape.
     * @return the front end.
     * @throws RingProtocolException if the shared indexes claim more outstanding requests than the ring holds.
     */
    public static FrontRing attach(final AtomicBuffer buffer, final RingGeometry geometry)
    {
        final long indexes = attachIndexes(buffer, geometry);
        final int reqProd = (int)(indexes >>> 32);
        final int rspProd = (int)indexes;
        return new FrontRing(buffer, geometry, reqProd, rspProd);
    }

    /**
     * Private request producer index, {@code req_prod_pvt}: the index the next claimed request gets.
     *
     * @return the index, an unsigned 32-bit value.
     */
    public int requestProducerIndex()
    {
        return producerPvt;
    }

    /**
     * Private response consumer index, {@code rsp_cons}.
     *
     * @return the index, an unsigned 32-bit value.
     */
    public int responseConsumerIndex()
    {
        return consumer;
    }

    /**
     * Requests that may still be claimed, {@code RING_FREE_REQUESTS}: slots whose responses have been consumed.
     *
     * @return free request slots.
     */
    public int freeRequests()
    {
        return mask + 1 - (producerPvt - consumer);
    }

    /**
     * {@code RING_FULL}: every slot holds a request or an unconsumed response.
     *
     * @return true if {@link #claimRequest()} would return {@link #RING_FULL}.
     */
    public boolean isFull()
    {
        return producerPvt - consumer == mask + 1;
    }

    /**
     * Requests claimed but not yet pushed.
     *
     * @return the count.
     */
    public int unpushedRequests()
    {
        return producerPvt - published;
    }

    /**
     * Claims the next request slot, {@code RING_GET_REQUEST(r, r->req_prod_pvt++)}. The caller writes the request
     * in place, then pushes. Claimed slots cannot be given back.
     *
     * @return offset of the slot in {@link #buffer()}, or {@link #RING_FULL} if no slot is free.
     */
    public int claimRequest()
    {
        final int producerPvt = this.producerPvt;
        if (producerPvt - consumer == mask + 1)
        {
            return RING_FULL;
        }
        this.producerPvt = producerPvt + 1;
        return SharedRingDescriptor.HEADER_LENGTH + (producerPvt & mask) * entryBytes;
    }

    /**
     * Publishes every claimed request, {@code RING_PUSH_REQUESTS}, without asking whether to notify. Use when the
     * back end is known to poll.
     */
    public void pushRequests()
    {
        push();
    }

    /**
     * Publishes every claimed request and says whether the back end asked to be notified,
     * {@code RING_PUSH_REQUESTS_AND_CHECK_NOTIFY}.
     *
     * @return true if the caller must notify the back end.
     */
    public boolean pushRequestsAndCheckNotify()
    {
        return pushAndCheckNotify();
    }

    /**
     * Reads the shared {@code rsp_prod} and returns the responses not yet consumed,
     * {@code RING_HAS_UNCONSUMED_RESPONSES}.
     *
     * @return unconsumed responses.
     * @throws RingProtocolException if the back end's {@code rsp_prod} is impossible.
     */
    public int unconsumedResponses()
    {
        return unconsumed();
    }

    /**
     * Consumes up to {@code limit} responses in place. Each is valid only during its handler call. The handler may
     * claim new requests; if it throws, the response it was given counts as consumed.
     *
     * @param handler receives each response in shared memory.
     * @param limit   most responses to consume.
     * @return responses consumed.
     * @throws IllegalArgumentException if {@code limit} is negative.
     * @throws RingProtocolException if the back end's {@code rsp_prod} is impossible.
     */
    public int readResponses(final EntryHandler handler, final int limit)
    {
        return readInPlace(handler, limit);
    }

    /**
     * Consumes up to {@code limit} responses, copying each into private memory first
     * ({@code RING_COPY_RESPONSE}) so the handler parses bytes the back end can no longer change.
     *
     * @param handler receives each private copy at offset 0; the copy is reused for the next response.
     * @param limit   most responses to consume.
     * @return responses consumed.
     * @throws IllegalArgumentException if {@code limit} is negative.
     * @throws RingProtocolException if the back end's {@code rsp_prod} is impossible.
     */
    public int copyResponses(final EntryHandler handler, final int limit)
    {
        return readCopies(responseCopy, handler, limit);
    }

    /**
     * Copies the next response into {@code dst} and consumes it.
     *
     * @param dst       private destination, at least {@code responseBytes} long from {@code dstOffset}.
     * @param dstOffset where the copy starts.
     * @return true if a response was copied, false if none was available.
     * @throws RingProtocolException if the back end's {@code rsp_prod} is impossible.
     */
    public boolean copyNextResponse(final MutableDirectBuffer dst, final int dstOffset)
    {
        return copyNext(dst, dstOffset, responseCopy.capacity());
    }

    /**
     * Consumes up to {@code limit} responses without reading them, freeing their slots.
     *
     * @param limit most responses to consume.
     * @return responses consumed.
     * @throws IllegalArgumentException if {@code limit} is negative.
     * @throws RingProtocolException if the back end's {@code rsp_prod} is impossible.
     */
    public int discardResponses(final int limit)
    {
        return discard(limit);
    }

    /**
     * {@code RING_FINAL_CHECK_FOR_RESPONSES}: call when out of work, before waiting for an event. If nothing is
     * pending it sets {@code rsp_event = rsp_cons + 1} and checks again behind a full fence, so a response pushed
     * concurrently is either seen here or announced by an event.
     *
     * @return true if responses are waiting (do not sleep), false if an event will announce the next one.
     * @throws RingProtocolException if the back end's {@code rsp_prod} is impossible.
     */
    public boolean finalCheckForResponses()
    {
        return finalCheck();
    }

    @Override
    int peerProducerLimit()
    {
        return published;
    }

    @Override
    RingProtocolException peerProducerViolation(final int rspProd, final int last)
    {
        final boolean backwards = rspProd - last < 0;
        return breakRing(
            backwards ? RingProtocolException.Reason.RESPONSE_PRODUCER_BACKWARDS :
                RingProtocolException.Reason.RESPONSE_PRODUCER_OVERFLOW,
            "rsp_prod=" + Integer.toUnsignedString(rspProd) +
            " previous rsp_prod=" + Integer.toUnsignedString(last) +
            " req_prod=" + Integer.toUnsignedString(published) +
            " rsp_cons=" + Integer.toUnsignedString(consumer) +
            " size=" + size() + " (expected: previous rsp_prod <= rsp_prod <= req_prod)");
    }
}
