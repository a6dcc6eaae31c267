package io.pvio.hypervisor.grant;

import static io.pvio.hypervisor.grant.GrantEntryDescriptor.GTF_PERMIT_ACCESS;
import static io.pvio.hypervisor.grant.GrantEntryDescriptor.GTF_READING;
import static io.pvio.hypervisor.grant.GrantEntryDescriptor.GTF_READONLY;
import static io.pvio.hypervisor.grant.GrantEntryDescriptor.GTF_WRITING;
import static io.pvio.hypervisor.grant.GrantFixture.allBytes;
import static io.pvio.hypervisor.grant.GrantFixture.entryFlags;
import static io.pvio.hypervisor.grant.GrantFixture.fill;
import static io.pvio.hypervisor.grant.GrantFixture.ops;
import static io.pvio.machine.memory.MachineMemory.FRAME_SIZE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import io.pvio.hypervisor.Domain;
import io.pvio.hypervisor.DomainId;
import io.pvio.hypervisor.DomainState;
import io.pvio.hypervisor.HypercallKind;

class GrantCopyTest
{
    private static final long LOCAL_GFN = 5;

    private final GrantFixture fixture = new GrantFixture();
    private final Domain guest = fixture.guest("guest");
    private final Domain back = fixture.dom0;
    private final GrantCopyBatch batch = new GrantCopyBatch(8);

    @AfterEach
    void tearDown()
    {
        fixture.close();
    }

    @Test
    void shouldCopyFromGrantIntoLocalFrame()
    {
        fill(guest, 3, (byte)0x31);
        fill(back, LOCAL_GFN, (byte)0);
        final int ref = guest.grantTable().grantAccess(back.id(), 3, true);
        batch.addFromGrant(guest.id(), ref, 100, LOCAL_GFN, 200, 1000);

        assertEquals(0, ops(back).copy(batch));

        assertEquals(GrantStatus.OKAY, batch.status(0));
        assertTrue(allBytes(back.guestFrame(LOCAL_GFN), 200, 1000, (byte)0x31));
        assertTrue(allBytes(back.guestFrame(LOCAL_GFN), 0, 200, (byte)0));
        assertTrue(allBytes(back.guestFrame(LOCAL_GFN), 1200, FRAME_SIZE - 1200, (byte)0));
        assertEquals(GTF_PERMIT_ACCESS | GTF_READONLY, entryFlags(guest, ref));
        assertEquals(1, back.counters().get(HypercallKind.GRANT_COPY));
        assertTrue(guest.grantTable().endAccess(ref));
    }

    @Test
    void shouldCopyFromLocalFrameIntoWritableGrant()
    {
        fill(back, LOCAL_GFN, (byte)0x42);
        fill(guest, 3, (byte)0);
        final int ref = guest.grantTable().grantAccess(back.id(), 3, false);
        batch.addToGrant(LOCAL_GFN, 0, guest.id(), ref, 0, FRAME_SIZE);

        assertEquals(0, ops(back).copy(batch));

        assertEquals(GrantStatus.OKAY, batch.status(0));
        assertTrue(allBytes(guest.guestFrame(3), 0, FRAME_SIZE, (byte)0x42));
        assertEquals(GTF_PERMIT_ACCESS, entryFlags(guest, ref));
    }

    @Test
    void shouldCopyBetweenGrantsOfTwoDomains()
    {
        final Domain other = fixture.guest("other");
        fill(guest, 1, (byte)0x55);
        fill(other, 2, (byte)0);
        final int source = guest.grantTable().grantAccess(back.id(), 1, true);
        final int dest = other.grantTable().grantAccess(back.id(), 2, false);
        batch.addGrantToGrant(guest.id(), source, 0, other.id(), dest, 64, 128);

        assertEquals(0, ops(back).copy(batch));

        assertTrue(allBytes(other.guestFrame(2), 64, 128, (byte)0x55));
        assertTrue(allBytes(other.guestFrame(2), 0, 64, (byte)0));
        assertTrue(allBytes(other.guestFrame(2), 192, FRAME_SIZE - 192, (byte)0));
    }

    @Test
    void shouldRefuseReadOnlyGrantAsCopyDestination()
    {
        fill(back, LOCAL_GFN, (byte)0x66);
        fill(guest, 3, (byte)0x01);
        final int ref = guest.grantTable().grantAccess(back.id(), 3, true);
        batch.addToGrant(LOCAL_GFN, 0, guest.id(), ref, 0, 16);

        assertEquals(1, ops(back).copy(batch));

        assertEquals(GrantStatus.PERMISSION_DENIED, batch.status(0));
        assertTrue(allBytes(guest.guestFrame(3), 0, FRAME_SIZE, (byte)0x01));
        assertEquals(GTF_PERMIT_ACCESS | GTF_READONLY, entryFlags(guest, ref));
    }

    @Test
    void shouldRefuseGrantOfAnotherDomainAsCopySource()
    {
        final Domain other = fixture.guest("other");
        fill(guest, 3, (byte)0x09);
        final int ref = guest.grantTable().grantAccess(other.id(), 3, false);
        batch.addFromGrant(guest.id(), ref, 0, LOCAL_GFN, 0, 16);

        assertEquals(1, ops(back).copy(batch));

        assertEquals(GrantStatus.PERMISSION_DENIED, batch.status(0));
        assertFalse(allBytes(back.guestFrame(LOCAL_GFN), 0, 16, (byte)0x09));
    }

    @ParameterizedTest
    @CsvSource({
        "4096, 0, 1",
        "0, 4096, 1",
        "0, 4000, 97",
        "4000, 0, 97",
        "1, 0, 4096",
        "0, 0, 4097",
        "-1, 0, 1",
        "0, -1, 1",
        "0, 0, -1",
        "2147483647, 0, 2147483647",
        "0, 2147483647, 1",
        "-2147483648, 0, 0",
    })
    void shouldReturnBadCopyArgWhenRangeLeavesFrameOrIsNegative(
        final int sourceOffset, final int destOffset, final int length)
    {
        fill(back, LOCAL_GFN, (byte)0);
        final int ref = guest.grantTable().grantAccess(back.id(), 3, false);
        batch.addFromGrant(guest.id(), ref, sourceOffset, LOCAL_GFN, destOffset, length);
        batch.addToGrant(LOCAL_GFN, sourceOffset, guest.id(), ref, destOffset, length);

        assertEquals(2, ops(back).copy(batch));

        assertEquals(GrantStatus.BAD_COPY_ARG, batch.status(0));
        assertEquals(GrantStatus.BAD_COPY_ARG, batch.status(1));
        assertEquals(GTF_PERMIT_ACCESS, entryFlags(guest, ref));
    }

    @ParameterizedTest
    @CsvSource({
        "0, 0, 4096",
        "4095, 4095, 1",
        "4096, 4096, 0",
        "0, 4095, 1",
        "2048, 0, 2048",
    })
    void shouldCopyWhenRangeEndsExactlyAtFrameEnd(final int sourceOffset, final int destOffset, final int length)
    {
        fill(guest, 3, (byte)0x7E);
        fill(back, LOCAL_GFN, (byte)0);
        final int ref = guest.grantTable().grantAccess(back.id(), 3, true);
        batch.addFromGrant(guest.id(), ref, sourceOffset, LOCAL_GFN, destOffset, length);

        assertEquals(0, ops(back).copy(batch));

        assertTrue(allBytes(back.guestFrame(LOCAL_GFN), destOffset, length, (byte)0x7E));
    }

    @Test
    void shouldRequireSelfWhenCopySideIsLocalFrame()
    {
        final int ref = guest.grantTable().grantAccess(back.id(), 3, false);
        batch.add(GrantCopyBatch.DEST_GREF, LOCAL_GFN, back.id(), 0, ref, guest.id(), 0, 8);
        batch.add(GrantCopyBatch.SOURCE_GREF, ref, guest.id(), 0, LOCAL_GFN, guest.id(), 0, 8);
        batch.add(0, LOCAL_GFN, DomainId.SELF, 0, LOCAL_GFN + 1, DomainId.SELF, 0, 8);

        assertEquals(2, ops(back).copy(batch));

        assertEquals(GrantStatus.PERMISSION_DENIED, batch.status(0));
        assertEquals(GrantStatus.PERMISSION_DENIED, batch.status(1));
        assertEquals(GrantStatus.OKAY, batch.status(2));
    }

    @Test
    void shouldReturnBadPageWhenLocalOrGrantedFrameUnpopulated()
    {
        final int good = guest.grantTable().grantAccess(back.id(), 3, false);
        final int unpopulated = guest.grantTable().grantAccess(back.id(), GrantFixture.GUEST_FRAMES + 1, false);
        batch.addFromGrant(guest.id(), good, 0, GrantFixture.DOM0_FRAMES, 0, 8);
        batch.addToGrant(-1, 0, guest.id(), good, 0, 8);
        batch.addFromGrant(guest.id(), unpopulated, 0, LOCAL_GFN, 0, 8);
        batch.addToGrant(LOCAL_GFN, 0, guest.id(), unpopulated, 0, 8);

        assertEquals(4, ops(back).copy(batch));

        for (int i = 0; i < 4; i++)
        {
            assertEquals(GrantStatus.BAD_PAGE, batch.status(i), "op " + i);
        }
        assertEquals(GTF_PERMIT_ACCESS, entryFlags(guest, good));
        assertEquals(GTF_PERMIT_ACCESS, entryFlags(guest, unpopulated));
    }

    @Test
    void shouldReportEachStatusOfMixedBatch()
    {
        fill(guest, 3, (byte)0x12);
        final int ref = guest.grantTable().grantAccess(back.id(), 3, false);
        batch.addFromGrant(guest.id(), ref, 0, LOCAL_GFN, 0, 8);
        batch.addFromGrant(999, ref, 0, LOCAL_GFN, 0, 8);
        batch.addFromGrant(guest.id(), 4096, 0, LOCAL_GFN, 0, 8);
        batch.addFromGrant(guest.id(), 9, 0, LOCAL_GFN, 0, 8);
        batch.addFromGrant(guest.id(), ref, 0, LOCAL_GFN, 4090, 8);
        batch.add(GrantCopyBatch.SOURCE_GREF, 1L << 32, guest.id(), 0, LOCAL_GFN, DomainId.SELF, 0, 8);
        batch.addToGrant(LOCAL_GFN, 0, DomainId.SELF, ref, 0, 8);
        batch.addFromGrant(guest.id(), ref, 8, LOCAL_GFN, 8, 8);

        assertEquals(6, ops(back).copy(batch));

        assertEquals(GrantStatus.OKAY, batch.status(0));
        assertEquals(GrantStatus.BAD_DOMAIN, batch.status(1));
        assertEquals(GrantStatus.BAD_GNTREF, batch.status(2));
        assertEquals(GrantStatus.BAD_GNTREF, batch.status(3));
        assertEquals(GrantStatus.BAD_COPY_ARG, batch.status(4));
        assertEquals(GrantStatus.BAD_GNTREF, batch.status(5));
        assertEquals(GrantStatus.BAD_GNTREF, batch.status(6), "SELF names dom0's own table, which is empty");
        assertEquals(GrantStatus.OKAY, batch.status(7));
        assertTrue(allBytes(back.guestFrame(LOCAL_GFN), 0, 16, (byte)0x12));
        assertEquals(1, back.counters().get(HypercallKind.GRANT_COPY));
    }

    @Test
    void shouldFailEndAccessWhileCopyInFlightAndSucceedAfter()
    {
        final GrantTable table = guest.grantTable();
        final int source = table.grantAccess(back.id(), 3, true);
        final int dest = table.grantAccess(back.id(), 4, false);
        batch.addFromGrant(guest.id(), source, 0, LOCAL_GFN, 0, 64);
        batch.addToGrant(LOCAL_GFN, 0, guest.id(), dest, 0, 64);
        final AtomicInteger probes = new AtomicInteger();
        back.grantTable().copyProbe = () ->
        {
            if (0 == probes.getAndIncrement())
            {
                assertEquals(GTF_PERMIT_ACCESS | GTF_READONLY | GTF_READING, entryFlags(guest, source));
                assertFalse(table.endAccess(source));
            }
            else
            {
                assertEquals(GTF_PERMIT_ACCESS | GTF_READING | GTF_WRITING, entryFlags(guest, dest));
                assertFalse(table.endAccess(dest));
            }
        };

        assertEquals(0, ops(back).copy(batch));

        assertEquals(2, probes.get());
        assertTrue(table.endAccess(source));
        assertTrue(table.endAccess(dest));
    }

    @Test
    void shouldHoldGranterTeardownUntilCopyInFlightEnds() throws InterruptedException
    {
        fill(guest, 3, (byte)0x4D);
        final int ref = guest.grantTable().grantAccess(back.id(), 3, true);
        batch.addFromGrant(guest.id(), ref, 0, LOCAL_GFN, 0, FRAME_SIZE);
        final CountDownLatch destroyed = new CountDownLatch(1);
        back.grantTable().copyProbe = () ->
        {
            final Thread destroyer = new Thread(() ->
            {
                fixture.destroy(guest);
                destroyed.countDown();
            });
            destroyer.start();
            try
            {
                assertFalse(destroyed.await(100, TimeUnit.MILLISECONDS), "teardown waits for the copy");
                assertEquals(DomainState.DYING, guest.state());
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
        };

        assertEquals(0, ops(back).copy(batch));

        assertTrue(destroyed.await(10, TimeUnit.SECONDS));
        assertEquals(DomainState.DEAD, guest.state());
        assertTrue(allBytes(back.guestFrame(LOCAL_GFN), 0, FRAME_SIZE, (byte)0x4D));
        back.grantTable().copyProbe = null;
        batch.clear().addFromGrant(guest.id(), ref, 0, LOCAL_GFN, 0, 8);
        assertEquals(1, ops(back).copy(batch));
        assertEquals(GrantStatus.BAD_DOMAIN, batch.status(0));
        fixture.assertFramesAccounted();
    }

    @Test
    void shouldRejectBatchMisuse()
    {
        final GrantCopyBatch small = new GrantCopyBatch(1);
        small.addFromGrant(1, 8, 0, 0, 0, 1);

        final IllegalStateException full = assertThrows(IllegalStateException.class,
            () -> small.addFromGrant(1, 8, 0, 0, 0, 1));
        assertEquals("copy batch is full: capacity=1", full.getMessage());
        assertEquals(GrantCopyBatch.NOT_RUN, small.status(0));
        assertThrows(IndexOutOfBoundsException.class, () -> small.status(1));
        assertThrows(IllegalArgumentException.class, () -> new GrantCopyBatch(0));
        assertEquals(0, small.clear().count());
    }

    /**
     * Copies 4 KiB both ways in rounds of 100,000 batches: one object per batch would show as megabytes. A round now
     * and then shows a few hundred bytes the JVM allocates on the thread (compilation and deoptimisation events), so
     * the check is that some round allocates nothing at all and none allocates as much as a byte per batch.
     */
    @Test
    void shouldAllocateNothingWhenCopyingInSteadyState()
    {
        final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        final long thread = Thread.currentThread().getId();
        final int ref = guest.grantTable().grantAccess(back.id(), 3, false);
        batch.addFromGrant(guest.id(), ref, 0, LOCAL_GFN, 0, FRAME_SIZE);
        batch.addToGrant(LOCAL_GFN, 0, guest.id(), ref, 0, FRAME_SIZE);
        final GrantTableOps ops = ops(back);
        final int batches = 100_000;
        for (int i = 0; i < batches; i++)
        {
            ops.copy(batch);
        }

        int failed = 0;
        long least = Long.MAX_VALUE;
        long most = 0;
        for (int round = 0; round < 5; round++)
        {
            final long start = threads.getThreadAllocatedBytes(thread);
            for (int i = 0; i < batches; i++)
            {
                failed += ops.copy(batch);
            }
            final long allocated = threads.getThreadAllocatedBytes(thread) - start;
            least = Math.min(least, allocated);
            most = Math.max(most, allocated);
        }

        assertEquals(0, failed);
        assertEquals(0, least, "bytes allocated by the quietest round of " + batches + " batches");
        assertTrue(most < batches, "bytes allocated by the busiest round: " + most);
    }
}
