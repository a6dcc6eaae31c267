package io.pvio.bench.ring;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import io.pvio.ring.MappedRingFile;
import io.pvio.ring.RingGeometry;
import io.pvio.ring.SharedRingDescriptor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Runs pvio's ring against a C peer compiled with gcc against Xen's own {@code /usr/include/xen/io/ring.h}, over a
 * shared file, in both roles. Needs Debian's {@code libxen-dev} and {@code gcc}; {@code .ci/run} installs them, and
 * under CI a missing header fails the test instead of skipping it.
 */
class RingPeerInteropTest
{
    private static final Path SOURCE = Paths.get("src/test/c/pvio_ring_peer.c");
    private static final Path RING_H = Paths.get("/usr/include/xen/io/ring.h");
    private static Path peer;

    @TempDir
    Path dir;

    @BeforeAll
    static void compilePeer() throws IOException, InterruptedException
    {
        final boolean haveToolchain = Files.exists(RING_H) && onPath("gcc");
        if (!haveToolchain && null != System.getenv("CI"))
        {
            throw new IllegalStateException("CI must provide gcc and " + RING_H + " (apt-get install libxen-dev gcc)");
        }
        assumeTrue(haveToolchain, "needs gcc and " + RING_H + " (apt-get install libxen-dev gcc)");
        final Path out = Paths.get("target", "c-peer");
        Files.createDirectories(out);
        peer = out.resolve("pvio_ring_peer").toAbsolutePath();
        final Process gcc = new ProcessBuilder(
            "gcc", "-O2", "-Wall", "-Wextra", "-Werror", "-D__XEN_TOOLS__", "-o", peer.toString(), SOURCE.toString())
            .redirectErrorStream(true).start();
        final String output = new String(gcc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, gcc.waitFor(), "gcc failed:\n" + output);
    }

    private static boolean onPath(final String command)
    {
        for (final String dir : System.getenv().getOrDefault("PATH", "").split(":"))
        {
            if (Files.isExecutable(Paths.get(dir, command)))
            {
                return true;
            }
        }
        return false;
    }

    @ParameterizedTest(name = "Java front, C back: {0} pages, R={1}, S={2}, start={4}")
    @CsvSource({
        "1, 112, 16, 200000, 0",
        "16, 112, 16, 200000, 0",
        "1, 64, 64, 200000, 0",
        "4, 8, 8, 300000, 0",
        "2, 16, 112, 100000, 0",
        "1, 112, 16, 100000, 4294967000"
    })
    void shouldExchangeWithCBackEnd(
        final int pages, final int requestBytes, final int responseBytes, final long count, final long start)
        throws Exception
    {
        final Path file = dir.resolve("ring");
        final Process back = startPeer("back-echo", file, pages, requestBytes, responseBytes, count, null);
        final Captured front = new Captured();
        final int status = RingPeer.frontSend(
            new RingPeerOptions(file, pages, requestBytes, responseBytes, count, (int)start, 30), front.out, front.err);

        assertEquals(0, status, front.err());
        assertTrue(front.out().startsWith("front-send: count=" + count + " entries="), front.out());
        assertPeerSucceeded(back, "back-echo: count=" + count);
    }

    @ParameterizedTest(name = "C front, Java back: {0} pages, R={1}, S={2}, start={4}")
    @CsvSource({
        "1, 112, 16, 200000, 0",
        "8, 112, 16, 200000, 0",
        "1, 64, 64, 200000, 0",
        "16, 8, 8, 300000, 0",
        "1, 16, 112, 100000, 0",
        "2, 64, 64, 100000, 4294967000"
    })
    void shouldExchangeWithCFrontEnd(
        final int pages, final int requestBytes, final int responseBytes, final long count, final long start)
        throws Exception
    {
        final Path file = dir.resolve("ring");
        final Process front = startPeer("front-send", file, pages, requestBytes, responseBytes, count, start);
        final Captured back = new Captured();
        final int status = RingPeer.backEcho(
            new RingPeerOptions(file, pages, requestBytes, responseBytes, count, 0, 30), back.out, back.err);

        assertEquals(0, status, back.err());
        assertTrue(back.out().startsWith("back-echo: count=" + count + " entries="), back.out());
        assertPeerSucceeded(front, "front-send: count=" + count);
    }

    @Test
    void shouldWarmUpOnAPrivateRingThenServeTheCFrontEndAsBefore() throws Exception
    {
        final Path file = dir.resolve("ring");
        final Process front = startPeer("front-send", file, 4, 64, 64, 300000, 0L);
        final Captured back = new Captured();
        final int status = RingPeer.backEcho(new RingPeerOptions(file, 4, 64, 64, 300000, 0, 30), 500000,
            back.out, back.err);

        assertEquals(0, status, back.err());
        final String[] lines = back.out().split("\n");
        assertEquals("back-echo: warmed up with 500000 requests on a private ring; attaching " + file, lines[0]);
        assertTrue(lines[1].startsWith("back-echo: count=300000 entries="), back.out());
        assertPeerSucceeded(front, "front-send: count=300000");
    }

    @Test
    void shouldCutOffHostileFrontEndWithAMessage() throws Exception
    {
        final Path file = dir.resolve("ring");
        final RingGeometry geometry = RingGeometry.ofPages(1, 112, 16, 1);
        try (MappedRingFile ring = MappedRingFile.create(file, geometry, 0))
        {
            ring.buffer().putIntVolatile(SharedRingDescriptor.REQ_PROD_OFFSET, 1000);
        }
        final Captured back = new Captured();
        final int status = RingPeer.backEcho(new RingPeerOptions(file, 1, 112, 16, 10, 0, 5), back.out, back.err);

        assertEquals(RingPeer.FAILED, status);
        assertEquals(
            "back-echo: hostile front end: ATTACH_INCONSISTENT: req_prod=1000 rsp_prod=0 size=32 " +
            "(expected: req_prod - rsp_prod <= size)", back.err().trim());

        final Process cBack = startPeer("back-echo", file, 1, 112, 16, 10, null);
        assertTrue(cBack.waitFor(30, TimeUnit.SECONDS));
        assertEquals(1, cBack.exitValue(), "the C back end refuses the same ring");
    }

    @Test
    void shouldReportTimeoutWhenNoPeerAnswers() throws Exception
    {
        final Path file = dir.resolve("ring");
        final Captured front = new Captured();
        final int status = RingPeer.frontSend(new RingPeerOptions(file, 1, 64, 64, 10, 0, 1), front.out, front.err);

        assertEquals(RingPeer.FAILED, status);
        assertTrue(front.err().startsWith("front-send: timeout: no response for 1 s; sent=10 received=0"),
            front.err());
    }

    private Process startPeer(
        final String role, final Path file, final int pages, final int requestBytes, final int responseBytes,
        final long count, final Long start) throws IOException
    {
        final List<String> command = new ArrayList<>(List.of(
            peer.toString(), role, "--file", file.toString(), "--pages", Integer.toString(pages),
            "--request-bytes", Integer.toString(requestBytes), "--response-bytes", Integer.toString(responseBytes),
            "--count", Long.toString(count), "--timeout-s", "30"));
        if (null != start)
        {
            command.add("--start-index");
            command.add(Long.toString(start));
        }
        return new ProcessBuilder(command).redirectOutput(dir.resolve(role + ".out").toFile())
            .redirectError(dir.resolve(role + ".err").toFile()).start();
    }

    private void assertPeerSucceeded(final Process process, final String expectedStart) throws Exception
    {
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "C peer did not finish");
        final String role = expectedStart.substring(0, expectedStart.indexOf(':'));
        final String out = Files.readString(dir.resolve(role + ".out"));
        final String err = Files.readString(dir.resolve(role + ".err"));
        assertEquals(0, process.exitValue(), "C peer failed: " + err);
        assertTrue(out.startsWith(expectedStart), out);
    }

    private static final class Captured
    {
        private final ByteArrayOutputStream outBytes = new ByteArrayOutputStream();
        private final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
        final PrintStream out = new PrintStream(outBytes, true, StandardCharsets.UTF_8);
        final PrintStream err = new PrintStream(errBytes, true, StandardCharsets.UTF_8);

        String out()
        {
            return outBytes.toString(StandardCharsets.UTF_8);
        }

        String err()
        {
            return errBytes.toString(StandardCharsets.UTF_8);
        }
    }
}
