package io.pvio.bench.scenario;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Short network workloads through the whole machine: a UDP stream and a request/response between two para guests'
 * vifs and between two full-mode guests' emulated e1000 NICs, and both to the host behind the VXLAN uplink, with
 * every payload checked and the counters compared with what each path must cost.
 */
class ScenarioNetRunnerTest
{
    private static final String WORK = "warmup: 100ms, duration: 300ms";

    @TempDir
    Path dir;

    @Test
    void shouldRunStreamAndRequestResponseOnThePvAndEmulatedPathsSideBySide() throws Exception
    {
        final Scenario scenario = ScenarioParser.parse(String.join("\n",
            "description: net test",
            "machine: {memory: 160M, dom0-memory: 32M}",
            "guests:",
            "  - {name: pa, memory: 16M, mode: para, nics: [{io: pv}]}",
            "  - {name: pb, memory: 16M, mode: para, nics: [{io: pv}]}",
            "  - {name: fa, memory: 16M, mode: full, nics: [{io: emulated}]}",
            "  - {name: fb, memory: 16M, mode: full, nics: [{io: emulated}]}",
            "network:",
            "  - {name: pv-s, from: pa, to: pb, payload: 64, window: 32, " + WORK + "}",
            "  - {name: pv-rr, from: pa, to: pb, kind: rr, payload: 64, " + WORK + "}",
            "  - {name: emu-s, from: fa, to: fb, payload: 64, window: 32, " + WORK + "}",
            "  - {name: emu-rr, from: fa, to: fb, kind: rr, payload: 64, " + WORK + "}",
            ""), false, "net test");
        final StringWriter text = new StringWriter();
        final ScenarioReport report = new ScenarioRunner(scenario, "net test", new PrintWriter(text, true), false)
            .run();
        final String printed = print(report);
        assertTrue(report.clean(), printed);
        assertEquals(4, report.network().size());
        for (final ScenarioReport.NetReport n : report.network())
        {
            final ScenarioReport.NetMeasured m = n.measured();
            final ScenarioReport.NetCounted c = n.counted();
            assertTrue(m.packets() > 0 && m.packetsPerSecond() > 0 && m.gigabitsPerSecond() > 0, n.name());
            assertEquals(106, n.frameBytes());
            assertEquals(m.packets() * 106, m.frameBytes(), n.name());
            assertEquals(c.delivered(), n.verify().checked(), n.name() + ": every arrival checked");
            assertEquals(0, n.verify().mismatches());
            assertTrue(c.sent() >= m.packets() / ("rr".equals(n.kind()) ? 2 : 1), n.name());
            if ("rr".equals(n.kind()))
            {
                assertEquals(m.roundTrips(), m.latency().count(), n.name() + ": one latency per round trip");
                assertEquals("round-trip", m.latency().of());
                assertEquals(c.sent(), c.delivered() / 2 + c.lost(), n.name() + ": each request answered or lost");
            }
            else
            {
                assertEquals(m.packets(), m.latency().count(), n.name() + ": one latency per datagram");
                assertEquals(c.sent(), c.delivered() + c.lost(), n.name());
            }
            assertTrue(m.latency().p50Micros() > 0 && m.latency().p50Micros() <= m.latency().p99Micros());
            assertTrue(c.dom0Hypercalls() > 0, n.name());
            assertNotNull(n.cpu(), "the scheduler's CPU figures");
            if (n.path().startsWith("pv"))
            {
                assertEquals("pv/para", n.path());
                assertTrue(n.derived().grantCopiesPerPacket() >= 1, n.name() + ": netback copies every frame");
                assertTrue(n.derived().notificationsPerPacket() > 0);
                if (0 == c.lost())
                {
                    assertEquals(c.delivered(), c.guestCopies(), "netfront copies each frame it sends, not the rest");
                    assertEquals(3.0, n.derived().dataCopiesPerPacket(), 1e-9, "netfront's and two grant copies");
                }
                assertEquals(0, c.exits());
                assertNull(n.derived().toPv());
            }
            else
            {
                assertEquals("emulated/full", n.path());
                assertEquals(0, c.grantCopies());
                if (0 == c.lost())
                {
                    assertEquals(c.delivered(), c.guestCopies(), "the driver copies each frame it sends, not the rest");
                    assertEquals(2 * c.delivered(), c.deviceCopies(), "each frame out of one guest and into another");
                    assertEquals(3.0, n.derived().dataCopiesPerPacket(), 1e-9);
                }
                assertEquals(c.ioreqs(), c.exits(), "every access exits and goes to dom0's model");
                assertTrue(c.interrupts() > 0);
                if ("stream".equals(n.kind()))
                {
                    // the application runs on the sender's vCPU, one frame per pass: a TDT write for each frame and
                    // an ICR read for its transmit-done interrupt (E1000.ACCESSES_PER_LONE_PACKET on the sender,
                    // as EmulatedNicTest documents), and the receiver's ICR reads and RDT writes on top
                    assertTrue(c.exits() >= 2 * c.sent(), n.name() + ": at least 2 exits per frame sent, got " +
                        c.exits() + " for " + c.sent());
                }
                assertNotNull(n.derived().toPv());
            }
        }
        final ScenarioReport.NetReport emulatedRr = report.network().get(3);
        final ScenarioReport.NetReport pvRr = report.network().get(1);
        assertTrue(emulatedRr.derived().modeledCyclesPerPacket() > 2 * pvRr.derived().modeledCyclesPerPacket(),
            "the cost model charges exits more than hypercalls: " + emulatedRr.derived().modeledCyclesPerPacket() +
            " vs " + pvRr.derived().modeledCyclesPerPacket());
        assertTrue(emulatedRr.derived().exitsPerPacket() >= 2, "a lone packet exits twice on each side: " +
            emulatedRr.derived().exitsPerPacket());
        assertTrue(text.toString().contains("network pv-s: pv/para pa -> pb, stream"), text.toString());
        assertTrue(printed.contains("Network paths side by side"), printed);
        final Path json = dir.resolve("net.json");
        report.writeJson(json);
        assertEquals(report, ScenarioReport.readJson(json));
    }

    @Test
    void shouldSendFromAHostThreadOfTheGuestsWhenTheMachineHasNoVcpus() throws Exception
    {
        final Scenario scenario = ScenarioParser.parse(String.join("\n",
            "description: threads test",
            "machine: {memory: 160M, dom0-memory: 32M, execution: threads}",
            "guests:",
            "  - {name: ta, memory: 32M, nics: [{io: pv}]}",
            "  - {name: tb, memory: 32M, nics: [{io: pv}]}",
            "network:",
            "  - {name: t-s, from: ta, to: tb, payload: 64, window: 16, " + WORK + "}",
            "  - {name: t-rr, from: ta, to: tb, kind: rr, payload: 64, " + WORK + "}",
            ""), false, "threads test");
        final ScenarioReport report = new ScenarioRunner(scenario, "threads test",
            new PrintWriter(new StringWriter(), true), false).run();
        final String printed = print(report);
        assertTrue(report.clean(), printed);
        assertEquals(2, report.network().size());
        for (final ScenarioReport.NetReport n : report.network())
        {
            assertTrue(n.measured().packets() > 0, n.name());
            assertEquals(n.counted().delivered(), n.verify().checked(), n.name());
        }
    }

    @Test
    void shouldSendThroughTheVxlanUplinkToTheHostAndBack() throws Exception
    {
        final Scenario scenario = ScenarioParser.parse(String.join("\n",
            "description: uplink test",
            "machine: {memory: 64M, dom0-memory: 32M}",
            "guests: [{name: g, memory: 16M, nics: [{io: pv}]}]",
            "network:",
            "  - {name: up-s, from: g, to: uplink, payloads: [64, 1472], window: 16, " + WORK + "}",
            "  - {name: up-rr, from: g, to: uplink, kind: rr, payload: 200, " + WORK + "}",
            ""), false, "uplink test");
        final ScenarioReport report = new ScenarioRunner(scenario, "uplink test",
            new PrintWriter(new StringWriter(), true), false).run();
        final String printed = print(report);
        assertTrue(report.clean(), printed);
        assertEquals(3, report.network().size());
        for (final ScenarioReport.NetReport n : report.network())
        {
            assertEquals("uplink", n.to());
            assertTrue(n.measured().packets() > 0, n.name());
            assertEquals(n.counted().delivered(), n.verify().checked(), n.name());
            assertTrue(n.derived().grantCopiesPerPacket() >= 1, n.name());
        }
        assertEquals(1514, report.network().get(1).frameBytes());
        final ScenarioReport.NetReport rr = report.network().get(2);
        assertEquals(rr.measured().roundTrips(), rr.measured().latency().count());
        assertTrue(rr.measured().roundTrips() > 10, printed);
    }

    @Test
    void shouldRunTheDisksWorkloadsThenTheNetworkOnesOnOneMachine() throws Exception
    {
        final Scenario scenario = ScenarioParser.parse(String.join("\n",
            "description: mixed test",
            "machine: {memory: 96M, dom0-memory: 32M}",
            "guests:",
            "  - {name: d, memory: 16M, nics: [{io: pv}], disks: [{size: 8M, workload: {count: 500, " +
                "baseline: false}}]}",
            "  - {name: e, memory: 16M, mode: full, nics: [{io: emulated}]}",
            "network:",
            "  - {name: mixed-rr, from: d, to: e, kind: rr, payload: 300, " + WORK + "}",
            ""), false, "mixed test");
        final ScenarioReport report = new ScenarioRunner(scenario, "mixed test",
            new PrintWriter(new StringWriter(), true), false).run();
        final String printed = print(report);
        assertTrue(report.clean(), printed);
        assertEquals(500, report.guests().get(0).disks().get(0).counted().ios());
        final ScenarioReport.NetReport rr = report.network().get(0);
        assertEquals("pv>emulated", rr.path());
        assertTrue(rr.measured().roundTrips() > 0, printed);
        assertTrue(rr.counted().grantCopies() > 0 && rr.counted().exits() > 0, "both paths' counters");
        assertNull(rr.derived().toPv());
        assertTrue(printed.contains("Through the guests' drivers") && printed.contains("Network workloads"));
    }

    private static String print(final ScenarioReport report)
    {
        final StringWriter text = new StringWriter();
        report.print(new PrintWriter(text, true));
        return text.toString();
    }
}
