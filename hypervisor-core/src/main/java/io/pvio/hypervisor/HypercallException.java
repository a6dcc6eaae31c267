package io.pvio.hypervisor;

/**
 * A hypercall failed; the domain that made it gets the errno, and nothing changed.
 */
public final class HypercallException extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    private final Errno errno;

    /**
     * Creates the exception.
     *
     * @param errno   what a real hypercall would return.
     * @param message the caller, the call and the values involved.
     */
    public HypercallException(final Errno errno, final String message)
    {
        super(errno + ": " + message);
        this.errno = errno;
    }

    /**
     * The error code.
     *
     * @return the errno.
     */
    public Errno errno()
    {
        return errno;
    }
}
