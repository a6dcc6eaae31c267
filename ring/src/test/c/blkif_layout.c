/*
 * Prints the blkif layout this machine's compiler derives from Xen's own io/blkif.h, one "name value" pair a line,
 * for BlkifHeaderLayoutTest to hold the Java descriptors against.
 *
 * Build: gcc -std=c11 -Wall -Wextra -Werror -D__XEN_TOOLS__ -o blkif_layout blkif_layout.c
 * (__XEN_TOOLS__ selects the current interface version; without it the headers fall back to the legacy one.)
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <xen/xen.h>
#include <xen/grant_table.h>
#include <xen/io/blkif.h>

#define FIELD(type, field) \
    printf("%s.%s %zu\n", #type, #field, offsetof(struct type, field)); \
    printf("%s.%s.size %zu\n", #type, #field, sizeof(((struct type *)0)->field))

#define STRUCT(type) \
    printf("%s.sizeof %zu\n", #type, sizeof(struct type)); \
    printf("%s.alignof %zu\n", #type, _Alignof(struct type))

#define CONSTANT(name) printf("%s %lld\n", #name, (long long)(name))

int main(void)
{
    STRUCT(blkif_request);
    FIELD(blkif_request, operation);
    FIELD(blkif_request, nr_segments);
    FIELD(blkif_request, handle);
    FIELD(blkif_request, id);
    FIELD(blkif_request, sector_number);
    FIELD(blkif_request, seg);

    STRUCT(blkif_request_segment);
    FIELD(blkif_request_segment, gref);
    FIELD(blkif_request_segment, first_sect);
    FIELD(blkif_request_segment, last_sect);

    STRUCT(blkif_request_discard);
    FIELD(blkif_request_discard, operation);
    FIELD(blkif_request_discard, flag);
    FIELD(blkif_request_discard, handle);
    FIELD(blkif_request_discard, id);
    FIELD(blkif_request_discard, sector_number);
    FIELD(blkif_request_discard, nr_sectors);

    STRUCT(blkif_request_indirect);
    FIELD(blkif_request_indirect, operation);
    FIELD(blkif_request_indirect, indirect_op);
    FIELD(blkif_request_indirect, nr_segments);
    FIELD(blkif_request_indirect, id);
    FIELD(blkif_request_indirect, sector_number);
    FIELD(blkif_request_indirect, handle);
    FIELD(blkif_request_indirect, indirect_grefs);

    STRUCT(blkif_response);
    FIELD(blkif_response, id);
    FIELD(blkif_response, operation);
    FIELD(blkif_response, status);

    printf("blkif_sring_entry.sizeof %zu\n", sizeof(union blkif_sring_entry));
    printf("blkif_ring.entries.1 %lld\n", (long long)__CONST_RING_SIZE(blkif, 4096));
    printf("blkif_ring.entries.16 %lld\n", (long long)__CONST_RING_SIZE(blkif, 16 * 4096));
    printf("blkif_sring.ring %zu\n", offsetof(struct blkif_sring, ring));

    CONSTANT(BLKIF_OP_READ);
    CONSTANT(BLKIF_OP_WRITE);
    CONSTANT(BLKIF_OP_WRITE_BARRIER);
    CONSTANT(BLKIF_OP_FLUSH_DISKCACHE);
    CONSTANT(BLKIF_OP_RESERVED_1);
    CONSTANT(BLKIF_OP_DISCARD);
    CONSTANT(BLKIF_OP_INDIRECT);
    CONSTANT(BLKIF_RSP_OKAY);
    CONSTANT(BLKIF_RSP_ERROR);
    CONSTANT(BLKIF_RSP_EOPNOTSUPP);
    CONSTANT(BLKIF_MAX_SEGMENTS_PER_REQUEST);
    CONSTANT(BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST);
    CONSTANT(BLKIF_DISCARD_SECURE);
    printf("SEGS_PER_INDIRECT_FRAME %zu\n", (size_t)4096 / sizeof(struct blkif_request_segment));
    return 0;
}
