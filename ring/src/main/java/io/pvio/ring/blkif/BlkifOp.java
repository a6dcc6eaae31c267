package io.pvio.ring.blkif;

/**
 * Request operation codes, {@code BLKIF_OP_*} in Xen's {@code io/blkif.h}. The code is the {@code operation} byte of
 * every request; {@link #value()} equals {@link #ordinal()}.
 */
public enum BlkifOp
{
    /** {@code BLKIF_OP_READ}: read sectors into the granted pages. */
    READ(0),

    /** {@code BLKIF_OP_WRITE}: write sectors from the granted pages. */
    WRITE(1),

    /**
     * {@code BLKIF_OP_WRITE_BARRIER}: writes issued before it complete before it, later ones wait for it. Optional,
     * needs {@code feature-barrier}.
     */
    WRITE_BARRIER(2),

    /**
     * {@code BLKIF_OP_FLUSH_DISKCACHE}: commit the device's volatile cache. Optional, needs
     * {@code feature-flush-cache}; usually sent with no segments.
     */
    FLUSH_DISKCACHE(3),

    /** {@code BLKIF_OP_RESERVED_1}: reserved for a vendor's device-specific commands; never valid here. */
    RESERVED_1(4),

    /**
     * {@code BLKIF_OP_DISCARD}: the sectors are no longer in use (trim/unmap); the request has the discard layout.
     * Optional, needs {@code feature-discard}.
     */
    DISCARD(5),

    /**
     * {@code BLKIF_OP_INDIRECT}: a read or write whose segments sit in separately granted pages; the request has the
     * indirect layout. Optional, needs {@code feature-max-indirect-segments}.
     */
    INDIRECT(6);

    private static final BlkifOp[] BY_VALUE = values();

    private final byte value;

    BlkifOp(final int value)
    {
        this.value = (byte)value;
    }

    /**
     * The code on the wire.
     *
     * @return the {@code operation} byte, 0 to 6.
     */
    public byte value()
    {
        return value;
    }

    /**
     * Whether {@code value} is one of the defined codes (0 to 6); {@link #RESERVED_1} counts as defined.
     *
     * @param value an {@code operation} byte widened to an {@code int}, unsigned (0 to 255) or not.
     * @return true if {@link #get(int)} would return a constant.
     */
    public static boolean isKnown(final int value)
    {
        return value >= 0 && value < BY_VALUE.length;
    }

    /**
     * The operation with the given code.
     *
     * @param value an {@code operation} byte widened to an {@code int} (0 to 255).
     * @return the operation.
     * @throws IllegalArgumentException if no operation has that code.
     */
    public static BlkifOp get(final int value)
    {
        if (!isKnown(value))
        {
            throw new IllegalArgumentException(
                "unknown blkif operation: operation=" + value + " (expected: 0 <= operation <= " +
                (BY_VALUE.length - 1) + ")");
        }
        return BY_VALUE[value];
    }
}
