package io.pvio.ring.blkif;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import io.pvio.ring.blkif.BlkifRequestValidator.Context;
import io.pvio.ring.blkif.BlkifRequestValidator.Verdict;

import static io.pvio.ring.blkif.BlkifRequestValidator.Verdict.BAD_GRANT_REF;
import static io.pvio.ring.blkif.BlkifRequestValidator.Verdict.BAD_INDIRECT_OPERATION;
import static io.pvio.ring.blkif.BlkifRequestValidator.Verdict.BAD_OPERATION;
import static io.pvio.ring.blkif.BlkifRequestValidator.Verdict.BAD_RANGE;
import static io.pvio.ring.blkif.BlkifRequestValidator.Verdict.BAD_SEGMENTS;
import static io.pvio.ring.blkif.BlkifRequestValidator.Verdict.FETCH_INDIRECT;
import static io.pvio.ring.blkif.BlkifRequestValidator.Verdict.OK;
import static io.pvio.ring.blkif.BlkifRequestValidator.Verdict.READ_ONLY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The validator's decision table: each row of the backend checklist for blkif requests (design reference section
 * 7.3) as a hostile request, the order in which the checks apply, the answer each verdict maps to, and the log text.
 */
class BlkifRequestValidatorTest
{
    private static final long SECTORS = 2048;
    private static final long GREF_LIMIT = 1024;
    private static final long ID = 0x1234_5678_9ABC_DEF0L;

    private final UnsafeBuffer copy = new UnsafeBuffer(new byte[BlkifRequestDescriptor.REQUEST_LENGTH]);
    private final UnsafeBuffer segmentCopy =
        new UnsafeBuffer(new byte[BlkifRequestDescriptor.MAX_INDIRECT_SEGMENTS * 8]);
    private final BlkifRequestFlyweight request = new BlkifRequestFlyweight().wrap(copy, 0);
    private final BlkifSegmentFlyweight segments = new BlkifSegmentFlyweight();
    private final BlkifRequestValidator validator = new BlkifRequestValidator(everyFeature());
    private final BlkifRequestValidator bare = new BlkifRequestValidator(new Context().sectors(SECTORS));
    private final BlkifRequestValidator readOnly = new BlkifRequestValidator(everyFeature().readOnly(true));

    private static Context everyFeature()
    {
        return new Context()
            .sectors(SECTORS)
            .barrier(true)
            .flushCache(true)
            .discard(true)
            .maxIndirectSegments(256)
            .grantRefLimit(GREF_LIMIT);
    }

    // ---- operation ----

    @Test
    void shouldAcceptReadOfOneSectorAtStartOfDevice()
    {
        direct(BlkifOp.READ, 0, 1);
        request.segment(0, 10, 0, 0);

        assertEquals(OK, validator.validate(copy, 0));
        assertEquals(1, validator.totalSectors());
        assertEquals(BlkifStatus.OKAY, OK.status());
    }

    @ParameterizedTest
    @ValueSource(ints = { 7, 8, 0x7F, 0x80, 0xFE, 0xFF })
    void shouldAnswerEopnotsuppWhenOperationIsUnknown(final int operation)
    {
        fullPages(BlkifOp.READ, 0, 1);
        request.operation((byte)operation);

        assertEquals(BAD_OPERATION, validator.validate(copy, 0));
        assertEquals(BlkifStatus.EOPNOTSUPP, validator.lastVerdict().status());
        assertEquals(
            "BAD_OPERATION: id=" + Long.toUnsignedString(ID) + " operation=" + operation +
            " is not a blkif operation (expected: 0 <= operation <= 6)", validator.describeLastFailure());
    }

    @Test
    void shouldAnswerEopnotsuppWhenOperationIsReserved()
    {
        fullPages(BlkifOp.RESERVED_1, 0, 1);

        assertEquals(BAD_OPERATION, validator.validate(copy, 0));
        assertEquals(
            "BAD_OPERATION: id=" + Long.toUnsignedString(ID) + " operation=4 (RESERVED_1) is reserved",
            validator.describeLastFailure());
    }

    @ParameterizedTest
    @CsvSource({
        "WRITE_BARRIER, feature-barrier",
        "FLUSH_DISKCACHE, feature-flush-cache",
        "DISCARD, feature-discard",
        "INDIRECT, feature-max-indirect-segments"
    })
    void shouldAnswerEopnotsuppWhenOptionalFeatureIsNotOffered(final BlkifOp op, final String feature)
    {
        fullPages(op, 0, 1);
        request.indirectOp(BlkifOp.READ).indirectNrSegments(1);

        assertEquals(BAD_OPERATION, bare.validate(copy, 0));
        assertEquals(
            "BAD_OPERATION: id=" + Long.toUnsignedString(ID) + " operation=" + op.value() + " (" + op + ") needs " +
            feature + ", which this device does not offer", bare.describeLastFailure());
    }

    @Test
    void shouldServeReadAndWriteWithoutAnyOptionalFeature()
    {
        fullPages(BlkifOp.READ, 8, 11);
        assertEquals(OK, bare.validate(copy, 0));
        request.operation(BlkifOp.WRITE);
        assertEquals(OK, bare.validate(copy, 0));
        assertEquals(88, bare.totalSectors());
    }

    // ---- segment count ----

    @ParameterizedTest
    @CsvSource({
        "READ, 0", "WRITE, 0", "READ, 12", "WRITE, 12", "READ, 255", "WRITE_BARRIER, 12", "FLUSH_DISKCACHE, 255" })
    void shouldRejectDirectRequestWhenSegmentCountIsOutOfRange(final BlkifOp op, final int nrSegments)
    {
        fullPages(op, 0, 11);
        request.nrSegments(nrSegments);

        assertEquals(BAD_SEGMENTS, validator.validate(copy, 0));
        assertEquals(BlkifStatus.ERROR, validator.lastVerdict().status());
        final int min = op == BlkifOp.READ || op == BlkifOp.WRITE ? 1 : 0;
        assertEquals(
            "BAD_SEGMENTS: id=" + Long.toUnsignedString(ID) + " operation=" + op.value() + " (" + op +
            ") nr_segments=" + nrSegments + " (expected: " + min + " <= nr_segments <= 11)",
            validator.describeLastFailure());
    }

    @ParameterizedTest
    @EnumSource(value = BlkifOp.class, names = { "FLUSH_DISKCACHE", "WRITE_BARRIER" })
    void shouldAcceptFlushAndBarrierWithNoSegmentsWhateverTheSectorNumber(final BlkifOp op)
    {
        direct(op, -1L, 0);

        assertEquals(OK, validator.validate(copy, 0), "sector_number is ignored when nothing moves");
        assertEquals(0, validator.totalSectors());
    }

    @ParameterizedTest
    @EnumSource(value = BlkifOp.class, names = { "FLUSH_DISKCACHE", "WRITE_BARRIER" })
    void shouldCheckSegmentsAndRangeOfFlushAndBarrierThatCarryData(final BlkifOp op)
    {
        fullPages(op, SECTORS - 16, 2);
        assertEquals(OK, validator.validate(copy, 0));
        assertEquals(16, validator.totalSectors());

        request.sectorNumber(SECTORS - 15);
        assertEquals(BAD_RANGE, validator.validate(copy, 0));

        request.sectorNumber(0).segmentLastSect(1, 8);
        assertEquals(BAD_SEGMENTS, validator.validate(copy, 0));
    }

    // ---- segments ----

    @ParameterizedTest(name = "first_sect={0} last_sect={1}")
    @CsvSource({ "5, 2", "0, 8", "8, 8", "7, 6", "1, 0", "255, 255", "0, 255", "128, 7" })
    void shouldRejectSegmentWhenSectorsAreNotFirstAtMostLastAtMostSeven(final int first, final int last)
    {
        fullPages(BlkifOp.WRITE, 0, 4);
        request.segmentFirstSect(3, first).segmentLastSect(3, last);

        assertEquals(BAD_SEGMENTS, validator.validate(copy, 0));
        assertEquals(
            "BAD_SEGMENTS: id=" + Long.toUnsignedString(ID) + " operation=1 (WRITE) seg[3] first_sect=" + first +
            " last_sect=" + last + " (expected: first_sect <= last_sect <= 7)", validator.describeLastFailure());
    }

    @Test
    void shouldSumPartialSegments()
    {
        direct(BlkifOp.READ, 100, 3);
        request.segment(0, 1, 7, 7).segment(1, 2, 0, 7).segment(2, 3, 2, 4);

        assertEquals(OK, validator.validate(copy, 0));
        assertEquals(1 + 8 + 3, validator.totalSectors());
    }

    @Test
    void shouldIgnoreSegmentsBeyondNrSegments()
    {
        fullPages(BlkifOp.READ, 0, 2);
        request.segment(2, -1, 200, 100).segment(10, -1, 9, 1);

        assertEquals(OK, validator.validate(copy, 0));
        assertEquals(16, validator.totalSectors());
    }

    // ---- grant references ----

    @ParameterizedTest
    @ValueSource(ints = { 1024, 1025, Integer.MAX_VALUE, -1, Integer.MIN_VALUE })
    void shouldRejectSegmentWhenGrantRefIsAtOrAboveTheBound(final int gref)
    {
        fullPages(BlkifOp.READ, 0, 3);
        request.segmentGref(1, gref);

        assertEquals(BAD_GRANT_REF, validator.validate(copy, 0));
        assertEquals(BlkifStatus.ERROR, BAD_GRANT_REF.status());
        assertEquals(
            "BAD_GRANT_REF: id=" + Long.toUnsignedString(ID) + " operation=0 (READ) seg[1] gref=" +
            Integer.toUnsignedString(gref) + " (expected: gref < 1024)", validator.describeLastFailure());
    }

    @Test
    void shouldAcceptEveryGrantRefWhenNoBoundIsSet()
    {
        fullPages(BlkifOp.READ, 0, 1);
        request.segmentGref(0, -1);

        assertEquals(OK, bare.validate(copy, 0));
        assertEquals(BAD_GRANT_REF, validator.validate(copy, 0));
    }

    // ---- range ----

    @ParameterizedTest(name = "sector_number={0} with {1} full pages")
    @CsvSource({
        "2048, 1",                   // starts at the end
        "2041, 1",                   // one sector past the end
        "2000, 11",                  // 2000 + 88 > 2048
        "9223372036854775807, 1",    // Long.MAX_VALUE
        "-9223372036854775808, 1",   // 2^63
        "-1, 1",                     // 2^64 - 1: + 8 wraps to 7
        "-8, 1",                     // 2^64 - 8: + 8 wraps to exactly 0
        "-88, 11",                   // 2^64 - 88: + 88 wraps to exactly 0
        "-2048, 11"                  // wraps to 2048 - 2048 + 88 = 88 sectors, inside a naive check
    })
    void shouldRejectReadWhenSectorsReachPastTheEndOrWrapAround2To64(final long sector, final int pages)
    {
        fullPages(BlkifOp.READ, sector, pages);

        assertEquals(BAD_RANGE, validator.validate(copy, 0));
        assertEquals(
            "BAD_RANGE: id=" + Long.toUnsignedString(ID) + " operation=0 (READ) sector_number=" +
            Long.toUnsignedString(sector) + " sectors=" + pages * 8 + " device sectors=2048 (expected: " +
            "sector_number + sectors <= 2048)", validator.describeLastFailure());
    }

    @Test
    void shouldAcceptRequestEndingExactlyAtTheLastSector()
    {
        fullPages(BlkifOp.WRITE, SECTORS - 88, 11);
        assertEquals(OK, validator.validate(copy, 0));

        direct(BlkifOp.READ, SECTORS - 1, 1);
        request.segment(0, 5, 7, 7);
        assertEquals(OK, validator.validate(copy, 0));

        request.sectorNumber(SECTORS);
        assertEquals(BAD_RANGE, validator.validate(copy, 0));
    }

    @Test
    void shouldHandleDeviceOfMaximumSizeWithoutOverflow()
    {
        final BlkifRequestValidator huge = new BlkifRequestValidator(new Context().sectors(Long.MAX_VALUE));
        fullPages(BlkifOp.READ, Long.MAX_VALUE - 8, 1);
        assertEquals(OK, huge.validate(copy, 0));

        request.sectorNumber(Long.MAX_VALUE - 7);
        assertEquals(BAD_RANGE, huge.validate(copy, 0));
        request.sectorNumber(Long.MIN_VALUE);
        assertEquals(BAD_RANGE, huge.validate(copy, 0));
        request.sectorNumber(-8);
        assertEquals(BAD_RANGE, huge.validate(copy, 0));
    }

    @Test
    void shouldRejectEveryDataRequestOnAnEmptyDevice()
    {
        final BlkifRequestValidator empty = new BlkifRequestValidator(new Context().sectors(0).flushCache(true));
        fullPages(BlkifOp.READ, 0, 1);
        assertEquals(BAD_RANGE, empty.validate(copy, 0));

        direct(BlkifOp.FLUSH_DISKCACHE, 0, 0);
        assertEquals(OK, empty.validate(copy, 0));
    }

    // ---- discard ----

    @Test
    void shouldAcceptDiscardOfTheWholeDevice()
    {
        discard(0, SECTORS, 0);
        assertEquals(OK, validator.validate(copy, 0));
        assertEquals(SECTORS, validator.totalSectors());
    }

    @ParameterizedTest(name = "sector_number={0} nr_sectors={1}")
    @CsvSource({
        "0, 2049",
        "2048, 1",
        "2049, 0",
        "1, -1",                     // nr_sectors 2^64 - 1: 1 + it wraps to 0
        "-1, 1",                     // wraps to 0
        "-2048, 4096",               // wraps to 2048
        "0, -9223372036854775808",   // 2^63
        "-9223372036854775808, -9223372036854775808"
    })
    void shouldRejectDiscardWhenRangeIsOutsideTheDeviceOrWraps(final long sector, final long nrSectors)
    {
        discard(sector, nrSectors, 0);

        assertEquals(BAD_RANGE, validator.validate(copy, 0));
        assertEquals(
            "BAD_RANGE: id=" + Long.toUnsignedString(ID) + " operation=5 (DISCARD) sector_number=" +
            Long.toUnsignedString(sector) + " sectors=" + Long.toUnsignedString(nrSectors) + " device sectors=2048 " +
            "(expected: sector_number + sectors <= 2048)", validator.describeLastFailure());
    }

    @Test
    void shouldAcceptEmptyDiscardOnlyInsideTheDevice()
    {
        discard(SECTORS, 0, 0);
        assertEquals(OK, validator.validate(copy, 0));
        assertEquals(0, validator.totalSectors());
    }

    @ParameterizedTest
    @ValueSource(ints = { 0, 1, 2, 0xFF })
    void shouldIgnoreDiscardFlagAsBlkifHSays(final int flag)
    {
        discard(8, 8, flag);
        assertEquals(OK, validator.validate(copy, 0));
    }

    // ---- indirect ----

    @Test
    void shouldAskForIndirectSegmentsThenAcceptThem()
    {
        indirect(BlkifOp.READ, 256, 0);

        assertEquals(FETCH_INDIRECT, validator.validate(copy, 0));
        assertFalse(FETCH_INDIRECT.isRefusal());
        assertEquals(OK, validator.validateIndirectSegments(copy, 0, segmentCopy, 0));
        assertEquals(256 * 8, validator.totalSectors());
    }

    @Test
    void shouldRefuseStatusOfFetchIndirectBecauseItIsNotFinal()
    {
        final IllegalStateException ex = assertThrows(IllegalStateException.class, FETCH_INDIRECT::status);
        assertEquals("not a final verdict: FETCH_INDIRECT (validate the indirect segments first)", ex.getMessage());
    }

    @ParameterizedTest
    @ValueSource(ints = { 2, 3, 4, 5, 6, 7, 0xFF })
    void shouldRejectIndirectRequestWhenIndirectOpIsNotReadOrWrite(final int indirectOp)
    {
        indirect(BlkifOp.READ, 1, 0);
        request.indirectOp((byte)indirectOp);

        assertEquals(BAD_INDIRECT_OPERATION, validator.validate(copy, 0));
        assertEquals(BlkifStatus.ERROR, validator.lastVerdict().status());
        assertEquals(BAD_INDIRECT_OPERATION, validator.validateIndirectSegments(copy, 0, segmentCopy, 0));
        assertEquals(
            "BAD_INDIRECT_OPERATION: id=" + Long.toUnsignedString(ID) + " operation=6 (INDIRECT) indirect_op=" +
            indirectOp + " (expected: READ (0) or WRITE (1))", validator.describeLastFailure());
    }

    @ParameterizedTest
    @ValueSource(ints = { 0, 257, 512, 4096, 4097, 0xFFFF })
    void shouldRejectIndirectRequestWhenSegmentCountIsOutsideTheAdvertisedMaximum(final int nrSegments)
    {
        indirect(BlkifOp.WRITE, 1, 0);
        request.indirectNrSegments(nrSegments);

        assertEquals(BAD_SEGMENTS, validator.validate(copy, 0));
        assertEquals(
            "BAD_SEGMENTS: id=" + Long.toUnsignedString(ID) + " operation=6 (INDIRECT) nr_segments=" + nrSegments +
            " (expected: 1 <= nr_segments <= 256, the advertised feature-max-indirect-segments)",
            validator.describeLastFailure());
    }

    @Test
    void shouldAcceptEightFullIndirectPagesWhenTheMaximumIsAdvertised()
    {
        final BlkifRequestValidator widest = new BlkifRequestValidator(
            everyFeature().maxIndirectSegments(BlkifRequestDescriptor.MAX_INDIRECT_SEGMENTS).sectors(1L << 40));
        indirect(BlkifOp.WRITE, 4096, 0);

        assertEquals(FETCH_INDIRECT, widest.validate(copy, 0));
        assertEquals(OK, widest.validateIndirectSegments(copy, 0, segmentCopy, 0));
        assertEquals(4096 * 8, widest.totalSectors());

        request.indirectNrSegments(4097);
        assertEquals(BAD_SEGMENTS, widest.validate(copy, 0));
    }

    @Test
    void shouldCheckOnlyTheIndirectPagesInUse()
    {
        indirect(BlkifOp.READ, 513, 0);
        request.indirectGref(2, -1).indirectGref(7, -1);
        assertEquals(FETCH_INDIRECT, new BlkifRequestValidator(everyFeature().maxIndirectSegments(1024))
            .validate(copy, 0), "pages 2..7 are unused");

        request.indirectGref(1, (int)GREF_LIMIT);
        final BlkifRequestValidator wide = new BlkifRequestValidator(everyFeature().maxIndirectSegments(1024));
        assertEquals(BAD_GRANT_REF, wide.validate(copy, 0));
        assertEquals(
            "BAD_GRANT_REF: id=" + Long.toUnsignedString(ID) + " operation=6 (INDIRECT) indirect_grefs[1]=1024 " +
            "(expected: gref < 1024)", wide.describeLastFailure());
    }

    @Test
    void shouldRejectIndirectSegmentWithBadSectorsOrGrantRef()
    {
        indirect(BlkifOp.WRITE, 100, 0);
        segments.wrap(segmentCopy, 0, 100).segment(99, 1, 3, 2);
        assertEquals(BAD_SEGMENTS, validator.validateIndirectSegments(copy, 0, segmentCopy, 0));
        assertEquals(
            "BAD_SEGMENTS: id=" + Long.toUnsignedString(ID) + " operation=6 (INDIRECT) indirect segment 99 " +
            "first_sect=3 last_sect=2 (expected: first_sect <= last_sect <= 7)", validator.describeLastFailure());

        segments.segment(99, 1, 0, 8);
        assertEquals(BAD_SEGMENTS, validator.validateIndirectSegments(copy, 0, segmentCopy, 0));
        segments.segment(99, 1, 8, 8);
        assertEquals(BAD_SEGMENTS, validator.validateIndirectSegments(copy, 0, segmentCopy, 0));

        segments.segment(99, -2, 0, 7);
        assertEquals(BAD_GRANT_REF, validator.validateIndirectSegments(copy, 0, segmentCopy, 0));
        assertEquals(
            "BAD_GRANT_REF: id=" + Long.toUnsignedString(ID) + " operation=6 (INDIRECT) indirect segment 99 " +
            "gref=4294967294 (expected: gref < 1024)", validator.describeLastFailure());
    }

    @Test
    void shouldRejectIndirectRequestWhenRangeWrapsAround2To64()
    {
        indirect(BlkifOp.READ, 256, -1024L);
        assertEquals(FETCH_INDIRECT, validator.validate(copy, 0));
        assertEquals(BAD_RANGE, validator.validateIndirectSegments(copy, 0, segmentCopy, 0));

        request.sectorNumber(SECTORS - 256 * 8);
        assertEquals(OK, validator.validateIndirectSegments(copy, 0, segmentCopy, 0));
        request.sectorNumber(SECTORS - 256 * 8 + 1);
        assertEquals(BAD_RANGE, validator.validateIndirectSegments(copy, 0, segmentCopy, 0));
    }

    @Test
    void shouldReadOnlyTheIndirectSegmentsTheRequestCounts()
    {
        indirect(BlkifOp.READ, 3, 0);
        segmentCopy.setMemory(3 * 8, 8, (byte)0xFF);

        assertEquals(OK, validator.validateIndirectSegments(copy, 0, segmentCopy, 0));
        assertEquals(
            OK, validator.validateIndirectSegments(copy, 0, new UnsafeBuffer(new byte[24]), 0),
            "three segments need only 24 bytes (all zero: sector 0 of gref 0)");
    }

    @Test
    void shouldGiveTheSameVerdictFromEitherEntryPointForNonIndirectRequests()
    {
        fullPages(BlkifOp.WRITE, 0, 2);
        assertEquals(OK, validator.validateIndirectSegments(copy, 0, segmentCopy, 0));
        request.nrSegments(0);
        assertEquals(BAD_SEGMENTS, validator.validateIndirectSegments(copy, 0, segmentCopy, 0));
    }

    // ---- read-only ----

    @ParameterizedTest
    @EnumSource(value = BlkifOp.class, names = { "WRITE", "WRITE_BARRIER", "FLUSH_DISKCACHE" })
    void shouldRefuseWritesBarriersAndFlushesOnReadOnlyDevice(final BlkifOp op)
    {
        fullPages(op, 0, 1);

        assertEquals(READ_ONLY, readOnly.validate(copy, 0));
        assertEquals(BlkifStatus.ERROR, READ_ONLY.status());
        assertEquals(
            "READ_ONLY: id=" + Long.toUnsignedString(ID) + " operation=" + op.value() + " (" + op +
            ") on a read-only device (expected: READ only)", readOnly.describeLastFailure());
    }

    @Test
    void shouldRefuseDiscardOnReadOnlyDevice()
    {
        discard(0, 8, 0);
        assertEquals(READ_ONLY, readOnly.validate(copy, 0));
    }

    @Test
    void shouldRefuseIndirectWriteButServeIndirectReadOnReadOnlyDevice()
    {
        indirect(BlkifOp.WRITE, 10, 0);
        assertEquals(FETCH_INDIRECT, readOnly.validate(copy, 0));
        assertEquals(READ_ONLY, readOnly.validateIndirectSegments(copy, 0, segmentCopy, 0));
        assertEquals(
            "READ_ONLY: id=" + Long.toUnsignedString(ID) + " operation=6 (INDIRECT) indirect_op=1 on a read-only " +
            "device (expected: READ only)", readOnly.describeLastFailure());

        request.indirectOp(BlkifOp.READ);
        assertEquals(OK, readOnly.validateIndirectSegments(copy, 0, segmentCopy, 0));
    }

    @Test
    void shouldServeReadOnReadOnlyDevice()
    {
        fullPages(BlkifOp.READ, 0, 11);
        assertEquals(OK, readOnly.validate(copy, 0));
    }

    // ---- order ----

    @Test
    void shouldReportOperationBeforeAnythingElse()
    {
        fullPages(BlkifOp.WRITE, -1L, 11);
        request.nrSegments(200).segmentLastSect(0, 9).segmentGref(0, -1);
        request.operation((byte)9);

        assertEquals(BAD_OPERATION, readOnly.validate(copy, 0));
    }

    @Test
    void shouldReportSegmentCountBeforeSegmentsAndSegmentsBeforeRangeAndRangeBeforeAccess()
    {
        fullPages(BlkifOp.WRITE, -1L, 11);
        request.segmentLastSect(0, 9).segmentGref(0, -1);

        request.nrSegments(12);
        assertEquals(BAD_SEGMENTS, readOnly.validate(copy, 0));
        request.nrSegments(11);
        assertEquals(BAD_SEGMENTS, readOnly.validate(copy, 0), "seg[0] sectors before its gref");
        request.segmentLastSect(0, 7);
        assertEquals(BAD_GRANT_REF, readOnly.validate(copy, 0));
        request.segmentGref(0, 1);
        assertEquals(BAD_RANGE, readOnly.validate(copy, 0));
        request.sectorNumber(0);
        assertEquals(READ_ONLY, readOnly.validate(copy, 0));
    }

    @Test
    void shouldCheckSegmentsInIndexOrder()
    {
        fullPages(BlkifOp.READ, 0, 5);
        request.segmentGref(1, -1).segmentFirstSect(2, 7).segmentLastSect(2, 0);

        assertEquals(BAD_GRANT_REF, validator.validate(copy, 0), "seg[1] before seg[2]");
    }

    @Test
    void shouldCheckIndirectOpBeforeCountAndCountBeforePageGrefs()
    {
        indirect(BlkifOp.READ, 1, 0);
        request.indirectOp((byte)9).indirectNrSegments(0).indirectGref(0, -1);

        assertEquals(BAD_INDIRECT_OPERATION, validator.validate(copy, 0));
        request.indirectOp(BlkifOp.WRITE);
        assertEquals(BAD_SEGMENTS, validator.validate(copy, 0));
        request.indirectNrSegments(1);
        assertEquals(BAD_GRANT_REF, validator.validate(copy, 0));
    }

    // ---- bookkeeping ----

    @Test
    void shouldReportNoFailureAfterAcceptedRequest()
    {
        fullPages(BlkifOp.READ, 0, 1);
        validator.validate(copy, 0);
        assertEquals("no failure: last verdict=OK", validator.describeLastFailure());

        indirect(BlkifOp.READ, 1, 0);
        validator.validate(copy, 0);
        assertEquals("no failure: last verdict=FETCH_INDIRECT", validator.describeLastFailure());
    }

    @Test
    void shouldResetTotalSectorsAfterRefusal()
    {
        fullPages(BlkifOp.READ, 0, 2);
        validator.validate(copy, 0);
        assertEquals(16, validator.totalSectors());

        request.sectorNumber(-1);
        validator.validate(copy, 0);
        assertEquals(0, validator.totalSectors());
    }

    @Test
    void shouldValidateRequestAtAnOffsetInItsBuffer()
    {
        final UnsafeBuffer ring = new UnsafeBuffer(new byte[64 + 3 * 112]);
        new BlkifRequestFlyweight().wrap(ring, 64 + 112).operation(BlkifOp.READ).nrSegments(1).segment(0, 1, 0, 7);

        assertEquals(BAD_SEGMENTS, validator.validate(ring, 64), "empty slot: READ with 0 segments");
        assertEquals(OK, validator.validate(ring, 64 + 112));
    }

    @Test
    void shouldMapEachVerdictToTheStatusBlkbackAnswers()
    {
        assertEquals(BlkifStatus.OKAY, OK.status());
        assertEquals(BlkifStatus.EOPNOTSUPP, BAD_OPERATION.status());
        for (final Verdict verdict : new Verdict[] { BAD_INDIRECT_OPERATION, BAD_SEGMENTS, BAD_GRANT_REF, BAD_RANGE,
            READ_ONLY })
        {
            assertEquals(BlkifStatus.ERROR, verdict.status(), verdict.name());
            assertTrue(verdict.isRefusal());
        }
        assertFalse(OK.isRefusal());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "-1 | 0    | 1          | sectors must be set: sectors=-1 (expected: >= 0)",
        "0  | -1   | 1          | maxIndirectSegments out of range: maxIndirectSegments=-1 " +
            "(expected: 0 <= maxIndirectSegments <= 4096)",
        "0  | 4097 | 1          | maxIndirectSegments out of range: maxIndirectSegments=4097 " +
            "(expected: 0 <= maxIndirectSegments <= 4096)",
        "0  | 0    | 0          | grantRefLimit out of range: grantRefLimit=0 " +
            "(expected: 1 <= grantRefLimit <= 4294967296)",
        "0  | 0    | 4294967297 | grantRefLimit out of range: grantRefLimit=4294967297 " +
            "(expected: 1 <= grantRefLimit <= 4294967296)"
    })
    void shouldRejectContextWhenASettingIsOutOfRange(
        final long sectors, final int maxIndirect, final long grantRefLimit, final String message)
    {
        final Context context = new Context().sectors(sectors).maxIndirectSegments(maxIndirect)
            .grantRefLimit(grantRefLimit);
        final IllegalArgumentException ex = assertThrows(
            IllegalArgumentException.class, () -> new BlkifRequestValidator(context));
        assertEquals(message, ex.getMessage());
    }

    @Test
    void shouldRequireSectorsToBeSet()
    {
        assertThrows(IllegalArgumentException.class, () -> new BlkifRequestValidator(new Context()));
    }

    // ---- request builders ----

    private void direct(final BlkifOp op, final long sector, final int nrSegments)
    {
        request.clear().operation(op).nrSegments(nrSegments).handle(0x51).id(ID).sectorNumber(sector);
    }

    private void fullPages(final BlkifOp op, final long sector, final int nrSegments)
    {
        direct(op, sector, nrSegments);
        for (int i = 0; i < nrSegments; i++)
        {
            request.segment(i, 10 + i, 0, 7);
        }
    }

    private void discard(final long sector, final long nrSectors, final int flag)
    {
        request.clear().operation(BlkifOp.DISCARD).discardFlag(flag).handle(0x51).id(ID).sectorNumber(sector)
            .discardNrSectors(nrSectors);
    }

    private void indirect(final BlkifOp indirectOp, final int nrSegments, final long sector)
    {
        request.clear().operation(BlkifOp.INDIRECT).indirectOp(indirectOp).indirectNrSegments(nrSegments).id(ID)
            .sectorNumber(sector).indirectHandle(0x51);
        for (int p = 0; p < BlkifRequestDescriptor.indirectPages(nrSegments); p++)
        {
            request.indirectGref(p, 500 + p);
        }
        segmentCopy.setMemory(0, segmentCopy.capacity(), (byte)0);
        segments.wrap(segmentCopy, 0, Math.max(1, nrSegments));
        for (int i = 0; i < nrSegments; i++)
        {
            segments.segment(i, 600 + (i % 400), 0, 7);
        }
    }
}
