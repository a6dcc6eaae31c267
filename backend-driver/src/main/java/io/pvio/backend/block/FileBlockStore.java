package io.pvio.backend.block;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import org.agrona.BufferUtil;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * A {@link BlockStore} over a raw disk image file: byte {@code n} of the device is byte {@code n} of the file, read
 * and written with {@link FileChannel} positional I/O straight from and into the caller's memory: off-heap buffers
 * such as grant-mapped frames go through a per-thread address window, with no copy and no allocation; heap buffers
 * cost the JDK's copy through its temporary direct buffer.
 * <p>
 * <b>Size.</b> Fixed when the store is opened: the file's length rounded down to whole logical blocks. Bytes of a
 * partial last block are never read or written (a discard at the end of the device zeroes them). If the file is
 * shorter than the device when read (it was truncated behind the store's back, or a discard is re-extending it), the
 * missing part reads as zeros, as a hole in a sparse file does.
 * <p>
 * <b>Flush</b> is {@link FileChannel#force(boolean) force(false)}, that is {@code fdatasync(2)}: the data and the
 * metadata needed to read it back (the file's length and block map) reach stable storage; timestamps may not. The
 * image's length changes only during a discard at the end of the device, and fdatasync covers length changes.
 * <p>
 * <b>Discard.</b> Java cannot punch holes ({@code fallocate(FALLOC_FL_PUNCH_HOLE)}), so a discard that reaches the
 * end of the device truncates the file to the start of the range and extends it back to its length, which releases
 * the blocks and leaves a hole; any other discard writes zeros over the range in chunks of
 * {@value #ZERO_CHUNK_LENGTH} bytes, which allocates blocks where there were holes.
 * <p>
 * <b>Threading.</b> Any number of threads may use one store at once, as {@link BlockStore} says: positional I/O on
 * a {@link FileChannel} is safe for concurrent use, and each thread has its own views. A thread interrupted while in
 * an operation, or entering one with its interrupt flag set, closes the file channel (the
 * {@link java.nio.channels.InterruptibleChannel} contract): that operation and every later one, on every thread, fail
 * with {@link BlockStoreException.Reason#CLOSED}, so interrupt blkback agents only to shut the device down.
 * <p>
 * A read-write store opens the file with {@link RandomAccessFile} (for {@code setLength}); it neither locks the file
 * nor stops another process from writing it.
 */
public final class FileBlockStore implements BlockStore
{
    /** Bytes of zeros written per system call by a discard that cannot truncate. */
    public static final int ZERO_CHUNK_LENGTH = 128 * 1024;

    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(ZERO_CHUNK_LENGTH);
    private static final long ZEROS_ADDRESS = BufferUtil.address(ZEROS);

    private final Path path;
    private final RandomAccessFile file;
    private final FileChannel channel;
    private final boolean readOnly;
    private final int sectorSize;
    private final long fileLength;
    private final long sectors;
    private final BlockStoreCounters counters = new BlockStoreCounters();
    private final InFlightGuard guard = new InFlightGuard();

    private FileBlockStore(
        final Path path,
        final RandomAccessFile file,
        final FileChannel channel,
        final int sectorSize,
        final long fileLength)
    {
        this.path = path;
        this.file = file;
        this.channel = channel;
        this.readOnly = null == file;
        this.sectorSize = sectorSize;
        this.fileLength = fileLength;
        this.sectors = BlockStoreChecks.deviceSectors(fileLength, sectorSize);
    }

    /**
     * Opens an existing image with 512-byte logical blocks.
     *
     * @param path     the image file.
     * @param readOnly true to refuse writes and discards, and open the file for reading only.
     * @return the store; close it to close the file.
     * @throws IOException              if the file does not exist or cannot be opened.
     * @throws IllegalArgumentException if the image is smaller than one sector.
     */
    public static FileBlockStore open(final Path path, final boolean readOnly) throws IOException
    {
        return open(path, readOnly, SECTOR_SIZE);
    }

    /**
     * Opens an existing image. The file is never created.
     *
     * @param path       the image file.
     * @param readOnly   true to refuse writes and discards, and open the file for reading only.
     * @param sectorSize logical block size: a power of two from 512 to 4096.
     * @return the store; close it to close the file.
     * @throws IOException              if the file does not exist or cannot be opened.
     * @throws IllegalArgumentException if the sector size is unsupported or the image is smaller than one block.
     */
    public static FileBlockStore open(final Path path, final boolean readOnly, final int sectorSize)
        throws IOException
    {
        BlockStoreChecks.checkSectorSize(sectorSize);
        final RandomAccessFile file;
        final FileChannel channel;
        if (readOnly)
        {
            file = null;
            channel = FileChannel.open(path, StandardOpenOption.READ);
        }
        else
        {
            // RandomAccessFile would create a missing file: resolve it first so that a wrong path fails instead
            file = new RandomAccessFile(path.toRealPath().toFile(), "rw");
            channel = file.getChannel();
        }

        try
        {
            final long fileLength = channel.size();
            if (fileLength < sectorSize)
            {
                throw new IllegalArgumentException("image smaller than one logical block: path=" + path +
                    " bytes=" + fileLength + " sectorSize=" + sectorSize);
            }
            return new FileBlockStore(path, file, channel, sectorSize, fileLength);
        }
        catch (final IOException | RuntimeException ex)
        {
            channel.close();
            throw ex;
        }
    }

    /**
     * Creates a new sparse image of {@code bytes} with 512-byte logical blocks and opens it read-write.
     *
     * @param path  where to create the file, which must not exist.
     * @param bytes the device size, a positive multiple of 512.
     * @return the store, reading as zeros; close it to close the file.
     * @throws IOException              if the file exists or cannot be created.
     * @throws IllegalArgumentException if the size is not a positive whole number of sectors.
     */
    public static FileBlockStore createSparse(final Path path, final long bytes) throws IOException
    {
        return createSparse(path, bytes, SECTOR_SIZE);
    }

    /**
     * Creates a new sparse image of {@code bytes} and opens it read-write. The length is set without writing any
     * data, so the file takes (almost) no disk blocks until it is written.
     *
     * @param path       where to create the file, which must not exist.
     * @param bytes      the device size, a positive multiple of {@code sectorSize}.
     * @param sectorSize logical block size: a power of two from 512 to 4096.
     * @return the store, reading as zeros; close it to close the file.
     * @throws IOException              if the file exists or cannot be created.
     * @throws IllegalArgumentException if the sector size is unsupported or the size is not a positive whole number
     *                                  of logical blocks.
     */
    public static FileBlockStore createSparse(final Path path, final long bytes, final int sectorSize)
        throws IOException
    {
        BlockStoreChecks.checkSectorSize(sectorSize);
        if (bytes <= 0 || 0 != (bytes & (sectorSize - 1)))
        {
            throw new IllegalArgumentException("image size must be a positive multiple of the sector size: path=" +
                path + " bytes=" + bytes + " sectorSize=" + sectorSize);
        }

        Files.createFile(path);
        try
        {
            try (RandomAccessFile newFile = new RandomAccessFile(path.toFile(), "rw"))
            {
                newFile.setLength(bytes);
            }
            return open(path, false, sectorSize);
        }
        catch (final IOException | RuntimeException ex)
        {
            Files.deleteIfExists(path);
            throw ex;
        }
    }

    /**
     * The image file.
     *
     * @return the path the store was opened with.
     */
    public Path path()
    {
        return path;
    }

    /**
     * {@inheritDoc}
     */
    @Override
    public int sectorSize()
    {
        return sectorSize;
    }

    /**
     * {@inheritDoc}
     */
    @Override
    public long sectors()
    {
        return sectors;
    }

    /**
     * {@inheritDoc}
     */
    @Override
    public boolean isReadOnly()
    {
        return readOnly;
    }

    /**
     * {@inheritDoc}
     * <p>
     * Here also true once the file channel has closed under the store, which an interrupt during I/O does.
     */
    @Override
    public boolean isClosed()
    {
        return guard.isClosed() || !channel.isOpen();
    }

    /**
     * {@inheritDoc}
     */
    @Override
    public void read(final long sector, final MutableDirectBuffer dst, final int dstOffset, final int length)
    {
        final BlockStoreCounters counters = this.counters;
        if (!guard.tryEnter())
        {
            throw BlockStoreChecks.closed("read", this, counters);
        }
        try
        {
            BlockStoreChecks.checkIo("read", sector, length, sectorSize, sectors, counters);
            dst.boundsCheck(dstOffset, length);

            final FileChannel channel = this.channel;
            final ByteBuffer view = ChannelViews.forCurrentThread().view(dst, dstOffset, length);
            long position = sector << SECTOR_SHIFT;
            while (view.hasRemaining())
            {
                final int read = channel.read(view, position);
                if (read < 0)
                {
                    final int remaining = view.remaining();
                    dst.setMemory(dstOffset + length - remaining, remaining, (byte)0);
                    break;
                }
                position += read;
            }
            counters.onRead(length);
        }
        catch (final IOException ex)
        {
            throw ioFailure("read", sector, length >>> SECTOR_SHIFT, ex);
        }
        finally
        {
            guard.exit();
        }
    }

    /**
     * {@inheritDoc}
     */
    @Override
    public void write(final long sector, final DirectBuffer src, final int srcOffset, final int length)
    {
        final BlockStoreCounters counters = this.counters;
        if (!guard.tryEnter())
        {
            throw BlockStoreChecks.closed("write", this, counters);
        }
        try
        {
            if (readOnly)
            {
                throw BlockStoreChecks.readOnly("write", sector, length >>> SECTOR_SHIFT, counters);
            }
            BlockStoreChecks.checkIo("write", sector, length, sectorSize, sectors, counters);
            src.boundsCheck(srcOffset, length);

            final FileChannel channel = this.channel;
            final ByteBuffer view = ChannelViews.forCurrentThread().view(src, srcOffset, length);
            long position = sector << SECTOR_SHIFT;
            while (view.hasRemaining())
            {
                position += channel.write(view, position);
            }
            counters.onWrite(length);
        }
        catch (final IOException ex)
        {
            throw ioFailure("write", sector, length >>> SECTOR_SHIFT, ex);
        }
        finally
        {
            guard.exit();
        }
    }

    /**
     * {@inheritDoc}
     * <p>
     * Here: {@code fdatasync(2)} through {@link FileChannel#force(boolean) force(false)}.
     */
    @Override
    public void flush()
    {
        final BlockStoreCounters counters = this.counters;
        if (!guard.tryEnter())
        {
            throw BlockStoreChecks.closed("flush", this, counters);
        }
        try
        {
            if (!readOnly)
            {
                channel.force(false);
            }
            counters.onFlush();
        }
        catch (final IOException ex)
        {
            throw ioFailure("flush", 0, 0, ex);
        }
        finally
        {
            guard.exit();
        }
    }

    /**
     * {@inheritDoc}
     * <p>
     * Here: truncate and re-extend when the range reaches the end of the device (the blocks are released), otherwise
     * write zeros (see the class comment).
     */
    @Override
    public void discard(final long sector, final long count)
    {
        final BlockStoreCounters counters = this.counters;
        if (!guard.tryEnter())
        {
            throw BlockStoreChecks.closed("discard", this, counters);
        }
        try
        {
            if (readOnly)
            {
                throw BlockStoreChecks.readOnly("discard", sector, count, counters);
            }
            BlockStoreChecks.checkDiscard(sector, count, sectorSize, sectors, counters);

            final long start = sector << SECTOR_SHIFT;
            final long end = (sector + count) << SECTOR_SHIFT;
            if (0 == count)
            {
                counters.onDiscard(0);
            }
            else if (sector + count == sectors)
            {
                file.setLength(start);
                file.setLength(fileLength);
                counters.onDiscard(count);
            }
            else
            {
                writeZeros(start, end);
                counters.onDiscard(count);
            }
        }
        catch (final IOException ex)
        {
            throw ioFailure("discard", sector, count, ex);
        }
        finally
        {
            guard.exit();
        }
    }

    /**
     * {@inheritDoc}
     */
    @Override
    public BlockStoreCounters counters()
    {
        return counters;
    }

    /**
     * {@inheritDoc}
     * <p>
     * Here: waits for the operations in progress, then closes the file. Writes not yet flushed stay in the page
     * cache and reach the disk when the kernel writes them back.
     */
    @Override
    public void close()
    {
        if (guard.close())
        {
            try
            {
                if (null != file)
                {
                    file.close();
                }
                else
                {
                    channel.close();
                }
            }
            catch (final IOException ex)
            {
                throw new BlockStoreException(BlockStoreException.Reason.IO_ERROR, "close failed: " + this, ex);
            }
        }
    }

    /**
     * The path, size and mode, for logs.
     *
     * @return a one-line description.
     */
    @Override
    public String toString()
    {
        return "FileBlockStore{path=" + path + " sectors=" + sectors + " sectorSize=" + sectorSize +
            " readOnly=" + readOnly + " closed=" + isClosed() + "}";
    }

    private void writeZeros(final long start, final long end) throws IOException
    {
        final FileChannel channel = this.channel;
        final ChannelViews views = ChannelViews.forCurrentThread();
        long position = start;
        while (position < end)
        {
            final ByteBuffer zeros = views.window(ZEROS_ADDRESS, (int)Math.min(ZERO_CHUNK_LENGTH, end - position));
            while (zeros.hasRemaining())
            {
                position += channel.write(zeros, position);
            }
        }
    }

    private BlockStoreException ioFailure(
        final String operation, final long sector, final long count, final IOException ex)
    {
        if (ex instanceof ClosedChannelException)
        {
            counters.onRejected();
            return new BlockStoreException(BlockStoreException.Reason.CLOSED, operation +
                " interrupted by the channel closing: sector=" + Long.toUnsignedString(sector) +
                " count=" + Long.toUnsignedString(count) + " " + this, ex);
        }
        counters.onIoError();
        return new BlockStoreException(BlockStoreException.Reason.IO_ERROR, operation + " failed: sector=" +
            Long.toUnsignedString(sector) + " count=" + Long.toUnsignedString(count) + " " + this + ": " +
            ex.getMessage(), ex);
    }
}
