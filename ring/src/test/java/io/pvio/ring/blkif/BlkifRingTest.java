package io.pvio.ring.blkif;

import org.agrona.BufferUtil;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import io.pvio.ring.BackRing;
import io.pvio.ring.FrontRing;
import io.pvio.ring.RingEnd;
import io.pvio.ring.RingGeometry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The blkif definitions over pvio's real rings: a front end fills a one-page ring with 32 requests written in place,
 * a back end copies each once, validates the copy and answers in place, and the front end reads the answers.
 */
class BlkifRingTest
{
    private static final RingGeometry GEOMETRY = BlkifRequestDescriptor.blkifRing(1);
    private static final long SECTORS = 1024;

    private final AtomicBuffer shared = new UnsafeBuffer(BufferUtil.allocateDirectAligned(GEOMETRY.ringBytes(), 4096));
    private final FrontRing front = FrontRing.init(shared, GEOMETRY);
    private final BackRing back = BackRing.attach(shared, GEOMETRY);
    private final BlkifRequestFlyweight frontRequest = new BlkifRequestFlyweight();
    private final BlkifResponseFlyweight frontResponse = new BlkifResponseFlyweight();
    private final BlkifRequestFlyweight backRequest = new BlkifRequestFlyweight();
    private final BlkifResponseFlyweight backResponse = new BlkifResponseFlyweight();
    private final BlkifRequestValidator validator = new BlkifRequestValidator(
        new BlkifRequestValidator.Context().sectors(SECTORS).flushCache(true).grantRefLimit(4096));

    @Test
    void shouldCarry32RequestsAndTheirAnswersThroughAOnePageRing()
    {
        for (int i = 0; i < 32; i++)
        {
            final int offset = front.claimRequest();
            assertTrue(offset >= 0, "slot " + i);
            frontRequest.wrap(front.buffer(), offset).clear()
                .operation(0 == i % 2 ? BlkifOp.READ : BlkifOp.WRITE)
                .nrSegments(1)
                .handle(51712)
                .id(1000 + i)
                .sectorNumber(i * 8L)
                .segment(0, 100 + i, 0, 7);
        }
        assertEquals(RingEnd.RING_FULL, front.claimRequest(), "32 requests fill a one-page blkif ring");
        frontRequest.wrap(shared, GEOMETRY.entryOffset(5)).sectorNumber(SECTORS);
        frontRequest.wrap(shared, GEOMETRY.entryOffset(6)).operation((byte)42);
        frontRequest.wrap(shared, GEOMETRY.entryOffset(7)).segmentLastSect(0, 8);
        front.pushRequests();

        assertEquals(32, back.copyRequests(this::answer, Integer.MAX_VALUE));
        back.pushResponses();

        final int[] seen = new int[1];
        assertEquals(32, front.readResponses((buffer, offset) ->
        {
            final int i = seen[0]++;
            frontResponse.wrap(buffer, offset);
            assertEquals(1000 + i, frontResponse.id());
            assertEquals(i == 6 ? 42 : i % 2, frontResponse.operation());
            final BlkifStatus expected = switch (i)
            {
                case 5, 7 -> BlkifStatus.ERROR;
                case 6 -> BlkifStatus.EOPNOTSUPP;
                default -> BlkifStatus.OKAY;
            };
            assertEquals(expected, BlkifStatus.get(frontResponse.status()), "response " + i);
        }, Integer.MAX_VALUE));
    }

    @Test
    void shouldJudgeThePrivateCopyWhenTheFrontEndRewritesTheSlotDuringValidation()
    {
        final int offset = front.claimRequest();
        frontRequest.wrap(front.buffer(), offset).clear().operation(BlkifOp.READ).nrSegments(1).id(7)
            .sectorNumber(0).segment(0, 1, 0, 7);
        front.pushRequests();

        final BlkifRequestValidator.Verdict[] verdict = new BlkifRequestValidator.Verdict[1];
        back.copyRequests((copy, copyOffset) ->
        {
            // the hostile front end changes the shared slot after the copy was taken
            frontRequest.wrap(shared, offset).sectorNumber(-1L).nrSegments(255);
            verdict[0] = validator.validate(copy, copyOffset);
            assertEquals(0, backRequest.wrap(copy, copyOffset).sectorNumber());
            assertEquals(1, backRequest.nrSegments());
            assertEquals(BlkifRequestValidator.Verdict.BAD_SEGMENTS, new BlkifRequestValidator(
                new BlkifRequestValidator.Context().sectors(SECTORS)).validate(shared, offset),
                "the rewritten shared slot itself would be refused");
            backResponse.wrap(back.buffer(), back.claimResponse())
                .write(backRequest.id(), backRequest.operation(), verdict[0].status());
        }, 1);

        assertEquals(BlkifRequestValidator.Verdict.OK, verdict[0]);
    }

    private void answer(final DirectBuffer copy, final int offset)
    {
        final BlkifRequestValidator.Verdict verdict = validator.validate(copy, offset);
        final BlkifRequestFlyweight request = backRequest.wrap(copy, offset);
        backResponse.wrap(back.buffer(), back.claimResponse())
            .write(request.id(), request.operation(), verdict.status());
    }
}
