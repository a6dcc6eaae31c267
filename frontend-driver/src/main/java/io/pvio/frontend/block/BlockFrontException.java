package io.pvio.frontend.block;

/**
 * Why a block I/O failed.
 */
public final class BlockFrontException extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    /**
     * The kind of failure.
     */
    public enum Reason
    {
        /** The back end answered {@code BLKIF_RSP_ERROR}. */
        IO_ERROR,

        /** The back end does not offer the operation, or answered {@code BLKIF_RSP_EOPNOTSUPP}. */
        NOT_SUPPORTED,

        /** The back end broke the protocol; the device is unusable. */
        BROKEN,

        /** The device was closed. */
        CLOSED,

        /** A write or discard on a read-only device. */
        READ_ONLY,

        /** The I/O itself is malformed: length, alignment or range. */
        INVALID_REQUEST
    }

    private final Reason reason;

    /**
     * A failure.
     *
     * @param reason  its kind.
     * @param message what happened, with the values involved.
     */
    public BlockFrontException(final Reason reason, final String message)
    {
        super(reason + ": " + message);
        this.reason = reason;
    }

    /**
     * The kind of failure.
     *
     * @return the reason.
     */
    public Reason reason()
    {
        return reason;
    }
}
