package io.pvio.bench.scenario;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.pvio.bench.cli.PvioCommand;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ScenarioRunnerTest
{
    private static final String SMALL = String.join("\n",
        "machine: {memory: 256M}",
        "guests:",
        "  - name: one",
        "    memory: 32M",
        "    disks:",
        "      - size: 16M",
        "        frontend: {queues: 2}",
        "        workload: {block-size: 4K, queue-depth: 16, read-share: 0.5, count: 3000, seed: 3}",
        "  - name: two",
        "    memory: 32M",
        "    disks:",
        "      - size: 16M",
        "        frontend: {persistent-grants: false, indirect-segments: 0}",
        "        workload: {pattern: sequential, block-size: 64K, queue-depth: 4, read-share: 0.5, count: 500}",
        "");

    @TempDir
    Path dir;

    @Test
    void aSmallScenarioRunsVerifiedAndReportsItsCounters() throws Exception
    {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        final ScenarioReport report =
            new ScenarioRunner(ScenarioParser.parse(SMALL, false, "small"), out, false).run();
        ScenarioRunner.print(report, out);

        assertTrue(report.isClean(), bytes.toString(StandardCharsets.UTF_8));
        assertEquals(2, report.results().size());
        final ScenarioReport.DiskResult one = report.results().get(0);
        assertEquals(3000, one.ios());
        assertEquals(3000, one.requests(), "4 KiB I/Os are one request each");
        assertTrue(one.iops() > 0);
        assertTrue(one.nativeIops() > 0);
        final ScenarioReport.DiskResult two = report.results().get(1);
        assertEquals(500, two.ios());
        assertEquals(1000, two.requests(), "64 KiB without indirect segments takes two requests");
        assertEquals(two.frontGrantsIssued(), two.frontGrantsEnded() + 1, "only the ring stays granted per queue");
        assertTrue(bytes.toString(StandardCharsets.UTF_8).contains("one/51712"));

        final Path json = dir.resolve("report.json");
        ScenarioRunner.writeJson(report, json);
        final JsonNode tree = new ObjectMapper().readTree(json.toFile());
        assertTrue(tree.get("clean").asBoolean());
        assertEquals(3000, tree.get("disks").get(0).get("counted").get("ios").asLong());
        assertTrue(tree.get("disks").get(0).get("nativeBaseline").get("pvToNativeIopsRatio").asDouble() > 0);
    }

    @Test
    void theCommandRefusesABadFileBeforeStartingAnything() throws Exception
    {
        final Path bad = dir.resolve("bad.yaml");
        Files.writeString(bad, "guests: [{disks: [{size: 12X}]}]\n");
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        final PrintStream savedErr = System.err;
        final int code;
        try
        {
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            code = PvioCommand.newCommandLine().execute("run", bad.toString());
        }
        finally
        {
            System.setErr(savedErr);
        }
        assertEquals(PvioCommand.EXIT_USAGE, code);
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("guests[0].disks[0].size: expected a size"),
            err.toString(StandardCharsets.UTF_8));
        assertEquals(Map.of(), Map.of());
    }
}
