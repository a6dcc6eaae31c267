/*
 * Prints the netif layout this machine's compiler derives from Xen's own io/netif.h, one "name value" pair a line,
 * for NetifHeaderLayoutTest to hold the Java descriptors against.
 *
 * Build: gcc -std=c11 -Wall -Wextra -Werror -D__XEN_TOOLS__ -o netif_layout netif_layout.c
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <xen/xen.h>
#include <xen/grant_table.h>
#include <xen/io/netif.h>

#define FIELD(type, field) \
    printf("%s.%s %zu\n", #type, #field, offsetof(struct type, field)); \
    printf("%s.%s.size %zu\n", #type, #field, sizeof(((struct type *)0)->field))

#define STRUCT(type) \
    printf("%s.sizeof %zu\n", #type, sizeof(struct type)); \
    printf("%s.alignof %zu\n", #type, _Alignof(struct type))

#define CONSTANT(name) printf("%s %lld\n", #name, (long long)(name))

int main(void)
{
    STRUCT(netif_tx_request);
    FIELD(netif_tx_request, gref);
    FIELD(netif_tx_request, offset);
    FIELD(netif_tx_request, flags);
    FIELD(netif_tx_request, id);
    FIELD(netif_tx_request, size);

    STRUCT(netif_tx_response);
    FIELD(netif_tx_response, id);
    FIELD(netif_tx_response, status);

    STRUCT(netif_rx_request);
    FIELD(netif_rx_request, id);
    FIELD(netif_rx_request, pad);
    FIELD(netif_rx_request, gref);

    STRUCT(netif_rx_response);
    FIELD(netif_rx_response, id);
    FIELD(netif_rx_response, offset);
    FIELD(netif_rx_response, flags);
    FIELD(netif_rx_response, status);

    STRUCT(netif_extra_info);
    FIELD(netif_extra_info, type);
    FIELD(netif_extra_info, flags);
    FIELD(netif_extra_info, u);
    FIELD(netif_extra_info, u.gso.size);
    FIELD(netif_extra_info, u.gso.type);
    FIELD(netif_extra_info, u.gso.features);
    FIELD(netif_extra_info, u.mcast.addr);

    printf("netif_tx_sring_entry.sizeof %zu\n", sizeof(union netif_tx_sring_entry));
    printf("netif_rx_sring_entry.sizeof %zu\n", sizeof(union netif_rx_sring_entry));
    printf("netif_tx_ring.entries.1 %u\n", (unsigned)__CONST_RING_SIZE(netif_tx, 4096));
    printf("netif_rx_ring.entries.1 %u\n", (unsigned)__CONST_RING_SIZE(netif_rx, 4096));
    printf("netif_tx_ring.entries.16 %u\n", (unsigned)__CONST_RING_SIZE(netif_tx, 16 * 4096));
    printf("netif_rx_ring.entries.16 %u\n", (unsigned)__CONST_RING_SIZE(netif_rx, 16 * 4096));

    CONSTANT(NETTXF_csum_blank);
    CONSTANT(NETTXF_data_validated);
    CONSTANT(NETTXF_more_data);
    CONSTANT(NETTXF_extra_info);
    CONSTANT(NETRXF_data_validated);
    CONSTANT(NETRXF_csum_blank);
    CONSTANT(NETRXF_more_data);
    CONSTANT(NETRXF_extra_info);
    CONSTANT(NETRXF_gso_prefix);
    CONSTANT(XEN_NETIF_EXTRA_TYPE_NONE);
    CONSTANT(XEN_NETIF_EXTRA_TYPE_GSO);
    CONSTANT(XEN_NETIF_EXTRA_TYPE_MCAST_ADD);
    CONSTANT(XEN_NETIF_EXTRA_TYPE_MCAST_DEL);
    CONSTANT(XEN_NETIF_EXTRA_TYPE_HASH);
    CONSTANT(XEN_NETIF_EXTRA_TYPE_MAX);
    CONSTANT(XEN_NETIF_EXTRA_FLAG_MORE);
    CONSTANT(XEN_NETIF_NR_SLOTS_MIN);
    CONSTANT(XEN_NETIF_MAX_TX_SIZE);
    CONSTANT(NETIF_RSP_DROPPED);
    CONSTANT(NETIF_RSP_ERROR);
    CONSTANT(NETIF_RSP_OKAY);
    CONSTANT(NETIF_RSP_NULL);
    return 0;
}
