package io.pvio.bench.scenario;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

import io.pvio.backend.block.BlockDataPath;
import io.pvio.machine.vm.PagingMode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ScenarioParserTest
{
    private static final Path SCENARIOS = Path.of("..", "scenarios");

    @TempDir
    Path dir;

    static List<Path> shippedScenarios() throws IOException
    {
        try (Stream<Path> files = Files.list(SCENARIOS))
        {
            return files.filter((f) -> f.toString().endsWith(".yaml") || f.toString().endsWith(".json")).sorted()
                .collect(Collectors.toList());
        }
    }

    @Test
    void shouldShipTheExampleScenarios() throws IOException
    {
        final List<String> names = shippedScenarios().stream().map((p) -> p.getFileName().toString())
            .collect(Collectors.toList());
        assertTrue(names.containsAll(List.of("default.yaml", "two-guests-mixed.yaml", "persistent-off-indirect.json",
            "read-only.yaml", "multiqueue-4k-random-read.yaml")), names.toString());
    }

    @ParameterizedTest
    @MethodSource("shippedScenarios")
    void shouldAcceptEveryShippedScenario(final Path file)
    {
        final Scenario scenario = ScenarioParser.parse(file);
        assertFalse(scenario.guests().isEmpty());
        assertFalse(scenario.description().isEmpty(), "every example says what it is about");
        for (final Scenario.Guest guest : scenario.guests())
        {
            for (final Scenario.Disk disk : guest.disks())
            {
                assertEquals(Scenario.ImageKind.TEMPORARY, disk.imageKind(), "examples must run anywhere");
            }
        }
    }

    @Test
    void shouldKeepTheBuiltInDefaultIdenticalToTheShippedDefault() throws IOException
    {
        try (InputStream in = ScenarioParser.class.getResourceAsStream("/scenarios/default.yaml"))
        {
            assertEquals(Files.readString(SCENARIOS.resolve("default.yaml")),
                new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
        final Scenario scenario = ScenarioParser.defaultScenario();
        assertEquals(ScenarioParser.parse(SCENARIOS.resolve("default.yaml")), scenario);
        assertEquals(2, scenario.guests().size());
        for (final Scenario.Guest guest : scenario.guests())
        {
            final Scenario.Disk disk = guest.disks().get(0);
            assertEquals(Scenario.ImageKind.TEMPORARY, disk.imageKind());
            final Scenario.Workload w = disk.workload();
            assertTrue(w.random());
            assertEquals(4096, w.blockSize());
            assertEquals(32, w.queueDepth());
            assertTrue(w.readShare() > 0 && w.readShare() < 1, "reads and writes");
            assertTrue(w.verify());
            assertEquals(5_000_000_000L, w.warmupNanos() + w.durationNanos());
        }
        assertEquals(Scenario.Io.PV, scenario.guests().get(0).disks().get(0).io(), "guest1: the split driver");
        assertEquals(Scenario.Io.EMULATED, scenario.guests().get(1).disks().get(0).io(), "guest2: emulated AHCI");
    }

    @Test
    void shouldReadIoWorkers()
    {
        final Scenario s = ScenarioParser.parse("backend: {io-workers: 32}\nguests: [{disks: [{}]}]", false, "t");
        assertEquals(32, s.backend().ioWorkers());
        assertEquals(0, ScenarioParser.parse("guests: [{disks: [{}]}]", false, "t").backend().ioWorkers(),
            "the agent serves every request itself unless asked");
    }

    @ParameterizedTest
    @CsvSource({ "true,true", "false,false" })
    void shouldReadODirect(final String text, final boolean direct)
    {
        final Scenario s = ScenarioParser.parse("backend: {o-direct: " + text + "}\nguests: [{disks: [{}]}]", false,
            "t");
        assertEquals(direct, s.backend().oDirect());
        assertEquals(new Scenario.Backend(BlockDataPath.GRANT_MAP, true, 256, 4, 4, direct, 0, false), s.backend());
        final Scenario json = ScenarioParser.parse("{\"backend\": {\"o-direct\": " + text + "}, \"guests\": " +
            "[{\"disks\": [{}]}]}", true, "t");
        assertEquals(direct, json.backend().oDirect());
    }

    @Test
    void shouldFillEveryOmittedFieldWithItsDefault()
    {
        final Scenario s = ScenarioParser.parse("guests: [{disks: [{}, {}]}]", false, "t");
        assertEquals("", s.description());
        assertEquals(512L << 20, s.machineMemory());
        assertEquals(64L << 20, s.dom0Memory());
        assertEquals(new Scenario.Backend(BlockDataPath.GRANT_MAP, true, 256, 4, 4, false, 0, false), s.backend());
        final Scenario.Guest g = s.guests().get(0);
        assertEquals("guest1", g.name());
        assertEquals(64L << 20, g.memory());
        final Scenario.Disk d = g.disks().get(0);
        assertEquals(51712, d.devid());
        assertEquals(51728, g.disks().get(1).devid(), "xvdb");
        assertEquals(256L << 20, d.size());
        assertNull(d.image());
        assertEquals(Scenario.ImageKind.TEMPORARY, d.imageKind());
        assertFalse(d.readOnly());
        assertEquals(new Scenario.Frontend(true, 256, 1, 1), d.frontend());
        assertEquals(new Scenario.Workload(true, 4096, 32, 0.7, 10_000_000_000L, 0, 1_000_000_000L, true, 1, true),
            d.workload());
    }

    @Test
    void shouldDefaultToVcpusOnEveryHostProcessor()
    {
        final Scenario s = ScenarioParser.parse("guests: [{disks: [{}]}]", false, "t");
        final int cpus = Math.min(64, Runtime.getRuntime().availableProcessors());
        assertEquals(new Scenario.Cpus(true, cpus, cpus, 30_000_000, 10_000_000, 200_000, true), s.cpus());
        final Scenario.Guest g = s.guests().get(0);
        assertEquals(1, g.vcpus());
        assertEquals(PagingMode.PARA, g.mode());
        assertEquals(256, g.weight());
        assertEquals(0, g.cap());
    }

    @Test
    void shouldReadTheHaltPollingWindowAndWhetherItAdapts()
    {
        final Scenario s = ScenarioParser.parse("machine: {halt-poll: 0.05ms, halt-poll-adaptive: false}\n" +
            "guests: [{disks: [{}]}]", false, "t");
        assertEquals(50_000, s.cpus().haltPollNanos());
        assertFalse(s.cpus().haltPollAdaptive());
        final Scenario off = ScenarioParser.parse("machine: {halt-poll: 0ms}\nguests: [{disks: [{}]}]", false, "t");
        assertEquals(0, off.cpus().haltPollNanos());
        assertTrue(off.cpus().haltPollAdaptive());
    }

    @Test
    void shouldReadTheCpusAndEachGuestsVcpusModeWeightAndCap()
    {
        final Scenario s = ScenarioParser.parse("machine: {cpus: 3, dom0-vcpus: 2, slice: 5ms, tick: 1ms}\n" +
            "guests: [{vcpus: 2, mode: full, weight: 512, cap: 150, disks: [{}]}, {mode: native, disks: [{}]}]",
            false, "t");
        assertEquals(new Scenario.Cpus(true, 3, 2, 5_000_000, 1_000_000, 200_000, true), s.cpus());
        final Scenario.Guest first = s.guests().get(0);
        assertEquals(2, first.vcpus());
        assertEquals(PagingMode.FULL, first.mode());
        assertEquals(512, first.weight());
        assertEquals(150, first.cap());
        assertEquals(PagingMode.NATIVE, s.guests().get(1).mode());
        final Scenario threads = ScenarioParser.parse("machine: {execution: threads}\nguests: [{disks: [{}]}]",
            false, "t");
        assertFalse(threads.cpus().vcpus());
        assertEquals(1, threads.cpus().dom0Vcpus());
    }

    @Test
    void shouldReadEachDisksIoPath()
    {
        final Scenario scenario = ScenarioParser.parse("guests: [{name: a, mode: full, disks: [{io: emulated}, {}]}," +
            " {name: b, mode: native, disks: [{io: emulated}]}, {name: c, disks: [{io: pv}]}]", false, "t");
        assertEquals(Scenario.Io.EMULATED, scenario.guests().get(0).disks().get(0).io());
        assertEquals(Scenario.Io.PV, scenario.guests().get(0).disks().get(1).io());
        assertEquals(Scenario.Io.EMULATED, scenario.guests().get(1).disks().get(0).io());
        assertEquals(Scenario.Io.PV, scenario.guests().get(2).disks().get(0).io());
    }

    @Test
    void shouldDefaultToNoWarmupWhenACountIsGiven()
    {
        final Scenario.Workload w = ScenarioParser.parse("guests: [{disks: [{workload: {count: 500}}]}]", false, "t")
            .guests().get(0).disks().get(0).workload();
        assertEquals(500, w.count());
        assertEquals(0, w.durationNanos());
        assertEquals(0, w.warmupNanos());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "4K|4096", "64k|65536", "1M|1048576", "4096|4096", "8192B|8192", "16KiB|16384", "32KB|32768", "512|512" })
    void shouldReadBlockSizes(final String text, final long bytes)
    {
        final Scenario s = ScenarioParser.parse("guests: [{disks: [{workload: {block-size: " + text + "}}]}]",
            false, "t");
        assertEquals(bytes, s.guests().get(0).disks().get(0).workload().blockSize());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = { "256MiB|268435456", "2G|2147483648", "1T|1099511627776", "4M|4194304" })
    void shouldReadDiskSizes(final String text, final long bytes)
    {
        final Scenario s = ScenarioParser.parse(
            "guests: [{disks: [{size: " + text + ", workload: {block-size: 1M}}]}]", false, "t");
        assertEquals(bytes, s.guests().get(0).disks().get(0).size());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "4K|4096", "256M|268435456", "4G|4294967296", "1 K|1024", "0|0", "7|7", "999999999999999|999999999999999" })
    void shouldParseSizes(final String text, final long bytes)
    {
        assertEquals(bytes, ScenarioParser.parseSize(text));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = { "12X", "1.5G", "-4K", "K", "''", "4KK", "9999999999999999", "8T8" })
    void shouldRefuseWhatIsNotASize(final String text)
    {
        assertEquals(-1, ScenarioParser.parseSize(text));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "500ms|500000000", "10s|10000000000", "1.5s|1500000000", "2m|120000000000", "0s|0", "10 S|10000000000" })
    void shouldParseDurations(final String text, final long nanos)
    {
        assertEquals(nanos, ScenarioParser.parseDuration(text));
        if (nanos >= 100_000_000)
        {
            final Scenario s = ScenarioParser.parse("guests: [{disks: [{workload: {duration: " + text + "}}]}]",
                false, "t");
            assertEquals(nanos, s.guests().get(0).disks().get(0).workload().durationNanos());
        }
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = { "10", "1h", "s", "-1s", "1,5s", "''" })
    void shouldRefuseWhatIsNotADuration(final String text)
    {
        assertEquals(-1, ScenarioParser.parseDuration(text));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = { "0.25|0.25", "70%|0.7", "1|1.0", "0|0.0", "100%|1.0", "12.5%|0.125" })
    void shouldReadReadShares(final String text, final double share)
    {
        final Scenario s = ScenarioParser.parse("guests: [{disks: [{workload: {read-share: " + text + "}}]}]",
            false, "t");
        assertEquals(share, s.guests().get(0).disks().get(0).workload().readShare(), 1e-12);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "guests: []|guests: expected a list of 1 to 32 entries, got a list of 0 entries",
        "machine: {cpus: 0}\\nguests: [{disks: [{}]}]|machine.cpus: expected a whole number from 1 to 64, got 0",
        "machine: {cpus: two}\\nguests: [{disks: [{}]}]|machine.cpus: expected a whole number from 1 to 64, got " +
            "\"two\"",
        "machine: {execution: fibers}\\nguests: [{disks: [{}]}]|machine.execution: expected one of vcpus, threads, " +
            "got \"fibers\"",
        "machine: {execution: threads, cpus: 2}\\nguests: [{disks: [{}]}]|machine.cpus: expected no cpus with " +
            "execution: threads (there is no scheduler), got 2",
        "machine: {slice: 10us}\\nguests: [{disks: [{}]}]|machine.slice: expected a duration like 500ms, 10s or 2m " +
            "from 0.1ms to 1s, got \"10us\"",
        "machine: {slice: 5ms, tick: 10ms}\\nguests: [{disks: [{}]}]|machine.tick: expected a duration like 500ms, " +
            "10s or 2m from 0.1ms to 5ms, got \"10ms\"",
        "guests: [{vcpus: 0, disks: [{}]}]|guests[0].vcpus: expected a whole number from 1 to 32, got 0",
        "guests: [{mode: hvm, disks: [{}]}]|guests[0].mode: expected one of native, full, para, nested, got \"hvm\"",
        "guests: [{weight: 0, disks: [{}]}]|guests[0].weight: expected a whole number from 1 to 65535, got 0",
        "guests: [{vcpus: 2, cap: 201, disks: [{}]}]|guests[0].cap: expected a whole number from 0 to 200, got 201",
        "machine: {execution: threads}\\nguests: [{weight: 5, disks: [{}]}]|guests[0].weight: expected no weight " +
            "with machine.execution: threads (there is no scheduler), got 5",
        "machine: {memory: 1G}|guests: expected a list of 1 to 32 entries, got nothing",
        "guests: [5]|guests[0]: expected a mapping, got 5",
        "machine: 5\\nguests: [{disks: [{}]}]|machine: expected a mapping, got 5",
        "machin: {}\\nguests: [{disks: [{}]}]|machin: unknown field (expected one of: description, machine, " +
            "backend, guests, network)",
        "description: 5\\nguests: [{disks: [{}]}]|description: expected a string, got 5",
        "guests: [{disks: [{workload: {blok-size: 4K}}]}]|guests[0].disks[0].workload.blok-size: unknown field " +
            "(expected one of: pattern, block-size, queue-depth, read-share, duration, count, warmup, verify, " +
            "seed, baseline)",
        "guests: [{disks: [{size: 12X}]}]|guests[0].disks[0].size: expected a size like 4K, 256M or 4G from " +
            "1048576 to 1099511627776 bytes, got \"12X\"",
        "guests: [{name: g, disks: [{}]}, {disks: [{size: 12X}]}]|guests[1].disks[0].size: expected a size like " +
            "4K, 256M or 4G from 1048576 to 1099511627776 bytes, got \"12X\"",
        "guests: [{disks: [{size: 1049088}]}]|guests[0].disks[0].size: expected a multiple of 4K, got 1049088",
        "machine: {memory: 1.5G}\\nguests: [{disks: [{}]}]|machine.memory: expected a size like 4K, 256M or 4G " +
            "from 16777216 to 68719476736 bytes, got \"1.5G\"",
        "machine: {dom0-memory: 1G}\\nguests: [{disks: [{}]}]|machine.dom0-memory: expected a size like 4K, 256M " +
            "or 4G from 4194304 to 536870912 bytes, got \"1G\"",
        "guests: [{disks: [{workload: {read-share: 1.5}}]}]|guests[0].disks[0].workload.read-share: expected a " +
            "share from 0 to 1, or a percentage like 70%, got 1.5",
        "guests: [{disks: [{workload: {read-share: 150%}}]}]|guests[0].disks[0].workload.read-share: expected a " +
            "share from 0 to 1, or a percentage like 70%, got \"150%\"",
        "guests: [{disks: [{workload: {duration: 5s, count: 100}}]}]|guests[0].disks[0].workload.count: expected " +
            "either duration or count, not both, got 100",
        "guests: [{disks: [{workload: {count: 0}}]}]|guests[0].disks[0].workload.count: expected a whole number " +
            "from 1 to 1099511627776, got 0",
        "guests: [{disks: [{workload: {pattern: zigzag}}]}]|guests[0].disks[0].workload.pattern: expected one of " +
            "random, sequential, got \"zigzag\"",
        "guests: [{disks: [{workload: {pattern: 5}}]}]|guests[0].disks[0].workload.pattern: expected one of " +
            "random, sequential, got 5",
        "guests: [{disks: [{workload: {queue-depth: 0}}]}]|guests[0].disks[0].workload.queue-depth: expected a " +
            "whole number from 1 to 1024, got 0",
        "guests: [{disks: [{workload: {queue-depth: 2.5}}]}]|guests[0].disks[0].workload.queue-depth: expected a " +
            "whole number from 1 to 1024, got 2.5",
        "guests: [{disks: [{workload: {seed: -1}}]}]|guests[0].disks[0].workload.seed: expected a whole number " +
            "from 0 to 9223372036854775807, got -1",
        "guests: [{disks: [{read-only: true}]}]|guests[0].disks[0].workload.read-share: expected 1 (or 100%) on a " +
            "read-only disk, got 0.7 (the default)",
        "guests: [{disks: [{read-only: true, workload: {read-share: 90%}}]}]|guests[0].disks[0].workload." +
            "read-share: expected 1 (or 100%) on a read-only disk, got \"90%\"",
        "guests: [{disks: [{frontend: {ring-pages: 3}}]}]|guests[0].disks[0].frontend.ring-pages: expected 1, 2, " +
            "4, 8 or 16, got 3",
        "guests: [{disks: [{frontend: {ring-pages: 32}}]}]|guests[0].disks[0].frontend.ring-pages: expected a " +
            "whole number from 1 to 16, got 32",
        "guests: [{disks: [{frontend: {queues: 17}}]}]|guests[0].disks[0].frontend.queues: expected a whole " +
            "number from 1 to 16, got 17",
        "guests: [{disks: [{frontend: {persistent: true}}]}]|guests[0].disks[0].frontend.persistent: unknown " +
            "field (expected one of: persistent-grants, indirect-segments, queues, ring-pages)",
        "guests: [{disks: [{read-only: 2}]}]|guests[0].disks[0].read-only: expected true or false, got 2",
        "guests: [{disks: [{read-only: \"true\"}]}]|guests[0].disks[0].read-only: expected true or false, got " +
            "\"true\"",
        "machine: {memory: 64M}\\nguests: [{memory: 64M, disks: [{}]}]|machine.memory: expected at least " +
            "dom0-memory + every guest's memory = 128M, got 64M",
        "guests: [{name: a, disks: [{}]}, {name: a, disks: [{}]}]|guests[1].name: expected a name no other guest " +
            "has, got \"a\"",
        "guests: [{name: a b, disks: [{}]}]|guests[0].name: expected 1 to 32 letters, digits, '-' or '_', got " +
            "\"a b\"",
        "guests: [{disks: [{devid: 5}, {devid: 5}]}]|guests[0].disks[1].devid: expected a device number no other " +
            "disk of this guest has, got 5",
        "guests: [{disks: [{}, {devid: 51712}]}]|guests[0].disks[1].devid: expected a device number no other " +
            "disk of this guest has, got 51712",
        "guests: [{disks: [{devid: 0}]}]|guests[0].disks[0].devid: expected a whole number from 1 to 2147483647, " +
            "got 0",
        "backend: {data-path: dma}\\nguests: [{disks: [{}]}]|backend.data-path: expected one of grant-map, " +
            "grant-copy, got \"dma\"",
        "backend: {o-direct: yes please}\\nguests: [{disks: [{}]}]|backend.o-direct: expected true or false, got " +
            "\"yes please\"",
        "backend: {o-direct: 1}\\nguests: [{disks: [{}]}]|backend.o-direct: expected true or false, got 1",
        "backend: {o-direct: \"true\"}\\nguests: [{disks: [{}]}]|backend.o-direct: expected true or false, got " +
            "\"true\"",
        "machine: {o-direct: true}\\nguests: [{disks: [{}]}]|machine.o-direct: unknown field (expected one of: " +
            "memory, dom0-memory, cpus, dom0-vcpus, execution, slice, tick, halt-poll, halt-poll-adaptive)",
        "machine: {halt-poll: 20ms}\\nguests: [{disks: [{}]}]|machine.halt-poll: expected a duration like 500ms, " +
            "10s or 2m from 0ms to 10ms, got \"20ms\"",
        "machine: {halt-poll-adaptive: maybe}\\nguests: [{disks: [{}]}]|machine.halt-poll-adaptive: expected true " +
            "or false, got \"maybe\"",
        "machine: {execution: threads, halt-poll: 0ms}\\nguests: [{disks: [{}]}]|machine.halt-poll: " +
            "expected no halt-poll with execution: threads (there is no scheduler), got \"0ms\"",
        "backend: {max-ring-page-order: 5}\\nguests: [{disks: [{}]}]|backend.max-ring-page-order: expected a " +
            "whole number from 0 to 4, got 5",
        "backend: {max-indirect-segments: 5000}\\nguests: [{disks: [{}]}]|backend.max-indirect-segments: expected " +
            "a whole number from 0 to 4096, got 5000",
        "backend: {io-workers: 300}\\nguests: [{disks: [{}]}]|backend.io-workers: expected a whole number from 0 " +
            "to 256, got 300",
        "backend: {io-workers: -1}\\nguests: [{disks: [{}]}]|backend.io-workers: expected a whole number from 0 " +
            "to 256, got -1",
        "guests: [{disks: [{workload: {duration: soon}}]}]|guests[0].disks[0].workload.duration: expected a " +
            "duration like 500ms, 10s or 2m from 100ms to 3600s, got \"soon\"",
        "guests: [{disks: [{workload: {duration: 10}}]}]|guests[0].disks[0].workload.duration: expected a " +
            "duration like 500ms, 10s or 2m from 100ms to 3600s, got 10",
        "guests: [{disks: [{workload: {warmup: 1h}}]}]|guests[0].disks[0].workload.warmup: expected a duration " +
            "like 500ms, 10s or 2m from 0ms to 600s, got \"1h\"",
        "guests: [{disks: [{image: /nonexistent/disk.img}]}]|guests[0].disks[0].image: expected an existing raw " +
            "image file, or a size to create it with, got \"/nonexistent/disk.img\"",
        "guests: [{disks: [{image: /nonexistent/disk.img, size: 4M}]}]|guests[0].disks[0].image: expected a path " +
            "in an existing directory, got \"/nonexistent/disk.img\"",
        "guests: [{disks: [{image: /nonexistent/disk.img, size: 4M, read-only: true}]}]|guests[0].disks[0].image: " +
            "expected an existing raw image file for a read-only disk, got \"/nonexistent/disk.img\"",
        "guests: [{disks: [{image: [a]}]}]|guests[0].disks[0].image: expected a string, got a list of 1 entry",
        "guests: [{disks: [{size: 1M, workload: {block-size: 2M}}]}]|guests[0].disks[0].workload.block-size: " +
            "expected a size like 4K, 256M or 4G from 512 to 1048576 bytes, got \"2M\"",
        "guests: [{disks: [{size: 1M, workload: {block-size: 1000}}]}]|guests[0].disks[0].workload.block-size: " +
            "expected a multiple of 512, got 1000",
        "guests: [{disks: [{size: 1T}]}]|guests[0].disks[0].workload.verify: expected at most 16777216 blocks " +
            "(disk size / block-size) to verify; use a larger block-size or verify: false, got true for " +
            "268435456 blocks",
        "guests: [{disks: [{io: scsi}]}]|guests[0].disks[0].io: expected one of pv, emulated, got \"scsi\"",
        "guests: [{disks: [{io: emulated}]}]|guests[0].disks[0].io: expected pv in a para guest (it has no " +
            "emulated devices; an emulated disk needs the guest's mode native or full), got emulated",
        "machine: {execution: threads}\\nguests: [{mode: full, disks: [{io: emulated}]}]|guests[0].disks[0].io: " +
            "expected pv with machine.execution: threads (an emulated device's driver and model run on vCPUs), " +
            "got emulated",
        "guests: [{mode: full, disks: [{io: emulated, frontend: {queues: 2}}]}]|guests[0].disks[0].frontend: " +
            "expected no frontend settings on an emulated disk (they configure the split driver), got a mapping",
        "guests: [{mode: full, disks: [{io: emulated, workload: {queue-depth: 33}}]}]|guests[0].disks[0].workload." +
            "queue-depth: expected at most 32 on an emulated disk (the AHCI controller's command slots and NCQ " +
            "tags), got 33",
        "guests: [{mode: native, disks: [{io: emulated, workload: {block-size: 256K}}]}]|guests[0].disks[0]." +
            "workload.block-size: expected at most 131072 on an emulated disk (the most one AHCI command moves " +
            "here), got 262144",
        "[1, 2]|t: expected a mapping with machine, backend and guests, got a list of 2 entries",
        "# nothing here|t: expected a mapping with machine, backend and guests, got nothing" })
    void shouldRefuseBadInputNamingTheFieldAndWhatWasExpected(final String yaml, final String message)
    {
        final ScenarioException ex = assertThrows(ScenarioException.class,
            () -> ScenarioParser.parse(yaml.replace("\\n", "\n"), false, "t"));
        assertEquals(message, ex.getMessage());
    }

    @Test
    void shouldAcceptAVeryLargeDiskWhenNotVerified()
    {
        final Scenario s = ScenarioParser.parse("guests: [{disks: [{size: 1T, workload: {verify: false}}]}]", false,
            "t");
        assertEquals(1L << 40, s.guests().get(0).disks().get(0).size());
    }

    @Test
    void shouldRefuseBadJsonNamingTheField()
    {
        final ScenarioException ex = assertThrows(ScenarioException.class, () -> ScenarioParser.parse(
            "{\"guests\": [{\"disks\": [{\"frontend\": {\"persistent-grants\": \"yes\"}}]}]}", true, "t"));
        assertEquals("guests[0].disks[0].frontend.persistent-grants: expected true or false, got \"yes\"",
            ex.getMessage());
    }

    @Test
    void shouldReportMalformedSyntaxWithItsLine()
    {
        final ScenarioException yaml = assertThrows(ScenarioException.class,
            () -> ScenarioParser.parse("machine: {}\nguests: [{disks: [", false, "f.yaml"));
        assertTrue(yaml.getMessage().startsWith("f.yaml: not valid YAML: "), yaml.getMessage());
        assertTrue(yaml.getMessage().matches("(?s).*\\(line [0-9]+\\)"), yaml.getMessage());
        assertFalse(yaml.getMessage().contains("\n"), yaml.getMessage());
        final ScenarioException json = assertThrows(ScenarioException.class,
            () -> ScenarioParser.parse("{\"guests\": [}", true, "f.json"));
        assertTrue(json.getMessage().startsWith("f.json: not valid JSON: "), json.getMessage());
        assertTrue(json.getMessage().endsWith("(line 1)"), json.getMessage());
    }

    @Test
    void shouldRefuseRepeatedKeys()
    {
        final ScenarioException yaml = assertThrows(ScenarioException.class,
            () -> ScenarioParser.parse("guests: [{disks: [{}]}]\nguests: [{disks: [{}]}]\n", false, "f.yaml"));
        assertEquals("f.yaml: not valid YAML: Duplicate field 'guests' (line 2)", yaml.getMessage());
        final ScenarioException json = assertThrows(ScenarioException.class,
            () -> ScenarioParser.parse("{\"guests\": [{\"disks\": [{\"size\": \"4M\", \"size\": \"8M\"}]}]}", true,
            "f.json"));
        assertEquals("f.json: not valid JSON: Duplicate field 'size' (line 1)", json.getMessage());
    }

    @Test
    void shouldTellJsonFromYamlByExtensionOrContent() throws IOException
    {
        final String json = "{\"guests\": [{\"name\": \"j\", \"disks\": [{\"size\": \"8M\"}]}]}";
        final Path noExtension = dir.resolve("scenario");
        Files.writeString(noExtension, "\n  " + json);
        assertEquals("j", ScenarioParser.parse(noExtension).guests().get(0).name());

        final Path yamlText = dir.resolve("scenario.txt");
        Files.writeString(yamlText, "guests:\n  - name: y\n    disks: [{size: 8M}]\n");
        assertEquals("y", ScenarioParser.parse(yamlText).guests().get(0).name());

        final Path wrongExtension = dir.resolve("scenario.json");
        Files.writeString(wrongExtension, "guests:\n  - name: y\n");
        final ScenarioException ex = assertThrows(ScenarioException.class, () -> ScenarioParser.parse(wrongExtension));
        assertTrue(ex.getMessage().startsWith(wrongExtension + ": not valid JSON: "), ex.getMessage());

        final Path missing = dir.resolve("missing.yaml");
        final ScenarioException none = assertThrows(ScenarioException.class, () -> ScenarioParser.parse(missing));
        assertEquals(missing + ": cannot read: no such file", none.getMessage());
    }

    @Test
    void shouldTakeAnExistingImageAndItsSize() throws IOException
    {
        final Path image = dir.resolve("disk.img");
        Files.write(image, new byte[2 << 20]);
        final Scenario.Disk disk = ScenarioParser.parse("guests: [{disks: [{image: " + image + "}]}]", false, "t")
            .guests().get(0).disks().get(0);
        assertEquals(Scenario.ImageKind.EXISTING, disk.imageKind());
        assertEquals(image.toAbsolutePath(), disk.image());
        assertEquals(2 << 20, disk.size());

        final ScenarioException wrongSize = assertThrows(ScenarioException.class, () -> ScenarioParser.parse(
            "guests: [{disks: [{image: " + image + ", size: 4M}]}]", false, "t"));
        assertEquals("guests[0].disks[0].size: expected the image's size 2097152 bytes (or no size), got \"4M\"",
            wrongSize.getMessage());

        final ScenarioException twice = assertThrows(ScenarioException.class, () -> ScenarioParser.parse(
            "guests: [{disks: [{image: " + image + "}]}, {name: b, disks: [{image: " + image + "}]}]", false, "t"));
        assertEquals("guests[1].disks[0].image: expected an image no other disk uses, got \"" + image + '"',
            twice.getMessage());

        final Path small = dir.resolve("small.img");
        Files.write(small, new byte[1000]);
        final ScenarioException tooSmall = assertThrows(ScenarioException.class, () -> ScenarioParser.parse(
            "guests: [{disks: [{image: " + small + "}]}]", false, "t"));
        assertEquals("guests[0].disks[0].image: expected a multiple of 4K from 1M to 1T, got \"" + small +
            "\" of 1000 bytes", tooSmall.getMessage());

        final ScenarioException directory = assertThrows(ScenarioException.class, () -> ScenarioParser.parse(
            "guests: [{disks: [{image: " + dir + "}]}]", false, "t"));
        assertEquals("guests[0].disks[0].image: expected a regular file, got \"" + dir + '"', directory.getMessage());
    }

    @Test
    void shouldPlanANewImageWithoutCreatingItWhileParsing()
    {
        final Path image = dir.resolve("new.img");
        final Scenario.Disk disk = ScenarioParser.parse("guests: [{disks: [{image: " + image + ", size: 8M}]}]",
            false, "t").guests().get(0).disks().get(0);
        assertEquals(Scenario.ImageKind.CREATED, disk.imageKind());
        assertEquals(8 << 20, disk.size());
        assertFalse(Files.exists(image));
    }

    @Test
    void shouldReplaceEveryDurationAndCountWithTheCommandLineDuration()
    {
        final Scenario s = ScenarioParser.parse(
            "guests: [{disks: [{workload: {count: 10}}, {workload: {duration: 3s, warmup: 2s}}]}]", false, "t")
            .withDuration(500_000_000L);
        final Scenario.Workload counted = s.guests().get(0).disks().get(0).workload();
        assertEquals(0, counted.count());
        assertEquals(500_000_000L, counted.durationNanos());
        assertEquals(0, counted.warmupNanos());
        final Scenario.Workload timed = s.guests().get(0).disks().get(1).workload();
        assertEquals(500_000_000L, timed.durationNanos());
        assertEquals(2_000_000_000L, timed.warmupNanos());

        assertEquals(2_000_000_000L, ScenarioParser.checkDuration("--duration", "2s"));
        final ScenarioException ex = assertThrows(ScenarioException.class,
            () -> ScenarioParser.checkDuration("--duration", "fast"));
        assertEquals("--duration: expected a duration like 500ms, 10s or 2m from 100ms to 3600s, got \"fast\"",
            ex.getMessage());
        assertThrows(ScenarioException.class, () -> ScenarioParser.checkDuration("--duration", "50ms"));
    }
}
