package io.pvio.hypervisor.xenstore;

import org.agrona.ExpandableArrayBuffer;
import org.agrona.concurrent.AtomicBuffer;

/**
 * The guest's side of a XenStore ring page: it streams requests into {@code req[]} and reassembles replies and
 * watch events from {@code rsp[]}. Messages longer than the free space go in pieces; what does not fit waits in a
 * private buffer and goes out on the next {@link #flush()} or {@link #poll(XsMessageHandler, int)}. Replies are
 * matched to requests by req_id; {@link #send(XsMessageType, int, byte[])} numbers requests from 1.
 * <p>
 * The server is trusted no further than the ring format: a response index that claims more than 1024 bytes, a reply
 * over 4096 bytes or a non-zero {@code error} field breaks the client, which then throws
 * {@link XenStoreProtocolException} from every call. One thread at a time, the guest's.
 */
public final class XenStoreRingClient
{
    /** Most bytes of requests that may wait in the private buffer for ring space. */
    public static final int MAX_PENDING_REQUEST_BYTES = 64 * 1024;

    private final AtomicBuffer page;
    private final Runnable notifyServer;
    private final XsRingProducer requests;
    private final XsRingConsumer responses;
    private final XsFrameDecoder decoder = new XsFrameDecoder();
    private final ExpandableArrayBuffer pending = new ExpandableArrayBuffer(XsWireDescriptor.MAX_MESSAGE_LENGTH);
    private int pendingStart;
    private int pendingEnd;
    private int nextReqId = 1;
    private XenStoreProtocolException broken;

    /**
     * Attaches to a ring page at its current indexes.
     *
     * @param page         the ring page, at least {@value XenStoreRingDescriptor#LENGTH} bytes, 8-byte aligned.
     * @param notifyServer signals the server (the store event channel) after the client moved bytes.
     * @throws IllegalArgumentException if the page is too small.
     */
    public XenStoreRingClient(final AtomicBuffer page, final Runnable notifyServer)
    {
        this.requests = XsRingProducer.requests(page);
        this.responses = XsRingConsumer.responses(page);
        this.page = page;
        this.notifyServer = notifyServer;
    }

    /**
     * Prepares a fresh ring page as the domain builder does: zeroes it and sets all four indexes to
     * {@code startIndex} (Xen starts at 0; another start lets tests cross the 2^32 wrap quickly).
     *
     * @param page       the page.
     * @param startIndex the initial value of every index.
     * @throws IllegalArgumentException if the page is too small.
     */
    public static void initialise(final AtomicBuffer page, final int startIndex)
    {
        XenStoreRingDescriptor.checkPage(page);
        page.setMemory(0, XenStoreRingDescriptor.LENGTH, (byte)0);
        page.putInt(XenStoreRingDescriptor.REQ_CONS_OFFSET, startIndex);
        page.putInt(XenStoreRingDescriptor.RSP_CONS_OFFSET, startIndex);
        page.putInt(XenStoreRingDescriptor.RSP_PROD_OFFSET, startIndex);
        // volatile: either end that attaches after any later synchronisation sees a complete page
        page.putIntVolatile(XenStoreRingDescriptor.REQ_PROD_OFFSET, startIndex);
    }

    /**
     * Queues a request with the next req_id and writes as much of it as fits.
     *
     * @param type    the request type.
     * @param txId    transaction id, 0 for none.
     * @param payload the payload, at most {@value XsWireDescriptor#PAYLOAD_MAX} bytes.
     * @return the req_id given to the request.
     * @throws IllegalStateException if more than {@value #MAX_PENDING_REQUEST_BYTES} bytes would wait.
     * @throws XenStoreProtocolException if the ring is broken.
     */
    public int send(final XsMessageType type, final int txId, final byte[] payload)
    {
        final int reqId = nextReqId++;
        send(new XsMessage(type.code(), reqId, txId, payload));
        return reqId;
    }

    /**
     * Queues a message exactly as given (any req_id, any type code) and writes as much of it as fits.
     *
     * @param message the message.
     * @throws IllegalStateException if more than {@value #MAX_PENDING_REQUEST_BYTES} bytes would wait.
     * @throws XenStoreProtocolException if the ring is broken.
     */
    public void send(final XsMessage message)
    {
        checkNotBroken();
        if (pendingEnd - pendingStart + message.encodedLength() > MAX_PENDING_REQUEST_BYTES)
        {
            throw new IllegalStateException("too many requests waiting for ring space: pendingBytes=" +
                (pendingEnd - pendingStart) + ", messageBytes=" + message.encodedLength() + ", max=" +
                MAX_PENDING_REQUEST_BYTES);
        }
        pendingEnd += message.encode(pending, pendingEnd);
        flush();
    }

    /**
     * Writes waiting request bytes into the ring and notifies the server if any went in.
     *
     * @return bytes written.
     * @throws XenStoreProtocolException if the ring is broken.
     */
    public int flush()
    {
        checkNotBroken();
        if (pendingStart == pendingEnd)
        {
            return 0;
        }
        final int written;
        try
        {
            written = requests.write(pending, pendingStart, pendingEnd - pendingStart);
        }
        catch (final XenStoreProtocolException ex)
        {
            throw breakClient(ex);
        }
        pendingStart += written;
        if (pendingStart == pendingEnd)
        {
            pendingStart = 0;
            pendingEnd = 0;
        }
        if (written > 0)
        {
            notifyServer.run();
        }
        return written;
    }

    /**
     * Flushes waiting requests, then reads up to {@code limit} complete messages (replies and watch events) from
     * the response stream, notifying the server if any byte was consumed.
     *
     * @param handler receives each message.
     * @param limit   most messages to deliver.
     * @return messages delivered.
     * @throws XenStoreProtocolException if the server broke the ring or reported an error.
     */
    public int poll(final XsMessageHandler handler, final int limit)
    {
        flush();
        final int consumedBefore = responses.consumerIndex();
        int delivered = 0;
        try
        {
            while (delivered < limit)
            {
                final XsFrameDecoder decoder = this.decoder;
                while (!decoder.isComplete())
                {
                    final int count = responses.read(decoder.buffer(), decoder.position(), decoder.wanted());
                    if (0 == count)
                    {
                        break;
                    }
                    decoder.advance(count);
                }
                if (!decoder.isComplete())
                {
                    break;
                }
                delivered++;
                handler.onMessage(decoder.take());
            }
        }
        catch (final XenStoreProtocolException ex)
        {
            throw breakClient(ex);
        }
        finally
        {
            if (consumedBefore != responses.consumerIndex())
            {
                notifyServer.run();
            }
        }
        if (0 == delivered)
        {
            checkServerError();
        }
        return delivered;
    }

    /**
     * Request bytes waiting for ring space.
     *
     * @return the count.
     */
    public int pendingRequestBytes()
    {
        return pendingEnd - pendingStart;
    }

    /**
     * The page's {@code error} field as the server last set it.
     *
     * @return one of the {@code XenStoreRingDescriptor.ERROR_*} values.
     */
    public int ringError()
    {
        // acquire: pairs with the server's release store of the error
        return page.getIntAcquire(XenStoreRingDescriptor.ERROR_OFFSET);
    }

    /**
     * Whether the ring is unusable.
     *
     * @return true after a protocol violation by the server or an error it reported.
     */
    public boolean isBroken()
    {
        return null != broken;
    }

    private void checkServerError()
    {
        final int error = ringError();
        if (XenStoreRingDescriptor.ERROR_NONE != error)
        {
            throw breakClient(new XenStoreProtocolException(error, "server reported a ring error: error=" + error));
        }
    }

    private void checkNotBroken()
    {
        if (null != broken)
        {
            throw broken;
        }
    }

    private XenStoreProtocolException breakClient(final XenStoreProtocolException ex)
    {
        if (null == broken)
        {
            broken = ex;
        }
        return broken;
    }
}
