package io.pvio.ring.blkif;

/**
 * Response status codes, {@code BLKIF_RSP_*} in Xen's {@code io/blkif.h}: the signed 16-bit {@code status} of every
 * response.
 */
public enum BlkifStatus
{
    /** {@code BLKIF_RSP_OKAY}: the operation completed successfully. */
    OKAY(0),

    /** {@code BLKIF_RSP_ERROR}: the operation failed (an I/O error, or a request the back end refused). */
    ERROR(-1),

    /**
     * {@code BLKIF_RSP_EOPNOTSUPP}: the operation is not supported; the front end stops using the optional feature
     * it belongs to.
     */
    EOPNOTSUPP(-2);

    private final short value;

    BlkifStatus(final int value)
    {
        this.value = (short)value;
    }

    /**
     * The code on the wire.
     *
     * @return the {@code status} value: 0, -1 or -2.
     */
    public short value()
    {
        return value;
    }

    /**
     * The status with the given code.
     *
     * @param value a {@code status} field.
     * @return the status.
     * @throws IllegalArgumentException if no status has that code.
     */
    public static BlkifStatus get(final int value)
    {
        switch (value)
        {
            case 0:
                return OKAY;
            case -1:
                return ERROR;
            case -2:
                return EOPNOTSUPP;
            default:
                throw new IllegalArgumentException(
                    "unknown blkif status: status=" + value + " (expected: 0, -1 or -2)");
        }
    }
}
