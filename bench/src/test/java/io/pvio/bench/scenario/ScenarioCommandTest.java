package io.pvio.bench.scenario;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.pvio.bench.cli.PvioCommand;
import picocli.CommandLine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code pvio run}: a bad file or option is refused with exit code 2 and a message naming the field before
 * anything starts; a good file runs and writes its JSON report.
 */
class ScenarioCommandTest
{
    @TempDir
    Path dir;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    @Test
    void shouldRefuseABadFileWithExitCode2BeforeStartingAnything() throws Exception
    {
        final Path bad = dir.resolve("bad.yaml");
        Files.writeString(bad, "guests:\n  - disks: [{size: 256M}]\n  - disks: [{size: 12X}]\n");
        assertEquals(PvioCommand.EXIT_USAGE, execute("run", bad.toString()));
        assertEquals("pvio run: " + bad + ": guests[1].disks[0].size: expected a size like 4K, 256M or 4G from " +
            "1048576 to 1099511627776 bytes, got \"12X\"" + System.lineSeparator(), err.toString());
        assertEquals("", out.toString(), "nothing started");
    }

    @Test
    void shouldRefuseMalformedSyntaxWithExitCode2() throws Exception
    {
        final Path bad = dir.resolve("bad.json");
        Files.writeString(bad, "{\"guests\": [");
        assertEquals(PvioCommand.EXIT_USAGE, execute("run", bad.toString()));
        assertTrue(err.toString().startsWith("pvio run: " + bad + ": not valid JSON: "), err.toString());
        assertEquals("", out.toString());
    }

    @Test
    void shouldRefuseABadDurationWithExitCode2() throws Exception
    {
        assertEquals(PvioCommand.EXIT_USAGE, execute("run", "--duration", "forever"));
        assertEquals("pvio run: --duration: expected a duration like 500ms, 10s or 2m from 100ms to 3600s, got " +
            "\"forever\"" + System.lineSeparator(), err.toString());
        assertEquals("", out.toString());
    }

    @Test
    void shouldRefuseAJsonPathInAMissingDirectory() throws Exception
    {
        assertEquals(PvioCommand.EXIT_USAGE, execute("run", "--json", dir.resolve("no/such/dir/r.json").toString()));
        assertTrue(err.toString().startsWith("pvio run: --json: expected a file path in an existing directory"),
            err.toString());
        assertEquals("", out.toString());
    }

    @Test
    void shouldRefuseAMissingFile() throws Exception
    {
        final Path missing = dir.resolve("missing.yaml");
        assertEquals(PvioCommand.EXIT_USAGE, execute("run", missing.toString()));
        assertTrue(err.toString().startsWith("pvio run: " + missing + ": cannot read: "), err.toString());
    }

    @Test
    void shouldDescribeItselfInHelp() throws Exception
    {
        assertEquals(PvioCommand.EXIT_OK, execute("run", "--help"));
        final String help = out.toString();
        assertTrue(help.contains("Usage: pvio run [-hV] [--no-xenstore-socket] [--duration=D] [--json=PATH]"), help);
        assertTrue(help.contains("[--xenstore-socket=PATH] [FILE]"), help);
        assertTrue(help.contains("built-in default"), help);
        assertTrue(help.contains("Exit status"), help);
        assertEquals(PvioCommand.EXIT_OK, execute("--help"));
        assertTrue(out.toString().contains("  run "), out.toString());
    }

    @Test
    void shouldRunAGoodFileAndWriteItsJsonReport() throws Exception
    {
        final Path file = tinyScenario("small.yaml", "description: one small verified disk",
            "{queue-depth: 8, read-share: 0.5, count: 1000}");
        final Path json = dir.resolve("report.json");
        assertEquals(PvioCommand.EXIT_OK, execute("run", file.toString(), "--json", json.toString()), err.toString());
        final String printed = out.toString();
        assertTrue(printed.startsWith("scenario: " + file + ": one small verified disk"), printed);
        assertTrue(printed.contains("tiny/51712"), printed);
        assertTrue(printed.contains("Result: clean"), printed);
        assertTrue(printed.contains("report written to " + json), printed);
        final ScenarioReport report = ScenarioReport.readJson(json);
        assertTrue(report.clean());
        assertEquals(1000, report.guests().get(0).disks().get(0).counted().ios());
        assertFalse(err.toString().contains("pvio run"), err.toString());
    }

    @Test
    void shouldRepeatARunAndSumUpTheMediansWithANumberedJsonReportPerRun() throws Exception
    {
        final Path file = tinyScenario("again.yaml", "", "{queue-depth: 4, read-share: 0.5, count: 600}");
        final Path json = dir.resolve("again.json");
        assertEquals(PvioCommand.EXIT_OK, execute("run", file.toString(), "--repeat", "3", "--json", json.toString(),
            "--no-xenstore-socket"), err.toString());
        final String printed = out.toString();
        for (int run = 1; run <= 3; run++)
        {
            assertTrue(printed.contains("=== run " + run + " of 3 ==="), printed);
            final ScenarioReport report = ScenarioReport.readJson(dir.resolve("again-" + run + ".json"));
            assertEquals(600, report.guests().get(0).disks().get(0).counted().ios());
        }
        assertFalse(Files.exists(json), "each run has its numbered report, none the bare name");
        assertTrue(printed.contains("Over 3 runs (each bracketed by its own native runs): median [least - most]"),
            printed);
        assertTrue(printed.matches("(?s).*tiny/51712 +pv/para .*x native run by run: [0-9.]+, [0-9.]+, [0-9.]+\n.*"),
            printed);
    }

    @Test
    void shouldRefuseARepeatOutsideOneToAHundred() throws Exception
    {
        assertEquals(PvioCommand.EXIT_USAGE, execute("run", "--repeat", "0"));
        assertTrue(err.toString().contains("--repeat: expected a number of runs from 1 to 100, got 0"), err.toString());
        assertEquals("", out.toString(), "nothing started");
    }

    @Test
    void shouldServeTheRunningMachinesXenStoreToXenstoreToolsAndRemoveTheSocketAfter() throws Exception
    {
        final boolean present = Files.isExecutable(Path.of("/usr/bin/xenstore-read"));
        if (!present && "1".equals(System.getenv("PVIO_REQUIRE_TOOLS")))
        {
            fail("xenstore-utils is not installed and PVIO_REQUIRE_TOOLS=1");
        }
        assumeTrue(present, "needs xenstore-utils");
        final Path file = dir.resolve("served.yaml");
        Files.writeString(file, String.join("\n",
            "machine: {memory: 128M}",
            "guests:",
            "  - name: watched",
            "    memory: 16M",
            "    disks:",
            "      - size: 8M",
            "        workload: {queue-depth: 4, read-share: 0.5, warmup: 0s, duration: 4s}",
            ""));
        final Path socket = dir.resolve("xs.sock");
        final CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(
            () -> execute("run", file.toString(), "--xenstore-socket", socket.toString()));
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!Files.exists(socket) && !exit.isDone() && System.nanoTime() < deadline)
        {
            Thread.sleep(10);
        }
        assertTrue(Files.exists(socket), "the store was not served: " + out);

        final ProcessBuilder builder = new ProcessBuilder("xenstore-read", "/local/domain/1/name",
            "/local/domain/1/device/vbd/51712/state", "/local/domain/0/backend/vbd/1/51712/state")
            .redirectErrorStream(true);
        builder.environment().put("XENSTORED_PATH", socket.toString());
        final Process read = builder.start();
        final String values = new String(read.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(read.waitFor(20, TimeUnit.SECONDS));
        assertEquals(0, read.exitValue(), values);
        assertEquals("watched\n4\n4\n", values, "the guest's name and both ends Connected (4)");

        assertEquals(PvioCommand.EXIT_OK, exit.get(120, TimeUnit.SECONDS), err.toString());
        assertTrue(out.toString().contains("xenstore: dom0's store on " + socket), out.toString());
        assertFalse(Files.exists(socket), "the socket goes with the machine");
    }

    @Test
    void shouldRefuseAXenStoreSocketOnAFileOrBesideNoXenStoreSocket() throws Exception
    {
        final Path file = Files.writeString(dir.resolve("taken"), "keep");
        assertEquals(PvioCommand.EXIT_USAGE, execute("run", "--xenstore-socket", file.toString()));
        assertEquals("pvio run: --xenstore-socket: expected a path that is free or holds a socket, not a file or " +
            "directory, got " + file + System.lineSeparator(), err.toString());
        assertEquals(PvioCommand.EXIT_USAGE,
            execute("run", "--xenstore-socket", dir.resolve("s").toString(), "--no-xenstore-socket"));
        assertTrue(err.toString().contains("expected no --no-xenstore-socket beside it"), err.toString());
        assertEquals("", out.toString(), "nothing started");
        assertEquals("keep", Files.readString(file));
    }

    /** A scenario file of one guest, tiny, with one 8 MiB disk running {@code workload}, after a first line. */
    private Path tinyScenario(final String name, final String firstLine, final String workload) throws IOException
    {
        final Path file = dir.resolve(name);
        Files.writeString(file, String.join("\n",
            firstLine,
            "machine: {memory: 128M}",
            "guests:",
            "  - name: tiny",
            "    memory: 16M",
            "    disks:",
            "      - size: 8M",
            "        workload: " + workload,
            ""));
        return file;
    }

    private int execute(final String... args)
    {
        final CommandLine commandLine = PvioCommand.newCommandLine();
        commandLine.setOut(new PrintWriter(out, true));
        commandLine.setErr(new PrintWriter(err, true));
        return commandLine.execute(args);
    }
}
