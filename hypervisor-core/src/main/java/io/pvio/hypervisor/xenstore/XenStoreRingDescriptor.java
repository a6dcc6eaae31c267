package io.pvio.hypervisor.xenstore;

import org.agrona.concurrent.AtomicBuffer;

/**
 * Layout of the XenStore ring page, {@code struct xenstore_domain_interface} of Xen's {@code io/xs_wire.h}: two
 * 1024-byte byte streams (requests from the guest, responses and watch events from the server) and their indexes.
 * Fields are tagged with their writer: [G] guest, [S] server.
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |              req[1024]: guest to server stream  [G]          ...    0
 *  +---------------------------------------------------------------+
 *  |              rsp[1024]: server to guest stream  [S]          ... 1024
 *  +---------------------------------------------------------------+
 *  |                         req_cons  [S]                         | 2048
 *  +---------------------------------------------------------------+
 *  |                         req_prod  [G]                         | 2052
 *  +---------------------------------------------------------------+
 *  |                         rsp_cons  [G]                         | 2056
 *  +---------------------------------------------------------------+
 *  |                         rsp_prod  [S]                         | 2060
 *  +---------------------------------------------------------------+
 *  |                    server_features  [S]                       | 2064
 *  +---------------------------------------------------------------+
 *  |                    connection  [G asks, S answers]            | 2068
 *  +---------------------------------------------------------------+
 *  |                         error  [S]                            | 2072
 *  +---------------------------------------------------------------+
 * </pre>
 * All fields are unsigned 32-bit little-endian; the page is {@value #LENGTH} bytes. The indexes run freely modulo
 * 2^32 and need not start at 0: byte {@code x} of a stream sits at {@code x & 1023} of its array, and a stream holds
 * {@code prod - cons} bytes, which must never exceed {@value #RING_SIZE}. A reader that sees a larger difference
 * treats the peer as hostile: the server sets {@code error} to {@value #ERROR_RING_INDEX} and stops serving the ring.
 * Each update is announced on the store's event channel; there is no event-index hold-off.
 */
public final class XenStoreRingDescriptor
{
    /** Bytes in each stream, {@code XENSTORE_RING_SIZE}. */
    public static final int RING_SIZE = 1024;

    /** Mask that turns a free-running index into a position in a stream, {@code MASK_XENSTORE_IDX}. */
    public static final int RING_MASK = RING_SIZE - 1;

    /** Offset of {@code req[]}, the guest-to-server stream. */
    public static final int REQ_OFFSET = 0;

    /** Offset of {@code rsp[]}, the server-to-guest stream. */
    public static final int RSP_OFFSET = 1024;

    /** Offset of {@code req_cons}, written by the server. */
    public static final int REQ_CONS_OFFSET = 2048;

    /** Offset of {@code req_prod}, written by the guest. */
    public static final int REQ_PROD_OFFSET = 2052;

    /** Offset of {@code rsp_cons}, written by the guest. */
    public static final int RSP_CONS_OFFSET = 2056;

    /** Offset of {@code rsp_prod}, written by the server. */
    public static final int RSP_PROD_OFFSET = 2060;

    /** Offset of {@code server_features}, a bitmap written by the server. */
    public static final int SERVER_FEATURES_OFFSET = 2064;

    /** Offset of {@code connection}. */
    public static final int CONNECTION_OFFSET = 2068;

    /** Offset of {@code error}, written by the server. */
    public static final int ERROR_OFFSET = 2072;

    /** Bytes of the structure; a ring page must be at least this long. */
    public static final int LENGTH = 2076;

    /** {@code XENSTORE_SERVER_FEATURE_RECONNECTION}: the server can reset the ring; pvio does not offer it. */
    public static final int FEATURE_RECONNECTION = 1;

    /** {@code XENSTORE_SERVER_FEATURE_ERROR}: the server reports errors in the {@code error} field. */
    public static final int FEATURE_ERROR = 2;

    /** {@code XENSTORE_CONNECTED}: the steady state of {@code connection}. */
    public static final int CONNECTED = 0;

    /** {@code XENSTORE_RECONNECT}: a reconnection is in progress. */
    public static final int RECONNECT = 1;

    /** {@code XENSTORE_ERROR_NONE}. */
    public static final int ERROR_NONE = 0;

    /** {@code XENSTORE_ERROR_COMM}: a communication problem, such as the server failing to process a request. */
    public static final int ERROR_COMMUNICATION = 1;

    /** {@code XENSTORE_ERROR_RINGIDX}: an index claimed more bytes than a stream holds. */
    public static final int ERROR_RING_INDEX = 2;

    /** {@code XENSTORE_ERROR_PROTO}: a protocol violation, such as a payload longer than 4096 bytes. */
    public static final int ERROR_PROTOCOL = 3;

    private XenStoreRingDescriptor()
    {
    }

    /**
     * Checks that a buffer can hold a ring page and that its indexes are naturally aligned for atomic access.
     *
     * @param page the buffer.
     * @throws IllegalArgumentException if it is shorter than {@value #LENGTH} bytes.
     * @throws IllegalStateException if it is not 8-byte aligned ({@link AtomicBuffer#verifyAlignment()}).
     */
    public static void checkPage(final AtomicBuffer page)
    {
        if (page.capacity() < LENGTH)
        {
            throw new IllegalArgumentException("ring page too small: capacity=" + page.capacity() +
                " (expected: >= " + LENGTH + ")");
        }
        page.verifyAlignment();
    }

    /**
     * Whether a stream's indexes are consistent.
     *
     * @param prod the producer index.
     * @param cons the consumer index.
     * @return true if {@code 0 <= prod - cons <= RING_SIZE} in unsigned 32-bit arithmetic.
     */
    public static boolean isValidIndexPair(final int prod, final int cons)
    {
        return Integer.compareUnsigned(prod - cons, RING_SIZE) <= 0;
    }
}
