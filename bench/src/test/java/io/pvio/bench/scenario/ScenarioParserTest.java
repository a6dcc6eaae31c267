package io.pvio.bench.scenario;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

import io.pvio.backend.block.BlockDataPath;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ScenarioParserTest
{
    private static final Path SCENARIOS = Path.of("..", "scenarios");

    static List<Path> shippedScenarios() throws IOException
    {
        try (Stream<Path> files = Files.list(SCENARIOS))
        {
            return files.filter((f) -> f.toString().endsWith(".yaml") || f.toString().endsWith(".json")).sorted()
                .collect(Collectors.toList());
        }
    }

    @ParameterizedTest
    @MethodSource("shippedScenarios")
    void everyShippedScenarioParses(final Path file)
    {
        final Scenario scenario = ScenarioParser.parse(file);
        assertFalse(scenario.guests().isEmpty());
    }

    @Test
    void theBuiltInDefaultIsTheShippedDefault() throws IOException
    {
        try (var in = ScenarioParser.class.getResourceAsStream("/scenarios/default.yaml"))
        {
            assertEquals(Files.readString(SCENARIOS.resolve("default.yaml")), new String(in.readAllBytes(),
                java.nio.charset.StandardCharsets.UTF_8));
        }
        final Scenario scenario = ScenarioParser.defaultScenario();
        assertEquals(2, scenario.guests().size());
        final Scenario.Workload w = scenario.guests().get(0).disks().get(0).workload();
        assertEquals(4096, w.blockSize());
        assertEquals(32, w.queueDepth());
        assertTrue(w.verify());
        assertEquals(10_000_000_000L, w.warmupNanos() + w.durationNanos());
    }

    @Test
    void defaultsFillEveryOmittedField()
    {
        final Scenario s = ScenarioParser.parse("guests: [{disks: [{}]}]", false, "t");
        assertEquals(512L << 20, s.machineMemory());
        assertEquals(64L << 20, s.dom0Memory());
        assertEquals(BlockDataPath.GRANT_MAP, s.backend().dataPath());
        final Scenario.Guest g = s.guests().get(0);
        assertEquals("guest1", g.name());
        final Scenario.Disk d = g.disks().get(0);
        assertEquals(51712, d.devid());
        assertEquals(256L << 20, d.size());
        assertNull(d.image());
        assertEquals(new Scenario.Frontend(true, 256, 1, 1), d.frontend());
        assertEquals(0.7, d.workload().readShare());
        assertTrue(d.workload().random());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "4K|4096", "64k|65536", "1M|1048576", "4096|4096", "8192B|8192"})
    void blockSizes(final String text, final long bytes)
    {
        final Scenario s = ScenarioParser.parse("guests: [{disks: [{workload: {block-size: " + text + "}}]}]",
            false, "t");
        assertEquals(bytes, s.guests().get(0).disks().get(0).workload().blockSize());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = { "256MiB|268435456", "2G|2147483648", "1T|1099511627776" })
    void diskSizes(final String text, final long bytes)
    {
        final Scenario s = ScenarioParser.parse("machine: {memory: 1G}\nguests: [{disks: [{size: " + text + "}]}]",
            false, "t");
        assertEquals(bytes, s.guests().get(0).disks().get(0).size());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = { "500ms|500000000", "10s|10000000000", "1.5s|1500000000", "2m|120000000000" })
    void durations(final String text, final long nanos)
    {
        final Scenario s = ScenarioParser.parse("guests: [{disks: [{workload: {duration: " + text + "}}]}]",
            false, "t");
        assertEquals(nanos, s.guests().get(0).disks().get(0).workload().durationNanos());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = { "0.25|0.25", "70%|0.7", "1|1.0", "0|0.0", "100%|1.0" })
    void readShares(final String text, final double share)
    {
        final Scenario s = ScenarioParser.parse("guests: [{disks: [{workload: {read-share: " + text + "}}]}]",
            false, "t");
        assertEquals(share, s.guests().get(0).disks().get(0).workload().readShare(), 1e-12);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "guests: []|guests: expected a list of 1 to 32 entries, got a list",
        "machine: {memory: 1G}|guests: missing (expected a list of 1 to 32)",
        "guests: [{disks: [{workload: {blok-size: 4K}}]}]|guests[0].disks[0].workload.blok-size: unknown field " +
            "(expected one of: pattern, block-size, queue-depth, read-share, duration, count, warmup, verify, " +
            "seed, baseline)",
        "guests: [{disks: [{size: 12X}]}]|guests[0].disks[0].size: expected a size like 4K, 256M or 4G from " +
            "1048576 to 1099511627776 bytes, got \"12X\"",
        "guests: [{disks: [{workload: {read-share: 1.5}}]}]|guests[0].disks[0].workload.read-share: expected a " +
            "share from 0 to 1, or a percentage like 70%, got 1.5",
        "guests: [{disks: [{workload: {duration: 5s, count: 100}}]}]|guests[0].disks[0].workload.count: expected " +
            "either duration or count, not both, got 100",
        "guests: [{disks: [{workload: {pattern: zigzag}}]}]|guests[0].disks[0].workload.pattern: expected one of " +
            "random, sequential, got \"zigzag\"",
        "guests: [{disks: [{workload: {queue-depth: 0}}]}]|guests[0].disks[0].workload.queue-depth: expected a " +
            "whole number from 1 to 1024, got 0",
        "guests: [{disks: [{read-only: true}]}]|guests[0].disks[0].workload.read-share: expected 1 (or 100%) on a " +
            "read-only disk, got 0.7",
        "guests: [{disks: [{frontend: {ring-pages: 3}}]}]|guests[0].disks[0].frontend.ring-pages: expected 1, 2, " +
            "4, 8 or 16, got 3",
        "guests: [{disks: [{read-only: 2}]}]|guests[0].disks[0].read-only: expected true or false, got 2",
        "machine: {memory: 64M}\\nguests: [{memory: 64M, disks: [{}]}]|machine.memory: expected at least " +
            "dom0-memory + every guest's memory = 128M, got 64M",
        "guests: [{name: a, disks: [{}]}, {name: a, disks: [{}]}]|guests[1].name: expected a name no other guest " +
            "has, got \"a\"",
        "backend: {data-path: dma}\\nguests: [{disks: [{}]}]|backend.data-path: expected one of grant-map, " +
            "grant-copy, got \"dma\"",
        "guests: [{disks: [{workload: {duration: soon}}]}]|guests[0].disks[0].workload.duration: expected a " +
            "duration like 500ms, 10s or 2m, got \"soon\"",
        "guests: [{disks: [{image: /nonexistent/disk.img}]}]|guests[0].disks[0].image: expected an existing raw " +
            "image file (or give a size), got \"/nonexistent/disk.img\"",
        "guests: [{disks: [{size: 1M, workload: {block-size: 2M}}]}]|guests[0].disks[0].workload.block-size: " +
            "expected a size like 4K, 256M or 4G from 512 to 1048576 bytes, got \"2M\"",
        "guests: [{disks: [{size: 1M, workload: {block-size: 1000}}]}]|guests[0].disks[0].workload.block-size: " +
            "expected a multiple of 512, got 1000",
        "[1, 2]|t: expected a mapping with machine, backend and guests" })
    void badInputsNameTheField(final String yaml, final String message)
    {
        final ScenarioException ex = assertThrows(ScenarioException.class,
            () -> ScenarioParser.parse(yaml.replace("\\n", "\n"), false, "t"));
        assertEquals(message, ex.getMessage());
    }

    @Test
    void malformedSyntaxIsReportedWithItsLine()
    {
        final ScenarioException yaml = assertThrows(ScenarioException.class,
            () -> ScenarioParser.parse("guests: [{disks: [", false, "f.yaml"));
        assertTrue(yaml.getMessage().startsWith("f.yaml: not valid YAML: "), yaml.getMessage());
        final ScenarioException json = assertThrows(ScenarioException.class,
            () -> ScenarioParser.parse("{\"guests\": [}", true, "f.json"));
        assertTrue(json.getMessage().startsWith("f.json: not valid JSON: "), json.getMessage());
        assertTrue(json.getMessage().contains("at line 1"), json.getMessage());
    }
}
