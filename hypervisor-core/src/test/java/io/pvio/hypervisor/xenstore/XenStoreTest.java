package io.pvio.hypervisor.xenstore;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class XenStoreTest
{
    private XenStore store;
    private XenStoreConnection dom0;
    private XenStoreConnection guest1;
    private XenStoreConnection guest2;

    @BeforeEach
    void setUp()
    {
        store = new XenStore(XenStoreLimits.DEFAULT.withMaxNodesPerDomain(6).withMaxPermissionEntries(4));
        dom0 = store.connect(0);
        store.introduceDomain(1);
        store.introduceDomain(2);
        guest1 = store.connect(1);
        guest2 = store.connect(2);
    }

    static XsError errorOf(final Executable executable)
    {
        return assertThrows(XenStoreException.class, executable).error();
    }

    @Test
    void shouldWriteNameAndDomidReadableByTheDomainOnlyWhenIntroducedWithAName()
    {
        store.introduceDomain(3, "guest-three");

        try (XenStoreConnection guest3 = store.connect(3))
        {
            assertEquals("guest-three", guest3.readString("name"));
            assertEquals("3", guest3.readString("domid"));
        }
        assertEquals(XsPermissions.parse("n3"), dom0.getPermissions("/local/domain/3/name"));
        assertEquals(XsError.EACCES, errorOf(() -> guest1.read("/local/domain/3/name")));
        store.introduceDomain(3, "renamed");
        assertEquals("renamed", dom0.readString("/local/domain/3/name"));
    }

    @Test
    void shouldRefuseADomainNameThatIsEmptyTooLongOrHasASlashOrSpace()
    {
        for (final String bad : new String[] { "", "a/b", "a b", "x".repeat(XenStore.MAX_DOMAIN_NAME_LENGTH + 1) })
        {
            assertThrows(IllegalArgumentException.class, () -> store.introduceDomain(4, bad), bad);
        }
        assertFalse(store.isDomainIntroduced(4), "a refused name introduces nothing");
    }

    @Test
    void shouldCreateDomainPathOwnedByDomainOnIntroduce()
    {
        assertEquals(XsPermissions.parse("n1"), dom0.getPermissions("/local/domain/1"));
        assertEquals(List.of("1", "2"), dom0.directory("/local/domain"));
        assertTrue(store.isDomainIntroduced(1));
        assertFalse(store.isDomainIntroduced(3));
        assertEquals(1, store.ownedNodes(1));
    }

    @Test
    void shouldReadBackWhatWasWrittenByRelativeAndAbsolutePath()
    {
        guest1.write("name", "vm1");
        assertEquals("vm1", guest1.readString("/local/domain/1/name"));
        assertEquals("vm1", dom0.readString("/local/domain/1/name"));

        final byte[] binary = { 0, 1, (byte)0xFF, 0 };
        guest1.write("blob", binary);
        assertArrayEquals(binary, guest1.read("blob"));
    }

    @Test
    void shouldReturnCopiesOfValues()
    {
        final byte[] value = { 1, 2, 3 };
        guest1.write("v", value);
        value[0] = 9;
        final byte[] read = guest1.read("v");
        read[1] = 9;
        assertArrayEquals(new byte[] { 1, 2, 3 }, guest1.read("v"));
    }

    @Test
    void shouldCreateMissingParentsThatInheritParentPermissionsWithCreatorAsOwner()
    {
        dom0.setPermissions("/local/domain/1", XsPermissions.parse("n1", "r2"));
        guest1.write("device/vbd/51712/state", "1");

        for (final String path : List.of("device", "device/vbd", "device/vbd/51712", "device/vbd/51712/state"))
        {
            assertEquals(XsPermissions.parse("n1", "r2"), guest1.getPermissions(path), path);
        }
        assertArrayEquals(new byte[0], guest1.read("device/vbd"), "parents are created empty");
        assertEquals(5, store.ownedNodes(1));
    }

    @Test
    void shouldKeepInheritedOwnerWhenDomain0Creates()
    {
        dom0.write("/local/domain/1/control/shutdown", "");
        assertEquals(1, dom0.getPermissions("/local/domain/1/control/shutdown").owner());
        assertEquals(3, store.ownedNodes(1));
    }

    @Test
    void shouldMakeGuestOwnerOfNodesItCreatesUnderAnotherDomainsWritableNode()
    {
        dom0.mkdir("/shared");
        dom0.setPermissions("/shared", XsPermissions.parse("n0", "w2"));
        guest2.write("/shared/from2", "x");
        assertEquals(XsPermissions.parse("n2", "w2"), dom0.getPermissions("/shared/from2"));
        assertEquals("x", guest2.readString("/shared/from2"), "owner may read even though its entry says w");
    }

    @Test
    void shouldListChildrenInAscendingOrder()
    {
        guest1.write("d/b", "");
        guest1.write("d/a", "");
        guest1.mkdir("d/c");
        assertEquals(List.of("a", "b", "c"), guest1.directory("d"));
        assertEquals(List.of(), guest1.directory("d/a"));
    }

    @Test
    void shouldFailWithEnoentWhenNodeIsMissingAndAncestorReadable()
    {
        final XenStoreException ex = assertThrows(XenStoreException.class, () -> guest1.read("missing"));
        assertEquals(XsError.ENOENT, ex.error());
        assertEquals("ENOENT: no such node: path=/local/domain/1/missing, domain=1", ex.getMessage());
        assertEquals(XsError.ENOENT, errorOf(() -> guest1.directory("a/b/c")));
        assertEquals(XsError.ENOENT, errorOf(() -> guest1.getPermissions("a")));
        assertEquals(XsError.ENOENT, errorOf(() -> guest1.setPermissions("a", XsPermissions.parse("n1"))));
    }

    @Test
    void shouldFailWithEaccesWhenProbingForNodesUnderUnreadableAncestor()
    {
        final XenStoreException ex =
            assertThrows(XenStoreException.class, () -> guest1.read("/local/domain/2/missing"));
        assertEquals(XsError.EACCES, ex.error());
        assertEquals("EACCES: no read permission on the nearest existing ancestor: " +
            "path=/local/domain/2/missing, domain=1", ex.getMessage());
    }

    @Test
    void shouldForbidGuestToReadOrWriteAnotherGuestsNodes()
    {
        guest2.write("secret", "42");
        final XenStoreException ex = assertThrows(XenStoreException.class, () -> guest1.read("/local/domain/2/secret"));
        assertEquals("EACCES: no read permission: path=/local/domain/2/secret, owner=2, domain=1", ex.getMessage());
        assertEquals(XsError.EACCES, errorOf(() -> guest1.write("/local/domain/2/secret", "0")));
        assertEquals(XsError.EACCES, errorOf(() -> guest1.write("/local/domain/2/new", "0")));
        assertEquals(XsError.EACCES, errorOf(() -> guest1.directory("/local/domain/2")));
        assertEquals(XsError.EACCES, errorOf(() -> guest1.getPermissions("/local/domain/2/secret")));
        assertEquals(XsError.EACCES, errorOf(() -> guest1.rm("/local/domain/2/secret")));
        assertEquals(XsError.EACCES, errorOf(() -> guest1.mkdir("/local/domain/2/secret")));
        assertEquals(XsError.EACCES, errorOf(() -> guest1.read("/local/domain")));
        assertEquals("42", guest2.readString("secret"));
    }

    @Test
    void shouldLetDomain0DoEverything()
    {
        guest2.write("secret", "42");
        assertEquals("42", dom0.readString("/local/domain/2/secret"));
        dom0.write("/local/domain/2/secret", "43");
        assertEquals(List.of("secret"), dom0.directory("/local/domain/2"));
        dom0.setPermissions("/local/domain/2/secret", XsPermissions.parse("n2", "n0"));
        assertEquals("43", dom0.readString("/local/domain/2/secret"));
        dom0.rm("/local/domain/2/secret");
        assertEquals(XsError.ENOENT, errorOf(() -> guest2.read("secret")));
    }

    @Test
    void shouldHonourGrantedReadWithoutGrantingWrite()
    {
        guest2.write("backend/state", "2");
        guest2.setPermissions("backend/state", XsPermissions.parse("n2", "r1"));
        assertEquals("2", guest1.readString("/local/domain/2/backend/state"));
        assertEquals(XsError.EACCES, errorOf(() -> guest1.write("/local/domain/2/backend/state", "6")));
        assertEquals(XsError.EACCES, errorOf(() -> guest1.directory("/local/domain/2/backend")));
    }

    @Test
    void shouldHonourOwnerLetterAsDefaultForOtherGuests()
    {
        guest2.write("public", "p");
        guest2.setPermissions("public", XsPermissions.parse("r2"));
        assertEquals("p", guest1.readString("/local/domain/2/public"));
        guest2.setPermissions("public", XsPermissions.parse("b2", "n1"));
        assertEquals(XsError.EACCES, errorOf(() -> guest1.read("/local/domain/2/public")));
    }

    @Test
    void shouldLeaveExistingNodeAloneOnMkdir()
    {
        guest1.write("dir", "keep");
        guest1.mkdir("dir");
        assertEquals("keep", guest1.readString("dir"));
        guest1.mkdir("new/deep");
        assertEquals(List.of("deep"), guest1.directory("new"));
        assertEquals(XsError.EACCES, errorOf(() -> guest1.mkdir("/local/domain")));
    }

    @Test
    void shouldRemoveRecursivelyAndReleaseQuota()
    {
        guest1.write("a/b/c", "1");
        guest1.write("a/d", "2");
        assertEquals(5, store.ownedNodes(1));
        guest1.rm("a");
        assertEquals(XsError.ENOENT, errorOf(() -> guest1.read("a/b/c")));
        assertEquals(List.of(), guest1.directory("/local/domain/1"));
        assertEquals(1, store.ownedNodes(1));
    }

    @Test
    void shouldAcceptRemovalOfMissingNodeWhoseParentExists()
    {
        guest1.rm("missing");
        final XenStoreException ex = assertThrows(XenStoreException.class, () -> guest1.rm("missing/child"));
        assertEquals(XsError.ENOENT, ex.error());
    }

    @Test
    void shouldRefuseToRemoveRoot()
    {
        final XenStoreException ex = assertThrows(XenStoreException.class, () -> dom0.rm("/"));
        assertEquals("EINVAL: cannot remove the root: path=/, domain=0", ex.getMessage());
    }

    @Test
    void shouldLetOnlyOwnerOrDomain0SetPermissions()
    {
        guest1.write("n", "");
        guest1.setPermissions("n", XsPermissions.parse("n1", "b2"));
        assertEquals("", guest2.readString("/local/domain/1/n"), "granted both");
        guest2.write("/local/domain/1/n", "by2");
        final XenStoreException ex = assertThrows(XenStoreException.class,
            () -> guest2.setPermissions("/local/domain/1/n", XsPermissions.parse("b1")));
        assertEquals("EACCES: only the owner or domain 0 may set permissions: path=/local/domain/1/n, owner=1, " +
            "domain=2", ex.getMessage());
        dom0.setPermissions("/local/domain/1/n", XsPermissions.parse("r1"));
        assertEquals(List.of("r1"), guest1.getPermissions("n").toStrings());
    }

    @Test
    void shouldForbidGuestToGiveNodeAwayButLetDomain0MoveOwnership()
    {
        guest1.write("n", "");
        final XenStoreException ex = assertThrows(XenStoreException.class,
            () -> guest1.setPermissions("n", XsPermissions.parse("n2")));
        assertEquals(XsError.EPERM, ex.error());
        assertEquals(2, store.ownedNodes(1));

        dom0.setPermissions("/local/domain/1/n", XsPermissions.parse("n2"));
        assertEquals(1, store.ownedNodes(1));
        assertEquals(2, store.ownedNodes(2));
        assertEquals(XsError.EACCES, errorOf(() -> guest1.read("n")));
    }

    @Test
    void shouldRejectTooManyPermissionEntriesWithE2big()
    {
        guest1.write("n", "");
        final XenStoreException ex = assertThrows(XenStoreException.class,
            () -> guest1.setPermissions("n", XsPermissions.parse("n1", "r2", "r3", "r4", "r5")));
        assertEquals(XsError.E2BIG, ex.error());
        assertTrue(ex.getMessage().contains("entries=5 (expected: <= 4)"), ex.getMessage());
    }

    @Test
    void shouldAcceptValueOf4096BytesAndRejectLongerWithE2big()
    {
        final byte[] max = new byte[XenStoreLimits.MAX_VALUE_LENGTH];
        Arrays.fill(max, (byte)'x');
        guest1.write("big", max);
        assertArrayEquals(max, guest1.read("big"));

        final XenStoreException ex =
            assertThrows(XenStoreException.class, () -> guest1.write("bigger", new byte[4097]));
        assertEquals("E2BIG: value too long: length=4097 (expected: <= 4096), path=/local/domain/1/bigger, " +
            "domain=1", ex.getMessage());
        assertEquals(XsError.ENOENT, errorOf(() -> guest1.read("bigger")));
    }

    @Test
    void shouldRejectBadPathsWithEinvalOnEveryOperation()
    {
        final String bad = "a//b";
        assertEquals(XsError.EINVAL, errorOf(() -> guest1.read(bad)));
        assertEquals(XsError.EINVAL, errorOf(() -> guest1.write(bad, "x")));
        assertEquals(XsError.EINVAL, errorOf(() -> guest1.mkdir(bad)));
        assertEquals(XsError.EINVAL, errorOf(() -> guest1.rm(bad)));
        assertEquals(XsError.EINVAL, errorOf(() -> guest1.directory(bad)));
        assertEquals(XsError.EINVAL, errorOf(() -> guest1.getPermissions(bad)));
        assertEquals(XsError.EINVAL, errorOf(() -> guest1.setPermissions(bad, XsPermissions.parse("n1"))));
        assertEquals(XsError.EINVAL, errorOf(() -> guest1.watch(bad, "t")));
    }

    @Test
    void shouldFailWithEquotaWhenGuestExceedsNodeQuotaAndLeaveTreeUnchanged()
    {
        guest1.write("a", "");
        guest1.write("b", "");
        guest1.write("c", "");
        assertEquals(4, store.ownedNodes(1));

        final XenStoreException ex = assertThrows(XenStoreException.class, () -> guest1.write("x/y/z", "1"));
        assertEquals("EQUOTA: node quota exceeded: owned=4, creating=3, maxNodesPerDomain=6, " +
            "path=/local/domain/1/x/y/z, domain=1", ex.getMessage());
        assertEquals(XsError.ENOENT, errorOf(() -> guest1.read("x")), "no partial parents");
        assertEquals(4, store.ownedNodes(1));

        guest1.write("x/y", "1");
        assertEquals(XsError.EQUOTA, errorOf(() -> guest1.mkdir("w")));
        guest1.write("a", "overwrite costs nothing");
        guest1.rm("b");
        guest1.mkdir("w");
        assertEquals(store.recountOwnedNodes(), store.ownedNodeCounts());
    }

    @Test
    void shouldNotApplyQuotasToDomain0()
    {
        for (int i = 0; i < 20; i++)
        {
            dom0.write("/local/domain/1/tools/" + i, "");
        }
        assertEquals(22, store.ownedNodes(1), "counted against the owner, but not refused");
        assertEquals(XsError.EQUOTA, errorOf(() -> guest1.write("more", "")));
    }

    @Test
    void shouldKeepRunningCountsEqualToRecount()
    {
        guest1.write("a/b", "");
        dom0.write("/tool/x", "");
        dom0.setPermissions("/tool/x", XsPermissions.parse("n2"));
        guest2.write("/local/domain/2/q", "");
        dom0.rm("/tool");
        assertEquals(store.recountOwnedNodes(), store.ownedNodeCounts());
    }

    @Test
    void shouldThrowIllegalStateOnClosedConnection()
    {
        guest1.close();
        guest1.close();
        assertTrue(guest1.isClosed());
        final IllegalStateException ex = assertThrows(IllegalStateException.class, () -> guest1.read("x"));
        assertEquals("connection closed: domain=1", ex.getMessage());
        assertThrows(IllegalStateException.class, () -> guest1.write("x", "1"));
        assertThrows(IllegalStateException.class, () -> guest1.watch("x", "t"));
        assertThrows(IllegalStateException.class, () -> guest1.transactionStart());
    }

    @Test
    void shouldCloseConnectionsAndForgetWatchesWhenDomainIsReleased()
    {
        guest1.watch("x", "t");
        guest1.transactionStart();
        assertEquals(1, store.watchCount(1));
        store.releaseDomain(1);
        assertTrue(guest1.isClosed());
        assertFalse(store.isDomainIntroduced(1));
        assertEquals(0, store.watchCount(1));
        assertEquals(0, store.openTransactions(1));
        assertEquals(List.of(), dom0.directory("/local/domain/1"), "nodes stay until removed");
        assertEquals(XsError.ENOENT, errorOf(() -> store.releaseDomain(1)));
        assertEquals(XsError.EINVAL, errorOf(() -> store.releaseDomain(0)));
    }

    @Test
    void shouldRejectOutOfRangeDomainIds()
    {
        assertThrows(IllegalArgumentException.class, () -> store.connect(-1));
        assertThrows(IllegalArgumentException.class, () -> store.connect(XenStore.MAX_DOMAIN_ID + 1));
        assertThrows(IllegalArgumentException.class, () -> store.introduceDomain(0x7FF0));
    }

    @Test
    void shouldReportErrorNamesAsXsWire()
    {
        final String[] names = {
            "EINVAL", "EACCES", "EEXIST", "EISDIR", "ENOENT", "ENOMEM", "ENOSPC", "EIO", "ENOTEMPTY", "ENOSYS",
            "EROFS", "EBUSY", "EAGAIN", "EISCONN", "E2BIG", "EPERM", "EQUOTA" };
        for (final String name : names)
        {
            final XsError error = XsError.fromWireName(name);
            assertEquals(name, error.wireName());
            assertArrayEquals((name + "\0").getBytes(StandardCharsets.US_ASCII), error.wirePayload());
        }
        assertEquals(null, XsError.fromWireName("EFOO"));
    }
}
