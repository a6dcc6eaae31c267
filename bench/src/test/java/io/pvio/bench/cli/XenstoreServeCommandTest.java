package io.pvio.bench.cli;

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
import picocli.CommandLine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code pvio xenstore serve}: argument checks, and a served store read and written by Xen's own tools.
 */
class XenstoreServeCommandTest
{
    private static final Path XENSTORE_READ = Path.of("/usr/bin/xenstore-read");

    @TempDir
    Path directory;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    @Test
    void servesNamedDomainsAndNodesToXenstoreToolsThenRemovesTheSocket() throws Exception
    {
        final boolean present = Files.isExecutable(XENSTORE_READ);
        if (!present && "1".equals(System.getenv("PVIO_REQUIRE_TOOLS")))
        {
            fail("xenstore-utils is not installed and PVIO_REQUIRE_TOOLS=1");
        }
        assumeTrue(present, "needs xenstore-utils");
        final Path socket = directory.resolve("xs.sock");
        final CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() -> execute("--socket",
            socket.toString(), "--domain", "3=guest-three", "--set", "/tool/pvio=demo", "--duration", "6s"));
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!Files.exists(socket) && System.nanoTime() < deadline)
        {
            Thread.sleep(10);
        }

        assertEquals("Domain-0\n", tool(socket, "xenstore-read", "/local/domain/0/name"));
        assertEquals("guest-three\n3\n",
            tool(socket, "xenstore-read", "/local/domain/3/name", "/local/domain/3/domid"));
        assertEquals("demo\n", tool(socket, "xenstore-read", "/tool/pvio"));
        tool(socket, "xenstore-write", "/tool/answer", "42");
        assertEquals("42\n", tool(socket, "xenstore-read", "/tool/answer"));
        assertTrue(out.toString().contains("xenstore: serving on " + socket), out.toString());

        assertFalse(exit.isDone(), "stopped before --duration");
        assertEquals(PvioCommand.EXIT_OK, exit.get(30, TimeUnit.SECONDS), err.toString());
        assertFalse(Files.exists(socket), "the socket is removed when serving stops");
        assertTrue(out.toString().contains("xenstore: stopped; "), out.toString());
    }

    @Test
    void rejectsADomainIdOutOfRangeOrGivenTwice()
    {
        final String socket = directory.resolve("a.sock").toString();
        assertEquals(PvioCommand.EXIT_USAGE, execute("--socket", socket, "--domain", "0=dom0"));
        assertTrue(err.toString().contains("Invalid value for option '--domain': 0=dom0 (expected: ID=NAME with ID " +
            "a number from 1 to 32751)"), err.toString());
        assertEquals(PvioCommand.EXIT_USAGE, execute("--socket", socket, "--domain", "4=a", "--domain", "4=b"));
        assertTrue(err.toString().contains("'--domain': 4=b (expected: a domain id not given before)"), err.toString());
        assertFalse(Files.exists(Path.of(socket)), "nothing is served on bad arguments");
    }

    @Test
    void rejectsABadDomainNameNamingTheCharacter()
    {
        assertEquals(PvioCommand.EXIT_USAGE,
            execute("--socket", directory.resolve("b.sock").toString(), "--domain", "2=no/slash"));
        assertTrue(err.toString().contains("character 3 is not allowed"), err.toString());
    }

    @Test
    void rejectsARelativeOrInvalidNodePath()
    {
        final String socket = directory.resolve("c.sock").toString();
        assertEquals(PvioCommand.EXIT_USAGE, execute("--socket", socket, "--set", "tool=1"));
        assertTrue(err.toString().contains("'--set': tool=1 (expected: PATH=VALUE with PATH absolute"),
            err.toString());
        assertEquals(PvioCommand.EXIT_USAGE, execute("--socket", socket, "--set", "/a b=1"));
        assertTrue(err.toString().contains("--set: /a b=1: EINVAL"), err.toString());
        assertFalse(Files.exists(Path.of(socket)));
    }

    @Test
    void rejectsASocketPathThatIsAFileOrInAMissingDirectory() throws IOException
    {
        final Path file = Files.writeString(directory.resolve("file"), "keep");
        assertEquals(PvioCommand.EXIT_USAGE, execute("--socket", file.toString()));
        assertTrue(err.toString().contains("a path that is free or holds a socket"), err.toString());
        assertEquals("keep", Files.readString(file));
        assertEquals(PvioCommand.EXIT_USAGE, execute("--socket", directory.resolve("no/such/xs.sock").toString()));
        assertTrue(err.toString().contains("a path in an existing directory"), err.toString());
    }

    @Test
    void rejectsMaxConnectionsAndDurationOutOfRange()
    {
        final String socket = directory.resolve("d.sock").toString();
        assertEquals(PvioCommand.EXIT_USAGE, execute("--socket", socket, "--max-connections", "0"));
        assertTrue(err.toString().contains("'--max-connections': 0 (expected: 1 to 1024)"), err.toString());
        assertEquals(PvioCommand.EXIT_USAGE, execute("--socket", socket, "--duration", "forever"));
        assertTrue(err.toString().contains("'--duration': forever (expected: a duration like"), err.toString());
    }

    private int execute(final String... args)
    {
        final CommandLine commandLine = PvioCommand.newCommandLine();
        commandLine.setOut(new PrintWriter(out, true));
        commandLine.setErr(new PrintWriter(err, true));
        final String[] full = new String[args.length + 2];
        full[0] = "xenstore";
        full[1] = "serve";
        System.arraycopy(args, 0, full, 2, args.length);
        return commandLine.execute(full);
    }

    private static String tool(final Path socket, final String... command) throws IOException, InterruptedException
    {
        final ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("XENSTORED_PATH", socket.toString());
        final Process process = builder.start();
        final String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(20, TimeUnit.SECONDS), String.join(" ", command) + " did not finish");
        assertEquals(0, process.exitValue(), String.join(" ", command) + ": " + output);
        return output;
    }
}
