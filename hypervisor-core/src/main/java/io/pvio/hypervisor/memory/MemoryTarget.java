package io.pvio.hypervisor.memory;

import io.pvio.hypervisor.xenstore.XenStoreConnection;
import io.pvio.hypervisor.xenstore.XenStorePath;
import io.pvio.hypervisor.xenstore.XsAccess;
import io.pvio.hypervisor.xenstore.XsPermissions;

/**
 * The toolstack's side of ballooning: the domain's memory target in XenStore, {@code /local/domain/N/memory/target},
 * in KiB as Xen's toolstack writes it, owned by dom0 and readable (not writable) by the domain, beside
 * {@code memory/static-max}. The guest's balloon driver watches it.
 */
public final class MemoryTarget
{
    /** The target node, relative to the domain's path. */
    public static final String TARGET = "memory/target";

    /** The configured maximum, relative to the domain's path. */
    public static final String STATIC_MAX = "memory/static-max";

    /** KiB in a page. */
    public static final int KIB_PER_PAGE = 4;

    private static final int ATTEMPTS = 16;

    private MemoryTarget()
    {
    }

    /**
     * The absolute path of a domain's target.
     *
     * @param domainId the domain.
     * @return the path.
     */
    public static String path(final int domainId)
    {
        return XenStorePath.domainPath(domainId) + "/" + TARGET;
    }

    /**
     * Sets a domain's target (and its static maximum), in one transaction.
     *
     * @param toolstack a dom0 connection.
     * @param domainId  the domain.
     * @param pages     the target in pages.
     * @param maxPages  the domain's configured maximum in pages.
     */
    public static void write(final XenStoreConnection toolstack, final int domainId, final long pages,
        final long maxPages)
    {
        if (pages < 0 || pages > maxPages)
        {
            throw new IllegalArgumentException("target must be within [0, " + maxPages + "] pages: " + pages);
        }
        final String base = XenStorePath.domainPath(domainId) + "/";
        final XsPermissions permissions =
            XsPermissions.of(XsPermissions.DOM0, XsAccess.NONE).with(domainId, XsAccess.READ);
        toolstack.transaction(ATTEMPTS, (tx) ->
        {
            toolstack.mkdir(tx, base + "memory");
            toolstack.setPermissions(tx, base + "memory", permissions);
            toolstack.write(tx, base + STATIC_MAX, Long.toString(maxPages * KIB_PER_PAGE));
            toolstack.setPermissions(tx, base + STATIC_MAX, permissions);
            toolstack.write(tx, base + TARGET, Long.toString(pages * KIB_PER_PAGE));
            toolstack.setPermissions(tx, base + TARGET, permissions);
            return null;
        });
    }
}
