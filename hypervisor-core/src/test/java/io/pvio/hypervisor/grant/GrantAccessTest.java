package io.pvio.hypervisor.grant;

import static io.pvio.hypervisor.grant.GrantEntryDescriptor.DOMID_OFFSET;
import static io.pvio.hypervisor.grant.GrantEntryDescriptor.ENTRIES_PER_FRAME;
import static io.pvio.hypervisor.grant.GrantEntryDescriptor.FLAGS_OFFSET;
import static io.pvio.hypervisor.grant.GrantEntryDescriptor.FRAME_OFFSET;
import static io.pvio.hypervisor.grant.GrantEntryDescriptor.GTF_PERMIT_ACCESS;
import static io.pvio.hypervisor.grant.GrantEntryDescriptor.GTF_READONLY;
import static io.pvio.hypervisor.grant.GrantEntryDescriptor.NR_RESERVED_ENTRIES;
import static io.pvio.hypervisor.grant.GrantEntryDescriptor.entryOffset;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.pvio.hypervisor.Domain;
import io.pvio.hypervisor.DomainId;
import io.pvio.hypervisor.Errno;
import io.pvio.hypervisor.HypercallException;
import io.pvio.hypervisor.HypercallKind;

class GrantAccessTest
{
    private final GrantFixture fixture = new GrantFixture();

    @AfterEach
    void tearDown()
    {
        fixture.close();
    }

    @Test
    void shouldHandOutFirstUnreservedRefWhenGrantingIntoEmptyTable()
    {
        final Domain guest = fixture.guest("guest");
        final GrantTable table = guest.grantTable();
        assertEquals(0, table.nrFrames());

        final int ref = table.grantAccess(DomainId.DOM0, 3, false);

        assertEquals(NR_RESERVED_ENTRIES, ref);
        assertEquals(1, table.nrFrames());
        assertEquals(1, table.grantedCount());
        assertEquals(1, guest.counters().get(HypercallKind.GRANT_SETUP_TABLE));
        assertEquals(1 + GrantFixture.GUEST_FRAMES, fixture.memory.framesOwnedBy(guest.id()));
        fixture.assertFramesAccounted();
    }

    @Test
    void shouldWriteEntryInXenLayoutWhenGranting()
    {
        final Domain guest = fixture.guest("guest");
        final GrantTable table = guest.grantTable();

        final int rw = table.grantAccess(DomainId.DOM0, 5, false);
        final int ro = table.grantAccess(0x7FEF, 0xFFFF_FFFFL, true);

        final UnsafeBuffer frame = table.wrapTableFrame(0, new UnsafeBuffer(0, 0));
        assertEquals(table.frameMfn(0), findMfn(frame));
        assertEquals(GTF_PERMIT_ACCESS, frame.getShort(entryOffset(rw) + FLAGS_OFFSET));
        assertEquals(0, frame.getShort(entryOffset(rw) + DOMID_OFFSET));
        assertEquals(5, frame.getInt(entryOffset(rw) + FRAME_OFFSET));
        assertEquals(GTF_PERMIT_ACCESS | GTF_READONLY, frame.getShort(entryOffset(ro) + FLAGS_OFFSET));
        assertEquals(0x7FEF, frame.getShort(entryOffset(ro) + DOMID_OFFSET));
        assertEquals(0xFFFF_FFFF, frame.getInt(entryOffset(ro) + FRAME_OFFSET));
    }

    @Test
    void shouldClearFlagsKeepDomidAndReuseRefWhenAccessEnds()
    {
        final Domain guest = fixture.guest("guest");
        final GrantTable table = guest.grantTable();
        final int ref = table.grantAccess(DomainId.DOM0, 2, true);

        assertTrue(table.endAccess(ref));

        final UnsafeBuffer frame = table.wrapTableFrame(0, new UnsafeBuffer(0, 0));
        assertEquals(0, frame.getShort(entryOffset(ref) + FLAGS_OFFSET));
        assertEquals(DomainId.DOM0, frame.getShort(entryOffset(ref) + DOMID_OFFSET));
        assertEquals(0, table.grantedCount());
        assertEquals(ref, table.grantAccess(DomainId.DOM0, 4, false));
    }

    @Test
    void shouldRejectEndAccessWhenRefNotGranted()
    {
        final GrantTable table = fixture.guest("guest").grantTable();
        final int ref = table.grantAccess(DomainId.DOM0, 2, false);
        assertTrue(table.endAccess(ref));

        final IllegalArgumentException twice = assertThrows(IllegalArgumentException.class, () -> table.endAccess(ref));
        assertEquals("domain 1 has not granted ref=8", twice.getMessage());
        assertThrows(IllegalArgumentException.class, () -> table.endAccess(-1));
        assertThrows(IllegalArgumentException.class, () -> table.endAccess(NR_RESERVED_ENTRIES + 1));
        assertThrows(IllegalArgumentException.class, () -> table.endAccess(Integer.MAX_VALUE));
    }

    @Test
    void shouldGrowTableByOneFrameWhenRefsRunOut()
    {
        final Domain guest = fixture.guest("guest");
        final GrantTable table = guest.grantTable();
        final Set<Integer> refs = new HashSet<>();
        for (int i = 0; i < ENTRIES_PER_FRAME - NR_RESERVED_ENTRIES; i++)
        {
            assertTrue(refs.add(table.grantAccess(DomainId.DOM0, 1, true)));
        }
        assertEquals(1, table.nrFrames());

        final int next = table.grantAccess(DomainId.DOM0, 1, true);

        assertEquals(ENTRIES_PER_FRAME, next);
        assertEquals(2, table.nrFrames());
        assertEquals(2, guest.counters().get(HypercallKind.GRANT_SETUP_TABLE));
        assertEquals(2, GrantFixture.ops(guest).querySize(DomainId.SELF));
        fixture.assertFramesAccounted();
    }

    @Test
    void shouldReturnNoSpaceWhenTableAtLimitAndEveryRefInUse()
    {
        final Domain guest = fixture.guest("guest");
        final GrantTable table = guest.grantTable();
        table.configureLimits(2, 8);
        final int usable = 2 * ENTRIES_PER_FRAME - NR_RESERVED_ENTRIES;
        for (int i = 0; i < usable; i++)
        {
            assertTrue(table.grantAccess(DomainId.DOM0, 1, true) >= NR_RESERVED_ENTRIES);
        }

        assertEquals(GrantStatus.NO_SPACE, table.grantAccess(DomainId.DOM0, 1, true));
        assertEquals(2, table.nrFrames());
        assertEquals(2, GrantFixture.ops(guest).queryMax(DomainId.SELF));

        assertTrue(table.endAccess(600));
        assertEquals(600, table.grantAccess(DomainId.DOM0, 1, true));
    }

    @Test
    void shouldGrowOnSetupTableUpToLimitOnly()
    {
        final Domain guest = fixture.guest("guest");
        final GrantTableOps ops = GrantFixture.ops(guest);
        guest.grantTable().configureLimits(4, 8);

        assertEquals(GrantStatus.OKAY, ops.setupTable(3));
        assertEquals(3, ops.querySize(DomainId.SELF));
        assertEquals(GrantStatus.OKAY, ops.setupTable(1));
        assertEquals(3, ops.querySize(guest.id()));
        assertEquals(GrantStatus.GENERAL_ERROR, ops.setupTable(5));
        assertEquals(3, ops.querySize(DomainId.SELF));
        assertEquals(GrantStatus.OKAY, ops.setupTable(4));
        assertEquals(4, ops.querySize(DomainId.SELF));
        assertEquals(4, ops.queryMax(DomainId.SELF));
        assertEquals(4, guest.counters().get(HypercallKind.GRANT_SETUP_TABLE));
        assertEquals(5, guest.counters().get(HypercallKind.GRANT_QUERY_SIZE));

        final int ref = guest.grantTable().grantAccess(DomainId.DOM0, 1, false);
        assertEquals(NR_RESERVED_ENTRIES, ref);
        assertEquals(4 * ENTRIES_PER_FRAME - 1, lastRefBeforeFull(guest.grantTable()));
        fixture.assertFramesAccounted();
    }

    @Test
    void shouldQueryOtherDomainsOnlyWhenPrivileged()
    {
        final Domain guest = fixture.guest("guest");
        final Domain other = fixture.guest("other");
        other.grantTable().grantAccess(guest.id(), 1, false);

        assertEquals(GrantStatus.PERMISSION_DENIED, GrantFixture.ops(guest).querySize(other.id()));
        assertEquals(GrantStatus.PERMISSION_DENIED, GrantFixture.ops(guest).queryMax(other.id()));
        assertEquals(1, GrantFixture.ops(fixture.dom0).querySize(other.id()));
        assertEquals(GrantTable.MAX_FRAMES_DEFAULT, GrantFixture.ops(fixture.dom0).queryMax(other.id()));
        assertEquals(GrantStatus.BAD_DOMAIN, GrantFixture.ops(fixture.dom0).querySize(999));
        assertEquals(GrantStatus.BAD_DOMAIN, GrantFixture.ops(fixture.dom0).queryMax(-1));
    }

    @Test
    void shouldRejectLimitChangeWhenTableInUse()
    {
        final GrantTable table = fixture.guest("guest").grantTable();
        table.grantAccess(DomainId.DOM0, 1, false);

        final IllegalStateException ex = assertThrows(IllegalStateException.class, () -> table.configureLimits(4, 4));
        assertEquals("grant table of domain 1 is in use: nrFrames=1, mapped before=false, released=false",
            ex.getMessage());
    }

    @Test
    void shouldRejectLimitsOutOfRange()
    {
        final GrantTable table = fixture.guest("guest").grantTable();

        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
            () -> table.configureLimits(0, 4));
        assertEquals("maxFrames out of range: maxFrames=0 (expected: 1 <= maxFrames <= 1024)", ex.getMessage());
        assertThrows(IllegalArgumentException.class, () -> table.configureLimits(GrantTable.MAX_FRAMES_LIMIT + 1, 4));
        assertThrows(IllegalArgumentException.class, () -> table.configureLimits(4, 0));
        assertThrows(IllegalArgumentException.class,
            () -> table.configureLimits(4, GrantTable.MAX_MAPTRACK_LIMIT + 1));
    }

    @Test
    void shouldRejectGrantArgumentsThatDoNotFitAnEntry()
    {
        final GrantTable table = fixture.guest("guest").grantTable();

        final IllegalArgumentException domid = assertThrows(IllegalArgumentException.class,
            () -> table.grantAccess(DomainId.SELF, 1, false));
        assertEquals("not a domain id: remoteDomid=32752 (expected: 0 <= remoteDomid <= 32751)", domid.getMessage());
        final IllegalArgumentException gfn = assertThrows(IllegalArgumentException.class,
            () -> table.grantAccess(0, 1L << 32, false));
        assertEquals("gfn does not fit a grant entry: gfn=4294967296 (expected: 0 <= gfn <= 4294967295)",
            gfn.getMessage());
        assertThrows(IllegalArgumentException.class, () -> table.grantAccess(-1, 1, false));
        assertThrows(IllegalArgumentException.class, () -> table.grantAccess(0, -1, false));
        assertEquals(0, table.nrFrames());
    }

    @Test
    void shouldGrantReservedRefForToolstackWithoutFreeListingIt()
    {
        final Domain guest = fixture.guest("guest");
        final GrantTable table = guest.grantTable();
        GrantFixture.fill(guest, 6, (byte)0x5A);

        table.grantReservedAccess(GrantEntryDescriptor.RESERVED_XENSTORE, DomainId.DOM0, 6, false);
        final UnsafeBuffer view = new UnsafeBuffer(0, 0);
        final int handle = GrantFixture.ops(fixture.dom0).map(guest.id(), 1, false, view);

        assertTrue(handle >= 0);
        assertEquals(0x5A, view.getByte(100));
        assertThrows(IllegalStateException.class, () -> table.grantReservedAccess(1, DomainId.DOM0, 6, false));
        assertThrows(IllegalArgumentException.class, () -> table.grantReservedAccess(8, DomainId.DOM0, 6, false));
        assertEquals(GrantStatus.OKAY, GrantFixture.ops(fixture.dom0).unmap(handle));
        assertTrue(table.endAccess(1));
        assertEquals(NR_RESERVED_ENTRIES, table.grantAccess(DomainId.DOM0, 6, false));
    }

    @Test
    void shouldRefuseGuestSideCallsWhenOwnerDestroyed()
    {
        final Domain guest = fixture.guest("guest");
        final GrantTable table = guest.grantTable();
        final int ref = table.grantAccess(DomainId.DOM0, 1, false);
        fixture.destroy(guest);

        final HypercallException grant = assertThrows(HypercallException.class,
            () -> table.grantAccess(DomainId.DOM0, 1, false));
        assertEquals(Errno.ESRCH, grant.errno());
        assertEquals(Errno.ESRCH, assertThrows(HypercallException.class, () -> table.endAccess(ref)).errno());
        assertTrue(table.isReleased());
        assertEquals(0, table.nrFrames());
        assertFalse(GrantFixture.ops(fixture.dom0).querySize(guest.id()) >= 0);
        fixture.assertFramesAccounted();
    }

    private static int lastRefBeforeFull(final GrantTable table)
    {
        int last = -1;
        while (true)
        {
            final int ref = table.grantAccess(DomainId.DOM0, 1, false);
            if (ref < 0)
            {
                return last;
            }
            last = ref;
        }
    }

    private long findMfn(final UnsafeBuffer view)
    {
        for (int mfn = 0; mfn < fixture.memory.frameCount(); mfn++)
        {
            if (fixture.memory.frameAddress(mfn) == view.addressOffset())
            {
                return mfn;
            }
        }
        return -1;
    }
}
