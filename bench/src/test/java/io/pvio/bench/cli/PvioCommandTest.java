package io.pvio.bench.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PvioCommandTest
{
    private static final String[] VALID_PEER_ARGS =
    {
        "--file", "ring.bin", "--pages", "1", "--request-bytes", "64", "--response-bytes", "32", "--count", "10"
    };

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    @ParameterizedTest
    @ValueSource(strings = { "front-send", "back-echo" })
    void shouldRejectPagesWhenNotPowerOfTwoUpToSixteen(final String peer)
    {
        final int exitCode = execute(peerArgs(peer, "--pages", "3"));

        assertEquals(PvioCommand.EXIT_USAGE, exitCode, err.toString());
        assertTrue(
            err.toString().contains("Invalid value for option '--pages': 3 (expected: one of 1, 2, 4, 8, 16)"),
            err.toString());
    }

    @ParameterizedTest
    @ValueSource(strings = { "front-send", "back-echo" })
    void shouldRejectCommandWhenFileIsMissing(final String peer)
    {
        final List<String> args = new ArrayList<>(List.of("ring", peer));
        args.addAll(Arrays.asList(VALID_PEER_ARGS).subList(2, VALID_PEER_ARGS.length));

        final int exitCode = execute(args.toArray(new String[0]));

        assertEquals(PvioCommand.EXIT_USAGE, exitCode, err.toString());
        assertTrue(err.toString().contains("Missing required option: '--file=PATH'"), err.toString());
    }

    @ParameterizedTest
    @ValueSource(strings = { "front-send", "back-echo" })
    void shouldRejectCountWhenNegative(final String peer)
    {
        final int exitCode = execute(peerArgs(peer, "--count", "-5"));

        assertEquals(PvioCommand.EXIT_USAGE, exitCode, err.toString());
        assertTrue(
            err.toString().contains("Invalid value for option '--count': -5 (expected: a positive number"),
            err.toString());
    }

    @Test
    void shouldRejectRequestBytesWhenOneEntryDoesNotFitTheRing()
    {
        final int exitCode = execute(peerArgs("front-send", "--request-bytes", "4033"));

        assertEquals(PvioCommand.EXIT_USAGE, exitCode, err.toString());
        assertTrue(
            err.toString().contains("Invalid value for option '--request-bytes': 4033 (expected: at most 4032 bytes"),
            err.toString());
    }

    @Test
    void shouldRejectResponseBytesAndTimeoutWhenNotPositive()
    {
        final int exitCode = execute(peerArgs("back-echo", "--response-bytes", "0", "--timeout-s", "0"));

        assertEquals(PvioCommand.EXIT_USAGE, exitCode, err.toString());
        assertTrue(err.toString().contains("Invalid value for option '--response-bytes': 0"), err.toString());
        assertTrue(err.toString().contains("Invalid value for option '--timeout-s': 0"), err.toString());
    }

    @Test
    void shouldRejectStartIndexWhenAbove32Bits()
    {
        final int exitCode = execute(peerArgs("front-send", "--start-index", "0x100000000"));

        assertEquals(PvioCommand.EXIT_USAGE, exitCode, err.toString());
        assertTrue(
            err.toString().contains("Invalid value for option '--start-index': '0x100000000' is out of range"),
            err.toString());
    }

    @Test
    void shouldRejectCountWhenNotANumber()
    {
        final int exitCode = execute(peerArgs("front-send", "--count", "lots"));

        assertEquals(PvioCommand.EXIT_USAGE, exitCode, err.toString());
        assertTrue(err.toString().contains("'--count'"), err.toString());
        assertTrue(err.toString().contains("lots"), err.toString());
    }

    @Test
    void shouldPointToHelpWhenArgumentsAreBad()
    {
        execute(peerArgs("front-send", "--pages", "3"));

        assertTrue(
            err.toString().contains("Try 'pvio ring front-send --help' for more information."), err.toString());
    }

    @Test
    void shouldParseStartIndexAsUnsigned32BitDecimalOrHex()
    {
        final RingPeerArgs.RingIndexConverter converter = new RingPeerArgs.RingIndexConverter();

        assertEquals(0, converter.convert("0"));
        assertEquals(-16, converter.convert("0xfffffff0"));
        assertEquals(-1, converter.convert("4294967295"));
        assertEquals(0x7FFF_FFFF, converter.convert("0X7FFFFFFF"));
    }

    @ParameterizedTest
    @ValueSource(strings = { "", "ring", "ring front-send", "ring back-echo", "bench", "bench ring" })
    void shouldPrintUsageWhenHelpIsAsked(final String command)
    {
        final List<String> args = new ArrayList<>();
        if (!command.isEmpty())
        {
            args.addAll(List.of(command.split(" ")));
        }
        args.add("--help");

        final int exitCode = execute(args.toArray(new String[0]));

        assertEquals(PvioCommand.EXIT_OK, exitCode, err.toString());
        assertTrue(out.toString().startsWith("Usage: pvio" + (command.isEmpty() ? "" : " " + command)), out.toString());
        assertEquals("", err.toString());
    }

    @Test
    void shouldListCommandsInTopLevelHelp()
    {
        execute("--help");

        assertTrue(out.toString().contains("ring"), out.toString());
        assertTrue(out.toString().contains("bench"), out.toString());
    }

    @Test
    void shouldPrintProjectVersion()
    {
        final int exitCode = execute("--version");

        assertEquals(PvioCommand.EXIT_OK, exitCode);
        assertTrue(out.toString().startsWith("pvio " + VersionProvider.projectVersion()), out.toString());
        assertFalse(out.toString().startsWith("pvio unknown"), out.toString());
    }

    @Test
    void shouldRequireSubcommandWhenNoneIsGiven()
    {
        final int exitCode = execute();

        assertEquals(PvioCommand.EXIT_USAGE, exitCode);
        assertTrue(err.toString().contains("Missing required subcommand"), err.toString());
    }

    private int execute(final String... args)
    {
        final CommandLine commandLine = PvioCommand.newCommandLine();
        commandLine.setOut(new PrintWriter(out, true));
        commandLine.setErr(new PrintWriter(err, true));
        return commandLine.execute(args);
    }

    private static String[] peerArgs(final String peer, final String... overrides)
    {
        final Map<String, String> options = new LinkedHashMap<>();
        for (int i = 0; i < VALID_PEER_ARGS.length; i += 2)
        {
            options.put(VALID_PEER_ARGS[i], VALID_PEER_ARGS[i + 1]);
        }
        for (int i = 0; i < overrides.length; i += 2)
        {
            options.put(overrides[i], overrides[i + 1]);
        }

        final List<String> args = new ArrayList<>(List.of("ring", peer));
        options.forEach((name, value) ->
        {
            args.add(name);
            args.add(value);
        });
        return args.toArray(new String[0]);
    }
}
