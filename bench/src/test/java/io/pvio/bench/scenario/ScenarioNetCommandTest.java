package io.pvio.bench.scenario;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.pvio.bench.cli.PvioCommand;
import picocli.CommandLine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code pvio run scenarios/net-guest-to-guest.yaml --duration 200ms}: the shipped network scenario runs from the
 * command line, prints its network tables and writes them to the JSON report; a bad network field exits with 2.
 */
class ScenarioNetCommandTest
{
    @TempDir
    Path dir;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    @Test
    void shouldRunTheShippedGuestToGuestScenarioWithAShortDuration() throws Exception
    {
        final Path json = dir.resolve("net.json");
        final String file = Path.of("..", "scenarios", "net-guest-to-guest.yaml").toString();
        assertEquals(PvioCommand.EXIT_OK, execute("run", file, "--duration", "200ms", "--no-xenstore-socket",
            "--json", json.toString()), err.toString());
        final String printed = out.toString();
        assertTrue(printed.startsWith("scenario: " + file + ": guest-to-guest UDP"), printed);
        assertTrue(printed.contains("emu-stream-1472: emulated/full emu-a -> emu-b, stream"), printed);
        assertTrue(printed.contains("Network paths side by side"), printed);
        assertFalse(printed.contains("Through the guests' drivers"), "no disks, no disk tables: " + printed);
        assertTrue(printed.contains("Result: clean"), printed);
        final ScenarioReport report = ScenarioReport.readJson(json);
        assertTrue(report.clean());
        assertEquals(6, report.network().size());
        for (final ScenarioReport.NetReport n : report.network())
        {
            assertTrue(n.measured().packets() > 0, n.name());
        }
        assertEquals("", err.toString());
    }

    @Test
    void shouldRefuseABadNetworkFieldWithExitCode2BeforeStartingAnything() throws Exception
    {
        final Path bad = dir.resolve("bad.yaml");
        Files.writeString(bad, "guests: [{name: a, nics: [{}]}, {name: b, nics: [{}]}]\n" +
            "network: [{from: a, to: b, payload: 2000}]\n");
        assertEquals(PvioCommand.EXIT_USAGE, execute("run", bad.toString()));
        assertEquals("pvio run: " + bad + ": network[0].payload: expected a whole number from 18 to 1472, got 2000" +
            System.lineSeparator(), err.toString());
        assertEquals("", out.toString(), "nothing started");
    }

    private int execute(final String... args)
    {
        final CommandLine commandLine = PvioCommand.newCommandLine();
        commandLine.setOut(new PrintWriter(out, true));
        commandLine.setErr(new PrintWriter(err, true));
        return commandLine.execute(args);
    }
}
