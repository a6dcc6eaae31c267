package io.pvio.frontend.block;

/**
 * The outcome of checking one blkif response against the requests in flight, as returned by
 * {@link BlockFrontShadow#complete(long, int, int)}. Anything but {@link #OK} means the back end broke the protocol:
 * the shadow is left unchanged and the caller marks the device broken (Linux: "disabled for further use").
 */
public enum ResponseVerdict
{
    /** The response matched a request in flight; the request completed and its id is free again. */
    OK("response accepted"),

    /** The response {@code id}, read as an unsigned 64-bit value, is not below the ring size. */
    UNKNOWN_ID("response id out of range"),

    /** The response {@code id} is in range but no request with that id is in flight, e.g. a duplicate response. */
    NOT_IN_FLIGHT("response id not in flight"),

    /** The response {@code operation} is not the operation of the request with that id. */
    OPERATION_MISMATCH("response operation does not match request");

    private final String description;

    ResponseVerdict(final String description)
    {
        this.description = description;
    }

    /**
     * A short constant text for logs, without the offending values (see
     * {@link BlockFrontShadow#describe(ResponseVerdict, long, int)} for those).
     *
     * @return the description, never null.
     */
    public String description()
    {
        return description;
    }
}
