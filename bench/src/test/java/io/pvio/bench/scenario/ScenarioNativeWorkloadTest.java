package io.pvio.bench.scenario;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import com.sun.nio.file.ExtendedOpenOption;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.pvio.backend.block.FileBlockStore;
import io.pvio.backend.block.UringFile;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The native baseline engine on a real image file: the workload's queue depth of I/Os really in flight at once,
 * exact counts shared between threads, verified writes read back, corruption of the file behind the engine's back
 * caught by its reads and by the image check, unknown contents left unchecked, O_DIRECT, and failures reported.
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
        final NativeDiskWorkload engine = new NativeDiskWorkload(image, workload(3, 0.5, 4001), DISK, 11, versions,
            false);
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
        assertArrayEquals(new long[]{ written, 0 }, NativeDiskWorkload.checkImage(image, versions, BLOCK, 1, false));
    }

    @Test
    void shouldKeepTheWorkloadsQueueDepthOfIosInFlight() throws Exception
    {
        final int depth = 8;
        final Path image = sparse("depth.img");
        final BlockVersions versions = new BlockVersions(DISK / BLOCK, true);
        final CountingChannel[] opened = new CountingChannel[1];
        final NativeDiskWorkload engine = new NativeDiskWorkload(image, workload(depth, 0.5, 4000), DISK, 11,
            versions, false, (path, options) ->
            opened[0] = new CountingChannel(FileChannel.open(path, options), depth));
        assertEquals(depth, engine.inFlight());
        assertEquals(depth, engine.queueDepth());
        run(engine);

        final CountingChannel channel = opened[0];
        assertEquals(0, channel.gate.getCount(), "the first I/Os wait until " + depth + " are inside the channel " +
            "at once; only " + channel.most.get() + " ever were");
        assertEquals(depth, channel.most.get(), "I/Os in flight at once");
        assertEquals(depth, channel.threads.size(), "one thread per I/O in flight");
        assertEquals(4000, channel.calls.get(), "one synchronous call per 4 KiB I/O");
        assertFalse(channel.isOpen(), "the last thread closes the channel");

        final WorkloadStats stats = engine.stats();
        assertEquals(4000, stats.completed());
        assertEquals(0, stats.errors(), stats.firstError());
        assertEquals(0, stats.mismatches());
        assertTrue(stats.readsChecked() > 1500, "reads checked: " + stats.readsChecked());
        assertArrayEquals(new long[]{ versions.written(), 0 },
            NativeDiskWorkload.checkImage(image, versions, BLOCK, 1, false));
    }

    @Test
    void shouldVerifyExactlyWithODirect() throws Exception
    {
        final Path directDir = directDirectory();
        final Path image = sparse(directDir.resolve("direct.img"));
        final BlockVersions versions = new BlockVersions(DISK / BLOCK, true);
        final List<List<OpenOption>> opened = new ArrayList<>();
        final NativeDiskWorkload engine = new NativeDiskWorkload(image, workload(8, 0.5, 4000), DISK, 11, versions,
            true, (path, options) ->
            {
                opened.add(Arrays.asList(options));
                return FileChannel.open(path, options);
            });
        assertTrue(engine.direct());
        run(engine);

        assertEquals(List.of(List.of(StandardOpenOption.READ, StandardOpenOption.WRITE, ExtendedOpenOption.DIRECT)),
            opened);
        final WorkloadStats stats = engine.stats();
        assertEquals(4000, stats.completed());
        assertEquals(0, stats.errors(), stats.firstError());
        assertEquals(0, stats.mismatches());
        assertTrue(stats.readsChecked() > 1500, "reads checked: " + stats.readsChecked());
        assertArrayEquals(new long[]{ versions.written(), 0 },
            NativeDiskWorkload.checkImage(image, versions, BLOCK, 1, true));
        assertArrayEquals(new long[]{ versions.written(), 0 },
            NativeDiskWorkload.checkImage(image, versions, BLOCK, 1, false), "the page cache sees the same");
    }

    @Test
    void shouldReportABlockSizeODirectCannotUse() throws Exception
    {
        final Path directDir = directDirectory();
        final int alignment = FileBlockStore.directAlignment(directDir);
        assumeTrue(alignment > 512, "the file system's block is 512 bytes: every block size suits O_DIRECT");
        final NativeDiskWorkload engine = new NativeDiskWorkload(sparse(directDir.resolve("small.img")),
            new Scenario.Workload(true, 512, 4, 0.5, 0, 100, 0, false, 1, true), DISK, 11, null, true);
        run(engine);
        assertEquals(1, engine.stats().errors());
        assertTrue(engine.stats().firstError().contains("O_DIRECT needs a block size that is a multiple of the file " +
            "system's block size " + alignment + ", got 512"), engine.stats().firstError());
        assertEquals(0, engine.stats().completed());
    }

    @Test
    void shouldCatchTheImageChangedBehindItsBack() throws Exception
    {
        final Path image = sparse("b.img");
        final BlockVersions versions = new BlockVersions(DISK / BLOCK, true);
        run(new NativeDiskWorkload(image, workload(2, 0.0, 3000), DISK, 11, versions, false));
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
            NativeDiskWorkload.checkImage(image, versions, BLOCK, 1, false));

        final NativeDiskWorkload reader = new NativeDiskWorkload(image, workload(2, 1.0, 5000), DISK, 12, versions,
            false);
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
        final NativeDiskWorkload reader = new NativeDiskWorkload(image, workload(1, 1.0, 2000), DISK, 11, versions,
            false);
        run(reader);
        assertEquals(2000, reader.stats().completed());
        assertEquals(0, reader.stats().readsChecked());

        final NativeDiskWorkload mixed = new NativeDiskWorkload(image, workload(2, 0.5, 4000), DISK, 12, versions,
            false);
        run(mixed);
        assertTrue(mixed.stats().readsChecked() > 0, "reads of blocks written in this run are checked");
        assertEquals(0, mixed.stats().mismatches());
    }

    @Test
    void shouldCheckEveryReadOfAReadOnlyWorkload() throws Exception
    {
        final Path image = sparse("ro.img");
        final NativeDiskWorkload reader = new NativeDiskWorkload(image, workload(2, 1.0, 1000), DISK, 11,
            new BlockVersions(DISK / BLOCK, true), false);
        run(reader);
        assertEquals(0, reader.stats().errors(), reader.stats().firstError());
        assertEquals(1000, reader.stats().readsChecked());
        assertEquals(0, reader.stats().mismatches());
    }

    @Test
    void shouldReportAnImageItCannotOpen() throws Exception
    {
        final NativeDiskWorkload engine = new NativeDiskWorkload(dir.resolve("missing.img"), workload(2, 0.5, 100),
            DISK, 11, null, false);
        run(engine);
        assertEquals(1, engine.stats().errors());
        assertTrue(engine.stats().firstError().contains("missing.img"), engine.stats().firstError());
        assertEquals(0, engine.stats().completed());
    }

    @Test
    void shouldRunUntilStoppedWithoutACount() throws Exception
    {
        final NativeDiskWorkload engine = new NativeDiskWorkload(sparse("d.img"), workload(2, 0.7, 0), DISK, 11, null,
            false);
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
        final NativeDiskWorkload engine = new NativeDiskWorkload(image, workload(4, 0.5, 100), 2L * BLOCK, 11,
            new BlockVersions(2, true), false);
        assertEquals(2, engine.inFlight(), "the depth is clamped to the disk's blocks");
        assertEquals(4, engine.queueDepth());
        run(engine);
        assertEquals(100, engine.stats().completed());
        assertEquals(0, engine.stats().mismatches());
    }

    @Test
    void shouldKeepTheQueueDepthInFlightOnOneIoUringAndReadBackWhatItWrote() throws Exception
    {
        assumeIoUring();
        final int depth = 16;
        final Path image = sparse("uring.img");
        final BlockVersions versions = new BlockVersions(DISK / BLOCK, true);
        final NativeDiskWorkload engine = NativeDiskWorkload.ioUring(image, workload(depth, 0.5, 6001), DISK, 11,
            versions, false);
        assertTrue(engine.isIoUring());
        assertEquals(depth, engine.inFlight());
        engine.start(System.nanoTime());
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS);
        long loopThreads = 0;
        while (!engine.awaitFinished(0, TimeUnit.SECONDS) && System.nanoTime() - deadline < 0)
        {
            loopThreads = Math.max(loopThreads, threadsNamed("native-baseline-uring.img-uring"));
            Thread.sleep(1);
        }
        assertTrue(engine.awaitFinished(0, TimeUnit.SECONDS), "finished");
        assertTrue(loopThreads <= 1, "one loop thread, seen " + loopThreads);
        assertEquals(0, threadsAfterEnd("native-baseline-uring.img"), "no engine thread outlives the run");
        assertEquals(depth, engine.mostInFlight(), "I/Os in the ring at once");

        final WorkloadStats stats = engine.stats();
        assertEquals(6001, stats.completed(), "the count is shared out exactly between the slots");
        assertEquals(0, stats.errors(), stats.firstError());
        assertEquals(0, stats.mismatches());
        assertTrue(stats.readsChecked() > 2000, "reads checked: " + stats.readsChecked());
        assertTrue(versions.written() > 500, "blocks written: " + versions.written());
        assertArrayEquals(new long[]{ versions.written(), 0 },
            NativeDiskWorkload.checkImage(image, versions, BLOCK, 1, false));

        // what the threads engine reads next sees every write the ring made, and the other way round
        final NativeDiskWorkload threads = new NativeDiskWorkload(image, workload(4, 0.5, 2000), DISK, 12, versions,
            false);
        run(threads);
        assertEquals(0, threads.stats().mismatches());
        final NativeDiskWorkload again = NativeDiskWorkload.ioUring(image, workload(4, 1.0, 2000), DISK, 13, versions,
            false);
        run(again);
        assertEquals(2000, again.stats().readsChecked());
        assertEquals(0, again.stats().mismatches());
    }

    @Test
    void shouldVerifyExactlyOnAnIoUringWithODirect() throws Exception
    {
        assumeIoUring();
        final Path image = sparse(directDirectory().resolve("uring-direct.img"));
        final BlockVersions versions = new BlockVersions(DISK / BLOCK, true);
        final NativeDiskWorkload engine = NativeDiskWorkload.ioUring(image, workload(32, 0.3, 5000), DISK, 11,
            versions, true);
        run(engine);
        final WorkloadStats stats = engine.stats();
        assertEquals(5000, stats.completed());
        assertEquals(0, stats.errors(), stats.firstError());
        assertEquals(0, stats.mismatches());
        assertEquals(32, engine.mostInFlight());
        assertArrayEquals(new long[]{ versions.written(), 0 },
            NativeDiskWorkload.checkImage(image, versions, BLOCK, 1, true));
    }

    @Test
    void shouldCatchOnAnIoUringTheImageChangedBehindItsBack() throws Exception
    {
        assumeIoUring();
        final Path image = sparse("uring-b.img");
        final BlockVersions versions = new BlockVersions(DISK / BLOCK, true);
        run(NativeDiskWorkload.ioUring(image, workload(4, 0.0, 3000), DISK, 11, versions, false));
        try (FileChannel channel = FileChannel.open(image, StandardOpenOption.READ, StandardOpenOption.WRITE))
        {
            final ByteBuffer one = ByteBuffer.allocate(1);
            for (long block = 0; block < DISK / BLOCK; block += 5)
            {
                one.clear();
                channel.read(one, block * BLOCK + 17);
                one.put(0, (byte)~one.get(0)).clear();
                channel.write(one, block * BLOCK + 17);
            }
        }
        final NativeDiskWorkload reader = NativeDiskWorkload.ioUring(image, workload(8, 1.0, 5000), DISK, 12,
            versions, false);
        run(reader);
        assertEquals(5000, reader.stats().readsChecked());
        assertTrue(reader.stats().mismatches() > 0, "mismatches: " + reader.stats().mismatches());
        assertTrue(reader.stats().mismatches() < 5000);
    }

    @Test
    void shouldReportOnAnIoUringAnImageItCannotOpenOrReadToTheEnd() throws Exception
    {
        assumeIoUring();
        final NativeDiskWorkload missing = NativeDiskWorkload.ioUring(dir.resolve("missing.img"),
            workload(4, 0.5, 100), DISK, 11, null, false);
        run(missing);
        assertEquals(1, missing.stats().errors());
        assertTrue(missing.stats().firstError().contains("missing.img") &&
            missing.stats().firstError().contains("errno 2"), missing.stats().firstError());
        assertEquals(0, missing.stats().completed());

        // the workload spans 4 MiB, the file holds 1 block: reads past its end fail their slot, nothing hangs
        final Path cut = dir.resolve("cut.img");
        try (RandomAccessFile file = new RandomAccessFile(cut.toFile(), "rw"))
        {
            file.setLength(BLOCK);
        }
        final NativeDiskWorkload reader = NativeDiskWorkload.ioUring(cut, workload(4, 1.0, 400), DISK, 11, null,
            false);
        run(reader);
        assertEquals(4, reader.stats().errors(), "each slot stops at its first read past the end");
        assertTrue(reader.stats().firstError().contains("end of image"), reader.stats().firstError());
        assertTrue(reader.stats().completed() < 400);
        assertEquals(0, threadsAfterEnd("native-baseline-cut.img"));
    }

    @Test
    void shouldRunOnAnIoUringUntilStoppedWithoutACount() throws Exception
    {
        assumeIoUring();
        final NativeDiskWorkload engine = NativeDiskWorkload.ioUring(sparse("uring-d.img"), workload(8, 0.7, 0), DISK,
            11, null, false);
        engine.start(System.nanoTime());
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS);
        while (engine.stats().completed() < 2000 && System.nanoTime() - deadline < 0)
        {
            Thread.sleep(1);
        }
        assertFalse(engine.awaitFinished(0, TimeUnit.SECONDS));
        engine.stop();
        assertTrue(engine.awaitFinished(TIMEOUT_SECONDS, TimeUnit.SECONDS));
        assertTrue(engine.stats().completed() >= 2000);
        assertEquals(0, engine.stats().errors(), engine.stats().firstError());
        assertEquals(0, threadsAfterEnd("native-baseline-uring-d.img"));
    }

    @Test
    void shouldDrainTheRingWhenItsDriverIsInterruptedAndOnlyThenCloseIt() throws Exception
    {
        assumeIoUring();
        final NativeDiskWorkload engine = NativeDiskWorkload.ioUring(sparse("uring-i.img"), workload(8, 0.5, 0), DISK,
            11, null, false);
        engine.start(System.nanoTime());
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS);
        while (engine.stats().completed() < 1000 && System.nanoTime() - deadline < 0)
        {
            Thread.sleep(1);
        }
        final Thread driver = Thread.getAllStackTraces().keySet().stream()
            .filter(t -> t.getName().equals("native-baseline-uring-i.img-driver")).findFirst().orElseThrow();
        driver.interrupt();
        assertTrue(engine.awaitFinished(TIMEOUT_SECONDS, TimeUnit.SECONDS), "the slots stop and drain");
        assertEquals(1, engine.stats().errors());
        assertTrue(engine.stats().firstError().contains("interrupted while I/O was in flight"),
            engine.stats().firstError());
        assertEquals(8, engine.mostInFlight(), "the drain ran to its end");
        assertEquals(0, threadsAfterEnd("native-baseline-uring-i.img"), "the ring closed once drained");
    }

    private static void assumeIoUring()
    {
        final String reason = UringFile.unavailableReason();
        if (null != reason && "1".equals(System.getenv("PVIO_REQUIRE_TOOLS")))
        {
            throw new AssertionError("PVIO_REQUIRE_TOOLS=1 and " + reason);
        }
        assumeTrue(null == reason, reason);
    }

    /** Threads still alive once they had a few seconds to end after the engine finished (they end just after). */
    private static long threadsAfterEnd(final String prefix) throws InterruptedException
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (threadsNamed(prefix) > 0 && System.nanoTime() - deadline < 0)
        {
            Thread.sleep(10);
        }
        return threadsNamed(prefix);
    }

    private static long threadsNamed(final String prefix)
    {
        return Thread.getAllStackTraces().keySet().stream()
            .filter(t -> t.isAlive() && t.getName().startsWith(prefix)).count();
    }

    private Path sparse(final String name) throws IOException
    {
        return sparse(dir.resolve(name));
    }

    private static Path sparse(final Path image) throws IOException
    {
        try (RandomAccessFile file = new RandomAccessFile(image.toFile(), "rw"))
        {
            file.setLength(DISK);
        }
        assertEquals(DISK, Files.size(image));
        return image;
    }

    /** The test's directory if its file system takes O_DIRECT, else one under target/; skips the test if neither. */
    private Path directDirectory() throws IOException
    {
        if (FileBlockStore.supportsDirectIo(dir))
        {
            return dir;
        }
        final Path target = Path.of("target");
        assumeTrue(Files.isDirectory(target) && FileBlockStore.supportsDirectIo(target), "neither " + dir + " nor " +
            target.toAbsolutePath() + " accepts O_DIRECT");
        final Path own = Files.createTempDirectory(target, "pvio-native-direct-");
        own.toFile().deleteOnExit();
        return own;
    }

    private static void run(final NativeDiskWorkload engine) throws InterruptedException
    {
        engine.start(System.nanoTime());
        assertTrue(engine.awaitFinished(TIMEOUT_SECONDS, TimeUnit.SECONDS), "finished");
    }

    private static Scenario.Workload workload(final int depth, final double readShare, final long count)
    {
        return new Scenario.Workload(true, BLOCK, depth, readShare, 0 == count ? 60_000_000_000L : 0, count, 0, true,
            1, true);
    }

    /**
     * A file channel that counts the positional reads and writes inside it at once. The first {@code depth} of them
     * wait (up to a few seconds) until {@code depth} are inside together, so the engine shows the most I/Os it keeps
     * in flight rather than what the scheduler happened to overlap.
     */
    private static final class CountingChannel extends FileChannel
    {
        final FileChannel channel;
        final CountDownLatch gate;
        final AtomicInteger inside = new AtomicInteger();
        final AtomicInteger most = new AtomicInteger();
        final AtomicInteger calls = new AtomicInteger();
        final Set<Thread> threads = ConcurrentHashMap.newKeySet();

        CountingChannel(final FileChannel channel, final int depth)
        {
            this.channel = channel;
            this.gate = new CountDownLatch(depth);
        }

        @Override
        public int read(final ByteBuffer dst, final long position) throws IOException
        {
            enter();
            try
            {
                return channel.read(dst, position);
            }
            finally
            {
                inside.decrementAndGet();
            }
        }

        @Override
        public int write(final ByteBuffer src, final long position) throws IOException
        {
            enter();
            try
            {
                return channel.write(src, position);
            }
            finally
            {
                inside.decrementAndGet();
            }
        }

        private void enter() throws IOException
        {
            most.accumulateAndGet(inside.incrementAndGet(), Math::max);
            calls.incrementAndGet();
            threads.add(Thread.currentThread());
            if (gate.getCount() > 0)
            {
                gate.countDown();
                try
                {
                    gate.await(5, TimeUnit.SECONDS);
                }
                catch (final InterruptedException ex)
                {
                    Thread.currentThread().interrupt();
                    throw new IOException(ex);
                }
            }
        }

        @Override
        public int read(final ByteBuffer dst) throws IOException
        {
            throw new UnsupportedOperationException("the engine uses positional I/O only");
        }

        @Override
        public long read(final ByteBuffer[] dsts, final int offset, final int length) throws IOException
        {
            throw new UnsupportedOperationException("the engine uses positional I/O only");
        }

        @Override
        public int write(final ByteBuffer src) throws IOException
        {
            throw new UnsupportedOperationException("the engine uses positional I/O only");
        }

        @Override
        public long write(final ByteBuffer[] srcs, final int offset, final int length) throws IOException
        {
            throw new UnsupportedOperationException("the engine uses positional I/O only");
        }

        @Override
        public long position() throws IOException
        {
            return channel.position();
        }

        @Override
        public FileChannel position(final long newPosition) throws IOException
        {
            channel.position(newPosition);
            return this;
        }

        @Override
        public long size() throws IOException
        {
            return channel.size();
        }

        @Override
        public FileChannel truncate(final long size) throws IOException
        {
            channel.truncate(size);
            return this;
        }

        @Override
        public void force(final boolean metaData) throws IOException
        {
            channel.force(metaData);
        }

        @Override
        public long transferTo(final long position, final long count, final WritableByteChannel target)
            throws IOException
        {
            return channel.transferTo(position, count, target);
        }

        @Override
        public long transferFrom(final ReadableByteChannel src, final long position, final long count)
            throws IOException
        {
            return channel.transferFrom(src, position, count);
        }

        @Override
        public MappedByteBuffer map(final MapMode mode, final long position, final long size) throws IOException
        {
            return channel.map(mode, position, size);
        }

        @Override
        public FileLock lock(final long position, final long size, final boolean shared) throws IOException
        {
            return channel.lock(position, size, shared);
        }

        @Override
        public FileLock tryLock(final long position, final long size, final boolean shared) throws IOException
        {
            return channel.tryLock(position, size, shared);
        }

        @Override
        protected void implCloseChannel() throws IOException
        {
            channel.close();
        }
    }
}
