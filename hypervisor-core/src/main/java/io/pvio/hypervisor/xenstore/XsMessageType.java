package io.pvio.hypervisor.xenstore;

/**
 * Message types of the XenStore wire protocol, {@code enum xsd_sockmsg_type} in Xen's {@code io/xs_wire.h}, with
 * their wire codes. The request and reply payloads are described on each constant; "path" is NUL-terminated, "OK"
 * is the reply {@code "OK\0"}.
 */
public enum XsMessageType
{
    /** {@code XS_CONTROL} (alias {@code XS_DEBUG}): implementation-specific commands; not served by pvio. */
    CONTROL(0),

    /** {@code XS_DIRECTORY}: path; reply is each child name followed by a NUL. */
    DIRECTORY(1),

    /** {@code XS_READ}: path; reply is the value, raw, with no NUL. */
    READ(2),

    /** {@code XS_GET_PERMS}: path; reply is each permission string followed by a NUL. */
    GET_PERMS(3),

    /** {@code XS_WATCH}: path, token; OK. The header's tx_id is ignored. */
    WATCH(4),

    /** {@code XS_UNWATCH}: path, token; OK. */
    UNWATCH(5),

    /** {@code XS_TRANSACTION_START}: an empty string, header tx_id 0; reply is the decimal transaction id. */
    TRANSACTION_START(6),

    /** {@code XS_TRANSACTION_END}: {@code "T"} to commit or {@code "F"} to abort the header's tx_id; OK or EAGAIN. */
    TRANSACTION_END(7),

    /** {@code XS_INTRODUCE}: domid, mfn, event port; OK. Domain 0 only. */
    INTRODUCE(8),

    /** {@code XS_RELEASE}: domid; OK. Domain 0 only. */
    RELEASE(9),

    /** {@code XS_GET_DOMAIN_PATH}: domid; reply is {@code /local/domain/<domid>}. */
    GET_DOMAIN_PATH(10),

    /** {@code XS_WRITE}: path, then the value with no NUL; OK. */
    WRITE(11),

    /** {@code XS_MKDIR}: path; OK. */
    MKDIR(12),

    /** {@code XS_RM}: path; OK. */
    RM(13),

    /** {@code XS_SET_PERMS}: path, then one or more permission strings; OK. */
    SET_PERMS(14),

    /** {@code XS_WATCH_EVENT}: server to client only, req_id and tx_id 0; path, token. */
    WATCH_EVENT(15),

    /** {@code XS_ERROR}: server to client only; the errno name. */
    ERROR(16),

    /** {@code XS_IS_DOMAIN_INTRODUCED}: domid; reply {@code "T"} or {@code "F"}. Domain 0 only. */
    IS_DOMAIN_INTRODUCED(17),

    /** {@code XS_RESUME}: domid; not served by pvio. */
    RESUME(18),

    /** {@code XS_SET_TARGET}: domid, target domid; not served by pvio. */
    SET_TARGET(19),

    /** {@code XS_RESET_WATCHES}: an empty string; OK. Drops the connection's watches and transactions. */
    RESET_WATCHES(21),

    /** {@code XS_DIRECTORY_PART}: path, offset; not served by pvio. */
    DIRECTORY_PART(22),

    /** {@code XS_INVALID}: guaranteed never to be a valid type. */
    INVALID(0xFFFF);

    private static final XsMessageType[] BY_CODE = new XsMessageType[DIRECTORY_PART.code + 1];

    static
    {
        for (final XsMessageType type : values())
        {
            if (type.code < BY_CODE.length)
            {
                BY_CODE[type.code] = type;
            }
        }
    }

    private final int code;

    XsMessageType(final int code)
    {
        this.code = code;
    }

    /**
     * The value of the header's {@code type} field.
     *
     * @return the wire code.
     */
    public int code()
    {
        return code;
    }

    /**
     * Whether only a server sends this type ({@code WATCH_EVENT}, {@code ERROR}, {@code INVALID}): a client sending
     * it has broken the protocol.
     *
     * @return true for a type that is never a request.
     */
    public boolean serverOnly()
    {
        return WATCH_EVENT == this || ERROR == this || INVALID == this;
    }

    /**
     * The type a wire code stands for.
     *
     * @param code the header's {@code type} field, as an unsigned 32-bit value in an {@code int}.
     * @return the type, or null for a code Xen does not define (20 is the removed {@code XS_RESTRICT}).
     */
    public static XsMessageType fromCode(final int code)
    {
        if (code >= 0 && code < BY_CODE.length)
        {
            return BY_CODE[code];
        }
        return INVALID.code == code ? INVALID : null;
    }
}
