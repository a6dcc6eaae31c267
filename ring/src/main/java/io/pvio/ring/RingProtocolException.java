package io.pvio.ring;

/**
 * The peer broke the ring protocol: its producer index claims entries that cannot exist. The ring that detected it
 * is {@linkplain RingEnd#isBroken() broken} from then on; the owner should cut the peer off (disconnect the device)
 * without touching anything else.
 */
public final class RingProtocolException extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    /**
     * What the peer did wrong.
     */
    public enum Reason
    {
        /**
         * Back end saw {@code req_prod - rsp_prod_pvt > RING_SIZE}: more requests than slots
         * ({@code RING_REQUEST_PROD_OVERFLOW}).
         */
        REQUEST_PRODUCER_OVERFLOW,

        /** Back end saw {@code req_prod} move behind requests it had already consumed. */
        REQUEST_PRODUCER_BACKWARDS,

        /** Front end saw {@code rsp_prod} claim responses to requests it never published. */
        RESPONSE_PRODUCER_OVERFLOW,

        /** Front end saw {@code rsp_prod} move behind responses it had already consumed. */
        RESPONSE_PRODUCER_BACKWARDS,

        /** On attach, the live indexes describe more outstanding entries than the ring holds. */
        ATTACH_INCONSISTENT
    }

    private final Reason reason;

    /**
     * Creates the exception.
     *
     * @param reason  what was violated.
     * @param message the values involved, as {@code name=value} pairs.
     */
    public RingProtocolException(final Reason reason, final String message)
    {
        super(reason + ": " + message);
        this.reason = reason;
    }

    /**
     * What the peer did wrong.
     *
     * @return the reason.
     */
    public Reason reason()
    {
        return reason;
    }
}
