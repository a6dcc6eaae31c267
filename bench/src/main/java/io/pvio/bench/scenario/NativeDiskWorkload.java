package io.pvio.bench.scenario;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicInteger;

import com.sun.nio.file.ExtendedOpenOption;

import org.agrona.concurrent.UnsafeBuffer;

import io.pvio.backend.block.FileBlockStore;

/**
 * The native baseline: the same workload (pattern, block size, read share, duration or count, seed, verification)
 * issued directly on the image with positional {@link FileChannel} reads and writes, at the workload's queue depth.
 * A synchronous file channel call is one I/O in flight, so the baseline runs {@code queue-depth} threads, each
 * issuing one synchronous positional read or write at a time on a channel they share: {@code queue-depth} I/Os in
 * flight, as through the split driver. A disk with fewer blocks than the depth gets one thread per block (the depth
 * is clamped, and the report says so).
 * <p>
 * Thread {@code t} of {@code n} keeps to the blocks {@code b} with {@code b % n == t}, so no two I/Os in flight touch
 * the same block and verification is exact, as through the split driver. A count is shared out between the
 * threads; a thread that fails an I/O counts the error and stops. The last thread to finish closes the channel.
 * <p>
 * With O_DIRECT the image is opened with {@link ExtendedOpenOption#DIRECT} and each thread's buffer is aligned to the
 * file system's block size ({@link FileBlockStore#directAlignment(Path)}), which the block size must be a multiple of.
 */
final class NativeDiskWorkload extends DiskWorkload
{
    /** Opens the image; a test may count what goes through the channel. */
    @FunctionalInterface
    interface ChannelOpener
    {
        /**
         * Opens a file channel.
         *
         * @param image   the image file.
         * @param options how to open it.
         * @return the channel.
         * @throws IOException if it cannot be opened.
         */
        FileChannel open(Path image, OpenOption... options) throws IOException;
    }

    private final Path image;
    private final boolean random;
    private final int blockSize;
    private final double readShare;
    private final long count;
    private final long seed;
    private final long stream;
    private final long blocks;
    private final int queueDepth;
    private final int threads;
    private final boolean writes;
    private final BlockVersions versions;
    private final boolean direct;
    private final ChannelOpener opener;
    private final AtomicInteger running;

    /**
     * An engine at the workload's queue depth, through the page cache or with O_DIRECT.
     *
     * @param image     the image file.
     * @param workload  the workload; its queue depth is the number of threads.
     * @param diskBytes bytes of the image the workload spans.
     * @param stream    tells this run's offsets and read/write choices apart from other runs' with the same seed.
     * @param versions  the block versions to check against and keep, or null not to verify.
     * @param direct    true to open the image with O_DIRECT.
     */
    NativeDiskWorkload(
        final Path image, final Scenario.Workload workload, final long diskBytes, final long stream,
        final BlockVersions versions, final boolean direct)
    {
        this(image, workload, diskBytes, stream, versions, direct, FileChannel::open);
    }

    /**
     * An engine that opens the image with {@code opener}.
     *
     * @param image     the image file.
     * @param workload  the workload; its queue depth is the number of threads.
     * @param diskBytes bytes of the image the workload spans.
     * @param stream    tells this run's offsets and read/write choices apart from other runs' with the same seed.
     * @param versions  the block versions to check against and keep, or null not to verify.
     * @param direct    true to open the image with O_DIRECT.
     * @param opener    opens the image.
     */
    NativeDiskWorkload(
        final Path image, final Scenario.Workload workload, final long diskBytes, final long stream,
        final BlockVersions versions, final boolean direct, final ChannelOpener opener)
    {
        super((int)Math.max(0, Math.min(workload.queueDepth(), diskBytes / workload.blockSize())));
        final int depth = workload.queueDepth();
        this.image = image;
        this.random = workload.random();
        this.blockSize = workload.blockSize();
        this.readShare = workload.readShare();
        this.count = workload.count();
        this.seed = workload.seed();
        this.stream = stream;
        this.blocks = diskBytes / blockSize;
        this.queueDepth = depth;
        if (blocks < 1 || depth < 1 || (null != versions && versions.blocks() != blocks))
        {
            throw new IllegalArgumentException("diskBytes=" + diskBytes + " blockSize=" + blockSize + " queueDepth=" +
                depth + (null == versions ? "" : " versions=" + versions.blocks()));
        }
        this.threads = (int)Math.min(depth, blocks);
        this.writes = readShare < 1.0;
        this.versions = versions;
        this.direct = direct;
        this.opener = opener;
        this.running = new AtomicInteger(this.threads);
    }

    /**
     * The depth the workload asked for; more than {@link #inFlight()} only when the disk has fewer blocks.
     *
     * @return the workload's queue depth.
     */
    int queueDepth()
    {
        return queueDepth;
    }

    /**
     * Whether the image is opened with O_DIRECT.
     *
     * @return true for O_DIRECT.
     */
    boolean direct()
    {
        return direct;
    }

    /**
     * {@inheritDoc}
     */
    @Override
    public void start(final long measureFromNanos)
    {
        stats.measureFrom(measureFromNanos);
        final FileChannel channel;
        final int alignment;
        try
        {
            alignment = direct ? FileBlockStore.directAlignment(image) : 0;
            if (direct && 0 != blockSize % alignment)
            {
                throw new IOException("O_DIRECT needs a block size that is a multiple of the file system's block " +
                    "size " + alignment + ", got " + blockSize);
            }
            channel = opener.open(image, options(writes, direct));
        }
        catch (final IOException | RuntimeException ex)
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
            final Thread worker = new Thread(() -> run(channel, alignment, index, share), "native-baseline-" +
                image.getFileName() + '-' + t);
            worker.setDaemon(true);
            worker.start();
        }
    }

    private void run(final FileChannel channel, final int alignment, final int thread, final long share)
    {
        try
        {
            loop(channel, buffer(blockSize, alignment), thread, share);
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

    private void loop(final FileChannel channel, final ByteBuffer buffer, final int thread, final long share)
        throws IOException
    {
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
     * @param direct    true to read with O_DIRECT (the block size a multiple of the file system's block size).
     * @return {blocks checked, blocks that differ}.
     * @throws IOException if the image cannot be read.
     */
    static long[] checkImage(
        final Path image, final BlockVersions versions, final int blockSize, final long seed, final boolean direct)
        throws IOException
    {
        final ByteBuffer buffer = buffer(blockSize, direct ? FileBlockStore.directAlignment(image) : 0);
        final UnsafeBuffer view = new UnsafeBuffer(buffer);
        long checked = 0;
        long differ = 0;
        try (FileChannel channel = FileChannel.open(image, options(false, direct)))
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

    /** A direct buffer of {@code length} bytes, aligned to {@code alignment} if that is not 0. */
    private static ByteBuffer buffer(final int length, final int alignment)
    {
        return 0 == alignment ? ByteBuffer.allocateDirect(length) :
            ByteBuffer.allocateDirect(length + alignment).alignedSlice(alignment).limit(length).slice();
    }

    private static OpenOption[] options(final boolean write, final boolean direct)
    {
        if (write)
        {
            return direct ? new OpenOption[]{ StandardOpenOption.READ, StandardOpenOption.WRITE,
                ExtendedOpenOption.DIRECT } : new OpenOption[]{ StandardOpenOption.READ, StandardOpenOption.WRITE };
        }
        return direct ? new OpenOption[]{ StandardOpenOption.READ, ExtendedOpenOption.DIRECT } :
            new OpenOption[]{ StandardOpenOption.READ };
    }
}
