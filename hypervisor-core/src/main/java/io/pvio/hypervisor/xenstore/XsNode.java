package io.pvio.hypervisor.xenstore;

import java.util.Collections;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * One node of the tree. Nodes are immutable: a change builds new nodes along the path from the root (path copying),
 * so a root reference is a consistent snapshot that later changes never disturb. That gives transactions their
 * snapshot for free and makes every operation atomic: it either publishes a new root or leaves the old one.
 * <p>
 * {@link #generation} changes when the node's own content changes: its value, its permissions or the set of its
 * children's names. A change further down keeps the ancestors' generations, so a transaction that listed a
 * directory conflicts with a child being added, not with a grandchild being written.
 */
final class XsNode
{
    static final byte[] EMPTY_VALUE = new byte[0];

    private static final NavigableMap<String, XsNode> NO_CHILDREN = Collections.emptyNavigableMap();

    /** The value; never modified once the node exists. */
    final byte[] value;
    final XsPermissions permissions;
    /** Children by name; never modified once the node exists. */
    final NavigableMap<String, XsNode> children;
    final long generation;

    private XsNode(
        final byte[] value,
        final XsPermissions permissions,
        final NavigableMap<String, XsNode> children,
        final long generation)
    {
        this.value = value;
        this.permissions = permissions;
        this.children = children;
        this.generation = generation;
    }

    static XsNode leaf(final byte[] value, final XsPermissions permissions, final long generation)
    {
        return new XsNode(value, permissions, NO_CHILDREN, generation);
    }

    static XsNode withOnlyChild(
        final XsPermissions permissions, final String name, final XsNode child, final long generation)
    {
        return new XsNode(EMPTY_VALUE, permissions, Collections.unmodifiableNavigableMap(
            new TreeMap<>(Collections.singletonMap(name, child))), generation);
    }

    XsNode child(final String name)
    {
        return children.get(name);
    }

    XsNode withValue(final byte[] newValue, final long newGeneration)
    {
        return new XsNode(newValue, permissions, children, newGeneration);
    }

    XsNode withPermissions(final XsPermissions newPermissions, final long newGeneration)
    {
        return new XsNode(value, newPermissions, children, newGeneration);
    }

    /**
     * This node with one child replaced, added or (when {@code child} is null) removed.
     */
    XsNode withChild(final String name, final XsNode child, final long newGeneration)
    {
        final TreeMap<String, XsNode> newChildren = new TreeMap<>(children);
        if (null == child)
        {
            newChildren.remove(name);
        }
        else
        {
            newChildren.put(name, child);
        }
        final NavigableMap<String, XsNode> frozen =
            newChildren.isEmpty() ? NO_CHILDREN : Collections.unmodifiableNavigableMap(newChildren);
        return new XsNode(value, permissions, frozen, newGeneration);
    }
}
