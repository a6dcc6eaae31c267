package io.pvio.bench.experiment;

import java.io.PrintWriter;
import java.io.StringWriter;

import org.junit.jupiter.api.Test;

import io.pvio.machine.device.E1000;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * E3 at a small scale: its checks pass and its figures are sane (frame counts per message, exits only on the emulated
 * path, grant copies only on the PV path, modeled throughput never above the link), and the link model's arithmetic.
 */
class SmallPacketExperimentTest
{
    private static final String[] SERIES = {
        SmallPacketExperiment.PV_MTU, SmallPacketExperiment.PV_SG, SmallPacketExperiment.EMULATED,
        SmallPacketExperiment.EMULATED_BATCHED };

    @Test
    void shouldPassEveryCheckWithSaneFiguresWhenRunSmall()
    {
        final ExperimentResult result = Experiments.run(new SmallPacketExperiment(), new ExperimentContext(3, 0.1,
            null));
        final StringWriter text = new StringWriter();
        ExperimentOutput.print(result, new PrintWriter(text, true));
        for (final ExperimentResult.Check check : result.checks())
        {
            assertTrue(check.passed(), check.claim() + " (" + check.detail() + ")\n" + text);
        }
        assertEquals(SERIES.length * SmallPacketExperiment.PAYLOADS.length, result.rows().size());
        for (int r = 0; r < result.rows().size(); r++)
        {
            final String series = (String)result.value(r, "series");
            final int payload = (int)result.number(r, "payload_bytes");
            final boolean emulated = "emulated".equals(result.value(r, "path"));
            final int chunk = SmallPacketExperiment.PV_SG.equals(series) ? SmallPacketExperiment.SG_CHUNK :
                SmallPacketExperiment.MSS;
            final String where = series + ' ' + payload + " B\n" + text;
            assertEquals((payload + chunk - 1) / chunk, result.number(r, "frames_per_message"), where);
            if (emulated)
            {
                assertTrue(result.number(r, "exits_per_packet") > 0, where);
                assertEquals(0, result.number(r, "grant_copies_per_packet"), where);
                if (SmallPacketExperiment.EMULATED.equals(series) || payload <= SmallPacketExperiment.MSS)
                {
                    // a doorbell per frame: the TDT write, and the ICR read of its transmit interrupt
                    assertTrue(result.number(r, "exits_per_packet") >= E1000.ACCESSES_PER_LONE_PACKET, where);
                }
                else if (payload == SmallPacketExperiment.PAYLOADS[SmallPacketExperiment.PAYLOADS.length - 1])
                {
                    assertTrue(result.number(r, "exits_per_packet") < 1, "frames share a doorbell: " + where);
                }
            }
            else
            {
                assertEquals(0, result.number(r, "exits_per_packet"), "a para guest makes hypercalls: " + where);
                assertTrue(result.number(r, "grant_copies_per_packet") > 0, where);
                assertTrue(result.number(r, "notifications_per_packet") <= 2.0, "at most one each way: " + where);
            }
            assertTrue(result.number(r, "interrupts_per_packet") > 0, where);
            assertTrue(result.number(r, "hypercalls_per_packet") > 0, where);
            assertTrue(result.number(r, "modeled_cycles_per_byte") > 0, where);
            assertTrue(result.number(r, "modeled_gbit_s") <= result.number(r, "modeled_link_gbit_s") + 1e-12, where);
            assertTrue(result.number(r, "measured_gbit_s") > 0 && result.number(r, "measured_msgs_s") > 0, where);
        }
    }

    @Test
    void shouldCountEveryMtuFramesHeadersAndWireOverheadWhenModelingTheLink()
    {
        // 1472 B: one 1514-byte frame, plus FCS, preamble and gap: 1538 bytes on the wire
        assertEquals(1e9 * 1472 / 1538, SmallPacketExperiment.linkPayloadBitsPerSecond(1472), 1e-3);
        // 64 B: a 106-byte frame, 130 on the wire
        assertEquals(1e9 * 64 / 130, SmallPacketExperiment.linkPayloadBitsPerSecond(64), 1e-3);
        // 4096 B: two full frames and one of 1152 payload bytes
        assertEquals(1e9 * 4096 / (2 * 1538 + 1152 + 42 + 24), SmallPacketExperiment.linkPayloadBitsPerSecond(4096),
            1e-3);
        assertEquals(44 * 1472, SmallPacketExperiment.SG_CHUNK);
        assertEquals(45, SmallPacketExperiment.framesPerMessage(65536, SmallPacketExperiment.MSS));
        assertEquals(2, SmallPacketExperiment.framesPerMessage(65536, SmallPacketExperiment.SG_CHUNK));
    }
}
