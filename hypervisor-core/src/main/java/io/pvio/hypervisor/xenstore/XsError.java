package io.pvio.hypervisor.xenstore;

import java.nio.charset.StandardCharsets;

/**
 * Errors a XenStore operation can fail with. On the wire an {@link XsMessageType#ERROR} reply carries the constant's
 * {@linkplain #wireName() name} followed by a NUL, as {@code xsd_errors} in Xen's {@code io/xs_wire.h} spells them.
 * <p>
 * pvio produces: {@link #ENOENT}, {@link #EACCES}, {@link #EINVAL}, {@link #E2BIG}, {@link #EQUOTA}, {@link #EAGAIN},
 * {@link #EEXIST} (a duplicate watch), {@link #EBUSY} (a transaction started inside a transaction), {@link #EPERM}
 * (a guest giving a node away) and {@link #ENOSYS} (a message type known to Xen that pvio does not serve). The other
 * names are listed so that a client can decode every reply a real {@code xenstored} sends.
 */
public enum XsError
{
    /** Invalid argument: malformed payload, bad path, unknown message type. */
    EINVAL,

    /** Permission denied by the node's permissions, or a privileged operation asked for by a guest. */
    EACCES,

    /** Already exists: the connection already has a watch with this path and token. */
    EEXIST,

    /** Is a directory; listed for completeness, not produced by pvio. */
    EISDIR,

    /** No such node, transaction or watch. */
    ENOENT,

    /** Out of memory; listed for completeness, not produced by pvio. */
    ENOMEM,

    /** No space; C {@code xenstored} reports quota violations with this name, pvio uses {@link #EQUOTA}. */
    ENOSPC,

    /** I/O error; listed for completeness, not produced by pvio. */
    EIO,

    /** Directory not empty; listed for completeness, not produced by pvio ({@code RM} is recursive). */
    ENOTEMPTY,

    /** Not implemented: a message type defined by Xen that this server does not serve. */
    ENOSYS,

    /** Read-only store; listed for completeness, not produced by pvio. */
    EROFS,

    /** Busy: a {@code TRANSACTION_START} was sent inside a transaction. */
    EBUSY,

    /** Try again: a transaction conflicted with a concurrent change and was not committed. */
    EAGAIN,

    /** Already connected; listed for completeness, not produced by pvio. */
    EISCONN,

    /** Too big: a value over 4096 bytes, a reply over the payload limit, or too many permission entries. */
    E2BIG,

    /** Not permitted: a guest tried to change a node's owner. */
    EPERM,

    /**
     * A per-domain quota (nodes owned, watches, open transactions) would be exceeded. This is the name the OCaml
     * {@code oxenstored} sends; C {@code xenstored} sends {@link #ENOSPC} for the same condition.
     */
    EQUOTA;

    private static final XsError[] VALUES = values();

    private final byte[] wirePayload;

    XsError()
    {
        final byte[] name = name().getBytes(StandardCharsets.US_ASCII);
        final byte[] payload = new byte[name.length + 1];
        System.arraycopy(name, 0, payload, 0, name.length);
        this.wirePayload = payload;
    }

    /**
     * The name sent on the wire, without the terminating NUL.
     *
     * @return the errno name, for example {@code "ENOENT"}.
     */
    public String wireName()
    {
        return name();
    }

    /**
     * The payload of an {@link XsMessageType#ERROR} reply: the name followed by a NUL.
     *
     * @return a fresh copy of the payload bytes.
     */
    public byte[] wirePayload()
    {
        return wirePayload.clone();
    }

    /**
     * Looks an error up by its wire name.
     *
     * @param wireName the name without its NUL, for example {@code "EAGAIN"}.
     * @return the error, or null if the name is not one of these.
     */
    public static XsError fromWireName(final String wireName)
    {
        for (final XsError error : VALUES)
        {
            if (error.name().equals(wireName))
            {
                return error;
            }
        }
        return null;
    }
}
