package io.pvio.hypervisor.grant;

import static io.pvio.hypervisor.grant.GrantEntryDescriptor.GTF_PERMIT_ACCESS;
import static io.pvio.hypervisor.grant.GrantEntryDescriptor.GTF_READING;
import static io.pvio.hypervisor.grant.GrantEntryDescriptor.GTF_READONLY;
import static io.pvio.hypervisor.grant.GrantEntryDescriptor.GTF_WRITING;
import static io.pvio.hypervisor.grant.GrantFixture.entryFlags;
import static io.pvio.hypervisor.grant.GrantFixture.ops;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.pvio.hypervisor.Domain;
import io.pvio.hypervisor.DomainId;
import io.pvio.hypervisor.Errno;
import io.pvio.hypervisor.HypercallException;
import io.pvio.hypervisor.HypercallKind;

class GrantMapTest
{
    private final GrantFixture fixture = new GrantFixture();
    private final Domain guest = fixture.guest("guest");
    private final Domain back = fixture.dom0;
    private final UnsafeBuffer view = new UnsafeBuffer(0, 0);

    @AfterEach
    void tearDown()
    {
        fixture.close();
    }

    @Test
    void shouldMapGrantedFrameWritableWhenGrantAllowsWriting()
    {
        GrantFixture.fill(guest, 3, (byte)0x11);
        final int ref = guest.grantTable().grantAccess(back.id(), 3, false);

        final int handle = ops(back).map(guest.id(), ref, false, view);

        assertTrue(handle >= 0, GrantStatus.name(handle));
        assertEquals(GTF_PERMIT_ACCESS | GTF_READING | GTF_WRITING, entryFlags(guest, ref));
        assertEquals(0x11, view.getByte(4095));
        view.putByte(7, (byte)0x22);
        assertEquals(0x22, guest.guestFrame(3).getByte(7));
        assertEquals(1, fixture.memory.retainCount(guest.mfnOf(3)));
        assertEquals(1, back.grantTable().mappingCount());
        assertEquals(1, back.counters().get(HypercallKind.GRANT_MAP));

        assertEquals(GrantStatus.OKAY, ops(back).unmap(handle));
        assertEquals(GTF_PERMIT_ACCESS, entryFlags(guest, ref));
        assertEquals(0, fixture.memory.retainCount(guest.mfnOf(3)));
        assertEquals(0, back.grantTable().mappingCount());
        assertEquals(1, back.counters().get(HypercallKind.GRANT_UNMAP));
    }

    @Test
    void shouldSetOnlyReadingWhenMappedReadOnly()
    {
        final int ref = guest.grantTable().grantAccess(back.id(), 3, true);

        final int handle = ops(back).map(guest.id(), ref, true, null);

        assertTrue(handle >= 0);
        assertEquals(GTF_PERMIT_ACCESS | GTF_READONLY | GTF_READING, entryFlags(guest, ref));
        assertEquals(GrantStatus.OKAY, ops(back).unmap(handle));
        assertEquals(GTF_PERMIT_ACCESS | GTF_READONLY, entryFlags(guest, ref));
    }

    @Test
    void shouldFailEndAccessWhileMappedAndSucceedAfterUnmap()
    {
        final GrantTable table = guest.grantTable();
        final int ref = table.grantAccess(back.id(), 3, false);
        final int handle = ops(back).map(guest.id(), ref, false, view);

        assertFalse(table.endAccess(ref));
        assertFalse(table.endAccess(ref));
        assertEquals(GTF_PERMIT_ACCESS | GTF_READING | GTF_WRITING, entryFlags(guest, ref));
        assertEquals(1, table.grantedCount());

        assertEquals(GrantStatus.OKAY, ops(back).unmap(handle));
        assertTrue(table.endAccess(ref));
        assertEquals(0, entryFlags(guest, ref));
        assertEquals(GrantStatus.BAD_GNTREF, ops(back).map(guest.id(), ref, false, view));
    }

    @Test
    void shouldKeepReadingUntilLastPinWhenMappedTwice()
    {
        final GrantTable table = guest.grantTable();
        final int ref = table.grantAccess(back.id(), 3, false);
        final int reader = ops(back).map(guest.id(), ref, true, null);
        final int writer = ops(back).map(guest.id(), ref, false, null);
        assertNotEquals(reader, writer);
        assertEquals(1, table.readPins(ref));
        assertEquals(1, table.writePins(ref));
        assertEquals(2, fixture.memory.retainCount(guest.mfnOf(3)));

        assertEquals(GrantStatus.OKAY, ops(back).unmap(writer));
        assertEquals(GTF_PERMIT_ACCESS | GTF_READING, entryFlags(guest, ref));
        assertFalse(table.endAccess(ref));

        assertEquals(GrantStatus.OKAY, ops(back).unmap(reader));
        assertEquals(GTF_PERMIT_ACCESS, entryFlags(guest, ref));
        assertEquals(0, table.readPins(ref));
        assertTrue(table.endAccess(ref));
    }

    @Test
    void shouldReturnBadDomainWhenGranterIsNotALiveDomain()
    {
        final int ref = guest.grantTable().grantAccess(back.id(), 3, false);

        assertEquals(GrantStatus.BAD_DOMAIN, ops(back).map(999, ref, false, view));
        assertEquals(GrantStatus.BAD_DOMAIN, ops(back).map(-1, ref, false, view));
        assertEquals(GrantStatus.BAD_DOMAIN, ops(back).map(DomainId.SELF, ref, false, view));
        assertEquals(GrantStatus.BAD_DOMAIN, ops(back).map(DomainId.INVALID, ref, false, view));
        assertEquals(0, back.grantTable().mappingCount());
    }

    @ParameterizedTest
    @ValueSource(ints = { -1, 0, 7, 9, 511, 512, Integer.MAX_VALUE, Integer.MIN_VALUE })
    void shouldReturnBadGntrefWhenRefOutsideTableOrNotGranted(final int ref)
    {
        assertEquals(GrantTable.MAX_FRAMES_DEFAULT, guest.grantTable().maxFrames());
        assertEquals(8, guest.grantTable().grantAccess(back.id(), 3, false));

        assertEquals(GrantStatus.BAD_GNTREF, ops(back).map(guest.id(), ref, false, view));
        assertEquals(0, back.grantTable().mappingCount());
    }

    @Test
    void shouldReturnBadGntrefWhenTableHasNoFrames()
    {
        assertEquals(GrantStatus.BAD_GNTREF, ops(back).map(guest.id(), 8, false, view));
    }

    @Test
    void shouldReturnPermissionDeniedWhenGrantIsForAnotherDomain()
    {
        final Domain other = fixture.guest("other");
        final int ref = guest.grantTable().grantAccess(other.id(), 3, false);

        assertEquals(GrantStatus.PERMISSION_DENIED, ops(back).map(guest.id(), ref, true, view));
        assertEquals(GrantStatus.PERMISSION_DENIED, ops(guest).map(guest.id(), ref, true, view));
        assertEquals(GTF_PERMIT_ACCESS, entryFlags(guest, ref));

        final int handle = ops(other).map(guest.id(), ref, false, view);
        assertTrue(handle >= 0);
        assertEquals(GrantStatus.BAD_HANDLE, ops(back).unmap(handle));
        assertEquals(GrantStatus.OKAY, ops(other).unmap(handle));
    }

    @Test
    void shouldReturnPermissionDeniedWhenMappingReadOnlyGrantWritable()
    {
        final int ref = guest.grantTable().grantAccess(back.id(), 3, true);

        assertEquals(GrantStatus.PERMISSION_DENIED, ops(back).map(guest.id(), ref, false, view));

        assertEquals(GTF_PERMIT_ACCESS | GTF_READONLY, entryFlags(guest, ref));
        assertEquals(0, fixture.memory.retainCount(guest.mfnOf(3)));
        assertTrue(guest.grantTable().endAccess(ref));
    }

    @Test
    void shouldReturnBadPageAndLeaveNoFlagsWhenGrantedFrameUnpopulated()
    {
        final int ref = guest.grantTable().grantAccess(back.id(), GrantFixture.GUEST_FRAMES, false);

        assertEquals(GrantStatus.BAD_PAGE, ops(back).map(guest.id(), ref, false, view));

        assertEquals(GTF_PERMIT_ACCESS, entryFlags(guest, ref));
        assertEquals(0, guest.grantTable().writePins(ref));
        assertTrue(guest.grantTable().endAccess(ref));
    }

    @Test
    void shouldReturnBadHandleWhenHandleUnknownOrStale()
    {
        final int ref = guest.grantTable().grantAccess(back.id(), 3, false);
        final int handle = ops(back).map(guest.id(), ref, false, view);
        assertEquals(GrantStatus.OKAY, ops(back).unmap(handle));

        assertEquals(GrantStatus.BAD_HANDLE, ops(back).unmap(handle));
        assertEquals(GrantStatus.BAD_HANDLE, ops(back).unmap(-1));
        assertEquals(GrantStatus.BAD_HANDLE, ops(back).unmap(GrantTable.MAX_MAPTRACK_DEFAULT));
        assertEquals(GrantStatus.BAD_HANDLE, ops(back).unmap(handle + 1));

        final int again = ops(back).map(guest.id(), ref, false, view);
        assertEquals(handle & 0xFFFF, again & 0xFFFF, "slot reused");
        assertNotEquals(handle, again, "a new generation");
        assertEquals(GrantStatus.BAD_HANDLE, ops(back).unmap(handle));
        assertEquals(GrantStatus.OKAY, ops(back).unmap(again));
    }

    @Test
    void shouldReturnNoSpaceWhenMaptrackFull()
    {
        back.grantTable().configureLimits(GrantTable.MAX_FRAMES_DEFAULT, 3);
        final int ref = guest.grantTable().grantAccess(back.id(), 3, true);
        final int[] handles = new int[3];
        for (int i = 0; i < handles.length; i++)
        {
            handles[i] = ops(back).map(guest.id(), ref, true, view);
            assertTrue(handles[i] >= 0);
        }

        assertEquals(GrantStatus.NO_SPACE, ops(back).map(guest.id(), ref, true, view));
        assertEquals(3, guest.grantTable().readPins(ref));
        assertEquals(3, fixture.memory.retainCount(guest.mfnOf(3)));

        assertEquals(GrantStatus.OKAY, ops(back).unmap(handles[1]));
        final int handle = ops(back).map(guest.id(), ref, true, view);
        assertTrue(handle >= 0);
        assertEquals(GrantStatus.NO_SPACE, ops(back).map(guest.id(), ref, true, view));
    }

    @Test
    void shouldReturnGeneralErrorWhenWritePinCountWouldOverflow()
    {
        back.grantTable().configureLimits(GrantTable.MAX_FRAMES_DEFAULT, GrantTable.MAX_MAPTRACK_LIMIT);
        final int ref = guest.grantTable().grantAccess(back.id(), 3, false);
        final int maxWritePins = 0x7FFF;
        for (int i = 0; i < maxWritePins; i++)
        {
            assertTrue(ops(back).map(guest.id(), ref, false, null) >= 0);
        }

        assertEquals(GrantStatus.GENERAL_ERROR, ops(back).map(guest.id(), ref, false, null));

        assertEquals(maxWritePins, guest.grantTable().writePins(ref));
        assertEquals(maxWritePins, fixture.memory.retainCount(guest.mfnOf(3)));
        assertTrue(ops(back).map(guest.id(), ref, true, null) >= 0);
    }

    @Test
    void shouldMapOwnGrantWhenGrantedToSelf()
    {
        GrantFixture.fill(guest, 2, (byte)0x77);
        final int ref = guest.grantTable().grantAccess(guest.id(), 2, false);

        final int handle = ops(guest).map(guest.id(), ref, false, view);

        assertTrue(handle >= 0);
        assertEquals(0x77, view.getByte(0));
        assertFalse(guest.grantTable().endAccess(ref));
        assertEquals(GrantStatus.OKAY, ops(guest).unmap(handle));
        assertTrue(guest.grantTable().endAccess(ref));
    }

    @Test
    void shouldRefuseMapFromDeadCaller()
    {
        final Domain other = fixture.guest("other");
        final int ref = guest.grantTable().grantAccess(other.id(), 3, false);
        final GrantTableOps otherOps = ops(other);
        fixture.destroy(other);

        final HypercallException ex = assertThrows(HypercallException.class,
            () -> otherOps.map(guest.id(), ref, false, view));
        assertEquals(Errno.ESRCH, ex.errno());
        assertEquals(Errno.ESRCH, assertThrows(HypercallException.class, () -> otherOps.unmap(0)).errno());
        assertEquals(Errno.ESRCH,
            assertThrows(HypercallException.class, () -> otherOps.copy(new GrantCopyBatch(1))).errno());
        assertEquals(Errno.ESRCH, assertThrows(HypercallException.class, () -> otherOps.setupTable(1)).errno());
        assertEquals(Errno.ESRCH, assertThrows(HypercallException.class, () -> otherOps.querySize(0)).errno());
    }

    @Test
    void shouldStayConsistentWhenGranterKeepsRewritingEntry() throws InterruptedException
    {
        final int ref = guest.grantTable().grantAccess(back.id(), 3, false);
        final UnsafeBuffer table = guest.grantTable().wrapTableFrame(0, new UnsafeBuffer(0, 0));
        final int index = GrantEntryDescriptor.entryOffset(ref) + GrantEntryDescriptor.FLAGS_OFFSET;
        final int valid = GrantEntryDescriptor.flagsDomidWord(GTF_PERMIT_ACCESS, back.id());
        final int alsoValid = GrantEntryDescriptor.flagsDomidWord(GTF_PERMIT_ACCESS | GrantEntryDescriptor.GTF_PAT,
            back.id());
        final Thread hostile = new Thread(() ->
        {
            while (!Thread.currentThread().isInterrupted())
            {
                table.putIntVolatile(index, valid);
                table.putIntVolatile(index, alsoValid);
            }
        });
        hostile.start();
        try
        {
            for (int i = 0; i < 20_000; i++)
            {
                final int handle = ops(back).map(guest.id(), ref, false, null);
                if (handle >= 0)
                {
                    assertEquals(GrantStatus.OKAY, ops(back).unmap(handle));
                }
                else
                {
                    assertEquals(GrantStatus.GENERAL_ERROR, handle, "only an unstable entry may refuse");
                }
            }
        }
        finally
        {
            hostile.interrupt();
            hostile.join();
        }
        assertEquals(0, back.grantTable().mappingCount());
        assertEquals(0, fixture.memory.retainCount(guest.mfnOf(3)));
    }
}
