package io.pvio.hypervisor.xenstore;

/**
 * Resource limits of a {@link XenStore}: the per-domain quotas of {@code xenstored} and the bound on each
 * connection's queue of undelivered watch events (XSA-349). Quotas bind guests only; domain 0, the toolstack's
 * domain, is exempt, as it is in {@code xenstored}. The event-queue bound applies to every connection.
 * <p>
 * Instances are immutable; start from {@link #DEFAULT} and change one limit at a time with the {@code with*}
 * methods.
 */
public final class XenStoreLimits
{
    /** Longest node value in bytes, Xen's {@code XENSTORE_PAYLOAD_MAX}; not configurable. */
    public static final int MAX_VALUE_LENGTH = 4096;

    /** Default for {@link #maxNodesPerDomain()}, as {@code xenstored}'s {@code quota-nodes}. */
    public static final int MAX_NODES_PER_DOMAIN_DEFAULT = 1000;

    /** Default for {@link #maxWatchesPerDomain()}, as {@code xenstored}'s {@code quota-watches}. */
    public static final int MAX_WATCHES_PER_DOMAIN_DEFAULT = 128;

    /** Default for {@link #maxTransactionsPerDomain()}, as {@code xenstored}'s {@code quota-transactions}. */
    public static final int MAX_TRANSACTIONS_PER_DOMAIN_DEFAULT = 10;

    /** Default for {@link #maxPendingWatchEvents()}. */
    public static final int MAX_PENDING_WATCH_EVENTS_DEFAULT = 1024;

    /** Default for {@link #maxPermissionEntries()}. */
    public static final int MAX_PERMISSION_ENTRIES_DEFAULT = 16;

    /** The default limits. */
    public static final XenStoreLimits DEFAULT = new XenStoreLimits(
        MAX_NODES_PER_DOMAIN_DEFAULT,
        MAX_WATCHES_PER_DOMAIN_DEFAULT,
        MAX_TRANSACTIONS_PER_DOMAIN_DEFAULT,
        MAX_PENDING_WATCH_EVENTS_DEFAULT,
        MAX_PERMISSION_ENTRIES_DEFAULT);

    private final int maxNodesPerDomain;
    private final int maxWatchesPerDomain;
    private final int maxTransactionsPerDomain;
    private final int maxPendingWatchEvents;
    private final int maxPermissionEntries;

    /**
     * Creates limits.
     *
     * @param maxNodesPerDomain        nodes a guest may own.
     * @param maxWatchesPerDomain      watches a guest may hold across its connections.
     * @param maxTransactionsPerDomain transactions a guest may have open across its connections.
     * @param maxPendingWatchEvents    undelivered watch events a connection may queue; more are dropped and counted.
     * @param maxPermissionEntries     entries in one node's permission list.
     * @throws IllegalArgumentException if a limit is less than 1.
     */
    public XenStoreLimits(
        final int maxNodesPerDomain,
        final int maxWatchesPerDomain,
        final int maxTransactionsPerDomain,
        final int maxPendingWatchEvents,
        final int maxPermissionEntries)
    {
        this.maxNodesPerDomain = checkPositive(maxNodesPerDomain, "maxNodesPerDomain");
        this.maxWatchesPerDomain = checkPositive(maxWatchesPerDomain, "maxWatchesPerDomain");
        this.maxTransactionsPerDomain = checkPositive(maxTransactionsPerDomain, "maxTransactionsPerDomain");
        this.maxPendingWatchEvents = checkPositive(maxPendingWatchEvents, "maxPendingWatchEvents");
        this.maxPermissionEntries = checkPositive(maxPermissionEntries, "maxPermissionEntries");
    }

    /**
     * Nodes a guest may own; creating one more fails with {@link XsError#EQUOTA}.
     *
     * @return the quota.
     */
    public int maxNodesPerDomain()
    {
        return maxNodesPerDomain;
    }

    /**
     * Watches a guest may hold across all its connections; one more fails with {@link XsError#EQUOTA}.
     *
     * @return the quota.
     */
    public int maxWatchesPerDomain()
    {
        return maxWatchesPerDomain;
    }

    /**
     * Transactions a guest may have open across all its connections; one more fails with {@link XsError#EQUOTA}.
     *
     * @return the quota.
     */
    public int maxTransactionsPerDomain()
    {
        return maxTransactionsPerDomain;
    }

    /**
     * Undelivered watch events one connection may queue. An event that would exceed it is dropped and counted in
     * {@link XenStoreConnection#droppedWatchEvents()}.
     *
     * @return the bound.
     */
    public int maxPendingWatchEvents()
    {
        return maxPendingWatchEvents;
    }

    /**
     * Entries in one node's permission list; more fail with {@link XsError#E2BIG}.
     *
     * @return the bound.
     */
    public int maxPermissionEntries()
    {
        return maxPermissionEntries;
    }

    /**
     * These limits with another node quota.
     *
     * @param maxNodesPerDomain nodes a guest may own.
     * @return the new limits.
     */
    public XenStoreLimits withMaxNodesPerDomain(final int maxNodesPerDomain)
    {
        return new XenStoreLimits(maxNodesPerDomain, maxWatchesPerDomain, maxTransactionsPerDomain,
            maxPendingWatchEvents, maxPermissionEntries);
    }

    /**
     * These limits with another watch quota.
     *
     * @param maxWatchesPerDomain watches a guest may hold.
     * @return the new limits.
     */
    public XenStoreLimits withMaxWatchesPerDomain(final int maxWatchesPerDomain)
    {
        return new XenStoreLimits(maxNodesPerDomain, maxWatchesPerDomain, maxTransactionsPerDomain,
            maxPendingWatchEvents, maxPermissionEntries);
    }

    /**
     * These limits with another transaction quota.
     *
     * @param maxTransactionsPerDomain transactions a guest may have open.
     * @return the new limits.
     */
    public XenStoreLimits withMaxTransactionsPerDomain(final int maxTransactionsPerDomain)
    {
        return new XenStoreLimits(maxNodesPerDomain, maxWatchesPerDomain, maxTransactionsPerDomain,
            maxPendingWatchEvents, maxPermissionEntries);
    }

    /**
     * These limits with another bound on undelivered watch events.
     *
     * @param maxPendingWatchEvents events one connection may queue.
     * @return the new limits.
     */
    public XenStoreLimits withMaxPendingWatchEvents(final int maxPendingWatchEvents)
    {
        return new XenStoreLimits(maxNodesPerDomain, maxWatchesPerDomain, maxTransactionsPerDomain,
            maxPendingWatchEvents, maxPermissionEntries);
    }

    /**
     * These limits with another bound on permission entries.
     *
     * @param maxPermissionEntries entries in one permission list.
     * @return the new limits.
     */
    public XenStoreLimits withMaxPermissionEntries(final int maxPermissionEntries)
    {
        return new XenStoreLimits(maxNodesPerDomain, maxWatchesPerDomain, maxTransactionsPerDomain,
            maxPendingWatchEvents, maxPermissionEntries);
    }

    /**
     * {@inheritDoc}
     */
    @Override
    public String toString()
    {
        return "XenStoreLimits{maxNodesPerDomain=" + maxNodesPerDomain +
            ", maxWatchesPerDomain=" + maxWatchesPerDomain +
            ", maxTransactionsPerDomain=" + maxTransactionsPerDomain +
            ", maxPendingWatchEvents=" + maxPendingWatchEvents +
            ", maxPermissionEntries=" + maxPermissionEntries + "}";
    }

    private static int checkPositive(final int value, final String name)
    {
        if (value < 1)
        {
            throw new IllegalArgumentException(name + " must be at least 1: " + name + "=" + value);
        }
        return value;
    }
}
