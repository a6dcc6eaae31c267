package io.pvio.hypervisor.xenstore;

import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.AtomicBuffer;

/**
 * Reads one byte stream of a XenStore ring page: the server's view of {@code req[]}, or the guest's view of
 * {@code rsp[]}. The consumer index is this end's own and kept privately; the producer index is the peer's and is
 * read once per call, then checked ({@code prod - cons <= 1024}) before any byte is copied.
 * <p>
 * One thread at a time. Nothing here allocates.
 */
public final class XsRingConsumer
{
    private final AtomicBuffer page;
    private final int dataOffset;
    private final int prodOffset;
    private final int consOffset;
    private int cons;

    private XsRingConsumer(final AtomicBuffer page, final int dataOffset, final int prodOffset, final int consOffset)
    {
        XenStoreRingDescriptor.checkPage(page);
        this.page = page;
        this.dataOffset = dataOffset;
        this.prodOffset = prodOffset;
        this.consOffset = consOffset;
        // volatile: whatever the page held when this end attached (indexes need not start at 0)
        this.cons = page.getIntVolatile(consOffset);
    }

    /**
     * The server's end of the request stream: reads {@code req[]} and writes {@code req_cons}.
     *
     * @param page the ring page.
     * @return the consumer.
     */
    public static XsRingConsumer requests(final AtomicBuffer page)
    {
        return new XsRingConsumer(page, XenStoreRingDescriptor.REQ_OFFSET, XenStoreRingDescriptor.REQ_PROD_OFFSET,
            XenStoreRingDescriptor.REQ_CONS_OFFSET);
    }

    /**
     * The guest's end of the response stream: reads {@code rsp[]} and writes {@code rsp_cons}.
     *
     * @param page the ring page.
     * @return the consumer.
     */
    public static XsRingConsumer responses(final AtomicBuffer page)
    {
        return new XsRingConsumer(page, XenStoreRingDescriptor.RSP_OFFSET, XenStoreRingDescriptor.RSP_PROD_OFFSET,
            XenStoreRingDescriptor.RSP_CONS_OFFSET);
    }

    /**
     * The private consumer index: the stream position of the next byte read.
     *
     * @return the index, an unsigned 32-bit value.
     */
    public int consumerIndex()
    {
        return cons;
    }

    /**
     * Bytes waiting, from a fresh read of the peer's producer index.
     *
     * @return bytes that {@link #read(MutableDirectBuffer, int, int)} could return now.
     * @throws XenStoreProtocolException if the peer's producer index is impossible.
     */
    public int available()
    {
        return available(cons);
    }

    /**
     * Copies up to {@code maxLength} waiting bytes, possibly wrapping around the end of the array, and releases
     * their space to the producer.
     *
     * @param destination       private memory to copy into.
     * @param destinationOffset where the copy starts.
     * @param maxLength         most bytes to copy.
     * @return bytes copied, 0 if none are waiting.
     * @throws XenStoreProtocolException if the peer's producer index is impossible; nothing is read.
     */
    public int read(final MutableDirectBuffer destination, final int destinationOffset, final int maxLength)
    {
        final int cons = this.cons;
        final int count = Math.min(available(cons), maxLength);
        if (count <= 0)
        {
            return 0;
        }
        final AtomicBuffer page = this.page;
        final int start = cons & XenStoreRingDescriptor.RING_MASK;
        final int first = Math.min(count, XenStoreRingDescriptor.RING_SIZE - start);
        page.getBytes(dataOffset + start, destination, destinationOffset, first);
        if (first < count)
        {
            page.getBytes(dataOffset, destination, destinationOffset + first, count - first);
        }
        this.cons = cons + count;
        // release: the bytes are copied out before the producer may reuse their space
        page.putIntRelease(consOffset, cons + count);
        return count;
    }

    private int available(final int cons)
    {
        // acquire: the bytes the peer wrote before publishing prod are visible once prod is
        final int prod = page.getIntAcquire(prodOffset);
        if (!XenStoreRingDescriptor.isValidIndexPair(prod, cons))
        {
            throw new XenStoreProtocolException(XenStoreRingDescriptor.ERROR_RING_INDEX,
                "producer index out of range: prod=" + Integer.toUnsignedString(prod) + ", cons=" +
                Integer.toUnsignedString(cons) + " (expected: 0 <= prod - cons <= " +
                XenStoreRingDescriptor.RING_SIZE + ")");
        }
        return prod - cons;
    }
}
