package io.pvio.ring.blkif;

/**
 * Layout of a blkif response, byte for byte as Xen's {@code io/blkif.h} lays out {@code struct blkif_response} on
 * the x86_64 (and Arm) ABI. Little-endian. The response is written in place over the slot of the request it answers
 * and must fill every byte, padding included, so that no stale back-end memory reaches the front end (XSA-216).
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                 id (copied from the request)                  |   0
 *  +                                                               +
 *  |                                                               |   4
 *  +---------------+---------------+-------------------------------+
 *  |   operation   |     (pad)     |         status (i16)          |   8
 *  +---------------+---------------+-------------------------------+
 *  |                      (pad, x86_64 only)                       |  12
 *  +---------------------------------------------------------------+
 *                                                                     16
 * </pre>
 */
public final class BlkifResponseDescriptor
{
    /** Offset of {@code id} (u64), the request's {@code id} echoed unchanged. */
    public static final int ID_OFFSET = 0;

    /** Offset of {@code operation} (u8), the request's {@code operation} echoed. */
    public static final int OPERATION_OFFSET = 8;

    /** Offset of the byte of padding that aligns {@code status}. */
    public static final int PAD_OFFSET = 9;

    /** Offset of {@code status} (i16), a {@link BlkifStatus} value. */
    public static final int STATUS_OFFSET = 10;

    /** Offset of the 4 bytes of padding that round the struct up to its 8-byte alignment. */
    public static final int TAIL_PAD_OFFSET = 12;

    /** Length of the padding at {@link #TAIL_PAD_OFFSET}. */
    public static final int TAIL_PAD_LENGTH = 4;

    /** {@code sizeof(struct blkif_response)}. */
    public static final int RESPONSE_LENGTH = 16;

    private BlkifResponseDescriptor()
    {
    }
}
