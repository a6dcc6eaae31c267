/*
 * pvio_ring_peer: a reference peer for pvio's shared ring, built on the real
 * Xen header <xen/io/ring.h>. Two processes share a ring through a file that
 * holds the ring pages only (pages * 4096 bytes, mapped MAP_SHARED):
 *
 *   pvio_ring_peer front-send --file F --pages N --request-bytes R
 *                  --response-bytes S --count C [--start-index I] [--timeout-s T]
 *   pvio_ring_peer back-echo  --file F --pages N --request-bytes R
 *                  --response-bytes S --count C [--timeout-s T]
 *
 * Request i (i counts from 0 in each run): bytes 0..7 hold i as a
 * little-endian 64-bit number, byte j (8 <= j < R) holds (i + j) & 0xff.
 * The response carries the request's first min(R, S) bytes; any further
 * response bytes are zero.
 *
 * Exit status: 0 on success (one summary line on stdout), 1 on a runtime
 * failure (hostile index, mismatch, timeout, I/O error), 2 on bad arguments.
 *
 * Build:
 *   gcc -O2 -Wall -Wextra -Werror -D__XEN_TOOLS__ -o peer pvio_ring_peer.c
 *
 * Entry size. R and S are runtime values, but DEFINE_RING_TYPES wants static
 * types. The ring is therefore declared with a one-byte dummy entry: the
 * header then supplies the shared struct (the four indexes and the 64-byte
 * header), the private front/back structs and every macro that works on
 * indexes only. Entries are addressed by hand as
 *   (uint8_t *)sring + 64 + (idx & (size - 1)) * E,   E = max(R, S),
 * and the private struct's nr_ents is overwritten with
 *   size = largest power of two <= (pages * 4096 - 64) / E.
 *
 * Header macros that cannot be used with this scheme:
 *   - RING_GET_REQUEST / RING_GET_RESPONSE: they index sring->ring[] with a
 *     stride of sizeof(union entry), which is 1 here, not E.
 *   - RING_COPY_REQUEST / RING_COPY_RESPONSE: built on RING_GET_*, and they
 *     copy by struct assignment of a fixed type; we memcpy E-sized slots into
 *     a private buffer instead, which gives the same guarantee (every check
 *     and the response are made from the private copy, shared memory is read
 *     exactly once per entry).
 *   - The size computed by FRONT_RING_ATTACH / BACK_RING_ATTACH
 *     (__RING_SIZE) divides by sizeof(union entry) == 1, so the value they
 *     store in nr_ents is replaced right after the call. The header's own
 *     power-of-two rounding (__RD32) is still used to compute the size.
 */

#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

/*
 * Barriers for ring.h. With an interface version >= 0x00030208 (which
 * -D__XEN_TOOLS__ selects) the header leaves xen_mb/xen_rmb/xen_wmb to the
 * includer and only expands them inside its macros. With the legacy interface
 * it would define them itself as mb()/rmb()/wmb(), which user space lacks, and
 * our definitions would clash with its own; hence the #error.
 */
#ifndef __XEN_TOOLS__
#error "build with -D__XEN_TOOLS__ so that ring.h uses the barriers defined here"
#endif

#define xen_mb()  __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define xen_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define xen_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)

#include <xen/io/ring.h>

#if __XEN_INTERFACE_VERSION__ < 0x00030208
#error "ring.h would supply its own barriers at this interface version"
#endif

#define PAGE_BYTES 4096u
#define MIN_ENTRY_BYTES 8u
#define MAX_ENTRY_BYTES (PAGE_BYTES - 64u)
#define MAX_TIMEOUT_S 1000000u
/* Entries filled (front) or answered (back) before the producer index is pushed. */
#define BATCH_MAX 64u

/* Idle policy: spin, then yield, then sleep 50 us per round. */
#define IDLE_SPINS 200u
#define IDLE_YIELDS 100u
#define IDLE_SLEEP_NS 50000L

/* One byte per entry: only the header layout and the index macros are used. */
typedef struct {
    uint8_t b;
} pvio_byte_t;

DEFINE_RING_TYPES(pvio, pvio_byte_t, pvio_byte_t);

_Static_assert(offsetof(struct pvio_sring, req_prod) == 0, "req_prod at byte 0");
_Static_assert(offsetof(struct pvio_sring, req_event) == 4, "req_event at byte 4");
_Static_assert(offsetof(struct pvio_sring, rsp_prod) == 8, "rsp_prod at byte 8");
_Static_assert(offsetof(struct pvio_sring, rsp_event) == 12, "rsp_event at byte 12");
_Static_assert(offsetof(struct pvio_sring, ring) == 64, "entries start at byte 64");
_Static_assert(sizeof(RING_IDX) == 4, "RING_IDX is 32 bits");

#define RING_HEADER_BYTES ((uint32_t)offsetof(struct pvio_sring, ring))

enum role { ROLE_FRONT, ROLE_BACK };

struct options {
    enum role role;
    const char *name;
    const char *file;
    uint32_t pages;
    uint32_t req_bytes;
    uint32_t rsp_bytes;
    uint64_t count;
    int have_start;
    uint32_t start;
    uint32_t timeout_s;
};

struct geometry {
    size_t file_bytes;
    uint32_t entry_bytes;
    uint32_t entries;
};

struct idler {
    unsigned int rounds;
};

/* ------------------------------------------------------------------------ */
/* Small helpers                                                            */
/* ------------------------------------------------------------------------ */

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
    /* Shared indexes are plain fields in ring.h: force them to be re-read. */
    __asm__ __volatile__("" ::: "memory");
}

/* One idle round; returns nonzero once past the spinning phase. */
static int idle_step(struct idler *w)
{
    if (w->rounds < IDLE_SPINS) {
        cpu_relax();
    } else if (w->rounds < IDLE_SPINS + IDLE_YIELDS) {
        sched_yield();
    } else {
        struct timespec ts = { 0, IDLE_SLEEP_NS };

        nanosleep(&ts, NULL);
    }
    if (w->rounds < UINT_MAX)
        w->rounds++;
    return w->rounds > IDLE_SPINS;
}

/* A producer index as published by the peer, read before the entries it covers. */
static RING_IDX load_prod(const RING_IDX *p)
{
    RING_IDX v = __atomic_load_n(p, __ATOMIC_RELAXED);

    xen_rmb(); /* read the index before the entries it publishes */
    return v;
}

static uint8_t *slot(pvio_sring_t *s, const struct geometry *g, RING_IDX idx)
{
    return (uint8_t *)s + RING_HEADER_BYTES + (size_t)(idx & (g->entries - 1)) * g->entry_bytes;
}

/* Byte j of request number seq. */
static uint8_t request_byte(uint64_t seq, uint32_t j)
{
    if (j < 8)
        return (uint8_t)(seq >> (8 * j));
    return (uint8_t)((seq + j) & 0xff);
}

static void fill_request(uint8_t *buf, uint32_t len, uint64_t seq)
{
    uint32_t j;

    for (j = 0; j < len; j++)
        buf[j] = request_byte(seq, j);
}

static uint64_t read_le64(const uint8_t *b)
{
    uint64_t v = 0;
    int k;

    for (k = 7; k >= 0; k--)
        v = (v << 8) | b[k];
    return v;
}

static double rate_per_s(uint64_t count, uint64_t elapsed_ns)
{
    if (elapsed_ns == 0)
        return 0.0;
    return (double)count * 1e9 / (double)elapsed_ns;
}

static void print_summary(const struct options *o, const struct geometry *g,
                          uint64_t notifications, uint64_t elapsed_ns)
{
    printf("%s: count=%" PRIu64 " entries=%" PRIu32 " notifications=%" PRIu64
           " elapsed_ms=%" PRIu64 " rate=%.0f\n",
           o->name, o->count, g->entries, notifications,
           elapsed_ns / 1000000u, rate_per_s(o->count, elapsed_ns));
    fflush(stdout);
}

/* ------------------------------------------------------------------------ */
/* Arguments                                                                */
/* ------------------------------------------------------------------------ */

static void usage_fail(const char *name, const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, "%s: ", name);
    fprintf(stderr, fmt, a, b);
    fputc('\n', stderr);
    fprintf(stderr,
            "usage: pvio_ring_peer front-send --file F --pages N --request-bytes R"
            " --response-bytes S --count C [--start-index I] [--timeout-s T]\n"
            "       pvio_ring_peer back-echo  --file F --pages N --request-bytes R"
            " --response-bytes S --count C [--timeout-s T]\n");
    exit(2);
}

/* Strict decimal: digits only, no sign, no blanks, no overflow. */
static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    char *end;
    unsigned long long v;

    if (s[0] < '0' || s[0] > '9')
        return 0;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v > max)
        return 0;
    *out = v;
    return 1;
}

static void parse_args(int argc, char **argv, struct options *o)
{
    int have_file = 0, have_pages = 0, have_req = 0, have_rsp = 0, have_count = 0, have_timeout = 0;
    uint64_t v;
    int i;

    memset(o, 0, sizeof(*o));
    o->timeout_s = 30;
    if (argc < 2) {
        o->name = "pvio_ring_peer";
        usage_fail(o->name, "missing role%s%s", "", "");
    }
    if (strcmp(argv[1], "front-send") == 0) {
        o->role = ROLE_FRONT;
        o->name = "front-send";
    } else if (strcmp(argv[1], "back-echo") == 0) {
        o->role = ROLE_BACK;
        o->name = "back-echo";
    } else {
        usage_fail("pvio_ring_peer", "unknown role '%s'%s (expected front-send or back-echo)",
                   argv[1], "");
    }

    for (i = 2; i < argc; i += 2) {
        const char *opt = argv[i];
        const char *val;
        int *seen;

        if (strcmp(opt, "--file") == 0)
            seen = &have_file;
        else if (strcmp(opt, "--pages") == 0)
            seen = &have_pages;
        else if (strcmp(opt, "--request-bytes") == 0)
            seen = &have_req;
        else if (strcmp(opt, "--response-bytes") == 0)
            seen = &have_rsp;
        else if (strcmp(opt, "--count") == 0)
            seen = &have_count;
        else if (strcmp(opt, "--timeout-s") == 0)
            seen = &have_timeout;
        else if (strcmp(opt, "--start-index") == 0 && o->role == ROLE_FRONT)
            seen = &o->have_start;
        else
            usage_fail(o->name, "unknown argument '%s'%s", opt, "");
        if (*seen)
            usage_fail(o->name, "%s given twice%s", opt, "");
        *seen = 1;
        if (i + 1 >= argc)
            usage_fail(o->name, "%s needs a value%s", opt, "");
        val = argv[i + 1];

        if (seen == &have_file) {
            if (val[0] == '\0')
                usage_fail(o->name, "bad %s value '%s': must not be empty", opt, val);
            o->file = val;
        } else if (seen == &have_pages) {
            if (!parse_u64(val, 16, &v) || v == 0 || (v & (v - 1)) != 0)
                usage_fail(o->name, "bad %s value '%s': must be 1, 2, 4, 8 or 16", opt, val);
            o->pages = (uint32_t)v;
        } else if (seen == &have_req || seen == &have_rsp) {
            if (!parse_u64(val, MAX_ENTRY_BYTES, &v) || v < MIN_ENTRY_BYTES)
                usage_fail(o->name, "bad %s value '%s': must be an integer from 8 to 4032", opt, val);
            if (seen == &have_req)
                o->req_bytes = (uint32_t)v;
            else
                o->rsp_bytes = (uint32_t)v;
        } else if (seen == &have_count) {
            if (!parse_u64(val, (uint64_t)INT64_MAX, &v))
                usage_fail(o->name, "bad %s value '%s': must be an integer from 0 to 9223372036854775807",
                           opt, val);
            o->count = v;
        } else if (seen == &have_timeout) {
            if (!parse_u64(val, MAX_TIMEOUT_S, &v) || v == 0)
                usage_fail(o->name, "bad %s value '%s': must be an integer from 1 to 1000000", opt, val);
            o->timeout_s = (uint32_t)v;
        } else {
            if (!parse_u64(val, UINT32_MAX, &v))
                usage_fail(o->name, "bad %s value '%s': must be an integer from 0 to 4294967295", opt, val);
            o->start = (uint32_t)v;
        }
    }

    if (!have_file)
        usage_fail(o->name, "missing required %s%s", "--file", "");
    if (!have_pages)
        usage_fail(o->name, "missing required %s%s", "--pages", "");
    if (!have_req)
        usage_fail(o->name, "missing required %s%s", "--request-bytes", "");
    if (!have_rsp)
        usage_fail(o->name, "missing required %s%s", "--response-bytes", "");
    if (!have_count)
        usage_fail(o->name, "missing required %s%s", "--count", "");
}

static void compute_geometry(const struct options *o, struct geometry *g)
{
    uint32_t room, n, own;

    g->file_bytes = (size_t)o->pages * PAGE_BYTES;
    g->entry_bytes = o->req_bytes > o->rsp_bytes ? o->req_bytes : o->rsp_bytes;
    room = (uint32_t)g->file_bytes - RING_HEADER_BYTES;
    n = room / g->entry_bytes;

    /* The header's rounding, cross-checked against a plain loop. */
    g->entries = __RD32(n);
    for (own = 1; own <= n / 2; own <<= 1)
        ;
    if (g->entries != own || g->entries == 0) {
        fprintf(stderr, "%s: ring size disagreement: __RD32(%" PRIu32 ")=%" PRIu32 " loop=%" PRIu32 "\n",
                o->name, n, g->entries, own);
        exit(1);
    }
}

/* ------------------------------------------------------------------------ */
/* Ring file                                                                */
/* ------------------------------------------------------------------------ */

static pvio_sring_t *map_fd(const struct options *o, int fd, size_t bytes, const char *path)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

    if (p == MAP_FAILED) {
        fprintf(stderr, "%s: mmap %s (%zu bytes): %s\n", o->name, path, bytes, strerror(errno));
        exit(1);
    }
    return (pvio_sring_t *)p;
}

/*
 * Front: make a fresh ring under a temporary name and rename it into place,
 * so that a peer polling for the file never sees a half-made ring.
 */
static pvio_sring_t *create_ring(const struct options *o, const struct geometry *g)
{
    size_t len = strlen(o->file) + 32;
    char *tmp = malloc(len);
    pvio_sring_t *s;
    int fd;

    if (tmp == NULL) {
        fprintf(stderr, "%s: out of memory\n", o->name);
        exit(1);
    }
    snprintf(tmp, len, "%s.tmp.%ld", o->file, (long)getpid());
    fd = open(tmp, O_RDWR | O_CREAT | O_EXCL, 0644);
    if (fd < 0) {
        fprintf(stderr, "%s: create %s: %s\n", o->name, tmp, strerror(errno));
        exit(1);
    }
    if (ftruncate(fd, (off_t)g->file_bytes) != 0) {
        fprintf(stderr, "%s: ftruncate %s to %zu bytes: %s\n", o->name, tmp, g->file_bytes, strerror(errno));
        unlink(tmp);
        exit(1);
    }
    s = map_fd(o, fd, g->file_bytes, tmp);
    close(fd);

    SHARED_RING_INIT(s);
    if (o->have_start) {
        s->req_prod = s->rsp_prod = o->start;
        s->req_event = s->rsp_event = o->start + 1;
    }

    if (msync(s, g->file_bytes, MS_SYNC) != 0) {
        fprintf(stderr, "%s: msync %s: %s\n", o->name, tmp, strerror(errno));
        unlink(tmp);
        exit(1);
    }
    if (rename(tmp, o->file) != 0) {
        fprintf(stderr, "%s: rename %s to %s: %s\n", o->name, tmp, o->file, strerror(errno));
        unlink(tmp);
        exit(1);
    }
    free(tmp);
    return s;
}

/* Opens an existing ring file; returns -1 (errno set) if it is absent. */
static int open_existing(const struct options *o, const struct geometry *g, pvio_sring_t **out,
                         off_t *size_seen)
{
    struct stat st;
    int fd = open(o->file, O_RDWR);

    if (fd < 0)
        return -1;
    if (fstat(fd, &st) != 0) {
        fprintf(stderr, "%s: fstat %s: %s\n", o->name, o->file, strerror(errno));
        exit(1);
    }
    *size_seen = st.st_size;
    if ((size_t)st.st_size != g->file_bytes) {
        close(fd);
        errno = EINVAL;
        return -2;
    }
    *out = map_fd(o, fd, g->file_bytes, o->file);
    close(fd);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Front end                                                                */
/* ------------------------------------------------------------------------ */

static int front_send(const struct options *o, const struct geometry *g)
{
    pvio_front_ring_t fr;
    pvio_sring_t *s = NULL;
    uint8_t *req = malloc(o->req_bytes);
    uint8_t *rsp = malloc(o->rsp_bytes);
    uint32_t echoed = o->req_bytes < o->rsp_bytes ? o->req_bytes : o->rsp_bytes;
    uint64_t sent = 0, received = 0, notifications = 0, t0, t_progress, t_end;
    RING_IDX pushed;
    struct idler idle = { 0 };
    off_t size_seen = 0;
    int rc;

    if (req == NULL || rsp == NULL) {
        fprintf(stderr, "%s: out of memory\n", o->name);
        return 1;
    }

    rc = open_existing(o, g, &s, &size_seen);
    if (rc == -2) {
        fprintf(stderr, "%s: %s has %jd bytes, expected %zu for --pages %" PRIu32 "\n",
                o->name, o->file, (intmax_t)size_seen, g->file_bytes, o->pages);
        return 1;
    }
    if (rc == -1 && errno != ENOENT) {
        fprintf(stderr, "%s: open %s: %s\n", o->name, o->file, strerror(errno));
        return 1;
    }

    if (rc == 0) {
        RING_IDX rq = load_prod(&s->req_prod);
        RING_IDX rs = load_prod(&s->rsp_prod);

        if (o->have_start) {
            fprintf(stderr, "%s: --start-index %" PRIu32 " given but %s already exists"
                    " (req_prod=%u rsp_prod=%u)\n", o->name, o->start, o->file, rq, rs);
            return 2;
        }
        /* Attach: answers still owed for an earlier run would be taken for ours. */
        if (rq != rs) {
            fprintf(stderr, "%s: %s is not quiescent: req_prod=%u rsp_prod=%u\n",
                    o->name, o->file, rq, rs);
            return 1;
        }
        FRONT_RING_ATTACH(&fr, s, rs, g->file_bytes);
        fr.req_prod_pvt = rq;
    } else {
        s = create_ring(o, g);
        FRONT_RING_ATTACH(&fr, s, o->have_start ? o->start : 0, g->file_bytes);
    }
    fr.nr_ents = g->entries; /* __RING_SIZE divided by the dummy entry size */
    pushed = fr.req_prod_pvt;

    t0 = now_ns();
    t_progress = t0;
    while (received < o->count) {
        int progress = 0;
        RING_IDX rp;
        unsigned int batch = 0;

        /* Produce: fill free slots, push in batches. */
        while (sent < o->count && !RING_FULL(&fr) && batch < BATCH_MAX) {
            fill_request(req, o->req_bytes, sent);
            memcpy(slot(s, g, fr.req_prod_pvt), req, o->req_bytes);
            fr.req_prod_pvt++;
            sent++;
            batch++;
        }
        if (batch != 0) {
            int notify;

            RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&fr, notify);
            if (notify)
                notifications++;
            pushed = fr.req_prod_pvt;
            progress = 1;
        }

        /* Consume responses. */
        rp = load_prod(&s->rsp_prod);
        if (RING_RESPONSE_PROD_OVERFLOW(&fr, rp)) {
            fprintf(stderr, "%s: hostile rsp_prod=%u rsp_cons=%u ring size=%u\n",
                    o->name, rp, fr.rsp_cons, RING_SIZE(&fr));
            return 1;
        }
        if ((RING_IDX)(rp - fr.rsp_cons) > (RING_IDX)(pushed - fr.rsp_cons)) {
            fprintf(stderr, "%s: hostile rsp_prod=%u beyond pushed req_prod=%u (rsp_cons=%u ring size=%u)\n",
                    o->name, rp, pushed, fr.rsp_cons, RING_SIZE(&fr));
            return 1;
        }
        while (fr.rsp_cons != rp) {
            uint64_t seq;
            uint32_t j;

            memcpy(rsp, slot(s, g, fr.rsp_cons), o->rsp_bytes);
            fr.rsp_cons++;
            seq = read_le64(rsp);
            if (seq != received) {
                fprintf(stderr, "%s: response %" PRIu64 " mismatch in bytes 0..7: expected sequence %"
                        PRIu64 " got %" PRIu64 "\n", o->name, received, received, seq);
                return 1;
            }
            for (j = 8; j < o->rsp_bytes; j++) {
                uint8_t want = j < echoed ? request_byte(received, j) : 0;

                if (rsp[j] != want) {
                    fprintf(stderr, "%s: response %" PRIu64 " mismatch at byte %" PRIu32
                            ": expected 0x%02x got 0x%02x\n", o->name, received, j, want, rsp[j]);
                    return 1;
                }
            }
            received++;
            progress = 1;
        }

        if (progress) {
            idle.rounds = 0;
            t_progress = now_ns();
            continue;
        }
        if (received >= o->count)
            break;

        /* Nothing to do: re-arm rsp_event, then idle if still nothing. */
        {
            unsigned int more;

            RING_FINAL_CHECK_FOR_RESPONSES(&fr, more);
            if (more)
                continue;
        }
        if (idle_step(&idle) && now_ns() - t_progress > (uint64_t)o->timeout_s * 1000000000u) {
            fprintf(stderr, "%s: timeout: no progress for %" PRIu32 " s (sent=%" PRIu64 " received=%" PRIu64
                    " req_prod=%u rsp_prod=%u rsp_cons=%u ring size=%u)\n",
                    o->name, o->timeout_s, sent, received, s->req_prod, s->rsp_prod, fr.rsp_cons,
                    RING_SIZE(&fr));
            return 1;
        }
    }
    t_end = now_ns();

    print_summary(o, g, notifications, t_end - t0);
    free(req);
    free(rsp);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Back end                                                                 */
/* ------------------------------------------------------------------------ */

static pvio_sring_t *wait_for_ring(const struct options *o, const struct geometry *g)
{
    uint64_t deadline = now_ns() + (uint64_t)o->timeout_s * 1000000000u;
    pvio_sring_t *s = NULL;
    off_t size_seen = -1;

    for (;;) {
        int rc = open_existing(o, g, &s, &size_seen);
        struct timespec ts = { 0, 2000000L };

        if (rc == 0)
            return s;
        if (rc == -1 && errno != ENOENT) {
            fprintf(stderr, "%s: open %s: %s\n", o->name, o->file, strerror(errno));
            exit(1);
        }
        if (now_ns() > deadline) {
            if (rc == -2)
                fprintf(stderr, "%s: timeout: %s has %jd bytes after %" PRIu32 " s, expected %zu for --pages %"
                        PRIu32 "\n", o->name, o->file, (intmax_t)size_seen, o->timeout_s, g->file_bytes, o->pages);
            else
                fprintf(stderr, "%s: timeout: %s did not appear within %" PRIu32 " s\n",
                        o->name, o->file, o->timeout_s);
            exit(1);
        }
        nanosleep(&ts, NULL);
    }
}

static int back_echo(const struct options *o, const struct geometry *g)
{
    pvio_back_ring_t br;
    pvio_sring_t *s;
    uint8_t *req = malloc(o->req_bytes);
    uint8_t *rsp = malloc(o->rsp_bytes);
    uint32_t echoed = o->req_bytes < o->rsp_bytes ? o->req_bytes : o->rsp_bytes;
    uint64_t answered = 0, notifications = 0, t0, t_progress, t_end;
    struct idler idle = { 0 };
    int started = 0;
    RING_IDX rq;

    if (req == NULL || rsp == NULL) {
        fprintf(stderr, "%s: out of memory\n", o->name);
        return 1;
    }
    memset(rsp, 0, o->rsp_bytes);

    s = wait_for_ring(o, g);

    /* Attach at the current rsp_prod; never initialise the shared ring. */
    BACK_RING_ATTACH(&br, s, load_prod(&s->rsp_prod), g->file_bytes);
    br.nr_ents = g->entries; /* __RING_SIZE divided by the dummy entry size */
    rq = load_prod(&s->req_prod);
    if (RING_REQUEST_PROD_OVERFLOW(&br, rq)) {
        fprintf(stderr, "%s: hostile req_prod=%u rsp_prod_pvt=%u ring size=%u\n",
                o->name, rq, br.rsp_prod_pvt, RING_SIZE(&br));
        return 1;
    }

    t0 = now_ns();
    t_progress = t0;
    while (answered < o->count) {
        unsigned int batch = 0;
        RING_IDX rp = load_prod(&s->req_prod);

        if (RING_REQUEST_PROD_OVERFLOW(&br, rp)) {
            fprintf(stderr, "%s: hostile req_prod=%u rsp_prod_pvt=%u ring size=%u\n",
                    o->name, rp, br.rsp_prod_pvt, RING_SIZE(&br));
            return 1;
        }
        while (br.req_cons != rp && !RING_REQUEST_CONS_OVERFLOW(&br, br.req_cons) &&
               answered < o->count && batch < BATCH_MAX) {
            uint32_t j;

            if (!started) {
                started = 1;
                t0 = now_ns();
            }
            /* Copy out first: the response reuses this slot. */
            memcpy(req, slot(s, g, br.req_cons), o->req_bytes);
            br.req_cons++;
            for (j = 0; j < o->req_bytes; j++) {
                uint8_t want = request_byte(answered, j);

                if (req[j] != want) {
                    fprintf(stderr, "%s: request %" PRIu64 " mismatch at byte %" PRIu32
                            ": expected 0x%02x got 0x%02x\n", o->name, answered, j, want, req[j]);
                    return 1;
                }
            }
            memcpy(rsp, req, echoed); /* bytes past 'echoed' stay zero */
            memcpy(slot(s, g, br.rsp_prod_pvt), rsp, o->rsp_bytes);
            br.rsp_prod_pvt++;
            answered++;
            batch++;
        }
        if (batch != 0) {
            int notify;

            RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&br, notify);
            if (notify)
                notifications++;
            idle.rounds = 0;
            t_progress = now_ns();
            continue;
        }

        /* Nothing to do: re-arm req_event, then idle if still nothing. */
        {
            unsigned int more;

            RING_FINAL_CHECK_FOR_REQUESTS(&br, more);
            if (more)
                continue;
        }
        if (idle_step(&idle) && now_ns() - t_progress > (uint64_t)o->timeout_s * 1000000000u) {
            fprintf(stderr, "%s: timeout: no progress for %" PRIu32 " s (answered=%" PRIu64 " of %" PRIu64
                    " req_prod=%u req_cons=%u rsp_prod_pvt=%u ring size=%u)\n",
                    o->name, o->timeout_s, answered, o->count, s->req_prod, br.req_cons, br.rsp_prod_pvt,
                    RING_SIZE(&br));
            return 1;
        }
    }
    t_end = now_ns();

    print_summary(o, g, notifications, started ? t_end - t0 : 0);
    free(req);
    free(rsp);
    return 0;
}

int main(int argc, char **argv)
{
    struct options o;
    struct geometry g;

    parse_args(argc, argv, &o);
    compute_geometry(&o, &g);
    return o.role == ROLE_FRONT ? front_send(&o, &g) : back_echo(&o, &g);
}
