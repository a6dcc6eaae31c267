/*
 * Prints the ioreq_t layout this machine's compiler derives from Xen's own hvm/ioreq.h, one "name value" pair a line,
 * for IoreqLayoutTest to hold IoreqLayout against. The bitfields have no offsetof: each is set alone in a zeroed
 * ioreq and the byte that changed and its value are printed.
 *
 * Build: gcc -std=c11 -Wall -Wextra -Werror -D__XEN_TOOLS__ -o ioreq_layout ioreq_layout.c
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <xen/xen.h>
#include <xen/hvm/ioreq.h>

#define FIELD(field) \
    printf("ioreq.%s %zu\n", #field, offsetof(struct ioreq, field)); \
    printf("ioreq.%s.size %zu\n", #field, sizeof(((struct ioreq *)0)->field))

#define CONSTANT(name) printf("%s %lld\n", #name, (long long)(name))

static void bits(const char *name, struct ioreq *req)
{
    const unsigned char *bytes = (const unsigned char *)req;
    for (size_t i = 0; i < sizeof(*req); i++)
    {
        if (0 != bytes[i])
        {
            printf("%s.byte %zu\n", name, i);
            printf("%s.value %u\n", name, bytes[i]);
        }
    }
}

int main(void)
{
    struct ioreq req;

    printf("ioreq.sizeof %zu\n", sizeof(struct ioreq));
    printf("ioreq.alignof %zu\n", _Alignof(struct ioreq));
    FIELD(addr);
    FIELD(data);
    FIELD(count);
    FIELD(size);
    FIELD(vp_eport);
    FIELD(_pad0);
    FIELD(type);

    memset(&req, 0, sizeof(req));
    req.state = 0xF;
    bits("ioreq.state", &req);
    memset(&req, 0, sizeof(req));
    req.data_is_ptr = 1;
    bits("ioreq.data_is_ptr", &req);
    memset(&req, 0, sizeof(req));
    req.dir = 1;
    bits("ioreq.dir", &req);
    memset(&req, 0, sizeof(req));
    req.df = 1;
    bits("ioreq.df", &req);

    CONSTANT(IOREQ_READ);
    CONSTANT(IOREQ_WRITE);
    CONSTANT(STATE_IOREQ_NONE);
    CONSTANT(STATE_IOREQ_READY);
    CONSTANT(STATE_IOREQ_INPROCESS);
    CONSTANT(STATE_IORESP_READY);
    CONSTANT(IOREQ_TYPE_PIO);
    CONSTANT(IOREQ_TYPE_COPY);
    return 0;
}
