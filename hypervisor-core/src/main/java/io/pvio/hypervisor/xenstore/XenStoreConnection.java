package io.pvio.hypervisor.xenstore;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * One domain's session with the {@link XenStore}: every operation acts as that domain, with its permissions and
 * quotas, and relative paths resolve under its {@linkplain #domainPath() domain path}. Operations may be called from
 * any thread. Watch events are queued on the connection and handed to the owner only when the owner calls
 * {@link #pollWatchEvents(WatchEventHandler, int)} on its own thread; the wake-up given to
 * {@link XenStore#connect(int, Runnable)} tells it when to poll.
 * <p>
 * Every operation takes a transaction id, {@link XenStore#NO_TRANSACTION} for none, or has an overload without
 * one. A failed operation throws {@link XenStoreException} with the errno a wire client would receive and changes
 * nothing. Using a closed connection throws {@link IllegalStateException}.
 */
public final class XenStoreConnection implements AutoCloseable
{
    /**
     * The body of a transaction, run by {@link #transaction(int, TransactionBody)} once per attempt.
     *
     * @param <T> what the body returns.
     */
    @FunctionalInterface
    public interface TransactionBody<T>
    {
        /**
         * Performs the transaction's reads and writes, passing {@code txId} to each; may run several times.
         *
         * @param txId the transaction of this attempt.
         * @return the body's result, returned once a commit succeeds.
         */
        T run(int txId);
    }

    private final XenStore store;
    private final int domainId;
    private final String domainPath;
    private final Runnable wakeUp;
    private final XsWatchEventQueue queue;
    private volatile boolean closed;

    XenStoreConnection(
        final XenStore store, final int domainId, final Runnable wakeUp, final XsWatchEventQueue queue)
    {
        this.store = store;
        this.domainId = domainId;
        this.domainPath = XenStorePath.domainPath(domainId);
        this.wakeUp = wakeUp;
        this.queue = queue;
    }

    /**
     * The domain this connection acts as.
     *
     * @return the domain id.
     */
    public int domainId()
    {
        return domainId;
    }

    /**
     * Where this domain's relative paths resolve, {@code GET_DOMAIN_PATH} of itself.
     *
     * @return {@code /local/domain/<domainId>}.
     */
    public String domainPath()
    {
        return domainPath;
    }

    /**
     * Reads a node's value.
     *
     * @param txId transaction id, or {@link XenStore#NO_TRANSACTION}.
     * @param path absolute, or relative to the domain path.
     * @return a copy of the value.
     * @throws XenStoreException {@link XsError#ENOENT} if missing, {@link XsError#EACCES} if not readable,
     *                           {@link XsError#EINVAL} for a bad path.
     */
    public byte[] read(final int txId, final String path)
    {
        return store.read(this, txId, path);
    }

    /**
     * Reads a node's value outside any transaction.
     *
     * @param path absolute, or relative to the domain path.
     * @return a copy of the value.
     * @throws XenStoreException as {@link #read(int, String)}.
     */
    public byte[] read(final String path)
    {
        return read(XenStore.NO_TRANSACTION, path);
    }

    /**
     * Reads a node's value as UTF-8 text.
     *
     * @param txId transaction id, or {@link XenStore#NO_TRANSACTION}.
     * @param path absolute, or relative to the domain path.
     * @return the value decoded as UTF-8.
     * @throws XenStoreException as {@link #read(int, String)}.
     */
    public String readString(final int txId, final String path)
    {
        return new String(read(txId, path), StandardCharsets.UTF_8);
    }

    /**
     * Reads a node's value as UTF-8 text outside any transaction.
     *
     * @param path absolute, or relative to the domain path.
     * @return the value decoded as UTF-8.
     * @throws XenStoreException as {@link #read(int, String)}.
     */
    public String readString(final String path)
    {
        return readString(XenStore.NO_TRANSACTION, path);
    }

    /**
     * Writes a node's value, creating the node and any missing ancestors. New nodes inherit the permissions of the
     * nearest existing ancestor; a guest becomes the owner of the nodes it creates.
     *
     * @param txId  transaction id, or {@link XenStore#NO_TRANSACTION}.
     * @param path  absolute, or relative to the domain path.
     * @param value at most {@value XenStoreLimits#MAX_VALUE_LENGTH} bytes; copied.
     * @throws XenStoreException {@link XsError#EACCES} without write permission on the node or, when creating, on
     *                           its nearest existing ancestor; {@link XsError#E2BIG} for a value that is too long;
     *                           {@link XsError#EQUOTA} if the node quota would be exceeded; {@link XsError#EINVAL}
     *                           for a bad path.
     */
    public void write(final int txId, final String path, final byte[] value)
    {
        final String absolutePath = XenStorePath.resolve(domainId, path);
        final byte[] copy = value.clone();
        store.mutate(this, txId, editor -> editor.write(absolutePath, copy));
    }

    /**
     * Writes a node's value outside any transaction.
     *
     * @param path  absolute, or relative to the domain path.
     * @param value at most {@value XenStoreLimits#MAX_VALUE_LENGTH} bytes; copied.
     * @throws XenStoreException as {@link #write(int, String, byte[])}.
     */
    public void write(final String path, final byte[] value)
    {
        write(XenStore.NO_TRANSACTION, path, value);
    }

    /**
     * Writes a node's value as UTF-8 text.
     *
     * @param txId  transaction id, or {@link XenStore#NO_TRANSACTION}.
     * @param path  absolute, or relative to the domain path.
     * @param value the text; its UTF-8 encoding is stored, without a NUL.
     * @throws XenStoreException as {@link #write(int, String, byte[])}.
     */
    public void write(final int txId, final String path, final String value)
    {
        write(txId, path, value.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Writes a node's value as UTF-8 text outside any transaction.
     *
     * @param path  absolute, or relative to the domain path.
     * @param value the text; its UTF-8 encoding is stored, without a NUL.
     * @throws XenStoreException as {@link #write(int, String, byte[])}.
     */
    public void write(final String path, final String value)
    {
        write(XenStore.NO_TRANSACTION, path, value);
    }

    /**
     * Creates a node with an empty value, and any missing ancestors; an existing node is left as it is.
     *
     * @param txId transaction id, or {@link XenStore#NO_TRANSACTION}.
     * @param path absolute, or relative to the domain path.
     * @throws XenStoreException {@link XsError#EACCES} without write permission on an existing node or on the
     *                           nearest existing ancestor; {@link XsError#EQUOTA}; {@link XsError#EINVAL}.
     */
    public void mkdir(final int txId, final String path)
    {
        final String absolutePath = XenStorePath.resolve(domainId, path);
        store.mutate(this, txId, editor -> editor.mkdir(absolutePath));
    }

    /**
     * Creates a node outside any transaction.
     *
     * @param path absolute, or relative to the domain path.
     * @throws XenStoreException as {@link #mkdir(int, String)}.
     */
    public void mkdir(final String path)
    {
        mkdir(XenStore.NO_TRANSACTION, path);
    }

    /**
     * Removes a node and everything below it. Removing a missing node whose parent exists succeeds.
     *
     * @param txId transaction id, or {@link XenStore#NO_TRANSACTION}.
     * @param path absolute, or relative to the domain path; not the root.
     * @throws XenStoreException {@link XsError#EACCES} without write permission on the node; {@link XsError#ENOENT}
     *                           if the parent is missing too; {@link XsError#EINVAL} for the root or a bad path.
     */
    public void rm(final int txId, final String path)
    {
        final String absolutePath = XenStorePath.resolve(domainId, path);
        store.mutate(this, txId, editor -> editor.rm(absolutePath));
    }

    /**
     * Removes a node and everything below it outside any transaction.
     *
     * @param path absolute, or relative to the domain path; not the root.
     * @throws XenStoreException as {@link #rm(int, String)}.
     */
    public void rm(final String path)
    {
        rm(XenStore.NO_TRANSACTION, path);
    }

    /**
     * Lists a node's children.
     *
     * @param txId transaction id, or {@link XenStore#NO_TRANSACTION}.
     * @param path absolute, or relative to the domain path.
     * @return the child names in ascending order.
     * @throws XenStoreException as {@link #read(int, String)}.
     */
    public List<String> directory(final int txId, final String path)
    {
        return store.directory(this, txId, path);
    }

    /**
     * Lists a node's children outside any transaction.
     *
     * @param path absolute, or relative to the domain path.
     * @return the child names in ascending order.
     * @throws XenStoreException as {@link #read(int, String)}.
     */
    public List<String> directory(final String path)
    {
        return directory(XenStore.NO_TRANSACTION, path);
    }

    /**
     * Reads a node's permissions.
     *
     * @param txId transaction id, or {@link XenStore#NO_TRANSACTION}.
     * @param path absolute, or relative to the domain path.
     * @return the permissions.
     * @throws XenStoreException as {@link #read(int, String)}.
     */
    public XsPermissions getPermissions(final int txId, final String path)
    {
        return store.getPermissions(this, txId, path);
    }

    /**
     * Reads a node's permissions outside any transaction.
     *
     * @param path absolute, or relative to the domain path.
     * @return the permissions.
     * @throws XenStoreException as {@link #read(int, String)}.
     */
    public XsPermissions getPermissions(final String path)
    {
        return getPermissions(XenStore.NO_TRANSACTION, path);
    }

    /**
     * Replaces a node's permissions. Only the owner and domain 0 may; only domain 0 may change the owner.
     *
     * @param txId        transaction id, or {@link XenStore#NO_TRANSACTION}.
     * @param path        absolute, or relative to the domain path.
     * @param permissions the new permissions.
     * @throws XenStoreException {@link XsError#EACCES} if neither owner nor domain 0; {@link XsError#EPERM} if a
     *                           guest names another owner; {@link XsError#ENOENT} if missing; {@link XsError#E2BIG}
     *                           for too many entries; {@link XsError#EINVAL} for a bad path.
     */
    public void setPermissions(final int txId, final String path, final XsPermissions permissions)
    {
        final String absolutePath = XenStorePath.resolve(domainId, path);
        store.mutate(this, txId, editor -> editor.setPermissions(absolutePath, permissions));
    }

    /**
     * Replaces a node's permissions outside any transaction.
     *
     * @param path        absolute, or relative to the domain path.
     * @param permissions the new permissions.
     * @throws XenStoreException as {@link #setPermissions(int, String, XsPermissions)}.
     */
    public void setPermissions(final String path, final XsPermissions permissions)
    {
        setPermissions(XenStore.NO_TRANSACTION, path, permissions);
    }

    /**
     * Sets a watch. It fires once at once, then for every change at or below {@code path} that this domain may see.
     *
     * @param path  absolute, relative, or a special path such as {@value XenStorePath#RELEASE_DOMAIN}.
     * @param token returned with every event; at most {@value XenStore#MAX_TOKEN_LENGTH} characters, each 1 to 255.
     * @throws XenStoreException {@link XsError#EEXIST} if this connection has the same watch already;
     *                           {@link XsError#EQUOTA} if the domain's watch quota is used up; {@link XsError#EINVAL}
     *                           for a bad path or token.
     */
    public void watch(final String path, final String token)
    {
        store.watch(this, path, token);
    }

    /**
     * Removes a watch. Events it already queued may still be delivered.
     *
     * @param path  the path as given to {@link #watch(String, String)}, or another spelling of the same node.
     * @param token the token.
     * @throws XenStoreException {@link XsError#ENOENT} if this connection has no such watch; {@link XsError#EINVAL}
     *                           for a bad path.
     */
    public void unwatch(final String path, final String token)
    {
        store.unwatch(this, path, token);
    }

    /**
     * Removes every watch of this connection and ends its open transactions without committing them,
     * {@code RESET_WATCHES}.
     */
    public void resetWatches()
    {
        store.resetWatches(this);
    }

    /**
     * Starts a transaction on a snapshot of the store.
     *
     * @return the transaction id, never {@link XenStore#NO_TRANSACTION}.
     * @throws XenStoreException {@link XsError#EQUOTA} if the domain has too many open transactions.
     */
    public int transactionStart()
    {
        return store.transactionStart(this);
    }

    /**
     * Ends a transaction. It is closed whatever the outcome.
     *
     * @param txId   the transaction.
     * @param commit true to commit, false to abort.
     * @throws XenStoreException {@link XsError#EAGAIN} if a node the transaction depended on changed since it
     *                           started (redo the whole transaction); {@link XsError#ENOENT} if this connection has no
     *                           such transaction; {@link XsError#EQUOTA} if replaying its writes would now exceed the
     *                           node quota.
     */
    public void transactionEnd(final int txId, final boolean commit)
    {
        store.transactionEnd(this, txId, commit);
    }

    /**
     * Runs {@code body} in a transaction and commits it, starting over with a new transaction each time the commit
     * fails with {@link XsError#EAGAIN}, as Linux front ends publish their ring keys. If the body throws, the
     * transaction is aborted and the exception propagates.
     *
     * @param maxAttempts most transactions to try, at least 1.
     * @param body        the reads and writes; it must pass its {@code txId} to each and may run several times.
     * @param <T>         what the body returns.
     * @return the body's result from the attempt that committed.
     * @throws XenStoreException the last {@link XsError#EAGAIN} after {@code maxAttempts} conflicts, or any other
     *                           failure of the body or the commit.
     * @throws IllegalArgumentException if {@code maxAttempts} is less than 1.
     */
    public <T> T transaction(final int maxAttempts, final TransactionBody<T> body)
    {
        if (maxAttempts < 1)
        {
            throw new IllegalArgumentException("maxAttempts must be at least 1: maxAttempts=" + maxAttempts);
        }
        int attempt = 1;
        while (true)
        {
            final int txId = transactionStart();
            final T result;
            try
            {
                result = body.run(txId);
            }
            catch (final RuntimeException ex)
            {
                abortQuietly(txId);
                throw ex;
            }
            try
            {
                transactionEnd(txId, true);
                return result;
            }
            catch (final XenStoreException ex)
            {
                if (XsError.EAGAIN != ex.error() || attempt >= maxAttempts)
                {
                    throw ex;
                }
            }
            attempt++;
        }
    }

    /**
     * Hands up to {@code limit} queued watch events to {@code handler}, oldest first, on the calling thread. Call it
     * from the owner's thread whenever the wake-up has run, and until it returns less than {@code limit}. An event
     * whose handler throws counts as delivered.
     *
     * @param handler receives each event.
     * @param limit   most events to deliver.
     * @return events delivered.
     */
    public int pollWatchEvents(final WatchEventHandler handler, final int limit)
    {
        final XsWatchEventQueue queue = this.queue;
        int delivered = 0;
        while (delivered < limit)
        {
            final WatchEvent event = queue.poll();
            if (null == event)
            {
                break;
            }
            delivered++;
            handler.onWatchEvent(event.path(), event.token());
        }
        return delivered;
    }

    /**
     * Removes and returns the oldest queued watch event; for owners that move events elsewhere, such as the ring
     * server writing them to a response ring.
     *
     * @return the event, or null if none is queued.
     */
    public WatchEvent pollWatchEvent()
    {
        return queue.poll();
    }

    /**
     * Watch events queued and not yet polled.
     *
     * @return the count, at most {@link XenStoreLimits#maxPendingWatchEvents()}.
     */
    public int pendingWatchEvents()
    {
        return queue.size();
    }

    /**
     * Watch events dropped because the queue was full. When this grows, the owner has missed changes and must read
     * the nodes it cares about again.
     *
     * @return the count since the connection opened.
     */
    public long droppedWatchEvents()
    {
        return queue.dropped();
    }

    /**
     * Watch events merged into an identical event (same path and token) that was still queued.
     *
     * @return the count since the connection opened.
     */
    public long coalescedWatchEvents()
    {
        return queue.coalesced();
    }

    /**
     * Whether the connection is closed, by {@link #close()} or because its domain was released.
     *
     * @return true once closed.
     */
    public boolean isClosed()
    {
        return closed;
    }

    /**
     * Closes the connection: its watches are removed, its open transactions aborted and its queued events dropped.
     * Closing twice does nothing.
     */
    @Override
    public void close()
    {
        store.close(this);
    }

    /**
     * {@inheritDoc}
     */
    @Override
    public String toString()
    {
        return "XenStoreConnection{domain=" + domainId + ", closed=" + closed + "}";
    }

    XsWatchEventQueue queue()
    {
        return queue;
    }

    Runnable wakeUp()
    {
        return wakeUp;
    }

    /**
     * @return true if this call closed the connection.
     */
    boolean markClosed()
    {
        if (closed)
        {
            return false;
        }
        closed = true;
        return true;
    }

    private void abortQuietly(final int txId)
    {
        try
        {
            transactionEnd(txId, false);
        }
        catch (final RuntimeException ignore)
        {
            // the transaction is gone already (connection closed or watches reset): nothing left to abort
        }
    }
}
