package io.pvio.hypervisor.xenstore;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * Validates one request message and executes it on a {@link XenStoreConnection}, producing its reply: the success
 * payload, or an {@link XsMessageType#ERROR} reply carrying the errno name. It never throws for anything a client
 * sends; malformed requests are {@link XsError#EINVAL}:
 * <ul>
 *   <li>an unknown type code, or a type only the server sends ({@code WATCH_EVENT}, {@code ERROR});</li>
 *   <li>a payload that does not end in a NUL where strings are expected, or the wrong number of strings for the
 *       type;</li>
 *   <li>a path that breaks the {@linkplain XenStorePath path rules}, a malformed permission or domain id.</li>
 * </ul>
 * Types Xen defines but pvio does not serve ({@code CONTROL}, {@code RESUME}, {@code SET_TARGET},
 * {@code DIRECTORY_PART}) are {@link XsError#ENOSYS}. Replies echo the request's type, req_id and tx_id.
 * {@code INTRODUCE}, {@code RELEASE} and {@code IS_DOMAIN_INTRODUCED} are for domain 0 only ({@link XsError#EACCES}).
 */
public final class XsRequestProcessor
{
    private static final byte[] TRUE = { 'T', 0 };
    private static final byte[] FALSE = { 'F', 0 };

    private final XenStore store;

    /**
     * Creates a processor for the connections of one store.
     *
     * @param store the store, for the domain-level requests {@code INTRODUCE} and {@code RELEASE}.
     */
    public XsRequestProcessor(final XenStore store)
    {
        this.store = store;
    }

    /**
     * Processes one request.
     *
     * @param connection the requesting domain's connection.
     * @param request    the request, already framed.
     * @return the reply, never null.
     */
    public XsMessage process(final XenStoreConnection connection, final XsMessage request)
    {
        try
        {
            return execute(connection, request);
        }
        catch (final XenStoreException ex)
        {
            return XsMessage.error(request.reqId(), request.txId(), ex.error());
        }
    }

    private XsMessage execute(final XenStoreConnection connection, final XsMessage request)
    {
        final XsMessageType type = request.messageType();
        if (null == type)
        {
            throw new XenStoreException(XsError.EINVAL, "unknown message type: type=" +
                Integer.toUnsignedString(request.type()) + ", domain=" + connection.domainId());
        }
        if (type.serverOnly())
        {
            throw new XenStoreException(XsError.EINVAL, "message type not valid in a request: type=" + type +
                ", domain=" + connection.domainId());
        }
        final int txId = request.txId();
        switch (type)
        {
            case DIRECTORY:
                return reply(request, joined(connection.directory(txId, arguments(request, 1).get(0))));
            case READ:
                return reply(request, connection.read(txId, arguments(request, 1).get(0)));
            case GET_PERMS:
                return reply(request,
                    joined(connection.getPermissions(txId, arguments(request, 1).get(0)).toStrings()));
            case WATCH:
            {
                final List<String> arguments = arguments(request, 2);
                connection.watch(arguments.get(0), arguments.get(1));
                return ok(request);
            }
            case UNWATCH:
            {
                final List<String> arguments = arguments(request, 2);
                connection.unwatch(arguments.get(0), arguments.get(1));
                return ok(request);
            }
            case TRANSACTION_START:
                return transactionStart(connection, request);
            case TRANSACTION_END:
                return transactionEnd(connection, request);
            case INTRODUCE:
                return introduce(connection, request);
            case RELEASE:
                checkPrivileged(connection, type);
                store.releaseDomain(parseDomain(arguments(request, 1).get(0), connection));
                return ok(request);
            case IS_DOMAIN_INTRODUCED:
                checkPrivileged(connection, type);
                return reply(request,
                    store.isDomainIntroduced(parseDomain(arguments(request, 1).get(0), connection)) ? TRUE : FALSE);
            case GET_DOMAIN_PATH:
                return reply(request, XsMessage.nulTerminated(
                    XenStorePath.domainPath(parseDomain(arguments(request, 1).get(0), connection))));
            case WRITE:
                return write(connection, request);
            case MKDIR:
                connection.mkdir(txId, arguments(request, 1).get(0));
                return ok(request);
            case RM:
                connection.rm(txId, arguments(request, 1).get(0));
                return ok(request);
            case SET_PERMS:
                return setPermissions(connection, request);
            case RESET_WATCHES:
                emptyArgument(request);
                connection.resetWatches();
                return ok(request);
            case CONTROL:
            case RESUME:
            case SET_TARGET:
            case DIRECTORY_PART:
                throw new XenStoreException(XsError.ENOSYS, "message type not served: type=" + type +
                    ", domain=" + connection.domainId());
            default:
                throw new IllegalStateException("request type without a handler: " + type);
        }
    }

    private static XsMessage transactionStart(final XenStoreConnection connection, final XsMessage request)
    {
        emptyArgument(request);
        if (XenStore.NO_TRANSACTION != request.txId())
        {
            throw new XenStoreException(XsError.EBUSY, "transaction started inside a transaction: tx=" +
                Integer.toUnsignedString(request.txId()) + ", domain=" + connection.domainId());
        }
        final int txId = connection.transactionStart();
        return reply(request, XsMessage.nulTerminated(Integer.toUnsignedString(txId)));
    }

    private static XsMessage transactionEnd(final XenStoreConnection connection, final XsMessage request)
    {
        final String argument = arguments(request, 1).get(0);
        final boolean commit;
        if ("T".equals(argument))
        {
            commit = true;
        }
        else if ("F".equals(argument))
        {
            commit = false;
        }
        else
        {
            throw new XenStoreException(XsError.EINVAL, "transaction end must be T or F: argument=" +
                XenStorePath.quote(argument) + ", domain=" + connection.domainId());
        }
        connection.transactionEnd(request.txId(), commit);
        return ok(request);
    }

    private XsMessage introduce(final XenStoreConnection connection, final XsMessage request)
    {
        checkPrivileged(connection, XsMessageType.INTRODUCE);
        final List<String> arguments = arguments(request, 3);
        final int domainId = parseDomain(arguments.get(0), connection);
        if (!isDecimal(arguments.get(1), 20) || !isDecimal(arguments.get(2), 10))
        {
            throw new XenStoreException(XsError.EINVAL, "malformed introduce arguments: mfn=" +
                XenStorePath.quote(arguments.get(1)) + ", port=" + XenStorePath.quote(arguments.get(2)) +
                ", domain=" + connection.domainId());
        }
        if (domainId > XenStore.MAX_DOMAIN_ID)
        {
            throw new XenStoreException(XsError.EINVAL, "domain id out of range: domid=" + domainId +
                " (expected: <= " + XenStore.MAX_DOMAIN_ID + ")");
        }
        store.introduceDomain(domainId);
        return ok(request);
    }

    private static XsMessage write(final XenStoreConnection connection, final XsMessage request)
    {
        final byte[] payload = request.payload();
        int nul = 0;
        while (nul < payload.length && 0 != payload[nul])
        {
            nul++;
        }
        if (nul == payload.length)
        {
            throw new XenStoreException(XsError.EINVAL, "write payload has no NUL after the path: len=" +
                payload.length + ", domain=" + connection.domainId());
        }
        final String path = new String(payload, 0, nul, StandardCharsets.ISO_8859_1);
        connection.write(request.txId(), path, Arrays.copyOfRange(payload, nul + 1, payload.length));
        return ok(request);
    }

    private static XsMessage setPermissions(final XenStoreConnection connection, final XsMessage request)
    {
        final List<String> arguments = request.strings();
        if (arguments.size() < 2)
        {
            throw new XenStoreException(XsError.EINVAL, "set perms needs a path and at least one permission: " +
                "strings=" + arguments.size() + ", domain=" + connection.domainId());
        }
        final XsPermissions permissions = XsPermissions.parse(arguments.subList(1, arguments.size()));
        connection.setPermissions(request.txId(), arguments.get(0), permissions);
        return ok(request);
    }

    private static List<String> arguments(final XsMessage request, final int count)
    {
        final List<String> strings = request.strings();
        if (strings.size() != count)
        {
            throw new XenStoreException(XsError.EINVAL, "wrong number of strings: type=" + request.messageType() +
                ", strings=" + strings.size() + " (expected: " + count + ")");
        }
        return strings;
    }

    /**
     * Requests without arguments carry an empty string ({@code "\0"}); an empty payload is accepted too.
     */
    private static void emptyArgument(final XsMessage request)
    {
        if (0 == request.payloadLength())
        {
            return;
        }
        final List<String> strings = request.strings();
        if (strings.size() != 1 || !strings.get(0).isEmpty())
        {
            throw new XenStoreException(XsError.EINVAL, "expected an empty argument: type=" + request.messageType() +
                ", len=" + request.payloadLength());
        }
    }

    private static void checkPrivileged(final XenStoreConnection connection, final XsMessageType type)
    {
        if (XsPermissions.DOM0 != connection.domainId())
        {
            throw new XenStoreException(XsError.EACCES, "only domain 0 may send " + type + ": domain=" +
                connection.domainId());
        }
    }

    private static int parseDomain(final String text, final XenStoreConnection connection)
    {
        final int domainId = XsPermissions.parseDomain(text, 0);
        if (domainId < 0)
        {
            throw new XenStoreException(XsError.EINVAL, "malformed domain id: domid=" + XenStorePath.quote(text) +
                ", domain=" + connection.domainId());
        }
        return domainId;
    }

    private static boolean isDecimal(final String text, final int maxDigits)
    {
        if (text.isEmpty() || text.length() > maxDigits)
        {
            return false;
        }
        for (int i = 0; i < text.length(); i++)
        {
            final char c = text.charAt(i);
            if (c < '0' || c > '9')
            {
                return false;
            }
        }
        return true;
    }

    private static byte[] joined(final List<String> strings)
    {
        int length = 0;
        for (final String string : strings)
        {
            length += string.length() + 1;
        }
        if (length > XsWireDescriptor.PAYLOAD_MAX)
        {
            throw new XenStoreException(XsError.E2BIG, "reply too long: len=" + length + " (expected: <= " +
                XsWireDescriptor.PAYLOAD_MAX + "), strings=" + strings.size());
        }
        return XsMessage.nulTerminated(strings.toArray(new String[0]));
    }

    private static XsMessage ok(final XsMessage request)
    {
        return XsMessage.ok(request.type(), request.reqId(), request.txId());
    }

    private static XsMessage reply(final XsMessage request, final byte[] payload)
    {
        return new XsMessage(request.type(), request.reqId(), request.txId(), payload);
    }
}
