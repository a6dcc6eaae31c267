package io.pvio.hypervisor.xenstore;

import java.util.Collections;
import java.util.HashMap;
import java.util.Map;

/**
 * An immutable snapshot of the whole store: the root node and how many nodes each domain owns.
 */
final class XsTree
{
    /** Generation reported for a path with no node. */
    static final long ABSENT = -1;

    final XsNode root;
    private final Map<Integer, Integer> ownedNodes;

    XsTree(final XsNode root, final Map<Integer, Integer> ownedNodes)
    {
        this.root = root;
        this.ownedNodes = ownedNodes;
    }

    /**
     * A tree holding {@code /}, {@code /local} and {@code /local/domain}, owned by domain 0 and unreadable to guests.
     */
    static XsTree initial()
    {
        final XsPermissions dom0Only = XsPermissions.of(XsPermissions.DOM0, XsAccess.NONE);
        final XsNode domain = XsNode.leaf(XsNode.EMPTY_VALUE, dom0Only, 0);
        final XsNode local = XsNode.withOnlyChild(dom0Only, "domain", domain, 0);
        final XsNode root = XsNode.withOnlyChild(dom0Only, "local", local, 0);
        final Map<Integer, Integer> owned = new HashMap<>();
        owned.put(XsPermissions.DOM0, 3);
        return new XsTree(root, Collections.unmodifiableMap(owned));
    }

    static XsNode lookup(final XsNode root, final String absolutePath)
    {
        XsNode node = root;
        if (XenStorePath.ROOT.equals(absolutePath))
        {
            return node;
        }
        int start = 1;
        final int length = absolutePath.length();
        while (null != node && start <= length)
        {
            int end = absolutePath.indexOf('/', start);
            if (end < 0)
            {
                end = length;
            }
            node = node.child(absolutePath.substring(start, end));
            start = end + 1;
        }
        return node;
    }

    XsNode lookup(final String absolutePath)
    {
        return lookup(root, absolutePath);
    }

    long generationOf(final String absolutePath)
    {
        final XsNode node = lookup(absolutePath);
        return null == node ? ABSENT : node.generation;
    }

    int ownedNodes(final int domainId)
    {
        final Integer count = ownedNodes.get(domainId);
        return null == count ? 0 : count;
    }

    Map<Integer, Integer> ownedNodes()
    {
        return ownedNodes;
    }
}
