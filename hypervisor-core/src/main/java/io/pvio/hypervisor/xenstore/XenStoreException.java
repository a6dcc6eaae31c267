package io.pvio.hypervisor.xenstore;

/**
 * A XenStore operation failed. The {@link #error()} is what a wire client receives as an {@link XsMessageType#ERROR}
 * reply; the message names the path, domain and values involved. A failed operation leaves the store exactly as it
 * was.
 */
public final class XenStoreException extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    private final XsError error;

    /**
     * Creates the exception.
     *
     * @param error   the errno the operation fails with.
     * @param message what was refused and why, as {@code name=value} pairs.
     */
    public XenStoreException(final XsError error, final String message)
    {
        super(error.wireName() + ": " + message);
        this.error = error;
    }

    /**
     * The errno the operation failed with.
     *
     * @return the error.
     */
    public XsError error()
    {
        return error;
    }
}
