package io.pvio.bench.scenario;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import com.sun.nio.file.ExtendedOpenOption;

import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;

import io.pvio.backend.block.FileBlockStore;
import io.pvio.backend.block.UringFile;

/**
 * The native baseline: the same workload (pattern, block size, read share, duration or count, seed, verification)
 * issued directly on the image at the workload's queue depth, by one of two host engines:
 * <ul>
 * <li><b>threads</b> ({@link #NativeDiskWorkload(Path, Scenario.Workload, long, long, BlockVersions, boolean)}):
 * {@code queue-depth} threads, each issuing one synchronous positional {@link FileChannel} read or write at a time on
 * a channel they share, as blkback's I/O workers do. The last thread to finish closes the channel.</li>
 * <li><b>io_uring</b> ({@link #ioUring}): one thread owning an io_uring ({@link UringFile}) that keeps
 * {@code queue-depth} reads and writes in flight, each slot resubmitting as soon as its completion has been checked,
 * as blkback's io_uring engine does. The thread's loop submits everything queued in a pass with one
 * {@code io_uring_enter}. A driver thread opens the ring, waits for every slot to end and closes it.</li>
 * </ul>
 * Either way {@code queue-depth} I/Os are in flight, as through the split driver. A disk with fewer blocks than the
 * depth gets one stream per block (the depth is clamped, and the report says so).
 * <p>
 * Stream {@code s} of {@code n} (a thread, or a slot of the ring) keeps to the blocks {@code b} with
 * {@code b % n == s}, so no two I/Os in flight touch the same block and verification is exact, as through the split
 * driver. A count is shared out between the streams; a stream that fails an I/O counts the error and stops.
 * <p>
 * With O_DIRECT the image is opened with {@link ExtendedOpenOption#DIRECT} (or {@code O_DIRECT} on the ring) and each
 * stream's buffer is aligned to the file system's block size ({@link FileBlockStore#directAlignment(Path)}), which
 * the block size must be a multiple of.
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

    /** How long an interrupted io_uring run waits for its reads and writes in flight before it gives up on them. */
    private static final long URING_DRAIN_SECONDS = 30;

    private final Path image;
    private final boolean random;
    private final int blockSize;
    private final double readShare;
    private final long count;
    private final long seed;
    private final long stream;
    private final long blocks;
    private final int queueDepth;
    private final int streams;
    private final boolean writes;
    private final BlockVersions versions;
    private final boolean direct;
    /** Opens the channel of the threads engine; null for the io_uring engine. */
    private final ChannelOpener opener;
    private final AtomicInteger running;
    /** The io_uring engine's most reads and writes in the ring at once, set when it has ended. */
    private volatile int mostInFlight;

    /**
     * The threads engine at the workload's queue depth, through the page cache or with O_DIRECT.
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
     * The threads engine, opening the image with {@code opener}.
     *
     * @param image     the image file.
     * @param workload  the workload; its queue depth is the number of threads.
     * @param diskBytes bytes of the image the workload spans.
     * @param stream    tells this run's offsets and read/write choices apart from other runs' with the same seed.
     * @param versions  the block versions to check against and keep, or null not to verify.
     * @param direct    true to open the image with O_DIRECT.
     * @param opener    opens the image; null for the io_uring engine.
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
        this.streams = (int)Math.min(depth, blocks);
        this.writes = readShare < 1.0;
        this.versions = versions;
        this.direct = direct;
        this.opener = opener;
        this.running = new AtomicInteger(this.streams);
    }

    /**
     * The io_uring engine: one thread keeping the workload's queue depth in flight on one io_uring.
     *
     * @param image     the image file.
     * @param workload  the workload; its queue depth is the number of slots in flight.
     * @param diskBytes bytes of the image the workload spans.
     * @param stream    tells this run's offsets and read/write choices apart from other runs' with the same seed.
     * @param versions  the block versions to check against and keep, or null not to verify.
     * @param direct    true to open the image with O_DIRECT.
     * @return the engine; it reports a failure to set io_uring up as an error when started.
     */
    static NativeDiskWorkload ioUring(
        final Path image, final Scenario.Workload workload, final long diskBytes, final long stream,
        final BlockVersions versions, final boolean direct)
    {
        return new NativeDiskWorkload(image, workload, diskBytes, stream, versions, direct, null);
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
     * Whether the I/Os go through one io_uring on one thread rather than one thread per I/O.
     *
     * @return true for the io_uring engine.
     */
    boolean isIoUring()
    {
        return null == opener;
    }

    /**
     * The io_uring engine's most reads and writes submitted and not yet completed at once, counted on its loop.
     *
     * @return the count, or 0 for the threads engine or before the engine has ended.
     */
    int mostInFlight()
    {
        return mostInFlight;
    }

    /**
     * {@inheritDoc}
     */
    @Override
    public void start(final long measureFromNanos)
    {
        stats.measureFrom(measureFromNanos);
        final int alignment;
        try
        {
            alignment = direct ? FileBlockStore.directAlignment(image) : 0;
            if (direct && 0 != blockSize % alignment)
            {
                throw new IOException("O_DIRECT needs a block size that is a multiple of the file system's block " +
                    "size " + alignment + ", got " + blockSize);
            }
        }
        catch (final IOException | RuntimeException ex)
        {
            failStart(ex);
            return;
        }
        if (isIoUring())
        {
            final Thread driver = new Thread(() -> runUring(alignment), "native-baseline-" + image.getFileName() +
                "-driver");
            driver.setDaemon(true);
            driver.start();
            return;
        }
        final FileChannel channel;
        try
        {
            channel = opener.open(image, options(writes, direct));
        }
        catch (final IOException | RuntimeException ex)
        {
            failStart(ex);
            return;
        }
        for (int t = 0; t < streams; t++)
        {
            final Stream own = new Stream(t, alignment);
            final Thread worker = new Thread(() -> run(channel, own), "native-baseline-" + image.getFileName() + '-' +
                t);
            worker.setDaemon(true);
            worker.start();
        }
    }

    private void failStart(final Exception ex)
    {
        stats.error(image + ": " + ex);
        finishAll();
    }

    /** Every stream has ended. */
    private void finishAll()
    {
        for (int t = 0; t < streams; t++)
        {
            finished.countDown();
        }
    }

    private void run(final FileChannel channel, final Stream own)
    {
        try
        {
            while (own.next())
            {
                final long started = System.nanoTime();
                if (own.read)
                {
                    readFully(channel, own.buffer, own.position());
                }
                else
                {
                    writeFully(channel, own.buffer, own.position());
                }
                own.done(started, System.nanoTime());
            }
        }
        catch (final IOException | RuntimeException ex)
        {
            stats.error(image + ": " + ex);
        }
        finally
        {
            BufferUtil.free(own.original);
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

    /** On the driver thread: sets the ring up, starts every slot on the loop, waits for them, closes the ring. */
    private void runUring(final int alignment)
    {
        final UringSlots slots = new UringSlots(alignment);
        UringFile file = null;
        boolean quiet = true; // no read or write in flight: the ring may close and the buffers go back
        try
        {
            file = UringFile.open("native-baseline-" + image.getFileName(), image, writes, direct,
                Math.max(64, 2 * streams), slots);
            slots.file = file; // published to the loop thread by the execute below
            file.execute(slots::startAll);
            quiet = awaitSlots(slots);
            mostInFlight = slots.most; // the loop's last count-down came after its last submission
        }
        catch (final IOException | RuntimeException ex)
        {
            stats.error(image + ": " + ex);
        }
        finally
        {
            if (quiet)
            {
                if (null != file && !file.closeAndJoin())
                {
                    stats.error(image + ": the io_uring loop did not end");
                }
                slots.free();
            }
            finishAll();
        }
    }

    /**
     * Waits for every slot to end. Interrupted, it stops the slots and waits for the I/O in flight, for a while:
     * the kernel still writes into the buffers of a read that has not completed.
     *
     * @return true if every slot has ended; false if I/O may still be in flight (its ring and buffers are left).
     */
    private boolean awaitSlots(final UringSlots slots)
    {
        try
        {
            slots.ended.await();
            return true;
        }
        catch (final InterruptedException ex)
        {
            stop();
            stats.error(image + ": interrupted while I/O was in flight");
            boolean ended = false;
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(URING_DRAIN_SECONDS);
            while (!ended && System.nanoTime() - deadline < 0)
            {
                try
                {
                    ended = slots.ended.await(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
                }
                catch (final InterruptedException again)
                {
                    // keep waiting: returning would free memory the kernel may still write into
                }
            }
            Thread.currentThread().interrupt();
            if (!ended)
            {
                stats.error(image + ": reads and writes still in flight after " + URING_DRAIN_SECONDS +
                    " s; their io_uring and buffers are left open");
            }
            return ended;
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

    /**
     * One stream of I/Os, a thread's or a slot's: its share of the count, its blocks ({@code b % streams == index})
     * and its buffer. {@link #next()} picks and prepares the next I/O, {@link #done} counts and checks it.
     */
    private final class Stream
    {
        final int index;
        final ByteBuffer original;
        final ByteBuffer buffer;
        final UnsafeBuffer view;
        final long owned;
        final long streamId;
        final long share;
        long n;
        long sequential;
        long block;
        boolean read;
        int version;
        /** The io_uring engine's: when the I/O was first submitted, and the bytes it has moved so far. */
        long startedAt;
        int moved;

        Stream(final int index, final int alignment)
        {
            this.index = index;
            this.original = ByteBuffer.allocateDirect(blockSize + alignment);
            this.buffer = 0 == alignment ? original.limit(blockSize).slice() :
                original.alignedSlice(alignment).limit(blockSize).slice();
            this.view = new UnsafeBuffer(buffer);
            this.owned = (blocks - index + streams - 1) / streams;
            this.streamId = stream + index;
            this.share = 0 == count ? Long.MAX_VALUE : count / streams + (index < count % streams ? 1 : 0);
        }

        /** Picks the next block and direction; a write's data is in the buffer. False when the stream ends. */
        boolean next()
        {
            if (n >= share || stopping)
            {
                return false;
            }
            final long pick = random ? BlockPattern.draw(seed, streamId, n, owned) : sequential++ % owned;
            block = pick * streams + index;
            read = BlockPattern.isRead(seed, streamId, n, readShare);
            version = read || null == versions ? 1 : versions.next(block);
            n++;
            buffer.clear();
            if (!read)
            {
                BlockPattern.fill(view, 0, blockSize, seed, block, version);
            }
            return true;
        }

        long position()
        {
            return block * blockSize;
        }

        /** The I/O {@link #next()} picked has completed in full: counts it, keeps a write's version, checks a read. */
        void done(final long started, final long ended)
        {
            stats.completed(started, ended, blockSize);
            if (null != versions)
            {
                if (!read)
                {
                    versions.set(block, version);
                }
                else
                {
                    final int expected = versions.get(block);
                    if (BlockVersions.UNKNOWN != expected)
                    {
                        stats.checked(BlockPattern.matches(view, 0, blockSize, seed, block, expected));
                    }
                }
            }
        }
    }

    /**
     * The io_uring engine's slots, one {@link Stream} each, all driven on the ring's loop thread: a slot submits its
     * I/O, its completion is checked and the slot submits the next one at once. The tag is the slot's index. A read
     * or write that moves fewer bytes than asked is resubmitted for the rest, as {@link #readFully} loops.
     */
    private final class UringSlots implements UringFile.Completion
    {
        final Stream[] slots = new Stream[streams];
        final CountDownLatch ended = new CountDownLatch(streams);
        UringFile file;
        int inFlight;
        int most;

        UringSlots(final int alignment)
        {
            for (int s = 0; s < streams; s++)
            {
                slots[s] = new Stream(s, alignment);
            }
        }

        /** On the loop thread: the first I/O of every slot. */
        void startAll()
        {
            for (int s = 0; s < streams; s++)
            {
                issue(s);
            }
        }

        private void issue(final int s)
        {
            final Stream slot = slots[s];
            if (!slot.next())
            {
                ended.countDown();
                return;
            }
            slot.moved = 0;
            slot.startedAt = System.nanoTime();
            submit(s);
        }

        private void submit(final int s)
        {
            final Stream slot = slots[s];
            final long address = slot.view.addressOffset() + slot.moved;
            final long offset = slot.position() + slot.moved;
            final int length = blockSize - slot.moved;
            final boolean queued = slot.read ? file.submitRead(offset, address, length, s) :
                file.submitWrite(offset, address, length, s);
            if (!queued)
            {
                fail(s, "the io_uring took no more submissions at block " + slot.block);
                return;
            }
            most = Math.max(most, ++inFlight);
        }

        @Override
        public void onComplete(final long tag, final int result)
        {
            if (tag < 0 || tag >= streams)
            {
                throw new IllegalStateException(image + ": a completion for no slot: tag=" + tag);
            }
            final int s = (int)tag;
            final Stream slot = slots[s];
            inFlight--;
            if (result < 0)
            {
                fail(s, (slot.read ? "read" : "write") + " of block " + slot.block + " failed: errno " + -result);
                return;
            }
            if (0 == result)
            {
                // nothing moved: resubmitting would loop for ever
                fail(s, slot.read ? "end of image at " + (slot.position() + slot.moved) + " reading block at " +
                    slot.position() : "a write of block " + slot.block + " wrote nothing");
                return;
            }
            slot.moved += result;
            if (slot.moved < blockSize)
            {
                submit(s);
                return;
            }
            slot.done(slot.startedAt, System.nanoTime());
            issue(s);
        }

        private void fail(final int s, final String message)
        {
            stats.error(image + ": " + message);
            ended.countDown();
        }

        /** After the loop has ended: the slots' buffers go back at once. */
        void free()
        {
            for (final Stream slot : slots)
            {
                BufferUtil.free(slot.original);
            }
        }
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
