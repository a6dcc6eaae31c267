package io.pvio.hypervisor.grant;

import static io.pvio.hypervisor.grant.GrantEntryDescriptor.GTF_PERMIT_ACCESS;
import static io.pvio.hypervisor.grant.GrantFixture.allBytes;
import static io.pvio.hypervisor.grant.GrantFixture.entryFlags;
import static io.pvio.hypervisor.grant.GrantFixture.fill;
import static io.pvio.hypervisor.grant.GrantFixture.ops;
import static io.pvio.machine.memory.MachineMemory.FRAME_SIZE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.pvio.hypervisor.Domain;
import io.pvio.hypervisor.DomainId;
import io.pvio.machine.memory.MachineMemory;

class GrantTeardownTest
{
    private final GrantFixture fixture = new GrantFixture();

    @AfterEach
    void tearDown()
    {
        fixture.close();
    }

    @Test
    void shouldKeepFrameOutOfAllocatorUntilUnmapWhenGranterDestroyedWhileMapped()
    {
        final Domain guest = fixture.guest("guest");
        fill(guest, 3, (byte)0x3C);
        final long mfn = guest.mfnOf(3);
        final int ref = guest.grantTable().grantAccess(DomainId.DOM0, 3, false);
        final UnsafeBuffer view = new UnsafeBuffer(0, 0);
        final int handle = ops(fixture.dom0).map(guest.id(), ref, false, view);
        final int freeBefore = fixture.memory.freeFrames();

        fixture.destroy(guest);

        assertEquals(MachineMemory.FREE_WHEN_RELEASED, fixture.memory.owner(mfn));
        assertEquals(freeBefore + GrantFixture.GUEST_FRAMES - 1 + 1, fixture.memory.freeFrames(),
            "every guest frame and its one table frame are free, except the mapped one");
        assertEquals(1, fixture.framesHeldAfterFree());
        assertTrue(allBytes(view, 0, FRAME_SIZE, (byte)0x3C), "the mapping still reads the frame");
        for (int i = 0; i < 64; i++)
        {
            final long other = fixture.memory.tryAllocate(DomainId.DOM0);
            assertTrue(other != mfn);
            fixture.memory.free(other, DomainId.DOM0);
        }
        fixture.assertFramesAccounted();

        assertEquals(GrantStatus.OKAY, ops(fixture.dom0).unmap(handle));

        assertEquals(MachineMemory.NO_OWNER, fixture.memory.owner(mfn));
        assertEquals(0, fixture.memory.retainCount(mfn));
        assertEquals(freeBefore + GrantFixture.GUEST_FRAMES + 1, fixture.memory.freeFrames());
        assertTrue(allBytes(fixture.memory.frame(mfn), 0, FRAME_SIZE, (byte)0), "scrubbed");
        assertEquals(0, fixture.dom0.grantTable().mappingCount());
        assertEquals(GrantStatus.BAD_HANDLE, ops(fixture.dom0).unmap(handle));
        fixture.assertFramesAccounted();
    }

    @Test
    void shouldReturnBadDomainWhenMappingGrantOfDestroyedGranter()
    {
        final Domain guest = fixture.guest("guest");
        final int ref = guest.grantTable().grantAccess(DomainId.DOM0, 3, false);
        fixture.destroy(guest);

        assertEquals(GrantStatus.BAD_DOMAIN, ops(fixture.dom0).map(guest.id(), ref, false, null));
        fixture.assertFramesAccounted();
    }

    @Test
    void shouldReleaseGranteeMappingsWhenGranteeDestroyed()
    {
        final Domain granter = fixture.guest("granter");
        final Domain grantee = fixture.guest("grantee");
        final int ref = granter.grantTable().grantAccess(grantee.id(), 2, false);
        final int readOnlyRef = granter.grantTable().grantAccess(grantee.id(), 4, true);
        assertTrue(ops(grantee).map(granter.id(), ref, false, null) >= 0);
        assertTrue(ops(grantee).map(granter.id(), ref, true, null) >= 0);
        assertTrue(ops(grantee).map(granter.id(), readOnlyRef, true, null) >= 0);
        assertEquals(2, fixture.memory.retainCount(granter.mfnOf(2)));

        fixture.destroy(grantee);

        assertEquals(0, fixture.memory.retainCount(granter.mfnOf(2)));
        assertEquals(0, fixture.memory.retainCount(granter.mfnOf(4)));
        assertEquals(GTF_PERMIT_ACCESS, entryFlags(granter, ref));
        assertEquals(0, granter.grantTable().readPins(ref));
        assertEquals(0, granter.grantTable().writePins(ref));
        assertTrue(granter.grantTable().endAccess(ref));
        assertTrue(granter.grantTable().endAccess(readOnlyRef));
        assertEquals(0, fixture.framesHeldAfterFree());
        fixture.assertFramesAccounted();
    }

    @Test
    void shouldReleaseMappingOfOwnGrantWhenDestroyed()
    {
        final Domain guest = fixture.guest("guest");
        final int ref = guest.grantTable().grantAccess(guest.id(), 1, false);
        assertTrue(ops(guest).map(guest.id(), ref, false, null) >= 0);

        fixture.destroy(guest);

        assertEquals(0, fixture.framesHeldAfterFree());
        fixture.assertFramesAccounted();
    }

    @Test
    void shouldFreeFramesWhenBothSidesDieWithMappingsBetweenThem()
    {
        final Domain a = fixture.guest("a");
        final Domain b = fixture.guest("b");
        final int aRef = a.grantTable().grantAccess(b.id(), 1, false);
        final int bRef = b.grantTable().grantAccess(a.id(), 1, true);
        assertTrue(ops(b).map(a.id(), aRef, false, null) >= 0);
        assertTrue(ops(a).map(b.id(), bRef, true, null) >= 0);

        fixture.destroy(a);
        assertEquals(1, fixture.framesHeldAfterFree(), "b still maps a's frame");
        fixture.assertFramesAccounted();
        fixture.destroy(b);

        assertEquals(0, fixture.framesHeldAfterFree());
        assertEquals(fixture.memory.frameCount() - GrantFixture.DOM0_FRAMES, fixture.memory.freeFrames());
        fixture.assertFramesAccounted();
    }

    @Test
    void shouldRefuseReleaseAllWhileOwnerAlive()
    {
        final Domain guest = fixture.guest("guest");

        final IllegalStateException ex = assertThrows(IllegalStateException.class,
            () -> guest.grantTable().releaseAll());
        assertEquals("releaseAll is for a dying domain: domain 1 is RUNNING", ex.getMessage());
    }

    @Test
    void shouldReleaseEverythingWhenHypervisorCloses()
    {
        final GrantFixture local = new GrantFixture(256);
        final Domain a = local.guest("a");
        final int ref = a.grantTable().grantAccess(DomainId.DOM0, 1, false);
        assertTrue(ops(local.dom0).map(a.id(), ref, false, null) >= 0);

        local.close();

        assertTrue(local.memory.isClosed());
        assertTrue(a.grantTable().isReleased());
        assertTrue(local.dom0.grantTable().isReleased());
    }
}
