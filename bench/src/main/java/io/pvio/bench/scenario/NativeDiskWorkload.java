package io.pvio.bench.scenario;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicInteger;

import org.agrona.concurrent.UnsafeBuffer;

/**
 * The native baseline: the same workload (pattern, block size, read share, duration or count, seed, verification)
 * issued directly on the image with positional {@link FileChannel} reads and writes. A synchronous file channel
 * keeps one I/O in flight per thread, so the baseline's "queue depth" is its thread count: the runner gives it one
 * thread per queue of the PV disk, as many as the back end has threads serving that disk.
 * <p>
 * Thread {@code t} of {@code n} keeps to the blocks {@code b} with {@code b % n == t}, so no two I/Os in flight touch
 * the same block and verification is exact, as through the split driver. A count is shared out between the
 * threads; a thread that fails an I/O counts the error and stops. The last thread to finish closes the channel.
 */
final class NativeDiskWorkload extends DiskWorkload
{
    private final Path image;
    private final boolean random;
    private final int blockSize;
    private final double readShare;
    private final long count;
    private final long seed;
    private final long stream;
    private final long blocks;
    private final int threads;
    private final boolean writes;
    private final BlockVersions versions;
    private final AtomicInteger running;

    /**
     * An engine.
     *
     * @param image     the image file.
     * @param workload  the workload.
     * @param diskBytes bytes of the image the workload spans.
     * @param threads   threads, each with one I/O in flight.
     * @param stream    tells this run's offsets and read/write choices apart from other runs' with the same seed.
     * @param versions  the block versions to check against and keep, or null not to verify.
     */
    NativeDiskWorkload(
        final Path image, final Scenario.Workload workload, final long diskBytes, final int threads,
        final long stream, final BlockVersions versions)
    {
        super((int)Math.max(0, Math.min(threads, diskBytes / workload.blockSize())));
        this.image = image;
        this.random = workload.random();
        this.blockSize = workload.blockSize();
        this.readShare = workload.readShare();
        this.count = workload.count();
        this.seed = workload.seed();
        this.stream = stream;
        this.blocks = diskBytes / blockSize;
        if (blocks < 1 || threads < 1 || (null != versions && versions.blocks() != blocks))
        {
            throw new IllegalArgumentException("diskBytes=" + diskBytes + " blockSize=" + blockSize + " threads=" +
                threads + (null == versions ? "" : " versions=" + versions.blocks()));
        }
        this.threads = (int)Math.min(threads, blocks);
        this.writes = readShare < 1.0;
        this.versions = versions;
        this.running = new AtomicInteger(this.threads);
    }

    /**
     * {@inheritDoc}
     */
    @Override
    public void start(final long measureFromNanos)
    {
        stats.measureFrom(measureFromNanos);
        final FileChannel channel;
        try
        {
            channel = writes ? FileChannel.open(image, StandardOpenOption.READ, StandardOpenOption.WRITE) :
                FileChannel.open(image, StandardOpenOption.READ);
        }
        catch (final IOException ex)
        {
            stats.error(image + ": " + ex);
            for (int t = 0; t < threads; t++)
            {
                finished.countDown();
            }
            return;
        }
        for (int t = 0; t < threads; t++)
        {
            final int index = t;
            final long share = 0 == count ? Long.MAX_VALUE : count / threads + (t < count % threads ? 1 : 0);
            final Thread worker = new Thread(() -> run(channel, index, share), "native-baseline-" + image
                .getFileName() + '-' + t);
            worker.setDaemon(true);
            worker.start();
        }
    }

    private void run(final FileChannel channel, final int thread, final long share)
    {
        try
        {
            loop(channel, thread, share);
        }
        catch (final IOException | RuntimeException ex)
        {
            stats.error(image + ": " + ex);
        }
        finally
        {
            if (0 == running.decrementAndGet())
            {
                try
                {
                    channel.close();
                }
                catch (final IOException ex)
                {
                    stats.error(image + ": closing: " + ex);
                }
            }
            finished.countDown();
        }
    }

    private void loop(final FileChannel channel, final int thread, final long share) throws IOException
    {
        final ByteBuffer buffer = ByteBuffer.allocateDirect(blockSize);
        final UnsafeBuffer view = new UnsafeBuffer(buffer);
        final long owned = (blocks - thread + threads - 1) / threads;
        final long threadStream = stream + thread;
        long sequential = 0;
        for (long n = 0; n < share && !stopping; n++)
        {
            final long index = random ? BlockPattern.draw(seed, threadStream, n, owned) : sequential++ % owned;
            final long block = index * threads + thread;
            final long position = block * blockSize;
            final boolean read = BlockPattern.isRead(seed, threadStream, n, readShare);
            final int version = read || null == versions ? 1 : versions.next(block);
            buffer.clear();
            if (!read)
            {
                BlockPattern.fill(view, 0, blockSize, seed, block, version);
            }
            final long started = System.nanoTime();
            if (read)
            {
                readFully(channel, buffer, position);
            }
            else
            {
                writeFully(channel, buffer, position);
            }
            stats.completed(started, System.nanoTime(), blockSize);
            if (null != versions)
            {
                if (!read)
                {
                    versions.set(block, version);
                }
                else if (BlockVersions.UNKNOWN != versions.get(block))
                {
                    stats.checked(BlockPattern.matches(view, 0, blockSize, seed, block, versions.get(block)));
                }
            }
        }
    }

    private void readFully(final FileChannel channel, final ByteBuffer buffer, final long position)
        throws IOException
    {
        while (buffer.hasRemaining())
        {
            if (channel.read(buffer, position + buffer.position()) < 0)
            {
                throw new IOException("end of image at " + (position + buffer.position()) + " reading block at " +
                    position);
            }
        }
    }

    private static void writeFully(final FileChannel channel, final ByteBuffer buffer, final long position)
        throws IOException
    {
        while (buffer.hasRemaining())
        {
            channel.write(buffer, position + buffer.position());
        }
    }

    /**
     * Reads every block of the image that holds a written version and compares it with that version: whether what
     * the workload wrote, as acknowledged, is what the image file holds. Read through a channel of its own.
     *
     * @param image     the image file.
     * @param versions  the versions the workload left.
     * @param blockSize bytes per block.
     * @param seed      the workload's seed.
     * @return {blocks checked, blocks that differ}.
     * @throws IOException if the image cannot be read.
     */
    static long[] checkImage(final Path image, final BlockVersions versions, final int blockSize, final long seed)
        throws IOException
    {
        final ByteBuffer buffer = ByteBuffer.allocateDirect(blockSize);
        final UnsafeBuffer view = new UnsafeBuffer(buffer);
        long checked = 0;
        long differ = 0;
        try (FileChannel channel = FileChannel.open(image, StandardOpenOption.READ))
        {
            for (long block = 0; block < versions.blocks(); block++)
            {
                final int version = versions.get(block);
                if (version > 0)
                {
                    buffer.clear();
                    while (buffer.hasRemaining())
                    {
                        if (channel.read(buffer, block * blockSize + buffer.position()) < 0)
                        {
                            break;
                        }
                    }
                    checked++;
                    if (buffer.hasRemaining() || !BlockPattern.matches(view, 0, blockSize, seed, block, version))
                    {
                        differ++;
                    }
                }
            }
        }
        return new long[]{ checked, differ };
    }
}
