package io.pvio.bench.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ExperimentCommandTest
{
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int execute(final String... args)
    {
        final CommandLine commandLine = PvioCommand.newCommandLine();
        commandLine.setOut(new PrintWriter(out, true));
        commandLine.setErr(new PrintWriter(err, true));
        return commandLine.execute(args);
    }

    @Test
    void listNamesEveryExperimentOnALine()
    {
        assertEquals(PvioCommand.EXIT_OK, execute("experiment", "--list"));
        final String[] lines = out.toString().split("\n");
        assertEquals(13, lines.length, out.toString());
        assertTrue(lines[0].startsWith("e1 "));
        assertTrue(lines[1].startsWith("e2 "));
        assertTrue(lines[2].startsWith("e3 "));
        assertTrue(lines[3].startsWith("e4 "));
        assertTrue(lines[5].startsWith("e5b "));
        assertTrue(lines[11].startsWith("e12 "));
        assertTrue(lines[12].startsWith("e13 "));
    }

    @Test
    void anUnknownOrMissingNameIsAUsageError()
    {
        assertEquals(PvioCommand.EXIT_USAGE, execute("experiment", "e99"));
        assertTrue(err.toString().contains("unknown experiment \"e99\" (expected one of e1, e2, e3, e4, e5, e5b, e6, " +
            "e7, e8, e9, e10, e12, e13, all)"), err.toString());
        assertEquals(PvioCommand.EXIT_USAGE, execute("experiment"));
        assertTrue(err.toString().contains("missing NAME"), err.toString());
        assertEquals(PvioCommand.EXIT_USAGE, execute("experiment", "e4", "--seed", "x"));
    }

    @Test
    void runsAndWritesItsFiles(@TempDir final Path dir) throws Exception
    {
        assertEquals(PvioCommand.EXIT_OK, execute("experiment", "e10", "--quick", "--out", dir.toString()),
            err.toString());
        assertTrue(out.toString().contains("PASS  the estimate follows an increase within one period"), out.toString());
        for (final String file : new String[] {"e10.csv", "e10.json", "e10.png", "e10.svg"})
        {
            assertTrue(Files.size(dir.resolve(file)) > 0, file);
        }
        assertTrue(err.toString().contains("e10: 60 periods"), "progress goes to stderr: " + err);
        final Path notADirectory = Files.writeString(dir.resolve("file"), "x");
        assertEquals(PvioCommand.EXIT_USAGE, execute("experiment", "e10", "--out", notADirectory.toString()));
    }
}
