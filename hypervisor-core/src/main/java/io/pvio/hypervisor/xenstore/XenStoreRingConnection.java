package io.pvio.hypervisor.xenstore;

import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The server's side of one domain's XenStore ring: it reassembles requests from {@code req[]}, processes them in
 * arrival order on the domain's {@link XenStoreConnection}, and streams replies and watch events into
 * {@code rsp[]}. Created by {@link XenStoreServer#attach(int, AtomicBuffer, Runnable)} and driven only by the
 * server's thread.
 * <p>
 * Flow control: a request is taken off the ring only when the previous output has been fully written, so a guest
 * that stops reading responses stops being served (its pending watch events wait in the bounded queue of its
 * connection) without holding more than one message of output.
 * <p>
 * The guest is untrusted. An impossible index ({@code prod - cons > 1024}) or a payload length over 4096 closes the
 * connection: the server writes {@link XenStoreRingDescriptor#ERROR_RING_INDEX} or
 * {@link XenStoreRingDescriptor#ERROR_PROTOCOL} into the page's {@code error} field, notifies the guest, drops the
 * domain's watches and transactions on this connection, and never touches the page again. Other connections are
 * unaffected.
 * <p>
 * The counters are plain fields written by the server's thread: read them from that thread, or after it stopped.
 */
public final class XenStoreRingConnection
{
    private final int domainId;
    private final AtomicBuffer page;
    private final Runnable notifyGuest;
    private final XenStoreConnection connection;
    private final XsRequestProcessor processor;
    private final XsRingConsumer requests;
    private final XsRingProducer responses;
    private final XsFrameDecoder decoder = new XsFrameDecoder();
    private final UnsafeBuffer output = new UnsafeBuffer(new byte[XsWireDescriptor.MAX_MESSAGE_LENGTH]);
    private int outputLength;
    private int outputPosition;
    private long requestsProcessed;
    private long errorReplies;
    private long watchEventsSent;
    private volatile String closeReason;

    XenStoreRingConnection(
        final int domainId,
        final AtomicBuffer page,
        final Runnable notifyGuest,
        final XenStoreConnection connection,
        final XsRequestProcessor processor)
    {
        this.domainId = domainId;
        this.page = page;
        this.notifyGuest = notifyGuest;
        this.connection = connection;
        this.processor = processor;
        this.requests = XsRingConsumer.requests(page);
        this.responses = XsRingProducer.responses(page);
        page.putInt(XenStoreRingDescriptor.ERROR_OFFSET, XenStoreRingDescriptor.ERROR_NONE);
        page.putInt(XenStoreRingDescriptor.CONNECTION_OFFSET, XenStoreRingDescriptor.CONNECTED);
        // release: the guest that reads the features sees the fields above initialised
        page.putIntRelease(XenStoreRingDescriptor.SERVER_FEATURES_OFFSET, XenStoreRingDescriptor.FEATURE_ERROR);
    }

    /**
     * The domain this ring belongs to.
     *
     * @return the domain id.
     */
    public int domainId()
    {
        return domainId;
    }

    /**
     * The store connection requests on this ring act through.
     *
     * @return the connection.
     */
    public XenStoreConnection connection()
    {
        return connection;
    }

    /**
     * Whether the server has stopped serving this ring.
     *
     * @return true once closed.
     */
    public boolean isClosed()
    {
        return null != closeReason;
    }

    /**
     * Why the ring was closed.
     *
     * @return the reason with the values involved, or null while open.
     */
    public String closeReason()
    {
        return closeReason;
    }

    /**
     * Requests processed, whatever their outcome.
     *
     * @return the count.
     */
    public long requestsProcessed()
    {
        return requestsProcessed;
    }

    /**
     * Requests answered with an {@link XsMessageType#ERROR} reply.
     *
     * @return the count.
     */
    public long errorReplies()
    {
        return errorReplies;
    }

    /**
     * Watch events written to the response stream.
     *
     * @return the count.
     */
    public long watchEventsSent()
    {
        return watchEventsSent;
    }

    /**
     * Serves the ring: writes pending output, then alternately writes queued watch events and processes complete
     * requests until the budget is spent, the output stream is full or nothing is left. Notifies the guest if any
     * byte moved in either stream. Never throws.
     *
     * @param budget most messages (requests plus events) to handle.
     * @return messages handled; at least 1 if any byte moved or the connection was closed by this call.
     */
    int doWork(final int budget)
    {
        if (isClosed())
        {
            return 0;
        }
        if (connection.isClosed())
        {
            close(XenStoreRingDescriptor.ERROR_NONE, "domain released: domain=" + domainId);
            return 1;
        }
        try
        {
            final int consumedBefore = requests.consumerIndex();
            final int producedBefore = responses.producerIndex();
            int work = 0;
            flush();
            while (work < budget && outputPosition == outputLength)
            {
                final WatchEvent event = connection.pollWatchEvent();
                if (null != event)
                {
                    stage(XsMessage.watchEvent(event));
                    watchEventsSent++;
                    work++;
                    flush();
                    if (work >= budget || outputPosition != outputLength)
                    {
                        break;
                    }
                }
                if (!fillDecoder())
                {
                    if (null == event)
                    {
                        break;
                    }
                    continue;
                }
                final XsMessage reply = processor.process(connection, decoder.take());
                requestsProcessed++;
                if (XsMessageType.ERROR.code() == reply.type())
                {
                    errorReplies++;
                }
                stage(reply);
                work++;
                flush();
            }
            if (consumedBefore != requests.consumerIndex() || producedBefore != responses.producerIndex())
            {
                notifyGuest.run();
                work = Math.max(work, 1);
            }
            return work;
        }
        catch (final XenStoreProtocolException ex)
        {
            close(ex.ringError(), ex.getMessage() + ", domain=" + domainId);
            return 1;
        }
        catch (final RuntimeException ex)
        {
            close(XenStoreRingDescriptor.ERROR_COMMUNICATION, "server failed: " + ex + ", domain=" + domainId);
            return 1;
        }
    }

    /**
     * Stops serving the ring, reporting {@code ringError} in the page, and notifies the guest.
     */
    void close(final int ringError, final String reason)
    {
        if (isClosed())
        {
            return;
        }
        closeReason = reason;
        connection.close();
        if (XenStoreRingDescriptor.ERROR_NONE != ringError)
        {
            // release: a guest that sees the error also sees every response written before it
            page.putIntRelease(XenStoreRingDescriptor.ERROR_OFFSET, ringError);
        }
        try
        {
            notifyGuest.run();
        }
        catch (final RuntimeException ignore)
        {
            // the ring is closed either way; a failing notifier must not break the server's duty cycle
        }
    }

    private boolean fillDecoder()
    {
        final XsFrameDecoder decoder = this.decoder;
        while (!decoder.isComplete())
        {
            final int count = requests.read(decoder.buffer(), decoder.position(), decoder.wanted());
            if (0 == count)
            {
                return false;
            }
            decoder.advance(count);
        }
        return true;
    }

    private void stage(final XsMessage message)
    {
        outputLength = message.encode(output, 0);
        outputPosition = 0;
    }

    private void flush()
    {
        if (outputPosition < outputLength)
        {
            outputPosition += responses.write(output, outputPosition, outputLength - outputPosition);
        }
    }
}
