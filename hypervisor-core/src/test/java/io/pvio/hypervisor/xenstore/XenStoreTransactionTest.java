package io.pvio.hypervisor.xenstore;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static io.pvio.hypervisor.xenstore.XenStoreTest.errorOf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class XenStoreTransactionTest
{
    private XenStore store;
    private XenStoreConnection dom0;
    private XenStoreConnection guest1;
    private XenStoreConnection other1;

    @BeforeEach
    void setUp()
    {
        store = new XenStore(XenStoreLimits.DEFAULT.withMaxTransactionsPerDomain(2).withMaxNodesPerDomain(8));
        dom0 = store.connect(0);
        store.introduceDomain(1);
        guest1 = store.connect(1);
        other1 = store.connect(1);
    }

    private static List<WatchEvent> drain(final XenStoreConnection connection)
    {
        final List<WatchEvent> events = new ArrayList<>();
        connection.pollWatchEvents((path, token) -> events.add(new WatchEvent(path, token)), Integer.MAX_VALUE);
        return events;
    }

    @Test
    void shouldHideWritesUntilCommit()
    {
        final int tx = guest1.transactionStart();
        assertNotEquals(XenStore.NO_TRANSACTION, tx);
        guest1.write(tx, "ring-ref", "8");
        guest1.write(tx, "event-channel", "5");
        assertEquals("8", guest1.readString(tx, "ring-ref"), "a transaction sees its own writes");
        assertEquals(List.of("event-channel", "ring-ref"), guest1.directory(tx, "/local/domain/1"));
        assertEquals(XsError.ENOENT, errorOf(() -> guest1.read("ring-ref")), "others do not");

        guest1.transactionEnd(tx, true);
        assertEquals("8", dom0.readString("/local/domain/1/ring-ref"));
        assertEquals("5", dom0.readString("/local/domain/1/event-channel"));
        assertEquals(store.recountOwnedNodes(), store.ownedNodeCounts());
    }

    @Test
    void shouldReadSnapshotTakenAtStart()
    {
        guest1.write("x", "1");
        final int tx = guest1.transactionStart();
        other1.write("x", "2");
        other1.write("y", "new");
        assertEquals("1", guest1.readString(tx, "x"));
        assertEquals(XsError.ENOENT, errorOf(() -> guest1.read(tx, "y")));
    }

    @Test
    void shouldFailCommitWithEagainWhenNodeReadWasChangedConcurrently()
    {
        guest1.write("x", "1");
        final int tx = guest1.transactionStart();
        guest1.readString(tx, "x");
        guest1.write(tx, "z", "derived from x");
        other1.write("x", "2");

        final XenStoreException ex = assertThrows(XenStoreException.class, () -> guest1.transactionEnd(tx, true));
        assertEquals("EAGAIN: transaction conflicts with a concurrent change: tx=" + tx + ", path=/local/domain/1/x, " +
            "domain=1", ex.getMessage());
        assertEquals(XsError.ENOENT, errorOf(() -> guest1.read("z")), "nothing of the transaction is applied");
        assertEquals(XsError.ENOENT, errorOf(() -> guest1.transactionEnd(tx, false)), "and it is closed");
    }

    @Test
    void shouldFailReadOnlyTransactionWhenItsReadsChanged()
    {
        guest1.write("x", "1");
        final int tx = guest1.transactionStart();
        guest1.read(tx, "x");
        other1.rm("x");
        assertEquals(XsError.EAGAIN, errorOf(() -> guest1.transactionEnd(tx, true)));
    }

    @Test
    void shouldFailCommitWhenWrittenNodeWasWrittenConcurrently()
    {
        guest1.write("x", "1");
        final int tx = guest1.transactionStart();
        guest1.write(tx, "x", "tx");
        other1.write("x", "other");
        assertEquals(XsError.EAGAIN, errorOf(() -> guest1.transactionEnd(tx, true)));
        assertEquals("other", guest1.readString("x"));
    }

    @Test
    void shouldFailCommitWhenMissingNodeItCreatesWasCreatedConcurrently()
    {
        final int tx = guest1.transactionStart();
        guest1.write(tx, "a/b", "tx");
        other1.write("a/c", "other");
        assertEquals(XsError.EAGAIN, errorOf(() -> guest1.transactionEnd(tx, true)));
    }

    @Test
    void shouldFailCommitWhenRemovedSubtreeGainedAChildConcurrently()
    {
        guest1.write("d/a", "1");
        final int tx = guest1.transactionStart();
        guest1.rm(tx, "d");
        other1.write("d/b", "late");
        assertEquals(XsError.EAGAIN, errorOf(() -> guest1.transactionEnd(tx, true)));
        assertEquals(List.of("a", "b"), guest1.directory("d"));
    }

    @Test
    void shouldCommitWhenOnlyUnrelatedNodesChanged()
    {
        guest1.write("a", "1");
        guest1.write("b", "1");
        guest1.write("c", "1");
        final int tx = guest1.transactionStart();
        guest1.read(tx, "a");
        guest1.write(tx, "b", "2");
        other1.write("c", "2");
        guest1.transactionEnd(tx, true);
        assertEquals("2", guest1.readString("b"));
        assertEquals("2", guest1.readString("c"));
    }

    @Test
    void shouldConflictOnChildSetChangeButNotOnDescendantValueChange()
    {
        guest1.write("d/a", "1");
        final int first = guest1.transactionStart();
        guest1.directory(first, "d");
        other1.write("d/a", "2");
        guest1.transactionEnd(first, true);

        final int second = guest1.transactionStart();
        guest1.directory(second, "d");
        other1.write("d/new", "");
        assertEquals(XsError.EAGAIN, errorOf(() -> guest1.transactionEnd(second, true)));
    }

    @Test
    void shouldRetryWholeBodyUntilCommitSucceeds()
    {
        guest1.write("counter", "0");
        final AtomicInteger attempts = new AtomicInteger();
        final String result = guest1.transaction(5, tx ->
        {
            final int value = Integer.parseInt(guest1.readString(tx, "counter"));
            if (attempts.incrementAndGet() < 3)
            {
                other1.write("counter", Integer.toString(value + 10));
            }
            guest1.write(tx, "counter", Integer.toString(value + 1));
            return "committed on attempt " + attempts.get();
        });
        assertEquals("committed on attempt 3", result);
        assertEquals("21", guest1.readString("counter"));
        assertEquals(0, store.openTransactions(1));
    }

    @Test
    void shouldGiveUpWithEagainAfterMaxAttempts()
    {
        guest1.write("x", "0");
        final AtomicInteger attempts = new AtomicInteger();
        final XenStoreException ex = assertThrows(XenStoreException.class, () -> guest1.transaction(3, tx ->
        {
            attempts.incrementAndGet();
            guest1.read(tx, "x");
            other1.write("x", Integer.toString(attempts.get()));
            return null;
        }));
        assertEquals(XsError.EAGAIN, ex.error());
        assertEquals(3, attempts.get());
        assertEquals(0, store.openTransactions(1));
        assertThrows(IllegalArgumentException.class, () -> guest1.transaction(0, tx -> null));
    }

    @Test
    void shouldAbortTransactionWhenBodyThrows()
    {
        final IllegalStateException ex = assertThrows(IllegalStateException.class, () -> guest1.transaction(3, tx ->
        {
            guest1.write(tx, "x", "1");
            throw new IllegalStateException("body failed");
        }));
        assertEquals("body failed", ex.getMessage());
        assertEquals(0, store.openTransactions(1));
        assertEquals(XsError.ENOENT, errorOf(() -> guest1.read("x")));
    }

    @Test
    void shouldDiscardEverythingOnAbort()
    {
        guest1.watch("a", "t");
        drain(guest1);
        final int tx = guest1.transactionStart();
        guest1.write(tx, "a", "1");
        guest1.transactionEnd(tx, false);
        assertEquals(XsError.ENOENT, errorOf(() -> guest1.read("a")));
        assertEquals(List.of(), drain(guest1));
        assertEquals(1, store.ownedNodes(1));
    }

    @Test
    void shouldFireWatchesOnlyOnCommit()
    {
        dom0.watch("/local/domain/1", "t");
        drain(dom0);
        final int tx = guest1.transactionStart();
        guest1.write(tx, "ring-ref", "8");
        guest1.write(tx, "state", "3");
        assertEquals(List.of(), drain(dom0));
        guest1.transactionEnd(tx, true);
        assertEquals(List.of(new WatchEvent("/local/domain/1/ring-ref", "t"),
            new WatchEvent("/local/domain/1/state", "t")), drain(dom0));
    }

    @Test
    void shouldApplyPermissionsRemovalAndMkdirInTransaction()
    {
        guest1.write("old", "");
        final int tx = guest1.transactionStart();
        guest1.mkdir(tx, "dir");
        guest1.setPermissions(tx, "dir", XsPermissions.parse("n1", "r0"));
        guest1.rm(tx, "old");
        assertEquals(XsPermissions.parse("n1", "r0"), guest1.getPermissions(tx, "dir"));
        assertEquals(XsError.ENOENT, errorOf(() -> guest1.read(tx, "old")));
        assertEquals("", guest1.readString("old"));
        guest1.transactionEnd(tx, true);
        assertEquals(List.of("dir"), guest1.directory("/local/domain/1"));
        assertEquals(XsPermissions.parse("n1", "r0"), guest1.getPermissions("dir"));
    }

    @Test
    void shouldKeepTransactionUsableAfterFailedOperation()
    {
        final int tx = guest1.transactionStart();
        assertEquals(XsError.E2BIG, errorOf(() -> guest1.write(tx, "big", new byte[4097])));
        assertEquals(XsError.EACCES, errorOf(() -> guest1.write(tx, "/local/domain/0/x", "")));
        guest1.write(tx, "ok", "1");
        guest1.transactionEnd(tx, true);
        assertEquals("1", guest1.readString("ok"));
    }

    @Test
    void shouldRejectUnknownOrForeignTransactionWithEnoent()
    {
        final int tx = guest1.transactionStart();
        assertEquals(XsError.ENOENT, errorOf(() -> guest1.read(tx + 100, "x")));
        final XenStoreException ex = assertThrows(XenStoreException.class, () -> other1.write(tx, "x", ""));
        assertEquals("ENOENT: no such transaction on this connection: tx=" + tx + ", domain=1", ex.getMessage());
        assertEquals(XsError.ENOENT, errorOf(() -> other1.transactionEnd(tx, true)));
        guest1.transactionEnd(tx, true);
        assertEquals(XsError.ENOENT, errorOf(() -> guest1.transactionEnd(tx, true)));
    }

    @Test
    void shouldEnforceTransactionQuotaAcrossConnectionsOfDomain()
    {
        final int first = guest1.transactionStart();
        other1.transactionStart();
        final XenStoreException ex = assertThrows(XenStoreException.class, () -> guest1.transactionStart());
        assertEquals("EQUOTA: transaction quota exceeded: open=2, maxTransactionsPerDomain=2, domain=1",
            ex.getMessage());
        guest1.transactionEnd(first, false);
        guest1.transactionStart();
        for (int i = 0; i < 10; i++)
        {
            dom0.transactionStart();
        }
        assertEquals(10, store.openTransactions(0));
    }

    @Test
    void shouldFailCommitWithEquotaWhenReplayExceedsQuotaAndLeaveTreeUnchanged()
    {
        guest1.mkdir("o");
        final int tx = guest1.transactionStart();
        guest1.write(tx, "t/a", "");
        guest1.write(tx, "t/b", "");
        guest1.write(tx, "t/c", "");
        for (int i = 0; i < 4; i++)
        {
            other1.write("o/" + i, "");
        }
        assertEquals(6, store.ownedNodes(1));
        final XenStoreException ex = assertThrows(XenStoreException.class, () -> guest1.transactionEnd(tx, true));
        assertEquals("EQUOTA: node quota exceeded: owned=8, creating=1, maxNodesPerDomain=8, " +
            "path=/local/domain/1/t/b, domain=1", ex.getMessage());
        assertEquals(XsError.ENOENT, errorOf(() -> guest1.read("t")));
        assertEquals(6, store.ownedNodes(1));
        assertEquals(0, store.openTransactions(1));
    }

    @Test
    void shouldAbortTransactionsOnResetWatches()
    {
        final int tx = guest1.transactionStart();
        guest1.resetWatches();
        assertEquals(XsError.ENOENT, errorOf(() -> guest1.transactionEnd(tx, true)));
    }

    @Test
    void shouldHandOutDistinctTransactionIds()
    {
        final int a = dom0.transactionStart();
        final int b = dom0.transactionStart();
        assertNotEquals(a, b);
        assertTrue(a != 0 && b != 0);
    }
}
