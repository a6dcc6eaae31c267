package io.pvio.hypervisor.xenstore;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static io.pvio.hypervisor.xenstore.XenStoreTest.errorOf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class XenStoreWatchTest
{
    private final AtomicInteger wakeUps1 = new AtomicInteger();
    private XenStore store;
    private XenStoreConnection dom0;
    private XenStoreConnection guest1;
    private XenStoreConnection guest2;

    @BeforeEach
    void setUp()
    {
        store = new XenStore(XenStoreLimits.DEFAULT.withMaxWatchesPerDomain(3).withMaxPendingWatchEvents(4));
        dom0 = store.connect(0);
        store.introduceDomain(1);
        store.introduceDomain(2);
        guest1 = store.connect(1, wakeUps1::incrementAndGet);
        guest2 = store.connect(2);
    }

    private static List<WatchEvent> drain(final XenStoreConnection connection)
    {
        final List<WatchEvent> events = new ArrayList<>();
        connection.pollWatchEvents((path, token) -> events.add(new WatchEvent(path, token)), Integer.MAX_VALUE);
        return events;
    }

    private static WatchEvent event(final String path, final String token)
    {
        return new WatchEvent(path, token);
    }

    @Test
    void shouldFireOnceWhenSetEvenIfNodeIsMissing()
    {
        guest1.watch("device", "tok");
        assertEquals(List.of(event("device", "tok")), drain(guest1));
        assertEquals(List.of(), drain(guest1));
    }

    @Test
    void shouldFireForWritesAtOrBelowPathWithChangedPathAndToken()
    {
        dom0.watch("/local/domain/1/device", "abs");
        drain(dom0);
        guest1.write("device/vbd/51712/state", "1");
        guest1.write("device", "v");
        guest1.write("devices", "not below");
        assertEquals(List.of(
            event("/local/domain/1/device/vbd/51712/state", "abs"),
            event("/local/domain/1/device", "abs")), drain(dom0));
    }

    @Test
    void shouldReportRelativePathsToRelativeWatches()
    {
        guest1.watch("device", "rel");
        guest1.watch("/local/domain/1/device", "abs");
        drain(guest1);
        guest1.write("device/x", "1");
        assertEquals(List.of(event("device/x", "rel"), event("/local/domain/1/device/x", "abs")), drain(guest1));
    }

    @Test
    void shouldFireForRemovalIncludingWatchesBelowRemovedNode()
    {
        guest1.write("a/b/c", "1");
        guest1.watch("a", "above");
        guest1.watch("a/b/c", "below");
        drain(guest1);
        guest1.rm("a/b");
        assertEquals(List.of(event("a/b", "above"), event("a/b/c", "below")), drain(guest1));
    }

    @Test
    void shouldFireForPermissionChangesAndMkdir()
    {
        guest1.watch("n", "t");
        drain(guest1);
        guest1.mkdir("n");
        assertEquals(List.of(event("n", "t")), drain(guest1));
        guest1.setPermissions("n", XsPermissions.parse("n1", "r2"));
        assertEquals(List.of(event("n", "t")), drain(guest1));
        guest1.mkdir("n");
        assertEquals(List.of(), drain(guest1), "mkdir of an existing node changes nothing and fires nothing");
    }

    @Test
    void shouldNotFireForFailedOperations()
    {
        guest1.watch("/local/domain/2", "t");
        drain(guest1);
        assertEquals(XsError.EACCES, errorOf(() -> guest1.write("/local/domain/2/x", "1")));
        assertEquals(XsError.E2BIG, errorOf(() -> guest2.write("x", new byte[5000])));
        assertEquals(List.of(), drain(guest1));
    }

    @Test
    void shouldDeliverEventsOnlyForNodesTheWatcherMayRead()
    {
        guest1.watch("/local/domain/2", "t");
        assertEquals(List.of(event("/local/domain/2", "t")), drain(guest1), "first firing is always delivered");

        guest2.write("private", "p");
        guest2.write("shared", "s");
        assertEquals(List.of(), drain(guest1));
        guest2.setPermissions("shared", XsPermissions.parse("n2", "r1"));
        assertEquals(List.of(event("/local/domain/2/shared", "t")), drain(guest1), "read granted");
        guest2.write("shared", "s2");
        guest2.rm("private");
        assertEquals(List.of(event("/local/domain/2/shared", "t")), drain(guest1), "the write, not the removal");
    }

    @Test
    void shouldDeliverPermissionRevocationToWatcherThatCouldReadBefore()
    {
        guest2.write("shared", "s");
        guest2.setPermissions("shared", XsPermissions.parse("n2", "r1"));
        guest1.watch("/local/domain/2/shared", "t");
        drain(guest1);
        guest2.setPermissions("shared", XsPermissions.parse("n2"));
        assertEquals(List.of(event("/local/domain/2/shared", "t")), drain(guest1));
        guest2.write("shared", "gone");
        assertEquals(List.of(), drain(guest1));
    }

    @Test
    void shouldDeliverEventsOnlyOnPollAndWakeOwnerOncePerEmptyToNonEmpty()
    {
        guest1.watch("a", "t");
        assertEquals(1, wakeUps1.get());
        guest1.write("a/x", "1");
        assertEquals(1, wakeUps1.get(), "queue was already non-empty");
        assertEquals(2, guest1.pendingWatchEvents());
        assertEquals(2, drain(guest1).size());
        guest1.write("a", "2");
        assertEquals(2, wakeUps1.get());
    }

    @Test
    void shouldCoalesceIdenticalPendingEvents()
    {
        guest1.watch("a", "t");
        drain(guest1);
        guest1.write("a", "1");
        guest1.write("a", "2");
        guest1.write("a", "3");
        assertEquals(List.of(event("a", "t")), drain(guest1));
        assertEquals(2, guest1.coalescedWatchEvents());
    }

    @Test
    void shouldBoundPendingEventsAndCountDrops()
    {
        guest1.watch("a", "t");
        drain(guest1);
        for (int i = 0; i < 10; i++)
        {
            guest1.write("a/" + i, "x");
        }
        assertEquals(4, guest1.pendingWatchEvents());
        assertEquals(6, guest1.droppedWatchEvents());
        assertEquals(List.of(event("a/0", "t"), event("a/1", "t"), event("a/2", "t"), event("a/3", "t")),
            drain(guest1));
        guest1.write("a/9", "y");
        assertEquals(List.of(event("a/9", "t")), drain(guest1), "delivery resumes once drained");
    }

    @Test
    void shouldHonourPollLimitAndRunHandlerOnCallingThread()
    {
        guest1.watch("a", "t");
        guest1.write("a/1", "");
        guest1.write("a/2", "");
        final List<Thread> threads = new ArrayList<>();
        assertEquals(2, guest1.pollWatchEvents((p, t) -> threads.add(Thread.currentThread()), 2));
        assertEquals(1, guest1.pollWatchEvents((p, t) -> threads.add(Thread.currentThread()), 2));
        assertEquals(List.of(Thread.currentThread(), Thread.currentThread(), Thread.currentThread()), threads);
    }

    @Test
    void shouldCountHandlerFailureAsDelivered()
    {
        guest1.watch("a", "t");
        assertThrows(IllegalStateException.class, () -> guest1.pollWatchEvents((p, t) ->
        {
            throw new IllegalStateException("handler failed");
        }, 10));
        assertEquals(0, guest1.pendingWatchEvents());
    }

    @Test
    void shouldRejectDuplicateWatchWithEexistAndUnknownUnwatchWithEnoent()
    {
        guest1.watch("a", "t");
        assertEquals(XsError.EEXIST, errorOf(() -> guest1.watch("a", "t")));
        assertEquals(XsError.EEXIST, errorOf(() -> guest1.watch("/local/domain/1/a", "t")), "same node");
        guest1.watch("a", "other token");
        guest2.watch("/local/domain/1/a", "t");
        assertEquals(XsError.ENOENT, errorOf(() -> guest1.unwatch("a", "nope")));
        guest1.unwatch("a", "t");
        assertEquals(XsError.ENOENT, errorOf(() -> guest1.unwatch("a", "t")));
    }

    @Test
    void shouldStopFiringAfterUnwatch()
    {
        guest1.watch("a", "t");
        drain(guest1);
        guest1.unwatch("a", "t");
        guest1.write("a", "1");
        assertEquals(List.of(), drain(guest1));
    }

    @Test
    void shouldRejectBadTokensWithEinval()
    {
        assertEquals(XsError.EINVAL, errorOf(() -> guest1.watch("a", "bad\u0000token")));
        assertEquals(XsError.EINVAL, errorOf(() -> guest1.watch("a", "\u0100")));
        assertEquals(XsError.EINVAL, errorOf(() -> guest1.watch("a", "t".repeat(XenStore.MAX_TOKEN_LENGTH + 1))));
        guest1.watch("a", "t".repeat(XenStore.MAX_TOKEN_LENGTH));
    }

    @Test
    void shouldEnforceWatchQuotaForGuestsAcrossConnections()
    {
        final XenStoreConnection second = store.connect(1);
        guest1.watch("a", "1");
        guest1.watch("a", "2");
        second.watch("a", "3");
        final XenStoreException ex = assertThrows(XenStoreException.class, () -> second.watch("a", "4"));
        assertEquals("EQUOTA: watch quota exceeded: watches=3, maxWatchesPerDomain=3, domain=1", ex.getMessage());
        guest1.unwatch("a", "1");
        second.watch("a", "4");
        for (int i = 0; i < 10; i++)
        {
            dom0.watch("/", "dom0-" + i);
        }
    }

    @Test
    void shouldDropWatchesOnResetAndClose()
    {
        guest1.watch("a", "1");
        guest1.watch("b", "2");
        guest1.resetWatches();
        assertEquals(0, store.watchCount(1));
        drain(guest1);
        guest1.write("a", "");
        assertEquals(List.of(), drain(guest1));

        guest2.watch("x", "t");
        guest2.close();
        assertEquals(0, store.watchCount(2));
    }

    @Test
    void shouldFireSpecialWatchesOnIntroduceAndRelease()
    {
        dom0.watch(XenStorePath.INTRODUCE_DOMAIN, "intro");
        guest2.watch(XenStorePath.RELEASE_DOMAIN, "release");
        dom0.watch("/local/domain", "domains");
        drain(dom0);
        drain(guest2);

        store.introduceDomain(3);
        assertEquals(List.of(event("/local/domain/3", "domains"), event("@introduceDomain", "intro")), drain(dom0));
        store.introduceDomain(3);
        assertEquals(List.of(), drain(dom0), "introducing twice does nothing");

        store.releaseDomain(3);
        assertEquals(List.of(event("@releaseDomain", "release")), drain(guest2));
        assertEquals(List.of(), drain(dom0));
    }

    @Test
    void shouldFireWatchOnRootForEveryChange()
    {
        dom0.watch("/", "all");
        drain(dom0);
        guest1.write("x", "");
        guest2.rm("/local/domain/2/nothing");
        assertEquals(List.of(event("/local/domain/1/x", "all")), drain(dom0), "removing nothing fires nothing");
    }

    @Test
    void shouldIgnoreThrowingWakeUpAndStillQueueEvents()
    {
        final XenStoreConnection faulty = store.connect(1, () ->
        {
            throw new IllegalStateException("wake-up failed");
        });
        faulty.watch("a", "t");
        guest1.write("a/1", "1");
        assertEquals(1, store.failedWakeUps());
        assertEquals(2, drain(faulty).size());
    }
}
