package io.pvio.bench.scenario;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The native baseline engine on a real image file: exact counts shared between threads, verified writes read back,
 * corruption of the file behind the engine's back caught by its reads and by the image check, unknown contents
 * left unchecked, and failures reported.
 */
class ScenarioNativeWorkloadTest
{
    private static final int BLOCK = 4096;
    private static final long DISK = 4L << 20;
    private static final long TIMEOUT_SECONDS = 30;

    @TempDir
    Path dir;

    @Test
    void shouldReadBackExactlyWhatItWroteAcrossThreads() throws Exception
    {
        final Path image = sparse("a.img");
        final BlockVersions versions = new BlockVersions(DISK / BLOCK, true);
        final NativeDiskWorkload engine = new NativeDiskWorkload(image, workload(0.5, 4001), DISK, 3, 11, versions);
        assertEquals(3, engine.inFlight());
        run(engine);

        final WorkloadStats stats = engine.stats();
        assertEquals(4001, stats.completed(), "the count is shared out exactly");
        assertEquals(4001, stats.measured());
        assertEquals(0, stats.errors(), stats.firstError());
        assertTrue(stats.readsChecked() > 1500, "reads checked: " + stats.readsChecked());
        assertEquals(0, stats.mismatches());
        final long written = versions.written();
        assertTrue(written > 500, "blocks written: " + written);
        assertArrayEquals(new long[]{ written, 0 }, NativeDiskWorkload.checkImage(image, versions, BLOCK, 1));
    }

    @Test
    void shouldCatchTheImageChangedBehindItsBack() throws Exception
    {
        final Path image = sparse("b.img");
        final BlockVersions versions = new BlockVersions(DISK / BLOCK, true);
        run(new NativeDiskWorkload(image, workload(0.0, 3000), DISK, 2, 11, versions));
        final long written = versions.written();

        // flip one byte in every fifth block, written or not
        long corruptedWritten = 0;
        try (FileChannel channel = FileChannel.open(image, StandardOpenOption.READ, StandardOpenOption.WRITE))
        {
            final ByteBuffer one = ByteBuffer.allocate(1);
            for (long block = 0; block < DISK / BLOCK; block += 5)
            {
                one.clear();
                channel.read(one, block * BLOCK + 4000);
                one.put(0, (byte)~one.get(0)).clear();
                channel.write(one, block * BLOCK + 4000);
                corruptedWritten += versions.get(block) > 0 ? 1 : 0;
            }
        }
        assertTrue(corruptedWritten > 0);
        assertArrayEquals(new long[]{ written, corruptedWritten },
            NativeDiskWorkload.checkImage(image, versions, BLOCK, 1));

        final NativeDiskWorkload reader = new NativeDiskWorkload(image, workload(1.0, 5000), DISK, 2, 12, versions);
        run(reader);
        assertEquals(5000, reader.stats().readsChecked(), "every block is known: written or still zero");
        assertTrue(reader.stats().mismatches() > 0, "mismatches: " + reader.stats().mismatches());
        assertTrue(reader.stats().mismatches() < 5000);
    }

    @Test
    void shouldCheckOnlyBlocksOfKnownContentOnAnExistingImage() throws Exception
    {
        final Path image = dir.resolve("existing.img");
        try (RandomAccessFile file = new RandomAccessFile(image.toFile(), "rw"))
        {
            file.setLength(DISK);
            file.write(new byte[]{ 1, 2, 3 });
        }
        final BlockVersions versions = new BlockVersions(DISK / BLOCK, false);
        final NativeDiskWorkload reader = new NativeDiskWorkload(image, workload(1.0, 2000), DISK, 1, 11, versions);
        run(reader);
        assertEquals(2000, reader.stats().completed());
        assertEquals(0, reader.stats().readsChecked());

        final NativeDiskWorkload mixed = new NativeDiskWorkload(image, workload(0.5, 4000), DISK, 2, 12, versions);
        run(mixed);
        assertTrue(mixed.stats().readsChecked() > 0, "reads of blocks written in this run are checked");
        assertEquals(0, mixed.stats().mismatches());
    }

    @Test
    void shouldCheckEveryReadOfAReadOnlyWorkload() throws Exception
    {
        final Path image = sparse("ro.img");
        final NativeDiskWorkload reader = new NativeDiskWorkload(image, workload(1.0, 1000), DISK, 2, 11,
            new BlockVersions(DISK / BLOCK, true));
        run(reader);
        assertEquals(0, reader.stats().errors(), reader.stats().firstError());
        assertEquals(1000, reader.stats().readsChecked());
        assertEquals(0, reader.stats().mismatches());
    }

    @Test
    void shouldReportAnImageItCannotOpen() throws Exception
    {
        final NativeDiskWorkload engine = new NativeDiskWorkload(dir.resolve("missing.img"), workload(0.5, 100), DISK,
            2, 11, null);
        run(engine);
        assertEquals(1, engine.stats().errors());
        assertTrue(engine.stats().firstError().contains("missing.img"), engine.stats().firstError());
        assertEquals(0, engine.stats().completed());
    }

    @Test
    void shouldRunUntilStoppedWithoutACount() throws Exception
    {
        final NativeDiskWorkload engine = new NativeDiskWorkload(sparse("d.img"), workload(0.7, 0), DISK, 2, 11,
            null);
        engine.start(System.nanoTime());
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS);
        while (engine.stats().completed() < 1000 && System.nanoTime() - deadline < 0)
        {
            Thread.sleep(1);
        }
        assertFalse(engine.awaitFinished(0, TimeUnit.SECONDS));
        engine.stop();
        assertTrue(engine.awaitFinished(TIMEOUT_SECONDS, TimeUnit.SECONDS));
        assertTrue(engine.stats().completed() >= 1000);
        assertEquals(0, engine.stats().readsChecked(), "not verified");
        assertTrue(engine.stats().latency().getTotalCount() >= 1000);
    }

    @Test
    void shouldUseNoMoreThreadsThanBlocks() throws Exception
    {
        final Path image = sparse("tiny.img");
        final NativeDiskWorkload engine = new NativeDiskWorkload(image, workload(0.5, 100), 2L * BLOCK, 4, 11,
            new BlockVersions(2, true));
        assertEquals(2, engine.inFlight());
        run(engine);
        assertEquals(100, engine.stats().completed());
        assertEquals(0, engine.stats().mismatches());
    }

    private Path sparse(final String name) throws IOException
    {
        final Path image = dir.resolve(name);
        try (RandomAccessFile file = new RandomAccessFile(image.toFile(), "rw"))
        {
            file.setLength(DISK);
        }
        assertEquals(DISK, Files.size(image));
        return image;
    }

    private static void run(final NativeDiskWorkload engine) throws InterruptedException
    {
        engine.start(System.nanoTime());
        assertTrue(engine.awaitFinished(TIMEOUT_SECONDS, TimeUnit.SECONDS), "finished");
    }

    private static Scenario.Workload workload(final double readShare, final long count)
    {
        return new Scenario.Workload(true, BLOCK, 32, readShare, 0 == count ? 60_000_000_000L : 0, count, 0, true, 1,
            true);
    }
}
