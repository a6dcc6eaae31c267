package io.pvio.hypervisor.xenstore;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Applies operations for one requesting domain to a private copy of a tree and produces the new snapshot. Checks
 * come before changes, so an operation that throws has changed nothing the caller will publish; the caller publishes
 * {@link #result()} only when every operation it applied succeeded.
 * <p>
 * When given an {@code accessed} set (a transaction's), every operation records the paths whose state its outcome
 * depended on: the node itself and, for a missing node, each missing ancestor up to the nearest existing one;
 * removal records the whole removed subtree. When given a {@code changes} list, every mutation appends what changed
 * for the watches.
 */
final class XsTreeEditor
{
    private final XsTree base;
    private final int requester;
    private final long generation;
    private final XenStoreLimits limits;
    private final Set<String> accessed;
    private final List<XsChange> changes;
    private final Map<Integer, Integer> ownedDelta = new HashMap<>();
    private XsNode root;

    XsTreeEditor(
        final XsTree base,
        final int requester,
        final long generation,
        final XenStoreLimits limits,
        final Set<String> accessed,
        final List<XsChange> changes)
    {
        this.base = base;
        this.requester = requester;
        this.generation = generation;
        this.limits = limits;
        this.accessed = accessed;
        this.changes = changes;
        this.root = base.root;
    }

    XsTree result()
    {
        if (ownedDelta.isEmpty())
        {
            return root == base.root ? base : new XsTree(root, base.ownedNodes());
        }
        final Map<Integer, Integer> owned = new HashMap<>(base.ownedNodes());
        for (final Map.Entry<Integer, Integer> delta : ownedDelta.entrySet())
        {
            final int count = owned.getOrDefault(delta.getKey(), 0) + delta.getValue();
            if (0 == count)
            {
                owned.remove(delta.getKey());
            }
            else
            {
                owned.put(delta.getKey(), count);
            }
        }
        return new XsTree(root, Collections.unmodifiableMap(owned));
    }

    byte[] read(final String path)
    {
        return readable(path).value.clone();
    }

    List<String> directory(final String path)
    {
        return new ArrayList<>(readable(path).children.keySet());
    }

    XsPermissions getPermissions(final String path)
    {
        return readable(path).permissions;
    }

    void write(final String path, final byte[] value)
    {
        if (value.length > XenStoreLimits.MAX_VALUE_LENGTH)
        {
            throw new XenStoreException(XsError.E2BIG, "value too long: length=" + value.length +
                " (expected: <= " + XenStoreLimits.MAX_VALUE_LENGTH + "), path=" + XenStorePath.quote(path) +
                ", domain=" + requester);
        }
        final String[] parts = XenStorePath.components(path);
        final XsNode[] chain = walk(parts);
        final int existing = deepestExisting(chain);
        recordAccess(path, parts.length - existing);
        final XsNode before = root;
        if (existing == parts.length)
        {
            final XsNode node = chain[existing];
            checkWrite(node, path);
            replace(chain, parts, existing, node.withValue(value.clone(), generation), false);
        }
        else
        {
            create(chain, parts, existing, path, value.clone());
        }
        recordChange(path, false, before);
    }

    /**
     * @return true if the node was created, false if it existed already.
     */
    boolean mkdir(final String path)
    {
        final String[] parts = XenStorePath.components(path);
        final XsNode[] chain = walk(parts);
        final int existing = deepestExisting(chain);
        recordAccess(path, parts.length - existing);
        if (existing == parts.length)
        {
            checkWrite(chain[existing], path);
            return false;
        }
        final XsNode before = root;
        create(chain, parts, existing, path, XsNode.EMPTY_VALUE);
        recordChange(path, false, before);
        return true;
    }

    /**
     * @return true if a node was removed, false if it was missing but its parent exists.
     */
    boolean rm(final String path)
    {
        final String[] parts = XenStorePath.components(path);
        if (0 == parts.length)
        {
            throw new XenStoreException(XsError.EINVAL, "cannot remove the root: path=/, domain=" + requester);
        }
        final XsNode[] chain = walk(parts);
        final int existing = deepestExisting(chain);
        recordAccess(path, parts.length - existing);
        if (existing < parts.length)
        {
            if (existing == parts.length - 1)
            {
                return false;
            }
            throw missing(path, chain[existing]);
        }
        final XsNode node = chain[existing];
        checkWrite(node, path);
        final XsNode before = root;
        uncharge(node, path);
        replace(chain, parts, existing, null, true);
        recordChange(path, true, before);
        return true;
    }

    void setPermissions(final String path, final XsPermissions permissions)
    {
        if (permissions.size() > limits.maxPermissionEntries())
        {
            throw new XenStoreException(XsError.E2BIG, "too many permission entries: entries=" + permissions.size() +
                " (expected: <= " + limits.maxPermissionEntries() + "), path=" + XenStorePath.quote(path) +
                ", domain=" + requester);
        }
        final String[] parts = XenStorePath.components(path);
        final XsNode[] chain = walk(parts);
        final int existing = deepestExisting(chain);
        recordAccess(path, parts.length - existing);
        if (existing < parts.length)
        {
            throw missing(path, chain[existing]);
        }
        final XsNode node = chain[existing];
        final int owner = node.permissions.owner();
        if (XsPermissions.DOM0 != requester && owner != requester)
        {
            throw new XenStoreException(XsError.EACCES, "only the owner or domain 0 may set permissions: path=" +
                XenStorePath.quote(path) + ", owner=" + owner + ", domain=" + requester);
        }
        if (XsPermissions.DOM0 != requester && permissions.owner() != owner)
        {
            throw new XenStoreException(XsError.EPERM, "a guest may not give a node away: path=" +
                XenStorePath.quote(path) + ", owner=" + owner + ", newOwner=" + permissions.owner() +
                ", domain=" + requester);
        }
        final XsNode before = root;
        if (permissions.owner() != owner)
        {
            adjustOwned(owner, -1);
            adjustOwned(permissions.owner(), 1);
        }
        replace(chain, parts, existing, node.withPermissions(permissions, generation), false);
        recordChange(path, false, before);
    }

    private void create(
        final XsNode[] chain, final String[] parts, final int existing, final String path, final byte[] value)
    {
        final XsNode parent = chain[existing];
        if (!parent.permissions.canWrite(requester))
        {
            throw new XenStoreException(XsError.EACCES, "no write permission on the nearest existing ancestor: path=" +
                XenStorePath.quote(path) + ", ancestorDepth=" + existing + ", owner=" + parent.permissions.owner() +
                ", domain=" + requester);
        }
        // xenstored: new nodes inherit the parent's permissions, but a guest owns what it creates
        final XsPermissions permissions = XsPermissions.DOM0 == requester ?
            parent.permissions : parent.permissions.withOwner(requester);
        final int created = parts.length - existing;
        final int owner = permissions.owner();
        if (XsPermissions.DOM0 != requester && base.ownedNodes(owner) + ownedDelta(owner) + created >
            limits.maxNodesPerDomain())
        {
            throw new XenStoreException(XsError.EQUOTA, "node quota exceeded: owned=" +
                (base.ownedNodes(owner) + ownedDelta(owner)) + ", creating=" + created + ", maxNodesPerDomain=" +
                limits.maxNodesPerDomain() + ", path=" + XenStorePath.quote(path) + ", domain=" + requester);
        }
        XsNode node = XsNode.leaf(value, permissions, generation);
        for (int depth = parts.length - 1; depth > existing; depth--)
        {
            node = XsNode.withOnlyChild(permissions, parts[depth], node, generation);
        }
        adjustOwned(owner, created);
        replace(chain, parts, existing + 1, node, true);
    }

    /**
     * Rebuilds the path from the root down to {@code depth}, whose new node is {@code replacement} (null to remove
     * it). Only the direct parent of a node added or removed gets a new generation.
     */
    private void replace(
        final XsNode[] chain,
        final String[] parts,
        final int depth,
        final XsNode replacement,
        final boolean childSetChanged)
    {
        XsNode current = replacement;
        for (int i = depth - 1; i >= 0; i--)
        {
            final XsNode parent = chain[i];
            final long newGeneration = childSetChanged && i == depth - 1 ? generation : parent.generation;
            current = parent.withChild(parts[i], current, newGeneration);
        }
        root = current;
    }

    private XsNode readable(final String path)
    {
        final String[] parts = XenStorePath.components(path);
        final XsNode[] chain = walk(parts);
        final int existing = deepestExisting(chain);
        recordAccess(path, parts.length - existing);
        if (existing < parts.length)
        {
            throw missing(path, chain[existing]);
        }
        final XsNode node = chain[existing];
        if (!node.permissions.canRead(requester))
        {
            throw new XenStoreException(XsError.EACCES, "no read permission: path=" + XenStorePath.quote(path) +
                ", owner=" + node.permissions.owner() + ", domain=" + requester);
        }
        return node;
    }

    private void checkWrite(final XsNode node, final String path)
    {
        if (!node.permissions.canWrite(requester))
        {
            throw new XenStoreException(XsError.EACCES, "no write permission: path=" + XenStorePath.quote(path) +
                ", owner=" + node.permissions.owner() + ", domain=" + requester);
        }
    }

    /**
     * A missing node is ENOENT only to a domain that may read its nearest existing ancestor; to anyone else it is
     * EACCES, so guests cannot probe for nodes they may not see.
     */
    private XenStoreException missing(final String path, final XsNode nearest)
    {
        if (nearest.permissions.canRead(requester))
        {
            return new XenStoreException(XsError.ENOENT,
                "no such node: path=" + XenStorePath.quote(path) + ", domain=" + requester);
        }
        return new XenStoreException(XsError.EACCES,
            "no read permission on the nearest existing ancestor: path=" + XenStorePath.quote(path) +
            ", domain=" + requester);
    }

    private XsNode[] walk(final String[] parts)
    {
        final XsNode[] chain = new XsNode[parts.length + 1];
        XsNode node = root;
        chain[0] = node;
        for (int i = 0; i < parts.length && null != node; i++)
        {
            node = node.child(parts[i]);
            chain[i + 1] = node;
        }
        return chain;
    }

    private static int deepestExisting(final XsNode[] chain)
    {
        int depth = 0;
        while (depth + 1 < chain.length && null != chain[depth + 1])
        {
            depth++;
        }
        return depth;
    }

    /**
     * Records the path and, if {@code missing > 0}, its ancestors up to and including the nearest existing one.
     */
    private void recordAccess(final String path, final int missing)
    {
        if (null == accessed)
        {
            return;
        }
        String current = path;
        accessed.add(current);
        for (int i = 0; i < missing && null != current; i++)
        {
            current = XenStorePath.parent(current);
            if (null != current)
            {
                accessed.add(current);
            }
        }
    }

    private void recordChange(final String path, final boolean removal, final XsNode before)
    {
        if (null != changes)
        {
            changes.add(new XsChange(path, removal, before, root));
        }
    }

    private void uncharge(final XsNode node, final String path)
    {
        adjustOwned(node.permissions.owner(), -1);
        if (null != accessed)
        {
            accessed.add(path);
        }
        for (final Map.Entry<String, XsNode> child : node.children.entrySet())
        {
            uncharge(child.getValue(), XenStorePath.child(path, child.getKey()));
        }
    }

    private int ownedDelta(final int domainId)
    {
        return ownedDelta.getOrDefault(domainId, 0);
    }

    private void adjustOwned(final int domainId, final int delta)
    {
        final int newDelta = ownedDelta(domainId) + delta;
        if (0 == newDelta)
        {
            ownedDelta.remove(domainId);
        }
        else
        {
            ownedDelta.put(domainId, newDelta);
        }
    }
}
