package io.pvio.bench.scenario;

import java.util.List;
import java.util.Map;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.pvio.frontend.inet.Ipv4Host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A network workload's datagrams: the incrementally updated UDP checksum is the one computed from scratch (pvio's
 * IPv4 stack accepts every stamped frame), a damaged payload byte is a mismatch at the sink, and a mismatch makes the
 * report unclean.
 */
class ScenarioNetFramesTest
{
    private static final long MAC_A = 0x00163E0000A1L;
    private static final long MAC_B = 0x00163E0000B2L;

    @ParameterizedTest
    @ValueSource(ints = {18, 19, 64, 511, 1472})
    void shouldStampDatagramsThatPvioIpStackAcceptsWithTheirPayloadIntact(final int payload)
    {
        final UdpFrames frames = new UdpFrames(MAC_A, MAC_B, Ipv4Host.parseIp("198.18.0.1"),
            Ipv4Host.parseIp("198.18.0.2"), NetRunner.CLIENT_PORT, NetRunner.DISCARD_PORT, payload);
        assertEquals(Math.max(60, 42 + payload), frames.frameBytes());
        final NetSink sink = new NetSink(true, true, frames.frameBytes());
        sink.window(0, Long.MAX_VALUE);
        final Ipv4Host receiver = new Ipv4Host(MAC_B, Ipv4Host.parseIp("198.18.0.2"), (f, o, l) -> true);
        receiver.bindUdp(NetRunner.DISCARD_PORT, (h, ip, port, p, o, l) -> sink.onPayload(p, o, l));
        final long[] sequences = {0, 1, 0xFFFF, 0x1234_5678_9ABC_DEF0L, -1};
        for (final long sequence : sequences)
        {
            frames.stamp(sequence, System.nanoTime());
            receiver.receive(frames.frame(), 0, frames.frameBytes());
        }
        assertEquals(sequences.length, receiver.datagramsReceived(), "every checksum right");
        assertEquals(sequences.length, sink.received());
        assertEquals(sequences.length, sink.checked());
        assertEquals(0, sink.mismatches());
        assertEquals(sequences.length, sink.latency().getTotalCount());
    }

    @Test
    void shouldCountADamagedPayloadByteAsAMismatch()
    {
        final UdpFrames frames = new UdpFrames(MAC_A, MAC_B, 1, 2, NetRunner.CLIENT_PORT, NetRunner.DISCARD_PORT, 100);
        frames.stamp(7, 1);
        final UnsafeBuffer copy = new UnsafeBuffer(new byte[frames.frameBytes()]);
        copy.putBytes(0, frames.frame(), 0, frames.frameBytes());
        final NetSink sink = new NetSink(true, false, frames.frameBytes());
        sink.onPayload(copy, UdpFrames.HEADERS, 100);
        assertEquals(0, sink.mismatches());
        assertTrue(UdpFrames.matches(copy, UdpFrames.HEADERS, 100));
        copy.putByte(UdpFrames.HEADERS + 99, (byte)(copy.getByte(UdpFrames.HEADERS + 99) ^ 1));
        assertFalse(UdpFrames.matches(copy, UdpFrames.HEADERS, 100));
        sink.onPayload(copy, UdpFrames.HEADERS, 100);
        assertEquals(1, sink.mismatches());
        assertEquals(7, UdpFrames.sequence(copy, UdpFrames.HEADERS));
    }

    @Test
    void shouldMakeTheReportUncleanOnAMismatchOrChecksumFailure()
    {
        final ScenarioReport.Machine machine = new ScenarioReport.Machine(1, 1, "b");
        final ScenarioReport.Hypercalls none = new ScenarioReport.Hypercalls(0, 0, Map.of());
        assertTrue(ScenarioReport.of("s", machine, null, null, List.of(), none,
            List.of(net(new ScenarioReport.NetVerify(true, 10, 0, 0)))).clean());
        assertFalse(ScenarioReport.of("s", machine, null, null, List.of(), none,
            List.of(net(new ScenarioReport.NetVerify(true, 10, 1, 0)))).clean());
        assertFalse(ScenarioReport.of("s", machine, null, null, List.of(), none,
            List.of(net(new ScenarioReport.NetVerify(false, 0, 0, 1)))).clean());
    }

    private static ScenarioReport.NetReport net(final ScenarioReport.NetVerify verify)
    {
        final ScenarioReport.NetLatency latency = new ScenarioReport.NetLatency("one-way", 0, 0, 0, 0, 0, 0);
        return new ScenarioReport.NetReport("n", "a", "b", "stream", "pv/para", 64, 106, 32,
            new ScenarioReport.NetMeasured(1, 10, 0, 1060, 10, 0, 0, latency),
            new ScenarioReport.NetCounted(10, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
            new ScenarioReport.NetDerived(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, null), verify, null);
    }
}
