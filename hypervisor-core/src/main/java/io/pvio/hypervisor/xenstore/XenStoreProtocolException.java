package io.pvio.hypervisor.xenstore;

/**
 * The peer broke the XenStore transport: an impossible ring index or a message longer than the protocol allows.
 * Unlike an {@link XenStoreException}, which answers one request, this ends the connection; {@link #ringError()} is
 * the value the server stores in the ring page's {@code error} field.
 */
public final class XenStoreProtocolException extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    private final int ringError;

    /**
     * Creates the exception.
     *
     * @param ringError one of {@link XenStoreRingDescriptor#ERROR_RING_INDEX},
     *                  {@link XenStoreRingDescriptor#ERROR_PROTOCOL} or
     *                  {@link XenStoreRingDescriptor#ERROR_COMMUNICATION}.
     * @param message   the values involved, as {@code name=value} pairs.
     */
    public XenStoreProtocolException(final int ringError, final String message)
    {
        super(message);
        this.ringError = ringError;
    }

    /**
     * The {@code error} field value that describes the violation ({@code XENSTORE_ERROR_*}).
     *
     * @return the error code.
     */
    public int ringError()
    {
        return ringError;
    }
}
