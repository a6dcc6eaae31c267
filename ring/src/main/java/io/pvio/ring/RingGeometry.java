package io.pvio.ring;

import static io.pvio.ring.SharedRingDescriptor.HEADER_LENGTH;
import static io.pvio.ring.SharedRingDescriptor.PAGE_SIZE;

/**
 * The shape of one ring: total bytes, request and response sizes, entry size and entry count. Immutable; both ends
 * of a ring must be built with equal geometries.
 */
public final class RingGeometry
{
    private final int ringBytes;
    private final int requestBytes;
    private final int responseBytes;
    private final int entryBytes;
    private final int size;

    private RingGeometry(final int ringBytes, final int requestBytes, final int responseBytes, final int entryBytes)
    {
        this.ringBytes = ringBytes;
        this.requestBytes = requestBytes;
        this.responseBytes = responseBytes;
        this.entryBytes = entryBytes;
        this.size = SharedRingDescriptor.entryCount(ringBytes, entryBytes);
    }

    /**
     * Geometry for {@code pages} 4 KiB pages with byte-aligned request and response structs (entry size is the
     * larger of the two).
     *
     * @param pages         1, 2, 4, 8 or 16.
     * @param requestBytes  request size in bytes.
     * @param responseBytes response size in bytes.
     * @return the geometry.
     * @throws IllegalArgumentException if the page count is not a power of two up to 16 or nothing fits.
     */
    public static RingGeometry ofPages(final int pages, final int requestBytes, final int responseBytes)
    {
        return ofPages(pages, requestBytes, responseBytes, 1);
    }

    /**
     * Geometry for {@code pages} 4 KiB pages whose entry union has the given alignment.
     *
     * @param pages         1, 2, 4, 8 or 16.
     * @param requestBytes  request size in bytes.
     * @param responseBytes response size in bytes.
     * @param alignment     alignment of the entry union (1, 2, 4 or 8).
     * @return the geometry.
     * @throws IllegalArgumentException if the page count is not a power of two up to 16 or nothing fits.
     */
    public static RingGeometry ofPages(
        final int pages, final int requestBytes, final int responseBytes, final int alignment)
    {
        if (pages <= 0 || Integer.bitCount(pages) != 1 || Integer.numberOfTrailingZeros(pages) >
            SharedRingDescriptor.MAX_PAGE_ORDER)
        {
            throw new IllegalArgumentException("pages must be 1, 2, 4, 8 or 16: pages=" + pages);
        }
        return of(pages * PAGE_SIZE, requestBytes, responseBytes, alignment);
    }

    /**
     * Geometry for an arbitrary shared area, for embedders whose ring is not made of whole pages.
     *
     * @param ringBytes     total bytes of the shared area, header included.
     * @param requestBytes  request size in bytes.
     * @param responseBytes response size in bytes.
     * @param alignment     alignment of the entry union (1, 2, 4 or 8).
     * @return the geometry.
     * @throws IllegalArgumentException if an argument is out of range or no entry fits.
     */
    public static RingGeometry of(
        final int ringBytes, final int requestBytes, final int responseBytes, final int alignment)
    {
        return new RingGeometry(
            ringBytes, requestBytes, responseBytes,
            SharedRingDescriptor.entryBytes(requestBytes, responseBytes, alignment));
    }

    /**
     * Total bytes of the shared area, header included.
     *
     * @return the ring size in bytes.
     */
    public int ringBytes()
    {
        return ringBytes;
    }

    /**
     * Size of a request in bytes.
     *
     * @return request bytes.
     */
    public int requestBytes()
    {
        return requestBytes;
    }

    /**
     * Size of a response in bytes.
     *
     * @return response bytes.
     */
    public int responseBytes()
    {
        return responseBytes;
    }

    /**
     * Size of an entry (the request/response union) in bytes.
     *
     * @return entry bytes.
     */
    public int entryBytes()
    {
        return entryBytes;
    }

    /**
     * Number of entries, {@code RING_SIZE}: a power of two.
     *
     * @return entry count.
     */
    public int size()
    {
        return size;
    }

    /**
     * Offset of the entry selected by a free-running index.
     *
     * @param index ring index.
     * @return byte offset of the entry.
     */
    public int entryOffset(final int index)
    {
        return HEADER_LENGTH + (index & (size - 1)) * entryBytes;
    }

    /**
     * {@inheritDoc}
     */
    @Override
    public boolean equals(final Object o)
    {
        if (this == o)
        {
            return true;
        }
        if (!(o instanceof RingGeometry))
        {
            return false;
        }
        final RingGeometry that = (RingGeometry)o;
        return ringBytes == that.ringBytes && requestBytes == that.requestBytes &&
            responseBytes == that.responseBytes && entryBytes == that.entryBytes;
    }

    /**
     * {@inheritDoc}
     */
    @Override
    public int hashCode()
    {
        return ((ringBytes * 31 + requestBytes) * 31 + responseBytes) * 31 + entryBytes;
    }

    /**
     * {@inheritDoc}
     */
    @Override
    public String toString()
    {
        return "RingGeometry{ringBytes=" + ringBytes + ", requestBytes=" + requestBytes +
            ", responseBytes=" + responseBytes + ", entryBytes=" + entryBytes + ", size=" + size + '}';
    }
}
