package io.pvio.hypervisor.xenstore;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * An open transaction: the snapshot it started from, its private view (the snapshot plus its own changes), the
 * paths whose state its operations depended on, and its mutations in order, replayed on the live tree at commit.
 */
final class XsTransaction
{
    /** A mutation, applied once to the transaction's view and again, at commit, to the live tree. */
    @FunctionalInterface
    interface Operation
    {
        void apply(XsTreeEditor editor);
    }

    final int id;
    final XenStoreConnection connection;
    final XsTree base;
    final Set<String> accessed = new HashSet<>();
    final List<Operation> operations = new ArrayList<>();
    XsTree view;

    XsTransaction(final int id, final XenStoreConnection connection, final XsTree base)
    {
        this.id = id;
        this.connection = connection;
        this.base = base;
        this.view = base;
    }
}
