package io.pvio.hypervisor.xenstore;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The XenStore: a tree of nodes with values and permissions, watches, transactions and per-domain quotas, shared by
 * every domain of a machine. Domains use it through a {@link XenStoreConnection}, either directly in process
 * ({@link #connect(int, Runnable)}) or over a XenStore ring served by a {@link XenStoreServer}.
 *
 * <h2>Concurrency</h2>
 * One lock guards the tree, the watches and the transactions; XenStore is not a hot path. The tree is persistent
 * (immutable nodes, path copying), so every operation builds a new root and publishes it only if it succeeded: a
 * failed operation leaves the store exactly as it was. Watches are matched under the lock and their events queued
 * on each watcher's connection in the order the changes happened; the watchers' wake-ups run after the lock is
 * released, and the watchers' handlers run only on the watchers' own threads when they poll.
 *
 * <h2>Watches</h2>
 * A watch fires once when it is set, with the path as given. Afterwards it fires for every change (create, write,
 * removal, permissions) at or below its path, carrying the changed path; the removal of an ancestor fires it with
 * its own path. Changes made in a transaction fire when it commits. A change fires a watch only if the watcher's
 * domain may read the node before or after the change (the first firing is always delivered). Events for a watch set
 * with a relative path carry paths relative to the domain path. The special paths
 * {@value XenStorePath#INTRODUCE_DOMAIN} and {@value XenStorePath#RELEASE_DOMAIN} fire for every watcher when a
 * domain is {@linkplain #introduceDomain(int) introduced} or {@linkplain #releaseDomain(int) released}.
 *
 * <h2>Transactions</h2>
 * Optimistic, as in {@code xenstored}: a transaction starts from a snapshot of the tree, reads and writes with its
 * id see that snapshot plus its own changes, and nothing is visible to others until it commits. Every node whose
 * state an operation of the transaction depended on is recorded: the node itself and, for a missing node, each
 * missing ancestor up to the nearest existing one (whose child set the operation reads or changes); a removal
 * records the whole subtree. The commit fails with {@link XsError#EAGAIN} if any recorded node's generation (which
 * changes with its value, permissions or set of child names) differs between the snapshot and the live tree. A
 * change to a descendant that was never read is not a conflict. Otherwise the transaction's mutations are replayed,
 * in order, on the live tree and published at once.
 *
 * <h2>Quotas</h2>
 * See {@link XenStoreLimits}. A node counts against its owner; a guest owns the nodes it creates, and domain 0's
 * requests are not quota-checked.
 */
public final class XenStore
{
    /** The transaction id of an operation outside any transaction. */
    public static final int NO_TRANSACTION = 0;

    /** Largest id of a domain that may connect: the last before Xen's reserved ids ({@code DOMID_FIRST_RESERVED}). */
    public static final int MAX_DOMAIN_ID = 0x7FEF;

    /** Longest domain name {@link #introduceDomain(int, String)} takes. */
    public static final int MAX_DOMAIN_NAME_LENGTH = 64;

    /**
     * Longest watch token in bytes, so that any event (an absolute path of at most 3072 bytes and the token, each
     * followed by a NUL) fits in one 4096-byte message.
     */
    public static final int MAX_TOKEN_LENGTH = XsWireDescriptor.PAYLOAD_MAX - XenStorePath.MAX_ABSOLUTE_LENGTH - 2;

    private final Object lock = new Object();
    private final XenStoreLimits limits;
    private final List<XsWatch> watches = new ArrayList<>();
    private final Map<Integer, XsTransaction> transactions = new HashMap<>();
    private final List<XenStoreConnection> connections = new ArrayList<>();
    private final Set<Integer> introduced = new HashSet<>();
    private final AtomicLong failedWakeUps = new AtomicLong();
    private XsTree tree = XsTree.initial();
    private long generation;
    private int nextTransactionId = 1;

    /**
     * Creates a store with the {@linkplain XenStoreLimits#DEFAULT default limits}.
     */
    public XenStore()
    {
        this(XenStoreLimits.DEFAULT);
    }

    /**
     * Creates a store holding {@code /}, {@code /local} and {@code /local/domain}, owned by domain 0 with no access for
     * guests. Domain 0 counts as introduced.
     *
     * @param limits the quotas and bounds.
     */
    public XenStore(final XenStoreLimits limits)
    {
        this.limits = limits;
        introduced.add(XsPermissions.DOM0);
    }

    /**
     * The limits this store enforces.
     *
     * @return the limits.
     */
    public XenStoreLimits limits()
    {
        return limits;
    }

    /**
     * Opens a connection for a domain. Several connections of one domain share its quotas.
     *
     * @param domainId    the domain every operation on the connection acts as.
     * @param watchWakeUp called, on the thread that made a change, when the connection's watch-event queue goes from
     *                    empty to non-empty; it should only wake the owner (raise an event, unpark a thread) and must
     *                    not call into the store.
     * @return the connection.
     * @throws IllegalArgumentException if the domain id is out of range.
     */
    public XenStoreConnection connect(final int domainId, final Runnable watchWakeUp)
    {
        checkDomainId(domainId);
        final XenStoreConnection connection = new XenStoreConnection(this, domainId, watchWakeUp,
            new XsWatchEventQueue(limits.maxPendingWatchEvents()));
        synchronized (lock)
        {
            connections.add(connection);
        }
        return connection;
    }

    /**
     * Opens a connection whose owner polls for watch events without being woken.
     *
     * @param domainId the domain every operation on the connection acts as.
     * @return the connection.
     * @throws IllegalArgumentException if the domain id is out of range.
     */
    public XenStoreConnection connect(final int domainId)
    {
        return connect(domainId, () -> {});
    }

    /**
     * Introduces a domain, as the toolstack's {@code INTRODUCE} does: marks it introduced, creates its domain path
     * {@code /local/domain/<domainId>} owned by it (no access for other guests) if missing, and fires
     * {@value XenStorePath#INTRODUCE_DOMAIN}. Introducing a domain twice does nothing the second time.
     *
     * @param domainId the domain.
     * @throws IllegalArgumentException if the domain id is out of range.
     */
    public void introduceDomain(final int domainId)
    {
        checkDomainId(domainId);
        final List<XenStoreConnection> toWake;
        synchronized (lock)
        {
            if (!introduced.add(domainId))
            {
                return;
            }
            final List<XsChange> changes = new ArrayList<>();
            final long newGeneration = generation + 1;
            final XsTreeEditor editor =
                new XsTreeEditor(tree, XsPermissions.DOM0, newGeneration, limits, null, changes);
            final String domainPath = XenStorePath.domainPath(domainId);
            if (editor.mkdir(domainPath))
            {
                editor.setPermissions(domainPath, XsPermissions.of(domainId, XsAccess.NONE));
            }
            publish(editor.result(), newGeneration);
            toWake = matchSpecial(XenStorePath.INTRODUCE_DOMAIN, matchWatches(changes, null));
        }
        wake(toWake);
    }

    /**
     * Introduces a domain as a toolstack that names it does: {@link #introduceDomain(int)}, then, as domain 0,
     * {@code /local/domain/<domainId>/name} and {@code /local/domain/<domainId>/domid}, which Xen's tools list and
     * which inherit the domain path's permissions (the domain owns them). Writing them again overwrites the name.
     *
     * @param domainId the domain.
     * @param name     its name: 1 to {@value #MAX_DOMAIN_NAME_LENGTH} printable ASCII characters, no {@code '/'}.
     * @throws IllegalArgumentException if the domain id is out of range or the name breaks the rule.
     */
    public void introduceDomain(final int domainId, final String name)
    {
        checkDomainName(name);
        introduceDomain(domainId);
        final String domainPath = XenStorePath.domainPath(domainId);
        try (XenStoreConnection dom0 = connect(XsPermissions.DOM0))
        {
            dom0.write(domainPath + "/name", name);
            dom0.write(domainPath + "/domid", Integer.toString(domainId));
        }
    }

    /**
     * Checks a domain name for {@link #introduceDomain(int, String)}.
     *
     * @param name the name.
     * @return {@code name}.
     * @throws IllegalArgumentException naming what is wrong if it is empty, too long, or has a character outside
     *                                  printable ASCII or a {@code '/'}.
     */
    public static String checkDomainName(final String name)
    {
        if (name.isEmpty() || name.length() > MAX_DOMAIN_NAME_LENGTH)
        {
            throw new IllegalArgumentException("domain name \"" + name + "\": expected 1 to " +
                MAX_DOMAIN_NAME_LENGTH + " characters, got " + name.length());
        }
        for (int i = 0; i < name.length(); i++)
        {
            final char c = name.charAt(i);
            if (c <= ' ' || c > '~' || '/' == c)
            {
                throw new IllegalArgumentException("domain name \"" + name + "\": character " + (i + 1) +
                    " is not allowed (expected printable ASCII with no space or '/')");
            }
        }
        return name;
    }

    /**
     * Releases a domain, as the toolstack's {@code RELEASE} does when the domain dies: closes all its connections
     * (dropping their watches and transactions), marks it not introduced and fires
     * {@value XenStorePath#RELEASE_DOMAIN}. Its nodes stay until someone removes them.
     *
     * @param domainId the domain.
     * @throws XenStoreException with {@link XsError#EINVAL} for domain 0, {@link XsError#ENOENT} if the domain
     *                           is not introduced.
     */
    public void releaseDomain(final int domainId)
    {
        if (XsPermissions.DOM0 == domainId)
        {
            throw new XenStoreException(XsError.EINVAL, "domain 0 cannot be released: domain=" + domainId);
        }
        final List<XenStoreConnection> toWake;
        final List<XenStoreConnection> released = new ArrayList<>();
        synchronized (lock)
        {
            if (!introduced.remove(domainId))
            {
                throw new XenStoreException(XsError.ENOENT, "domain not introduced: domain=" + domainId);
            }
            for (final XenStoreConnection connection : connections)
            {
                if (connection.domainId() == domainId)
                {
                    released.add(connection);
                }
            }
            for (final XenStoreConnection connection : released)
            {
                closeLocked(connection);
            }
            toWake = matchSpecial(XenStorePath.RELEASE_DOMAIN, null);
        }
        wake(toWake);
    }

    /**
     * Whether a domain has been introduced and not released since.
     *
     * @param domainId the domain.
     * @return true if introduced; always true for domain 0.
     */
    public boolean isDomainIntroduced(final int domainId)
    {
        synchronized (lock)
        {
            return introduced.contains(domainId);
        }
    }

    /**
     * Nodes a domain owns, the figure its node quota limits.
     *
     * @param domainId the domain.
     * @return the count.
     */
    public int ownedNodes(final int domainId)
    {
        synchronized (lock)
        {
            return tree.ownedNodes(domainId);
        }
    }

    /**
     * Watches a domain holds across its connections.
     *
     * @param domainId the domain.
     * @return the count.
     */
    public int watchCount(final int domainId)
    {
        synchronized (lock)
        {
            return watchCountLocked(domainId);
        }
    }

    /**
     * Transactions a domain has open across its connections.
     *
     * @param domainId the domain.
     * @return the count.
     */
    public int openTransactions(final int domainId)
    {
        synchronized (lock)
        {
            return openTransactionsLocked(domainId);
        }
    }

    /**
     * Wake-ups that threw. A throwing wake-up is ignored (the change it announced is already committed, and the
     * events stay queued for the owner's next poll) and counted here.
     *
     * @return the count.
     */
    public long failedWakeUps()
    {
        return failedWakeUps.get();
    }

    byte[] read(final XenStoreConnection connection, final int txId, final String path)
    {
        final String absolutePath = XenStorePath.resolve(connection.domainId(), path);
        synchronized (lock)
        {
            return query(connection, txId).read(absolutePath);
        }
    }

    List<String> directory(final XenStoreConnection connection, final int txId, final String path)
    {
        final String absolutePath = XenStorePath.resolve(connection.domainId(), path);
        synchronized (lock)
        {
            return query(connection, txId).directory(absolutePath);
        }
    }

    XsPermissions getPermissions(final XenStoreConnection connection, final int txId, final String path)
    {
        final String absolutePath = XenStorePath.resolve(connection.domainId(), path);
        synchronized (lock)
        {
            return query(connection, txId).getPermissions(absolutePath);
        }
    }

    void mutate(final XenStoreConnection connection, final int txId, final XsTransaction.Operation operation)
    {
        final List<XenStoreConnection> toWake;
        synchronized (lock)
        {
            checkOpen(connection);
            if (NO_TRANSACTION != txId)
            {
                final XsTransaction transaction = transaction(connection, txId);
                final XsTreeEditor editor = new XsTreeEditor(
                    transaction.view, connection.domainId(), generation, limits, transaction.accessed, null);
                operation.apply(editor);
                transaction.view = editor.result();
                transaction.operations.add(operation);
                return;
            }
            final List<XsChange> changes = new ArrayList<>();
            final long newGeneration = generation + 1;
            final XsTreeEditor editor =
                new XsTreeEditor(tree, connection.domainId(), newGeneration, limits, null, changes);
            operation.apply(editor);
            if (changes.isEmpty())
            {
                return;
            }
            publish(editor.result(), newGeneration);
            toWake = matchWatches(changes, null);
        }
        wake(toWake);
    }

    void watch(final XenStoreConnection connection, final String path, final String token)
    {
        final int domainId = connection.domainId();
        final String resolved = XenStorePath.resolveWatch(domainId, path);
        checkToken(token, domainId);
        final boolean wake;
        synchronized (lock)
        {
            checkOpen(connection);
            for (final XsWatch watch : watches)
            {
                if (watch.connection == connection && watch.path.equals(resolved) && watch.token.equals(token))
                {
                    throw new XenStoreException(XsError.EEXIST, "watch already set: path=" +
                        XenStorePath.quote(path) + ", token=" + XenStorePath.quote(token) + ", domain=" + domainId);
                }
            }
            if (XsPermissions.DOM0 != domainId && watchCountLocked(domainId) >= limits.maxWatchesPerDomain())
            {
                throw new XenStoreException(XsError.EQUOTA, "watch quota exceeded: watches=" +
                    watchCountLocked(domainId) + ", maxWatchesPerDomain=" + limits.maxWatchesPerDomain() +
                    ", domain=" + domainId);
            }
            watches.add(new XsWatch(connection, resolved, path, token));
            wake = connection.queue().offer(new WatchEvent(path, token));
        }
        if (wake)
        {
            wake(connection);
        }
    }

    void unwatch(final XenStoreConnection connection, final String path, final String token)
    {
        final int domainId = connection.domainId();
        final String resolved = XenStorePath.resolveWatch(domainId, path);
        synchronized (lock)
        {
            checkOpen(connection);
            final Iterator<XsWatch> iterator = watches.iterator();
            while (iterator.hasNext())
            {
                final XsWatch watch = iterator.next();
                if (watch.connection == connection && watch.path.equals(resolved) && watch.token.equals(token))
                {
                    iterator.remove();
                    return;
                }
            }
        }
        throw new XenStoreException(XsError.ENOENT, "no such watch: path=" + XenStorePath.quote(path) +
            ", token=" + XenStorePath.quote(token) + ", domain=" + domainId);
    }

    void resetWatches(final XenStoreConnection connection)
    {
        synchronized (lock)
        {
            checkOpen(connection);
            dropWatchesAndTransactions(connection);
        }
    }

    int transactionStart(final XenStoreConnection connection)
    {
        final int domainId = connection.domainId();
        synchronized (lock)
        {
            checkOpen(connection);
            if (XsPermissions.DOM0 != domainId &&
                openTransactionsLocked(domainId) >= limits.maxTransactionsPerDomain())
            {
                throw new XenStoreException(XsError.EQUOTA, "transaction quota exceeded: open=" +
                    openTransactionsLocked(domainId) + ", maxTransactionsPerDomain=" +
                    limits.maxTransactionsPerDomain() + ", domain=" + domainId);
            }
            int id = nextTransactionId;
            while (NO_TRANSACTION == id || transactions.containsKey(id))
            {
                id++;
            }
            nextTransactionId = id + 1;
            transactions.put(id, new XsTransaction(id, connection, tree));
            return id;
        }
    }

    void transactionEnd(final XenStoreConnection connection, final int txId, final boolean commit)
    {
        final List<XenStoreConnection> toWake;
        synchronized (lock)
        {
            checkOpen(connection);
            final XsTransaction transaction = transaction(connection, txId);
            transactions.remove(txId);
            if (!commit)
            {
                return;
            }
            for (final String path : transaction.accessed)
            {
                final long then = transaction.base.generationOf(path);
                final long now = tree.generationOf(path);
                if (then != now)
                {
                    throw new XenStoreException(XsError.EAGAIN, "transaction conflicts with a concurrent change: tx=" +
                        Integer.toUnsignedString(txId) + ", path=" + XenStorePath.quote(path) + ", domain=" +
                        connection.domainId());
                }
            }
            if (transaction.operations.isEmpty())
            {
                return;
            }
            final List<XsChange> changes = new ArrayList<>();
            final long newGeneration = generation + 1;
            final XsTreeEditor editor =
                new XsTreeEditor(tree, connection.domainId(), newGeneration, limits, null, changes);
            for (final XsTransaction.Operation operation : transaction.operations)
            {
                operation.apply(editor);
            }
            if (changes.isEmpty())
            {
                return;
            }
            publish(editor.result(), newGeneration);
            toWake = matchWatches(changes, null);
        }
        wake(toWake);
    }

    void close(final XenStoreConnection connection)
    {
        synchronized (lock)
        {
            closeLocked(connection);
        }
    }

    /**
     * Recounts the nodes each domain owns by walking the whole tree; tests compare it with the running counts.
     */
    Map<Integer, Integer> recountOwnedNodes()
    {
        final XsTree snapshot;
        synchronized (lock)
        {
            snapshot = tree;
        }
        final Map<Integer, Integer> counts = new HashMap<>();
        countOwned(snapshot.root, counts);
        return counts;
    }

    Map<Integer, Integer> ownedNodeCounts()
    {
        synchronized (lock)
        {
            return tree.ownedNodes();
        }
    }

    private static void countOwned(final XsNode node, final Map<Integer, Integer> counts)
    {
        counts.merge(node.permissions.owner(), 1, Integer::sum);
        for (final XsNode child : node.children.values())
        {
            countOwned(child, counts);
        }
    }

    private XsTreeEditor query(final XenStoreConnection connection, final int txId)
    {
        checkOpen(connection);
        if (NO_TRANSACTION == txId)
        {
            return new XsTreeEditor(tree, connection.domainId(), generation, limits, null, null);
        }
        final XsTransaction transaction = transaction(connection, txId);
        return new XsTreeEditor(
            transaction.view, connection.domainId(), generation, limits, transaction.accessed, null);
    }

    private XsTransaction transaction(final XenStoreConnection connection, final int txId)
    {
        final XsTransaction transaction = transactions.get(txId);
        if (null == transaction || transaction.connection != connection)
        {
            throw new XenStoreException(XsError.ENOENT, "no such transaction on this connection: tx=" +
                Integer.toUnsignedString(txId) + ", domain=" + connection.domainId());
        }
        return transaction;
    }

    private void publish(final XsTree newTree, final long newGeneration)
    {
        tree = newTree;
        generation = newGeneration;
    }

    private List<XenStoreConnection> matchWatches(final List<XsChange> changes, final List<XenStoreConnection> wakeList)
    {
        List<XenStoreConnection> toWake = wakeList;
        for (final XsChange change : changes)
        {
            for (final XsWatch watch : watches)
            {
                final String absolutePath;
                if (XenStorePath.isSpecial(watch.path))
                {
                    continue;
                }
                if (XenStorePath.isAtOrBelow(change.path, watch.path))
                {
                    absolutePath = change.path;
                }
                else if (change.removal && XenStorePath.isAtOrBelow(watch.path, change.path))
                {
                    absolutePath = watch.path;
                }
                else
                {
                    continue;
                }
                if (change.readableBy(watch.connection.domainId(), absolutePath) &&
                    watch.connection.queue().offer(new WatchEvent(watch.eventPath(absolutePath), watch.token)))
                {
                    if (null == toWake)
                    {
                        toWake = new ArrayList<>();
                    }
                    toWake.add(watch.connection);
                }
            }
        }
        return toWake;
    }

    private List<XenStoreConnection> matchSpecial(final String specialPath, final List<XenStoreConnection> toWake)
    {
        List<XenStoreConnection> result = toWake;
        for (final XsWatch watch : watches)
        {
            if (watch.path.equals(specialPath) && watch.connection.queue().offer(new WatchEvent(specialPath,
                watch.token)))
            {
                if (null == result)
                {
                    result = new ArrayList<>();
                }
                result.add(watch.connection);
            }
        }
        return result;
    }

    private void wake(final List<XenStoreConnection> toWake)
    {
        if (null != toWake)
        {
            for (final XenStoreConnection connection : toWake)
            {
                wake(connection);
            }
        }
    }

    private void wake(final XenStoreConnection connection)
    {
        try
        {
            connection.wakeUp().run();
        }
        catch (final RuntimeException ex)
        {
            failedWakeUps.incrementAndGet();
        }
    }

    private void closeLocked(final XenStoreConnection connection)
    {
        if (connection.markClosed())
        {
            dropWatchesAndTransactions(connection);
            connections.remove(connection);
            connection.queue().clear();
        }
    }

    private void dropWatchesAndTransactions(final XenStoreConnection connection)
    {
        watches.removeIf(watch -> watch.connection == connection);
        transactions.values().removeIf(transaction -> transaction.connection == connection);
    }

    private int watchCountLocked(final int domainId)
    {
        int count = 0;
        for (final XsWatch watch : watches)
        {
            if (watch.connection.domainId() == domainId)
            {
                count++;
            }
        }
        return count;
    }

    private int openTransactionsLocked(final int domainId)
    {
        int count = 0;
        for (final XsTransaction transaction : transactions.values())
        {
            if (transaction.connection.domainId() == domainId)
            {
                count++;
            }
        }
        return count;
    }

    private static void checkOpen(final XenStoreConnection connection)
    {
        if (connection.isClosed())
        {
            throw new IllegalStateException("connection closed: domain=" + connection.domainId());
        }
    }

    private static void checkToken(final String token, final int domainId)
    {
        if (null == token)
        {
            throw new XenStoreException(XsError.EINVAL, "watch token is null: domain=" + domainId);
        }
        if (token.length() > MAX_TOKEN_LENGTH)
        {
            throw new XenStoreException(XsError.EINVAL, "watch token too long: length=" + token.length() +
                " (expected: <= " + MAX_TOKEN_LENGTH + "), domain=" + domainId);
        }
        for (int i = 0; i < token.length(); i++)
        {
            final char c = token.charAt(i);
            if (0 == c || c > 0xFF)
            {
                throw new XenStoreException(XsError.EINVAL, "watch token character not allowed at index " + i +
                    ": code=" + (int)c + " (expected: 1..255), domain=" + domainId);
            }
        }
    }

    private static void checkDomainId(final int domainId)
    {
        if (domainId < 0 || domainId > MAX_DOMAIN_ID)
        {
            throw new IllegalArgumentException("domain id out of range: domainId=" + domainId +
                " (expected: 0 <= domainId <= " + MAX_DOMAIN_ID + ")");
        }
    }
}
