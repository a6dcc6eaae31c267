package io.pvio.ring.blkif;

import java.io.IOException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import io.pvio.ring.CLayoutProgram;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import static io.pvio.ring.blkif.BlkifRequestDescriptor.INDIRECT_GREFS_OFFSET;
import static io.pvio.ring.blkif.BlkifRequestDescriptor.MAX_INDIRECT_PAGES_PER_REQUEST;
import static io.pvio.ring.blkif.BlkifRequestDescriptor.MAX_SEGMENTS_PER_REQUEST;
import static io.pvio.ring.blkif.BlkifRequestDescriptor.SEGMENT_LENGTH;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.params.provider.Arguments.arguments;

/**
 * Compiles {@code src/test/c/blkif_layout.c} with gcc against Xen's own {@code /usr/include/xen/io/blkif.h}, runs
 * it, and holds every offset, size and code it prints against the Java descriptors. Needs Debian's
 * {@code libxen-dev} and {@code gcc}: without them the tests are skipped, except under CI (the {@code CI}
 * environment variable set), where a missing toolchain fails them.
 */
class BlkifHeaderLayoutTest
{
    private static final Path SOURCE = Paths.get("src/test/c/blkif_layout.c");
    private static final Path BLKIF_H = Paths.get("/usr/include/xen/io/blkif.h");
    private static final Map<String, Long> C_VALUES = new HashMap<>();

    @BeforeAll
    static void compileAndRun() throws IOException, InterruptedException
    {
        C_VALUES.putAll(CLayoutProgram.compileAndRun(SOURCE, BLKIF_H, "blkif_layout"));
    }

    static Stream<Arguments> layout()
    {
        return Stream.of(
            arguments("blkif_request.sizeof", BlkifRequestDescriptor.REQUEST_LENGTH),
            arguments("blkif_request.alignof", BlkifRequestDescriptor.ALIGNMENT),
            arguments("blkif_request.operation", BlkifRequestDescriptor.OPERATION_OFFSET),
            arguments("blkif_request.operation.size", 1),
            arguments("blkif_request.nr_segments", BlkifRequestDescriptor.NR_SEGMENTS_OFFSET),
            arguments("blkif_request.nr_segments.size", 1),
            arguments("blkif_request.handle", BlkifRequestDescriptor.HANDLE_OFFSET),
            arguments("blkif_request.handle.size", Short.BYTES),
            arguments("blkif_request.id", BlkifRequestDescriptor.ID_OFFSET),
            arguments("blkif_request.id.size", Long.BYTES),
            arguments("blkif_request.sector_number", BlkifRequestDescriptor.SECTOR_NUMBER_OFFSET),
            arguments("blkif_request.sector_number.size", Long.BYTES),
            arguments("blkif_request.seg", BlkifRequestDescriptor.SEGMENTS_OFFSET),
            arguments("blkif_request.seg.size", MAX_SEGMENTS_PER_REQUEST * SEGMENT_LENGTH),

            arguments("blkif_request_segment.sizeof", SEGMENT_LENGTH),
            arguments("blkif_request_segment.alignof", Integer.BYTES),
            arguments("blkif_request_segment.gref", BlkifRequestDescriptor.SEGMENT_GREF_OFFSET),
            arguments("blkif_request_segment.gref.size", Integer.BYTES),
            arguments("blkif_request_segment.first_sect", BlkifRequestDescriptor.SEGMENT_FIRST_SECT_OFFSET),
            arguments("blkif_request_segment.first_sect.size", 1),
            arguments("blkif_request_segment.last_sect", BlkifRequestDescriptor.SEGMENT_LAST_SECT_OFFSET),
            arguments("blkif_request_segment.last_sect.size", 1),

            arguments("blkif_request_discard.sizeof", BlkifRequestDescriptor.DISCARD_LENGTH),
            arguments("blkif_request_discard.alignof", BlkifRequestDescriptor.ALIGNMENT),
            arguments("blkif_request_discard.operation", BlkifRequestDescriptor.OPERATION_OFFSET),
            arguments("blkif_request_discard.operation.size", 1),
            arguments("blkif_request_discard.flag", BlkifRequestDescriptor.DISCARD_FLAG_OFFSET),
            arguments("blkif_request_discard.flag.size", 1),
            arguments("blkif_request_discard.handle", BlkifRequestDescriptor.HANDLE_OFFSET),
            arguments("blkif_request_discard.handle.size", Short.BYTES),
            arguments("blkif_request_discard.id", BlkifRequestDescriptor.ID_OFFSET),
            arguments("blkif_request_discard.id.size", Long.BYTES),
            arguments("blkif_request_discard.sector_number", BlkifRequestDescriptor.SECTOR_NUMBER_OFFSET),
            arguments("blkif_request_discard.sector_number.size", Long.BYTES),
            arguments("blkif_request_discard.nr_sectors", BlkifRequestDescriptor.DISCARD_NR_SECTORS_OFFSET),
            arguments("blkif_request_discard.nr_sectors.size", Long.BYTES),

            arguments("blkif_request_indirect.sizeof", BlkifRequestDescriptor.INDIRECT_LENGTH),
            arguments("blkif_request_indirect.alignof", BlkifRequestDescriptor.ALIGNMENT),
            arguments("blkif_request_indirect.operation", BlkifRequestDescriptor.OPERATION_OFFSET),
            arguments("blkif_request_indirect.operation.size", 1),
            arguments("blkif_request_indirect.indirect_op", BlkifRequestDescriptor.INDIRECT_OP_OFFSET),
            arguments("blkif_request_indirect.indirect_op.size", 1),
            arguments("blkif_request_indirect.nr_segments", BlkifRequestDescriptor.INDIRECT_NR_SEGMENTS_OFFSET),
            arguments("blkif_request_indirect.nr_segments.size", Short.BYTES),
            arguments("blkif_request_indirect.id", BlkifRequestDescriptor.ID_OFFSET),
            arguments("blkif_request_indirect.id.size", Long.BYTES),
            arguments("blkif_request_indirect.sector_number", BlkifRequestDescriptor.SECTOR_NUMBER_OFFSET),
            arguments("blkif_request_indirect.sector_number.size", Long.BYTES),
            arguments("blkif_request_indirect.handle", BlkifRequestDescriptor.INDIRECT_HANDLE_OFFSET),
            arguments("blkif_request_indirect.handle.size", Short.BYTES),
            arguments("blkif_request_indirect.indirect_grefs", INDIRECT_GREFS_OFFSET),
            arguments("blkif_request_indirect.indirect_grefs.size", MAX_INDIRECT_PAGES_PER_REQUEST * Integer.BYTES),

            arguments("blkif_response.sizeof", BlkifResponseDescriptor.RESPONSE_LENGTH),
            arguments("blkif_response.alignof", BlkifRequestDescriptor.ALIGNMENT),
            arguments("blkif_response.id", BlkifResponseDescriptor.ID_OFFSET),
            arguments("blkif_response.id.size", Long.BYTES),
            arguments("blkif_response.operation", BlkifResponseDescriptor.OPERATION_OFFSET),
            arguments("blkif_response.operation.size", 1),
            arguments("blkif_response.status", BlkifResponseDescriptor.STATUS_OFFSET),
            arguments("blkif_response.status.size", Short.BYTES),

            arguments("blkif_sring_entry.sizeof", BlkifRequestDescriptor.blkifRing(1).entryBytes()),
            arguments("blkif_ring.entries.1", BlkifRequestDescriptor.blkifRing(1).size()),
            arguments("blkif_ring.entries.16", BlkifRequestDescriptor.blkifRing(16).size()),
            arguments("blkif_sring.ring", io.pvio.ring.SharedRingDescriptor.HEADER_LENGTH),

            arguments("BLKIF_OP_READ", BlkifOp.READ.value()),
            arguments("BLKIF_OP_WRITE", BlkifOp.WRITE.value()),
            arguments("BLKIF_OP_WRITE_BARRIER", BlkifOp.WRITE_BARRIER.value()),
            arguments("BLKIF_OP_FLUSH_DISKCACHE", BlkifOp.FLUSH_DISKCACHE.value()),
            arguments("BLKIF_OP_RESERVED_1", BlkifOp.RESERVED_1.value()),
            arguments("BLKIF_OP_DISCARD", BlkifOp.DISCARD.value()),
            arguments("BLKIF_OP_INDIRECT", BlkifOp.INDIRECT.value()),
            arguments("BLKIF_RSP_OKAY", BlkifStatus.OKAY.value()),
            arguments("BLKIF_RSP_ERROR", BlkifStatus.ERROR.value()),
            arguments("BLKIF_RSP_EOPNOTSUPP", BlkifStatus.EOPNOTSUPP.value()),
            arguments("BLKIF_MAX_SEGMENTS_PER_REQUEST", MAX_SEGMENTS_PER_REQUEST),
            arguments("BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST", MAX_INDIRECT_PAGES_PER_REQUEST),
            arguments("BLKIF_DISCARD_SECURE", BlkifRequestDescriptor.DISCARD_SECURE),
            arguments("SEGS_PER_INDIRECT_FRAME", BlkifRequestDescriptor.SEGMENTS_PER_INDIRECT_FRAME));
    }

    @ParameterizedTest(name = "{0} = {1}")
    @MethodSource("layout")
    void shouldMatchOffsetsAndConstantsGccDerivesFromBlkifH(final String name, final Number javaValue)
    {
        final Long cValue = C_VALUES.get(name);
        assertNotNull(cValue, "the C program did not print " + name);
        assertEquals(cValue.longValue(), javaValue.longValue(), name);
    }

    @Test
    void shouldCheckEveryValueTheCProgramPrints()
    {
        final Set<String> unchecked = new TreeSet<>(C_VALUES.keySet());
        layout().forEach((arguments) -> unchecked.remove((String)arguments.get()[0]));
        assertEquals(Set.of(), unchecked, "values the C program prints that no Java constant is held against");
    }
}
