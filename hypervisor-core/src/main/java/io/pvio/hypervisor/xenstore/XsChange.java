package io.pvio.hypervisor.xenstore;

/**
 * One committed change, kept until the watches have been matched against it: the changed path, whether the node
 * was removed, and the roots before and after, so that read permission can be checked on either side.
 */
final class XsChange
{
    final String path;
    final boolean removal;
    final XsNode rootBefore;
    final XsNode rootAfter;

    XsChange(final String path, final boolean removal, final XsNode rootBefore, final XsNode rootAfter)
    {
        this.path = path;
        this.removal = removal;
        this.rootBefore = rootBefore;
        this.rootAfter = rootAfter;
    }

    /**
     * Whether a domain could read the node at {@code absolutePath} before or after this change.
     */
    boolean readableBy(final int domainId, final String absolutePath)
    {
        if (XsPermissions.DOM0 == domainId)
        {
            return true;
        }
        final XsNode before = XsTree.lookup(rootBefore, absolutePath);
        if (null != before && before.permissions.canRead(domainId))
        {
            return true;
        }
        final XsNode after = XsTree.lookup(rootAfter, absolutePath);
        return null != after && after.permissions.canRead(domainId);
    }
}
