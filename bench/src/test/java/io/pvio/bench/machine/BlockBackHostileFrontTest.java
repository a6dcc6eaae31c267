package io.pvio.bench.machine;

import java.util.Random;
import java.util.function.Consumer;
import java.util.stream.Stream;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import io.pvio.backend.block.BlockBackOptions;
import io.pvio.backend.block.MemoryBlockStore;
import io.pvio.frontend.block.BlockFrontOptions;
import io.pvio.hypervisor.xenstore.XenbusState;
import io.pvio.ring.blkif.BlkifOp;
import io.pvio.ring.blkif.BlkifRequestFlyweight;
import io.pvio.ring.blkif.BlkifStatus;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * blkback against a front end that sends what it likes (Xen protocol notes, section 7.3): every bad request gets an
 * error response with its id echoed and the back end goes on serving; a front end that breaks the ring protocol is
 * cut off with everything unmapped; and a fuzzing front end cannot disturb a well-behaved guest on the same driver
 * domain.
 */
class BlockBackHostileFrontTest
{
    private static final long DISK = 4L << 20;
    private static final long ID = 0x1234_5678_9ABC_DEF0L;

    static Stream<Arguments> badRequests()
    {
        return Stream.of(
            bad("unknown operation", BlkifStatus.EOPNOTSUPP, (r) -> r.operation((byte)9)),
            bad("reserved operation", BlkifStatus.EOPNOTSUPP, (r) -> r.operation((byte)4)),
            bad("barrier not offered", BlkifStatus.EOPNOTSUPP, (r) -> r.operation(BlkifOp.WRITE_BARRIER)),
            bad("read with no segment", BlkifStatus.ERROR, (r) -> r.operation(BlkifOp.READ).nrSegments(0)),
            bad("twelve segments", BlkifStatus.ERROR, (r) -> r.operation(BlkifOp.READ).nrSegments(12)),
            bad("first_sect after last_sect", BlkifStatus.ERROR,
                (r) -> r.operation(BlkifOp.READ).nrSegments(1).segment(0, 8, 5, 2)),
            bad("last_sect past the page", BlkifStatus.ERROR,
                (r) -> r.operation(BlkifOp.READ).nrSegments(1).segment(0, 8, 0, 8)),
            bad("sectors past the end of the disk", BlkifStatus.ERROR,
                (r) -> r.operation(BlkifOp.READ).nrSegments(1).sectorNumber(DISK / 512 - 4).segment(0, 8, 0, 7)),
            bad("sector number wrapping 2^64", BlkifStatus.ERROR,
                (r) -> r.operation(BlkifOp.WRITE).nrSegments(1).sectorNumber(-4L).segment(0, 8, 0, 7)),
            bad("grant reference never granted", BlkifStatus.ERROR,
                (r) -> r.operation(BlkifOp.READ).nrSegments(1).segment(0, 3000, 0, 7)),
            bad("grant reference out of every table", BlkifStatus.ERROR,
                (r) -> r.operation(BlkifOp.READ).nrSegments(1).segment(0, -2, 0, 7)),
            bad("indirect with indirect_op FLUSH", BlkifStatus.ERROR,
                (r) -> r.operation(BlkifOp.INDIRECT).indirectOp(BlkifOp.FLUSH_DISKCACHE).indirectNrSegments(1)),
            bad("indirect with too many segments", BlkifStatus.ERROR,
                (r) -> r.operation(BlkifOp.INDIRECT).indirectOp(BlkifOp.READ).indirectNrSegments(257)),
            bad("indirect page never granted", BlkifStatus.ERROR,
                (r) -> r.operation(BlkifOp.INDIRECT).indirectOp(BlkifOp.READ).indirectNrSegments(1)
                    .indirectGref(0, 3001)),
            bad("discard past the end", BlkifStatus.ERROR,
                (r) -> r.operation(BlkifOp.DISCARD).sectorNumber(DISK / 512 - 1).discardNrSectors(2)));
    }

    private static Arguments bad(final String name, final BlkifStatus status, final Consumer<BlkifRequestFlyweight> f)
    {
        return Arguments.of(name, status, f);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badRequests")
    void aBadRequestGetsAnErrorAndTheBackEndCarriesOn(
        final String name, final BlkifStatus status, final Consumer<BlkifRequestFlyweight> fill)
    {
        try (PvMachine machine = PvMachine.start(8192, 2048);
            RawFront front = new RawFront(machine, machine.createGuest("hostile", 1024), 51712,
                new MemoryBlockStore(DISK), new BlockBackOptions().persistentGrants(false)))
        {
            front.push((r) ->
            {
                fill.accept(r);
                r.id(ID);
            });
            final long[] response = front.awaitResponse();
            assertEquals(ID, response[0], "id echoed");
            assertEquals(status.value(), (short)response[2], name);

            // then a good write and read of one page still work
            final long gfn = front.guest.pageAllocator().allocate();
            final UnsafeBuffer page = front.guest.guestFrame(gfn);
            for (int i = 0; i < 4096; i++)
            {
                page.putByte(i, (byte)(i * 7));
            }
            final byte[] written = new byte[4096];
            page.getBytes(0, written);
            final int ref = front.grant(gfn, false);
            front.push((r) -> r.operation(BlkifOp.WRITE).nrSegments(1).id(1).sectorNumber(8).segment(0, ref, 0, 7));
            assertEquals(BlkifStatus.OKAY.value(), (short)front.awaitResponse()[2]);
            page.setMemory(0, 4096, (byte)0);
            front.push((r) -> r.operation(BlkifOp.READ).nrSegments(1).id(2).sectorNumber(8).segment(0, ref, 0, 7));
            assertEquals(BlkifStatus.OKAY.value(), (short)front.awaitResponse()[2]);
            final byte[] read = new byte[4096];
            page.getBytes(0, read);
            assertArrayEquals(written, read);
            assertEquals(XenbusState.CONNECTED, front.back.state());
            assertNull(front.back.disconnectReason());
        }
    }

    @Test
    void writesToAReadOnlyDiskAreRefused()
    {
        try (PvMachine machine = PvMachine.start(8192, 2048);
            RawFront front = new RawFront(machine, machine.createGuest("ro", 1024), 51712,
                new MemoryBlockStore(DISK, 512, true), new BlockBackOptions()))
        {
            final long gfn = front.guest.pageAllocator().allocate();
            final int ref = front.grant(gfn, true);
            front.push((r) -> r.operation(BlkifOp.WRITE).nrSegments(1).id(5).segment(0, ref, 0, 7));
            assertEquals(BlkifStatus.ERROR.value(), (short)front.awaitResponse()[2]);
            front.push((r) -> r.operation(BlkifOp.DISCARD).id(6).discardNrSectors(8));
            assertEquals(BlkifStatus.EOPNOTSUPP.value(), (short)front.awaitResponse()[2],
                "a read-only disk does not offer discard");
            assertEquals(1, front.back.counters().errorsInvalid());
        }
    }

    @Test
    void aFrontEndThatOverflowsTheRingIsCutOffAndEverythingIsUnmapped()
    {
        try (PvMachine machine = PvMachine.start(8192, 2048);
            RawFront front = new RawFront(machine, machine.createGuest("overflow", 1024), 51712,
                new MemoryBlockStore(DISK), new BlockBackOptions()))
        {
            front.forceRequestProducer(1000);
            front.awaitBack(XenbusState.CLOSING);
            assertNotNull(front.back.disconnectReason());
            assertTrue(front.back.disconnectReason().contains("cut off"), front.back.disconnectReason());
            assertTrue(front.back.counters().protocolViolations() >= 1);
            assertEquals(0, front.guest.grantTable().mappingCount(), "nothing of the guest stays mapped");
            assertEquals(0, front.back.connectedQueues());
        }
    }

    @Test
    void aFuzzingFrontEndCannotDisturbAnotherGuest() throws Exception
    {
        fuzz(5_000);
    }

    /** Two million random requests: {@code mvn verify -Pstress}. */
    @Test
    @Tag("stress-long")
    void millionsOfRandomRequestsCannotDisturbAnotherGuest() throws Exception
    {
        fuzz(100_000);
    }

    private void fuzz(final int requestsPerRound) throws Exception
    {
        try (PvMachine machine = PvMachine.start(16_384, 2048))
        {
            final PvDisk good = machine.attachDisk(machine.createGuest("good", 2048), 51712,
                new MemoryBlockStore(16L << 20), new BlockBackOptions(), new BlockFrontOptions());
            final BlockFaultTest.VerifiedWorkload workload = new BlockFaultTest.VerifiedWorkload(good.front(), 5);
            workload.start();
            final Random random = new Random(42);
            final byte[] junk = new byte[112];
            long responses = 0;
            for (int round = 0; round < 20; round++)
            {
                try (RawFront fuzzer = new RawFront(machine, machine.createGuest("fuzz" + round, 512), 51712,
                    new MemoryBlockStore(DISK), new BlockBackOptions()))
                {
                    for (int i = 0; i < requestsPerRound && fuzzer.back.state() == XenbusState.CONNECTED; i++)
                    {
                        if (fuzzer.ring.isFull())
                        {
                            fuzzer.awaitResponse();
                            responses++;
                        }
                        random.nextBytes(junk);
                        fuzzer.pushRaw(junk);
                    }
                    if (round % 4 == 3)
                    {
                        fuzzer.forceRequestProducer(random.nextInt());
                    }
                    fuzzer.back.close();
                    assertEquals(0, fuzzer.guest.grantTable().mappingCount(), "round " + round + " left a mapping");
                }
            }
            assertTrue(responses > 0, "the back end answered the fuzzers");
            workload.awaitCompletions(workload.completions() + 1000);
            workload.stopAndAwait();
            assertNull(workload.failure.get(), () -> "the good guest saw " + workload.failure.get());
            assertEquals(0, workload.mismatches.get());
            assertEquals(XenbusState.CONNECTED, good.back().state());
        }
    }
}
