package io.pvio.hypervisor.xenstore;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.AtomicBuffer;

/**
 * Writes one byte stream of a XenStore ring page: the guest's requests into {@code req[]}, or the server's
 * responses into {@code rsp[]}. The producer index is this end's own and kept privately, so the peer cannot move
 * it; the consumer index is the peer's and is checked on every read.
 * <p>
 * One thread at a time. Nothing here allocates.
 */
public final class XsRingProducer
{
    private final AtomicBuffer page;
    private final int dataOffset;
    private final int prodOffset;
    private final int consOffset;
    private int prod;

    private XsRingProducer(final AtomicBuffer page, final int dataOffset, final int prodOffset, final int consOffset)
    {
        XenStoreRingDescriptor.checkPage(page);
        this.page = page;
        this.dataOffset = dataOffset;
        this.prodOffset = prodOffset;
        this.consOffset = consOffset;
        // volatile: whatever the page held when this end attached (indexes need not start at 0)
        this.prod = page.getIntVolatile(prodOffset);
    }

    /**
     * The guest's end of the request stream: writes {@code req[]} and {@code req_prod}.
     *
     * @param page the ring page.
     * @return the producer.
     */
    public static XsRingProducer requests(final AtomicBuffer page)
    {
        return new XsRingProducer(page, XenStoreRingDescriptor.REQ_OFFSET, XenStoreRingDescriptor.REQ_PROD_OFFSET,
            XenStoreRingDescriptor.REQ_CONS_OFFSET);
    }

    /**
     * The server's end of the response stream: writes {@code rsp[]} and {@code rsp_prod}.
     *
     * @param page the ring page.
     * @return the producer.
     */
    public static XsRingProducer responses(final AtomicBuffer page)
    {
        return new XsRingProducer(page, XenStoreRingDescriptor.RSP_OFFSET, XenStoreRingDescriptor.RSP_PROD_OFFSET,
            XenStoreRingDescriptor.RSP_CONS_OFFSET);
    }

    /**
     * The private producer index: the stream position of the next byte written.
     *
     * @return the index, an unsigned 32-bit value.
     */
    public int producerIndex()
    {
        return prod;
    }

    /**
     * Free space, from a fresh read of the peer's consumer index.
     *
     * @return bytes that {@link #write(DirectBuffer, int, int)} could take now.
     * @throws XenStoreProtocolException if the peer's consumer index is impossible.
     */
    public int freeSpace()
    {
        return XenStoreRingDescriptor.RING_SIZE - used();
    }

    /**
     * Writes as many bytes as fit, possibly wrapping around the end of the array, and publishes them.
     *
     * @param source       the bytes.
     * @param sourceOffset where they start.
     * @param length       how many to write.
     * @return bytes written, 0 if the stream is full; the caller writes the rest later.
     * @throws XenStoreProtocolException if the peer's consumer index is impossible; nothing is written.
     */
    public int write(final DirectBuffer source, final int sourceOffset, final int length)
    {
        final int count = Math.min(XenStoreRingDescriptor.RING_SIZE - used(), length);
        if (count <= 0)
        {
            return 0;
        }
        final AtomicBuffer page = this.page;
        final int prod = this.prod;
        final int start = prod & XenStoreRingDescriptor.RING_MASK;
        final int first = Math.min(count, XenStoreRingDescriptor.RING_SIZE - start);
        page.putBytes(dataOffset + start, source, sourceOffset, first);
        if (first < count)
        {
            page.putBytes(dataOffset, source, sourceOffset + first, count - first);
        }
        this.prod = prod + count;
        page.putIntRelease(prodOffset, prod + count); // wmb: the peer sees the bytes before the producer index
        return count;
    }

    private int used()
    {
        final int prod = this.prod;
        // acquire: the peer finished reading the bytes it released before we overwrite them
        final int cons = page.getIntAcquire(consOffset);
        if (!XenStoreRingDescriptor.isValidIndexPair(prod, cons))
        {
            throw new XenStoreProtocolException(XenStoreRingDescriptor.ERROR_RING_INDEX,
                "consumer index out of range: cons=" + Integer.toUnsignedString(cons) + ", prod=" +
                Integer.toUnsignedString(prod) + " (expected: 0 <= prod - cons <= " +
                XenStoreRingDescriptor.RING_SIZE + ")");
        }
        return prod - cons;
    }
}
