package io.pvio.ring;

import java.nio.ByteOrder;

/**
 * Layout of a Xen shared ring, byte for byte as {@code DEFINE_RING_TYPES} in Xen's {@code io/ring.h} lays out
 * {@code struct <name>_sring}. Fields are tagged with their writer: [F] front end, [B] back end.
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                         req_prod  [F]                         |  0
 *  +---------------------------------------------------------------+
 *  |                         req_event [B]                         |  4
 *  +---------------------------------------------------------------+
 *  |                         rsp_prod  [B]                         |  8
 *  +---------------------------------------------------------------+
 *  |                         rsp_event [F]                         | 12
 *  +---------------------------------------------------------------+
 *  |                pvt (4 bytes, zeroed by the front)             | 16
 *  +---------------------------------------------------------------+
 *  |                __pad (44 bytes, zeroed by the front)         ... 20
 *  +---------------------------------------------------------------+
 *  |        entry[0]: union of request and response, E bytes      ... 64
 *  +---------------------------------------------------------------+
 *  |        entry[1] ... entry[n - 1], n = 2^k                    ... 64 + E
 *  +---------------------------------------------------------------+
 * </pre>
 * All fields are little-endian, as on every ABI Xen supports for these rings. The header appears once however many
 * pages the ring spans, so {@code n = round_down_pow2((ringBytes - 64) / E)}: a 112-byte blkif entry gives 32
 * entries in one 4 KiB page and 512 in sixteen; a 64-byte entry gives 32 in one page and 128 in four.
 */
public final class SharedRingDescriptor
{
    /** Offset of {@code req_prod}: one past the last request the front end has published. */
    public static final int REQ_PROD_OFFSET = 0;

    /** Offset of {@code req_event}: the back end wants an event once {@code req_prod} passes this value. */
    public static final int REQ_EVENT_OFFSET = 4;

    /** Offset of {@code rsp_prod}: one past the last response the back end has published. */
    public static final int RSP_PROD_OFFSET = 8;

    /** Offset of {@code rsp_event}: the front end wants an event once {@code rsp_prod} passes this value. */
    public static final int RSP_EVENT_OFFSET = 12;

    /** Offset of the 4-byte private union ({@code pvt}); zeroed at initialisation and not used by pvio. */
    public static final int PVT_OFFSET = 16;

    /** Offset of the 44 bytes of padding that complete the header. */
    public static final int PAD_OFFSET = 20;

    /** Length of the header; entries start here. */
    public static final int HEADER_LENGTH = 64;

    /** Xen's page size, whatever the host's: rings are made of 4 KiB pages. */
    public static final int PAGE_SIZE = 4096;

    /** Largest ring-page order Xen front ends use ({@code XENBUS_MAX_RING_GRANT_ORDER}): 16 pages. */
    public static final int MAX_PAGE_ORDER = 4;

    /** Initial value of both event indexes: the first entry ever produced triggers a notification. */
    public static final int INITIAL_EVENT_INDEX = 1;

    private SharedRingDescriptor()
    {
    }

    /**
     * Number of entries a ring of {@code ringBytes} holds: the largest power of two that fits after the header.
     *
     * @param ringBytes  total bytes of the shared area, header included.
     * @param entryBytes bytes per entry, see {@link #entryBytes(int, int, int)}.
     * @return the entry count, a power of two.
     * @throws IllegalArgumentException if not even one entry fits or an argument is not positive.
     */
    public static int entryCount(final int ringBytes, final int entryBytes)
    {
        if (entryBytes <= 0)
        {
            throw new IllegalArgumentException("entryBytes must be positive: entryBytes=" + entryBytes);
        }
        if (ringBytes < HEADER_LENGTH + entryBytes)
        {
            throw new IllegalArgumentException(
                "ring too small for one entry: ringBytes=" + ringBytes + ", entryBytes=" + entryBytes +
                " (expected: ringBytes >= " + HEADER_LENGTH + " + entryBytes)");
        }
        return Integer.highestOneBit((ringBytes - HEADER_LENGTH) / entryBytes);
    }

    /**
     * Size of one entry, the C union of the request and response structs: the larger size rounded up to the
     * stricter alignment.
     *
     * @param requestBytes  {@code sizeof} the request struct.
     * @param responseBytes {@code sizeof} the response struct.
     * @param alignment     the union's alignment, the largest member alignment (1, 2, 4 or 8).
     * @return the entry size in bytes.
     * @throws IllegalArgumentException if a size is not positive or the alignment is not 1, 2, 4 or 8.
     */
    public static int entryBytes(final int requestBytes, final int responseBytes, final int alignment)
    {
        if (requestBytes <= 0 || responseBytes <= 0)
        {
            throw new IllegalArgumentException(
                "entry sizes must be positive: requestBytes=" + requestBytes + ", responseBytes=" + responseBytes);
        }
        if (alignment != 1 && alignment != 2 && alignment != 4 && alignment != 8)
        {
            throw new IllegalArgumentException("alignment must be 1, 2, 4 or 8: alignment=" + alignment);
        }
        final int larger = Math.max(requestBytes, responseBytes);
        return (larger + alignment - 1) & -alignment;
    }

    /**
     * Bytes of a ring of {@code 2^pageOrder} pages.
     *
     * @param pageOrder ring-page order, 0 to {@link #MAX_PAGE_ORDER}.
     * @return the ring size in bytes.
     * @throws IllegalArgumentException if the order is out of range.
     */
    public static int ringBytesForOrder(final int pageOrder)
    {
        if (pageOrder < 0 || pageOrder > MAX_PAGE_ORDER)
        {
            throw new IllegalArgumentException(
                "ring-page-order out of range: pageOrder=" + pageOrder + " (expected: 0 <= pageOrder <= " +
                MAX_PAGE_ORDER + ")");
        }
        return PAGE_SIZE << pageOrder;
    }

    /**
     * Offset of the entry for a free-running index.
     *
     * @param index      the ring index; only its low bits select the slot.
     * @param mask       entry count minus one.
     * @param entryBytes bytes per entry.
     * @return the byte offset of the entry from the start of the shared area.
     */
    public static int entryOffset(final int index, final int mask, final int entryBytes)
    {
        return HEADER_LENGTH + (index & mask) * entryBytes;
    }

    /**
     * Fails unless this platform stores {@code int}s little-endian, which the shared indexes require because
     * Agrona's atomic accessors use native order.
     *
     * @throws UnsupportedOperationException on a big-endian platform.
     */
    public static void checkNativeOrder()
    {
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN)
        {
            throw new UnsupportedOperationException(
                "Xen rings are little-endian and pvio accesses their indexes in native order; this platform is " +
                ByteOrder.nativeOrder());
        }
    }
}
