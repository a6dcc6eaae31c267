package io.pvio.ring.blkif;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import io.pvio.ring.AllocationMeter;
import io.pvio.ring.blkif.BlkifRequestValidator.Verdict;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The flyweights and the validator allocate nothing once warmed up, for accepted and refused requests alike:
 * measured with the JVM's per-thread allocation counter, as {@code RingAllocationTest} does for the rings.
 */
class BlkifAllocationTest
{
    private static final int WARM_UP_CALLS = 40;
    private static final int WARM_UP_ITERATIONS = 5_000;
    private static final int MEASURED_ITERATIONS = 200_000;

    private final UnsafeBuffer slots = new UnsafeBuffer(new byte[6 * BlkifRequestDescriptor.REQUEST_LENGTH]);
    private final UnsafeBuffer segmentCopy = new UnsafeBuffer(new byte[64 * BlkifRequestDescriptor.SEGMENT_LENGTH]);
    private final UnsafeBuffer responses = new UnsafeBuffer(new byte[BlkifResponseDescriptor.RESPONSE_LENGTH]);
    private final BlkifRequestFlyweight request = new BlkifRequestFlyweight();
    private final BlkifResponseFlyweight response = new BlkifResponseFlyweight();
    private final BlkifSegmentFlyweight segments = new BlkifSegmentFlyweight();
    private final BlkifRequestValidator validator = new BlkifRequestValidator(
        new BlkifRequestValidator.Context().sectors(4096).flushCache(true).discard(true).maxIndirectSegments(64)
            .grantRefLimit(1 << 16));
    private long checksum;

    @Test
    void shouldAllocateNothingWhenValidatingAndAnsweringWarmedUp()
    {
        final long allocated = AllocationMeter.allocatedBytes(
            this::exercise, WARM_UP_CALLS, WARM_UP_ITERATIONS, MEASURED_ITERATIONS);

        assertEquals(0, allocated, MEASURED_ITERATIONS + " iterations allocated " + allocated + " bytes");
        assertTrue(checksum != 0);
    }

    private void exercise(final int iterations)
    {
        final int length = BlkifRequestDescriptor.REQUEST_LENGTH;
        for (int i = 0; i < iterations; i++)
        {
            request.wrap(slots, 0).clear().operation(BlkifOp.READ).nrSegments(11).id(i).sectorNumber(i & 1023);
            for (int s = 0; s < 11; s++)
            {
                request.segment(s, s + 1, 0, 7);
            }
            request.wrap(slots, length).clear().operation(BlkifOp.WRITE).nrSegments(1).id(i).sectorNumber(-1L)
                .segment(0, 1, 0, 7);
            request.wrap(slots, 2 * length).clear().operation((byte)99).id(i);
            request.wrap(slots, 3 * length).clear().operation(BlkifOp.DISCARD).id(i).sectorNumber(8)
                .discardNrSectors(8);
            request.wrap(slots, 4 * length).clear().operation(BlkifOp.FLUSH_DISKCACHE).id(i);
            request.wrap(slots, 5 * length).clear().operation(BlkifOp.INDIRECT).indirectOp(BlkifOp.READ)
                .indirectNrSegments(64).id(i).sectorNumber(0).indirectGref(0, 77);
            segments.wrap(segmentCopy, 0, 64);
            for (int s = 0; s < 64; s++)
            {
                segments.segment(s, 1000 + s, s & 7, 7);
            }

            check(Verdict.OK == validator.validate(slots, 0));
            check(Verdict.BAD_RANGE == validator.validate(slots, length));
            check(Verdict.BAD_OPERATION == validator.validate(slots, 2 * length));
            check(Verdict.OK == validator.validate(slots, 3 * length));
            check(Verdict.OK == validator.validate(slots, 4 * length));
            check(Verdict.FETCH_INDIRECT == validator.validate(slots, 5 * length));
            check(Verdict.OK == validator.validateIndirectSegments(slots, 5 * length, segmentCopy, 0));

            for (int r = 0; r < 6; r++)
            {
                final Verdict verdict = validator.validate(slots, r * length);
                request.wrap(slots, r * length);
                response.wrap(responses, 0).write(request.id(), request.operation(),
                    Verdict.FETCH_INDIRECT == verdict ? BlkifStatus.OKAY : verdict.status());
                checksum += response.id() + response.status() + response.operation() + validator.totalSectors();
            }
        }
    }

    private static void check(final boolean condition)
    {
        if (!condition)
        {
            fail("unexpected verdict in the allocation loop");
        }
    }
}
