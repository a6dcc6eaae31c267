package io.pvio.bench.scenario;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The report: JSON that reads back into an equal report with measured, counted and derived figures under their own
 * names; the clean verdict; the text tables.
 */
class ScenarioReportTest
{
    @TempDir
    Path dir;

    @Test
    void shouldReadBackTheJsonItWrites() throws Exception
    {
        final ScenarioReport report = sample(0, 0);
        final Path json = dir.resolve("report.json");
        report.writeJson(json);
        assertEquals(report, ScenarioReport.readJson(json));

        final JsonNode tree = new ObjectMapper().readTree(json.toFile());
        assertEquals("sample.yaml", tree.get("scenario").asText());
        assertTrue(tree.get("clean").asBoolean());
        final JsonNode disk = tree.get("guests").get(0).get("disks").get(0);
        assertEquals("g1/51712", disk.get("disk").asText());
        assertEquals(150_000.0, disk.get("measured").get("iops").asDouble());
        assertEquals(95.5, disk.get("measured").get("latency").get("p99Micros").asDouble());
        assertEquals(40_000, disk.get("counted").get("requests").asLong());
        assertEquals(0.02, disk.get("derived").get("notificationsBackToFrontPerRequest").asDouble());
        assertEquals(0.5, disk.get("derived").get("pvToNativeIops").asDouble());
        assertEquals(2, disk.get("nativeBaseline").get("inFlight").asInt());
        assertEquals(2, disk.get("nativeBaseline").get("queueDepth").asInt());
        assertTrue(disk.get("nativeBaseline").get("ioUring").asBoolean());
        assertFalse(disk.get("nativeBaseline").get("direct").asBoolean());
        assertNull(disk.get("nativeBaseline").get("scheme"), "the scheme is words, not a figure");
        assertEquals(300_000.0, disk.get("nativeBaseline").get("measured").get("iops").asDouble());
        assertEquals(3.0, disk.get("nativeBaseline").get("before").get("latency").get("p50Micros").asDouble());
        assertTrue(disk.get("verify").get("firstError").isNull());
        assertEquals(12, tree.get("dom0").get("byKind").get("GRANT_MAP").asLong());
        final JsonNode second = tree.get("guests").get(1).get("disks").get(0);
        assertTrue(second.get("nativeBaseline").isNull());
        assertTrue(second.get("derived").get("pvToNativeIops").isNull());
        assertEquals("emulated", second.get("io").asText());
        assertTrue(second.get("counted").isNull());
        assertEquals(280_000, second.get("emulated").get("mmioExits").asLong());
        assertEquals(7.0, second.get("cost").get("exitsPerIo").asDouble());
        assertEquals(4.25, disk.get("cost").get("dom0CpuMicrosPerIo").asDouble());
        final JsonNode g1 = tree.get("cpu").get("domains").get(1);
        assertEquals(3.5, g1.get("cpuSeconds").asDouble());
        assertEquals(150.0, g1.get("wakeP99Micros").asDouble());
        assertEquals(700, g1.get("exitsByReason").get("EXTERNAL_INTERRUPT").asLong());
    }

    @Test
    void shouldBeCleanOnlyWithoutMismatchesErrorsOrMissingBlocks()
    {
        assertTrue(sample(0, 0).clean());
        assertFalse(sample(1, 0).clean());
        assertFalse(sample(0, 1).clean());
        final ScenarioReport.Verify imageOnly = new ScenarioReport.Verify(true, 10, 0, 0, null, 5, 1);
        assertFalse(imageOnly.passed());
    }

    @Test
    void shouldPrintMeasuredCountedAndDerivedTables()
    {
        final StringWriter text = new StringWriter();
        sample(0, 0).print(new PrintWriter(text));
        final String out = text.toString();
        assertTrue(out.contains("Through the guests' drivers (measured"), out);
        assertTrue(out.contains("pv/para"), out);
        assertTrue(out.contains("emulated/full"), out);
        assertTrue(out.contains("Emulated AHCI controller counters over the workload"), out);
        assertTrue(out.contains("I/O paths side by side, per I/O"), out);
        assertTrue(out.contains("CPU over the emulated-disk workload"), out);
        assertTrue(out.contains("Native baseline on the image (measured"), out);
        assertTrue(out.contains("(counted; handshake excluded) and per-request ratios (derived)"), out);
        assertTrue(out.contains("Hypercalls over the workload (counted; per request derived"), out);
        assertTrue(out.contains("g1/51712"), out);
        assertTrue(out.contains("handed over, counted: g1/51712 24.0)"), out);
        assertTrue(out.contains("waiting for a worker / in the image's read or write: g1/51712 150.0/250.5 us)"), out);
        assertTrue(out.contains("150,000"), out);
        assertTrue(out.contains("0.50"), "PV/native ratio: " + out);
        assertTrue(out.contains("at the workload's queue depth, by the back end's host engine"), out);
        assertTrue(out.contains("native, depth 2 (io_uring, one thread), page cache"), out);
        assertTrue(out.contains("native before"), out);
        assertTrue(out.contains("0.50  300,000 IOPS the mean of the two runs, after +0% on before"), out);
        assertTrue(out.contains("GRANT_MAP 12"), out);
        assertTrue(out.contains("Result: clean"), out);
        assertTrue(out.contains("CPU over the split-driver workload: 2 physical CPU(s)"), out);
        assertTrue(out.contains("18.4%"), "g1's share of the machine: " + out);
        assertTrue(out.contains("exits of g1: EXTERNAL_INTERRUPT 700, HLT 90"), out);

        final StringWriter failed = new StringWriter();
        sample(3, 0).print(new PrintWriter(failed));
        assertTrue(failed.toString().contains("3 mismatches"), failed.toString());
        assertTrue(failed.toString().contains("Result: FAILED"), failed.toString());
    }

    @Test
    void shouldSayHowTheNativeBaselineRan()
    {
        final ScenarioReport.Measured m = ScenarioRunner.measured(new WorkloadStats(), 32);
        final ScenarioReport.Verify v = new ScenarioReport.Verify(false, 0, 0, 0, null, 0, 0);
        assertEquals("native, depth 32 (32 threads, one synchronous I/O each), O_DIRECT",
            new ScenarioReport.NativeBaseline(32, 32, false, true, null, m, v).scheme());
        assertEquals("native, depth 32 (io_uring, one thread), O_DIRECT",
            new ScenarioReport.NativeBaseline(32, 32, true, true, null, m, v).scheme());
        assertEquals("native, depth 3 (io_uring, one thread; queue depth 8 clamped to the disk's 3 blocks), page cache",
            new ScenarioReport.NativeBaseline(8, 3, true, false, null, m, v).scheme());
        assertEquals("native, depth 1 (1 thread, one synchronous I/O each), page cache",
            new ScenarioReport.NativeBaseline(1, 1, false, false, null, m, v).scheme());
        assertEquals("native, depth 2 (2 threads, one synchronous I/O each; queue depth 32 clamped to the disk's 2 " +
            "blocks), page cache", new ScenarioReport.NativeBaseline(32, 2, false, false, null, m, v).scheme());
    }

    @Test
    void shouldDivideByTheMeanOfTheNativeRunsBeforeAndAfter()
    {
        final ScenarioReport.Verify v = new ScenarioReport.Verify(true, 10, 1, 0, null, 0, 0);
        final ScenarioReport.NativeBaseline both = new ScenarioReport.NativeBaseline(32, 32, false, true,
            measured(60_000), measured(90_000), v);
        assertEquals(75_000, both.referenceIops(), 1e-9);
        assertEquals(0.5, both.drift(), 1e-9, "after is 50% above before");
        final ScenarioReport.NativeBaseline once = new ScenarioReport.NativeBaseline(32, 32, false, true, null,
            measured(90_000), v);
        assertEquals(90_000, once.referenceIops(), 1e-9);
        assertEquals(0, once.drift());

        final StringWriter text = new StringWriter();
        sample(0, 0).print(new PrintWriter(text));
        final String[] lines = text.toString().split("\n");
        int nativeRows = 0;
        for (final String line : lines)
        {
            if (line.matches("g1/51712 +native +[0-9].*"))
            {
                nativeRows++;
            }
        }
        assertEquals(0, nativeRows, "each native row says which run it is: " + text);
    }

    @Test
    void shouldAddTheVerificationOfTwoRuns()
    {
        final ScenarioReport.Verify a = new ScenarioReport.Verify(true, 10, 1, 0, null, 2, 0);
        final ScenarioReport.Verify b = new ScenarioReport.Verify(true, 5, 0, 2, "late", 3, 1);
        assertEquals(new ScenarioReport.Verify(true, 15, 1, 2, "late", 5, 1), a.and(b));
        assertEquals("early", new ScenarioReport.Verify(false, 0, 0, 1, "early", 0, 0).and(b).firstError());
        assertEquals(a, a.and(null));
        assertFalse(a.and(b).passed());
    }

    private static ScenarioReport.Measured measured(final double iops)
    {
        return new ScenarioReport.Measured(32, 1.0, (long)iops, (long)iops * 4096, iops, iops * 4096 / 1e6,
            new ScenarioReport.Latency(100, 200, 300, 400));
    }

    @Test
    void shouldDeriveRatiosWithoutDividingByZero()
    {
        assertEquals(0, ScenarioRunner.ratio(5, 0));
        assertEquals(2.5, ScenarioRunner.ratio(5, 2));
        final ScenarioReport.Measured none = ScenarioRunner.measured(new WorkloadStats(), 4);
        assertEquals(new ScenarioReport.Measured(4, 0, 0, 0, 0, 0, new ScenarioReport.Latency(0, 0, 0, 0)), none);
    }

    @Test
    void shouldMeasureTheWindowFromItsStartToTheLastCompletion()
    {
        final WorkloadStats stats = new WorkloadStats();
        stats.measureFrom(1_000_000_000L);
        stats.completed(999_000_000L, 1_000_100_000L, 4096);
        stats.completed(1_000_000_000L, 1_000_500_000L, 4096);
        stats.completed(1_250_000_000L, 1_500_000_000L, 4096);
        final ScenarioReport.Measured m = ScenarioRunner.measured(stats, 2);
        assertEquals(3, stats.completed());
        assertEquals(2, m.ios(), "the I/O started in the warm-up is not measured");
        assertEquals(0.5, m.seconds(), 1e-9);
        assertEquals(4.0, m.iops(), 1e-9);
        assertEquals(8192 / 0.5 / 1e6, m.megabytesPerSecond(), 1e-12);
        assertEquals(250_000, m.latency().maxMicros(), 250);
        assertEquals(500, m.latency().p50Micros(), 1);
    }

    private static ScenarioReport sample(final long mismatches, final long errors)
    {
        final ScenarioReport.Measured pv = new ScenarioReport.Measured(32, 9.0, 1_350_000, 1_350_000L * 4096,
            150_000.0, 614.4, new ScenarioReport.Latency(40.1, 95.5, 210.0, 1500.0));
        final ScenarioReport.Measured nat = new ScenarioReport.Measured(2, 9.0, 2_700_000, 2_700_000L * 4096,
            300_000.0, 1228.8, new ScenarioReport.Latency(3.1, 9.5, 21.0, 150.0));
        final ScenarioReport.Measured natBefore = new ScenarioReport.Measured(2, 9.0, 2_700_000, 2_700_000L * 4096,
            300_000.0, 1228.8, new ScenarioReport.Latency(3.0, 9.0, 20.0, 140.0));
        final ScenarioReport.Counted counted = new ScenarioReport.Counted(40_000, 40_000, 0, 10, 800, 0, 0, 33, 0,
            0, 0, 33, 0, 0, 40_000, 40_000L * 24, 40_000L * 150_000, 40_000L * 250_500);
        final ScenarioReport.DiskReport first = new ScenarioReport.DiskReport("g1/51712", 51712, "temporary",
            "random 4 KiB", "pv", "para", new ScenarioReport.Negotiated(2, 1, true, 256, "grant-map"), pv, counted,
            new ScenarioReport.Derived(1.0, 0.00025, 0.02, 0, 0, 0.5), null,
            new ScenarioReport.PathCost(0, 0.02025, 0.00025, 0.02, 350, 3.5, 4.25),
            new ScenarioReport.Verify(true, 12_000, mismatches, errors, 0 == errors ? null : "boom", 4000, 0),
            new ScenarioReport.NativeBaseline(2, 2, true, false, natBefore, nat,
            new ScenarioReport.Verify(true, 20_000, 0, 0, null, 0, 0)));
        final ScenarioReport.DiskReport second = new ScenarioReport.DiskReport("g2/51712", 51712, "/tmp/x.img",
            "sequential 64 KiB", "emulated", "full", null, pv, null, new ScenarioReport.Derived(0, 0, 0, 0, 0, null),
            new ScenarioReport.Emulated(40_000, 280_000, 280_000, 280_000, 40_000, 0),
            new ScenarioReport.PathCost(7.0, 14.0, 0, 8.0, 21_000, 12.5, 30.0),
            new ScenarioReport.Verify(false, 0, 0, 0, null, 0, 0), null);
        final Map<String, Long> dom0Calls = new LinkedHashMap<>();
        dom0Calls.put("GRANT_MAP", 12L);
        dom0Calls.put("EVTCHN_SEND", 800L);
        final Map<String, Long> exits = new LinkedHashMap<>();
        exits.put("EXTERNAL_INTERRUPT", 700L);
        exits.put("HLT", 90L);
        final ScenarioReport.Cpu cpu = new ScenarioReport.Cpu(2, 30.0, 9.5, List.of(
            new ScenarioReport.DomainCpu("dom0", 0, "para", 2, 256, 0, 4.25, 0.2237, 5000, 12.5, 80.0, 0, Map.of(),
                9000, 0, 5000, 2_000_000),
            new ScenarioReport.DomainCpu("g1", 1, "full", 1, 512, 50, 3.5, 0.1842, 700, 20.0, 150.0, 790, exits, 0,
                700, 0, 11_000_000)));
        final ScenarioReport report = ScenarioReport.of("sample.yaml",
            new ScenarioReport.Machine(512L << 20, 64L << 20, "grant-map"), cpu, cpu,
            List.of(new ScenarioReport.GuestReport("g1", 1, new ScenarioReport.Hypercalls(10, 0.00025,
                Map.of("EVTCHN_SEND", 10L)), List.of(first)),
                new ScenarioReport.GuestReport("g2", 2, new ScenarioReport.Hypercalls(0, 0, Map.of()),
                List.of(second))),
            new ScenarioReport.Hypercalls(812, 0.01, dom0Calls));
        assertNull(report.guests().get(1).disks().get(0).nativeBaseline());
        return report;
    }
}
