package io.pvio.ring.netif;

import io.pvio.ring.RingGeometry;

/**
 * Layouts of the netif ring entries, byte for byte as Xen's {@code io/netif.h} lays them out on x86_64 (and Arm).
 * Little-endian; grant references are {@code uint32_t}. A transmit ring carries {@link TxRequest}s one way and
 * {@link TxResponse}s back (a slot is 12 bytes, the larger of the two); a receive ring carries {@link RxRequest}s (empty
 * buffers the front end posts) and {@link RxResponse}s (8 bytes a slot). An {@link ExtraInfo} takes a whole slot of
 * either ring after a request or response flagged {@code extra_info}.
 * <pre>
 * netif_tx_request (12)             netif_tx_response (4)     netif_rx_request (8)      netif_rx_response (8)
 *  0 gref          u32               0 id      u16             0 id    u16               0 id      u16
 *  4 offset        u16               2 status  i16             2 pad   u16               2 offset  u16
 *  6 flags         u16 (NETTXF_*)                              4 gref  u32               4 flags   u16 (NETRXF_*)
 *  8 id            u16                                                                   6 status  i16 (bytes, or
 * 10 size         u16 (whole packet in the first slot,                                              NETIF_RSP_*)
 *                      this fragment's bytes in the others)
 *
 * netif_extra_info (8)
 *  0 type  u8 (XEN_NETIF_EXTRA_TYPE_*)   1 flags u8 (XEN_NETIF_EXTRA_FLAG_MORE)
 *  2 gso:   size u16, type u8, pad u8, features u16     mcast: addr[6]     hash: type u8, algorithm u8, value[4]
 * </pre>
 * A packet on the transmit ring is a chain of requests: the first has the packet's total {@code size} and
 * {@code more_data} when fragments follow, each following one its own {@code size}; the chain ends at the first
 * request without {@code more_data}. Every request, fragment or not, gets its own response.
 */
public final class NetifDescriptor
{
    /** Slots of a one-page netif ring, transmit or receive ({@code NET_TX_RING_SIZE}, {@code NET_RX_RING_SIZE}). */
    public static final int RING_ENTRIES_PER_PAGE = 256;

    /** The smallest number of slots a back end must accept in one packet ({@code XEN_NETIF_NR_SLOTS_MIN}). */
    public static final int NR_SLOTS_MIN = 18;

    /** Largest packet a transmit request can describe ({@code XEN_NETIF_MAX_TX_SIZE}). */
    public static final int MAX_TX_SIZE = 0xFFFF;

    /** Alignment of a ring slot (the entry unions hold 32-bit grant references). */
    public static final int ENTRY_ALIGNMENT = 4;

    /** Bytes of a page, which no fragment may cross. */
    public static final int PAGE_SIZE = 4096;

    /** Status: the request was served ({@code NETIF_RSP_OKAY}). */
    public static final short RSP_OKAY = 0;

    /** Status: the request was malformed or failed ({@code NETIF_RSP_ERROR}). */
    public static final short RSP_ERROR = -1;

    /** Status: the packet was dropped ({@code NETIF_RSP_DROPPED}). */
    public static final short RSP_DROPPED = -2;

    /** Status of the slot an extra info took ({@code NETIF_RSP_NULL}). */
    public static final short RSP_NULL = 1;

    private NetifDescriptor()
    {
    }

    /**
     * The geometry of a transmit ring of {@code pages} pages.
     *
     * @param pages a power of two, 1 to 16.
     * @return the geometry.
     */
    public static RingGeometry txRing(final int pages)
    {
        return RingGeometry.ofPages(pages, TxRequest.LENGTH, TxResponse.LENGTH, ENTRY_ALIGNMENT);
    }

    /**
     * The geometry of a receive ring of {@code pages} pages.
     *
     * @param pages a power of two, 1 to 16.
     * @return the geometry.
     */
    public static RingGeometry rxRing(final int pages)
    {
        return RingGeometry.ofPages(pages, RxRequest.LENGTH, RxResponse.LENGTH, ENTRY_ALIGNMENT);
    }

    /** {@code struct netif_tx_request}. */
    public static final class TxRequest
    {
        /** Offset of {@code gref} (u32): the grant of the page holding this fragment. */
        public static final int GREF_OFFSET = 0;
        /** Offset of {@code offset} (u16): where in the page the fragment starts. */
        public static final int OFFSET_OFFSET = 4;
        /** Offset of {@code flags} (u16): {@code NETTXF_*}. */
        public static final int FLAGS_OFFSET = 6;
        /** Offset of {@code id} (u16): echoed in the response. */
        public static final int ID_OFFSET = 8;
        /** Offset of {@code size} (u16): the packet's size in its first request, the fragment's in the others. */
        public static final int SIZE_OFFSET = 10;
        /** {@code sizeof(struct netif_tx_request)}. */
        public static final int LENGTH = 12;

        /** {@code NETTXF_csum_blank}: the protocol checksum is blank (offloaded). */
        public static final int FLAG_CSUM_BLANK = 1;
        /** {@code NETTXF_data_validated}: the data was validated against its checksum. */
        public static final int FLAG_DATA_VALIDATED = 1 << 1;
        /** {@code NETTXF_more_data}: the packet continues in the next request. */
        public static final int FLAG_MORE_DATA = 1 << 2;
        /** {@code NETTXF_extra_info}: the next slot is an extra info. */
        public static final int FLAG_EXTRA_INFO = 1 << 3;

        private TxRequest()
        {
        }
    }

    /** {@code struct netif_tx_response}. */
    public static final class TxResponse
    {
        /** Offset of {@code id} (u16). */
        public static final int ID_OFFSET = 0;
        /** Offset of {@code status} (i16): {@code NETIF_RSP_*}. */
        public static final int STATUS_OFFSET = 2;
        /** {@code sizeof(struct netif_tx_response)}. */
        public static final int LENGTH = 4;

        private TxResponse()
        {
        }
    }

    /** {@code struct netif_rx_request}. */
    public static final class RxRequest
    {
        /** Offset of {@code id} (u16): echoed in the response. */
        public static final int ID_OFFSET = 0;
        /** Offset of the 2 bytes of padding. */
        public static final int PAD_OFFSET = 2;
        /** Offset of {@code gref} (u32): the grant of the empty page posted for a packet. */
        public static final int GREF_OFFSET = 4;
        /** {@code sizeof(struct netif_rx_request)}. */
        public static final int LENGTH = 8;

        private RxRequest()
        {
        }
    }

    /** {@code struct netif_rx_response}. */
    public static final class RxResponse
    {
        /** Offset of {@code id} (u16). */
        public static final int ID_OFFSET = 0;
        /** Offset of {@code offset} (u16): where in the page the data starts. */
        public static final int OFFSET_OFFSET = 2;
        /** Offset of {@code flags} (u16): {@code NETRXF_*}. */
        public static final int FLAGS_OFFSET = 4;
        /** Offset of {@code status} (i16): the bytes received if positive, else {@code NETIF_RSP_*}. */
        public static final int STATUS_OFFSET = 6;
        /** {@code sizeof(struct netif_rx_response)}. */
        public static final int LENGTH = 8;

        /** {@code NETRXF_data_validated}. */
        public static final int FLAG_DATA_VALIDATED = 1;
        /** {@code NETRXF_csum_blank}. */
        public static final int FLAG_CSUM_BLANK = 1 << 1;
        /** {@code NETRXF_more_data}: the packet continues in the next response. */
        public static final int FLAG_MORE_DATA = 1 << 2;
        /** {@code NETRXF_extra_info}: the next slot is an extra info. */
        public static final int FLAG_EXTRA_INFO = 1 << 3;
        /** {@code NETRXF_gso_prefix} (deprecated). */
        public static final int FLAG_GSO_PREFIX = 1 << 4;

        private RxResponse()
        {
        }
    }

    /** {@code struct netif_extra_info}. */
    public static final class ExtraInfo
    {
        /** Offset of {@code type} (u8). */
        public static final int TYPE_OFFSET = 0;
        /** Offset of {@code flags} (u8). */
        public static final int FLAGS_OFFSET = 1;
        /** Offset of the union {@code u}. */
        public static final int UNION_OFFSET = 2;
        /** Offset of {@code u.gso.size} (u16). */
        public static final int GSO_SIZE_OFFSET = 2;
        /** Offset of {@code u.gso.type} (u8). */
        public static final int GSO_TYPE_OFFSET = 4;
        /** Offset of {@code u.gso.features} (u16). */
        public static final int GSO_FEATURES_OFFSET = 6;
        /** Offset of {@code u.mcast.addr} (6 bytes). */
        public static final int MCAST_ADDR_OFFSET = 2;
        /** {@code sizeof(struct netif_extra_info)}. */
        public static final int LENGTH = 8;

        /** {@code XEN_NETIF_EXTRA_TYPE_NONE} (never valid). */
        public static final int TYPE_NONE = 0;
        /** {@code XEN_NETIF_EXTRA_TYPE_GSO}. */
        public static final int TYPE_GSO = 1;
        /** {@code XEN_NETIF_EXTRA_TYPE_MCAST_ADD}. */
        public static final int TYPE_MCAST_ADD = 2;
        /** {@code XEN_NETIF_EXTRA_TYPE_MCAST_DEL}. */
        public static final int TYPE_MCAST_DEL = 3;
        /** {@code XEN_NETIF_EXTRA_TYPE_HASH}. */
        public static final int TYPE_HASH = 4;
        /** {@code XEN_NETIF_EXTRA_TYPE_MAX}: types are below it. */
        public static final int TYPE_MAX = 5;
        /** {@code XEN_NETIF_EXTRA_FLAG_MORE}: another extra info follows. */
        public static final int FLAG_MORE = 1;

        private ExtraInfo()
        {
        }
    }
}
