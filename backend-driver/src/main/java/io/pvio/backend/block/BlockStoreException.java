package io.pvio.backend.block;

/**
 * A {@link BlockStore} refused or failed an operation. The message names the operation and the range as
 * {@code name=value} pairs, with sector numbers and counts printed as unsigned 64-bit values, as blkif carries them.
 * <p>
 * This is the store's only error channel for data operations, so blkback catches one type at its agent boundary and
 * answers the request with {@code BLKIF_RSP_ERROR}; {@link #reason()} tells a guest's bad range apart from a failing
 * disk. Wrong arguments to factories and constructors are {@link IllegalArgumentException}s instead.
 */
public final class BlockStoreException extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    /**
     * Why the operation did not happen.
     */
    public enum Reason
    {
        /** The store was closed before or during the operation. */
        CLOSED,

        /** A write or discard on a read-only store. */
        READ_ONLY,

        /** A byte length or sector count that is negative or not a whole number of logical blocks. */
        BAD_LENGTH,

        /** A start sector that is not on a logical block boundary (stores with a sector size above 512). */
        MISALIGNED,

        /** The range reaches past the end of the device, or {@code sector + count} wraps around 2^64. */
        OUT_OF_RANGE,

        /** The underlying file or device reported an error; the cause holds it. */
        IO_ERROR
    }

    private final Reason reason;

    /**
     * Creates the exception.
     *
     * @param reason  why the operation did not happen.
     * @param message the operation and the values involved, as {@code name=value} pairs.
     */
    public BlockStoreException(final Reason reason, final String message)
    {
        super(reason + ": " + message);
        this.reason = reason;
    }

    /**
     * Creates the exception with the error that caused it.
     *
     * @param reason  why the operation did not happen.
     * @param message the operation and the values involved, as {@code name=value} pairs.
     * @param cause   the underlying error.
     */
    public BlockStoreException(final Reason reason, final String message, final Throwable cause)
    {
        super(reason + ": " + message, cause);
        this.reason = reason;
    }

    /**
     * Why the operation did not happen.
     *
     * @return the reason.
     */
    public Reason reason()
    {
        return reason;
    }
}
