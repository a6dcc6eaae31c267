package io.pvio.ring.netif;

import java.io.IOException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import io.pvio.ring.CLayoutProgram;
import io.pvio.ring.SharedRingDescriptor;
import io.pvio.ring.netif.NetifDescriptor.ExtraInfo;
import io.pvio.ring.netif.NetifDescriptor.RxRequest;
import io.pvio.ring.netif.NetifDescriptor.RxResponse;
import io.pvio.ring.netif.NetifDescriptor.TxRequest;
import io.pvio.ring.netif.NetifDescriptor.TxResponse;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.params.provider.Arguments.arguments;

/**
 * Compiles {@code src/test/c/netif_layout.c} with gcc against Xen's own {@code /usr/include/xen/io/netif.h}, runs it,
 * and holds every offset, size, ring size and code it prints against {@link NetifDescriptor}.
 */
class NetifHeaderLayoutTest
{
    private static final Path SOURCE = Paths.get("src/test/c/netif_layout.c");
    private static final Path NETIF_H = Paths.get("/usr/include/xen/io/netif.h");
    private static final Map<String, Long> C_VALUES = new HashMap<>();

    @BeforeAll
    static void compileAndRun() throws IOException, InterruptedException
    {
        C_VALUES.putAll(CLayoutProgram.compileAndRun(SOURCE, NETIF_H, "netif_layout"));
    }

    static Stream<Arguments> layout()
    {
        return Stream.of(
            arguments("netif_tx_request.sizeof", TxRequest.LENGTH),
            arguments("netif_tx_request.alignof", NetifDescriptor.ENTRY_ALIGNMENT),
            arguments("netif_tx_request.gref", TxRequest.GREF_OFFSET),
            arguments("netif_tx_request.gref.size", Integer.BYTES),
            arguments("netif_tx_request.offset", TxRequest.OFFSET_OFFSET),
            arguments("netif_tx_request.offset.size", Short.BYTES),
            arguments("netif_tx_request.flags", TxRequest.FLAGS_OFFSET),
            arguments("netif_tx_request.flags.size", Short.BYTES),
            arguments("netif_tx_request.id", TxRequest.ID_OFFSET),
            arguments("netif_tx_request.id.size", Short.BYTES),
            arguments("netif_tx_request.size", TxRequest.SIZE_OFFSET),
            arguments("netif_tx_request.size.size", Short.BYTES),

            arguments("netif_tx_response.sizeof", TxResponse.LENGTH),
            arguments("netif_tx_response.alignof", Short.BYTES),
            arguments("netif_tx_response.id", TxResponse.ID_OFFSET),
            arguments("netif_tx_response.id.size", Short.BYTES),
            arguments("netif_tx_response.status", TxResponse.STATUS_OFFSET),
            arguments("netif_tx_response.status.size", Short.BYTES),

            arguments("netif_rx_request.sizeof", RxRequest.LENGTH),
            arguments("netif_rx_request.alignof", NetifDescriptor.ENTRY_ALIGNMENT),
            arguments("netif_rx_request.id", RxRequest.ID_OFFSET),
            arguments("netif_rx_request.id.size", Short.BYTES),
            arguments("netif_rx_request.pad", RxRequest.PAD_OFFSET),
            arguments("netif_rx_request.pad.size", Short.BYTES),
            arguments("netif_rx_request.gref", RxRequest.GREF_OFFSET),
            arguments("netif_rx_request.gref.size", Integer.BYTES),

            arguments("netif_rx_response.sizeof", RxResponse.LENGTH),
            arguments("netif_rx_response.alignof", Short.BYTES),
            arguments("netif_rx_response.id", RxResponse.ID_OFFSET),
            arguments("netif_rx_response.id.size", Short.BYTES),
            arguments("netif_rx_response.offset", RxResponse.OFFSET_OFFSET),
            arguments("netif_rx_response.offset.size", Short.BYTES),
            arguments("netif_rx_response.flags", RxResponse.FLAGS_OFFSET),
            arguments("netif_rx_response.flags.size", Short.BYTES),
            arguments("netif_rx_response.status", RxResponse.STATUS_OFFSET),
            arguments("netif_rx_response.status.size", Short.BYTES),

            arguments("netif_extra_info.sizeof", ExtraInfo.LENGTH),
            arguments("netif_extra_info.alignof", Short.BYTES),
            arguments("netif_extra_info.type", ExtraInfo.TYPE_OFFSET),
            arguments("netif_extra_info.type.size", 1),
            arguments("netif_extra_info.flags", ExtraInfo.FLAGS_OFFSET),
            arguments("netif_extra_info.flags.size", 1),
            arguments("netif_extra_info.u", ExtraInfo.UNION_OFFSET),
            arguments("netif_extra_info.u.size", ExtraInfo.LENGTH - ExtraInfo.UNION_OFFSET),
            arguments("netif_extra_info.u.gso.size", ExtraInfo.GSO_SIZE_OFFSET),
            arguments("netif_extra_info.u.gso.size.size", Short.BYTES),
            arguments("netif_extra_info.u.gso.type", ExtraInfo.GSO_TYPE_OFFSET),
            arguments("netif_extra_info.u.gso.type.size", 1),
            arguments("netif_extra_info.u.gso.features", ExtraInfo.GSO_FEATURES_OFFSET),
            arguments("netif_extra_info.u.gso.features.size", Short.BYTES),
            arguments("netif_extra_info.u.mcast.addr", ExtraInfo.MCAST_ADDR_OFFSET),
            arguments("netif_extra_info.u.mcast.addr.size", 6),

            arguments("netif_tx_sring_entry.sizeof", NetifDescriptor.txRing(1).entryBytes()),
            arguments("netif_rx_sring_entry.sizeof", NetifDescriptor.rxRing(1).entryBytes()),
            arguments("netif_tx_ring.entries.1", NetifDescriptor.txRing(1).size()),
            arguments("netif_rx_ring.entries.1", NetifDescriptor.rxRing(1).size()),
            arguments("netif_tx_ring.entries.16", NetifDescriptor.txRing(16).size()),
            arguments("netif_rx_ring.entries.16", NetifDescriptor.rxRing(16).size()),

            arguments("NETTXF_csum_blank", TxRequest.FLAG_CSUM_BLANK),
            arguments("NETTXF_data_validated", TxRequest.FLAG_DATA_VALIDATED),
            arguments("NETTXF_more_data", TxRequest.FLAG_MORE_DATA),
            arguments("NETTXF_extra_info", TxRequest.FLAG_EXTRA_INFO),
            arguments("NETRXF_data_validated", RxResponse.FLAG_DATA_VALIDATED),
            arguments("NETRXF_csum_blank", RxResponse.FLAG_CSUM_BLANK),
            arguments("NETRXF_more_data", RxResponse.FLAG_MORE_DATA),
            arguments("NETRXF_extra_info", RxResponse.FLAG_EXTRA_INFO),
            arguments("NETRXF_gso_prefix", RxResponse.FLAG_GSO_PREFIX),
            arguments("XEN_NETIF_EXTRA_TYPE_NONE", ExtraInfo.TYPE_NONE),
            arguments("XEN_NETIF_EXTRA_TYPE_GSO", ExtraInfo.TYPE_GSO),
            arguments("XEN_NETIF_EXTRA_TYPE_MCAST_ADD", ExtraInfo.TYPE_MCAST_ADD),
            arguments("XEN_NETIF_EXTRA_TYPE_MCAST_DEL", ExtraInfo.TYPE_MCAST_DEL),
            arguments("XEN_NETIF_EXTRA_TYPE_HASH", ExtraInfo.TYPE_HASH),
            arguments("XEN_NETIF_EXTRA_TYPE_MAX", ExtraInfo.TYPE_MAX),
            arguments("XEN_NETIF_EXTRA_FLAG_MORE", ExtraInfo.FLAG_MORE),
            arguments("XEN_NETIF_NR_SLOTS_MIN", NetifDescriptor.NR_SLOTS_MIN),
            arguments("XEN_NETIF_MAX_TX_SIZE", NetifDescriptor.MAX_TX_SIZE),
            arguments("NETIF_RSP_DROPPED", NetifDescriptor.RSP_DROPPED),
            arguments("NETIF_RSP_ERROR", NetifDescriptor.RSP_ERROR),
            arguments("NETIF_RSP_OKAY", NetifDescriptor.RSP_OKAY),
            arguments("NETIF_RSP_NULL", NetifDescriptor.RSP_NULL));
    }

    @ParameterizedTest(name = "{0} = {1}")
    @MethodSource("layout")
    void shouldMatchOffsetsAndConstantsGccDerivesFromNetifH(final String name, final Number javaValue)
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

    @Test
    void shouldFitAnExtraInfoInATransmitRequestAndAReceiveResponseSlot()
    {
        assertEquals(256, NetifDescriptor.RING_ENTRIES_PER_PAGE);
        assertEquals(NetifDescriptor.RING_ENTRIES_PER_PAGE, NetifDescriptor.txRing(1).size());
        assertTrue(ExtraInfo.LENGTH <= TxRequest.LENGTH && ExtraInfo.LENGTH <= RxResponse.LENGTH);
        assertTrue(SharedRingDescriptor.HEADER_LENGTH + 256 * TxRequest.LENGTH <= 4096);
    }
}
