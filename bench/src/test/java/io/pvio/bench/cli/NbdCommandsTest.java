package io.pvio.bench.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import io.pvio.bench.ExternalTools;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@code pvio nbd serve} and {@code pvio bench nbd}: argument checks, an image served to nbdcopy, and a short
 * comparison run against nbdkit.
 */
class NbdCommandsTest
{
    @TempDir
    Path directory;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    @Test
    void serveExportsAnImageThatNbdcopyReadsBackUnchanged() throws Exception
    {
        ExternalTools.requireTool("/usr/bin/nbdcopy", "libnbd-bin");
        final Path image = directory.resolve("disk.img");
        final byte[] data = new byte[4 << 20];
        new Random(5).nextBytes(data);
        Files.write(image, data);
        final int port = freePort();
        final CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() -> execute("nbd", "serve",
            "--image", image.toString(), "--port", Integer.toString(port), "--name", "img", "--duration", "8s",
            "--halt-poll", "0.05ms"));
        awaitOutput("as nbd://127.0.0.1:" + port + "/img (blkback serves in turn, halt-poll 0.05ms, idle-spin 0ms)");
        final Path copy = directory.resolve("copy.img");
        final Process nbdcopy = new ProcessBuilder("nbdcopy", "nbd://127.0.0.1:" + port + "/img", copy.toString())
            .redirectErrorStream(true).start();
        final String output = new String(nbdcopy.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(nbdcopy.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, nbdcopy.exitValue(), output);
        assertArrayEquals(data, Files.readAllBytes(copy));
        assertEquals(PvioCommand.EXIT_OK, exit.get(30, TimeUnit.SECONDS), err.toString());
        assertTrue(out.toString().contains("nbd: stopped; "), out.toString());
    }

    @Test
    void serveRejectsBadArgumentsNamingTheValue() throws IOException
    {
        assertEquals(PvioCommand.EXIT_USAGE, execute("nbd", "serve", "--port", "70000"));
        assertTrue(err.toString().contains("'--port': 70000 (expected: 0 to 65535)"), err.toString());
        assertEquals(PvioCommand.EXIT_USAGE, execute("nbd", "serve", "--size", "5000"));
        assertTrue(err.toString().contains("'--size': 5000 (expected: a size such as 256M"), err.toString());
        assertEquals(PvioCommand.EXIT_USAGE, execute("nbd", "serve", "--image", directory.resolve("none").toString()));
        assertTrue(err.toString().contains("(expected: an existing regular file)"), err.toString());
        final Path image = Files.write(directory.resolve("x.img"), new byte[4096]);
        assertEquals(PvioCommand.EXIT_USAGE, execute("nbd", "serve", "--image", image.toString(), "--size", "1M"));
        assertTrue(err.toString().contains("no --size with --image"), err.toString());
        assertEquals(PvioCommand.EXIT_USAGE, execute("nbd", "serve", "--name", ""));
        assertTrue(err.toString().contains("'--name':  (expected: 1 to 4096 characters, no NUL)"), err.toString());
        assertEquals(PvioCommand.EXIT_USAGE, execute("nbd", "serve", "--io-workers", "257"));
        assertTrue(err.toString().contains("'--io-workers': 257 (expected: 0 to 256)"), err.toString());
        assertEquals(PvioCommand.EXIT_USAGE, execute("nbd", "serve", "--halt-poll", "11ms"));
        assertTrue(err.toString().contains("'--halt-poll': 11ms (expected: a duration from 0ms to 10ms"),
            err.toString());
    }

    @Test
    void benchRejectsBadArgumentsNamingTheValue()
    {
        assertEquals(PvioCommand.EXIT_USAGE, execute("bench", "nbd", "--rw", "trim"));
        assertTrue(err.toString().contains("'--rw': trim (expected: randread, randwrite, randrw, read, write)"),
            err.toString());
        assertEquals(PvioCommand.EXIT_USAGE, execute("bench", "nbd", "--bs", "1000"));
        assertTrue(err.toString().contains("'--bs': 1000"), err.toString());
        assertEquals(PvioCommand.EXIT_USAGE, execute("bench", "nbd", "--iodepth", "0"));
        assertEquals(PvioCommand.EXIT_USAGE, execute("bench", "nbd", "--runtime", "1.5s"));
        assertTrue(err.toString().contains("'--runtime': 1.5s (expected: whole seconds"), err.toString());
        assertEquals(PvioCommand.EXIT_USAGE, execute("bench", "nbd", "--idle-spin", "fast"));
        assertTrue(err.toString().contains("'--idle-spin': fast (expected: a duration from 0ms to 10ms"),
            err.toString());
    }

    @Test
    void benchComparesPvioWithNbdkitInOneRun()
    {
        ExternalTools.requireTool("/usr/bin/fio", "fio");
        ExternalTools.requireTool("/usr/bin/nbdkit", "nbdkit");
        assertEquals(PvioCommand.EXIT_OK, execute("bench", "nbd", "--runtime", "1s", "--rounds", "1", "--size",
            "16M", "--iodepth", "8", "--io-workers", "2"), err.toString());
        final String report = out.toString();
        assertTrue(report.contains("pvio: blkback 2 I/O workers, halt-poll 0ms, idle-spin 0ms; nbdkit: "), report);
        final Matcher pvio = Pattern.compile("\\n1\\s+pvio\\s+([\\d,]+)").matcher(report);
        final Matcher kit = Pattern.compile("\\n1\\s+nbdkit\\s+([\\d,]+).*?(\\d+\\.\\d\\d)\\n").matcher(report);
        assertTrue(pvio.find() && kit.find(), report);
        final double ratio = Double.parseDouble(pvio.group(1).replace(",", "")) /
            Double.parseDouble(kit.group(1).replace(",", ""));
        assertEquals(ratio, Double.parseDouble(kit.group(2)), 0.006, report);
        assertTrue(report.contains("median pvio/nbdkit IOPS ratio over 1 round(s): "), report);
    }

    private void awaitOutput(final String text) throws InterruptedException
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!out.toString().contains(text))
        {
            if (System.nanoTime() - deadline > 0)
            {
                fail("no '" + text + "' in 30 s: " + out + err);
            }
            Thread.sleep(20);
        }
    }

    private static int freePort() throws IOException
    {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress()))
        {
            return socket.getLocalPort();
        }
    }


    private int execute(final String... args)
    {
        final CommandLine commandLine = PvioCommand.newCommandLine();
        commandLine.setOut(new PrintWriter(out, true));
        commandLine.setErr(new PrintWriter(err, true));
        return commandLine.execute(args);
    }
}
