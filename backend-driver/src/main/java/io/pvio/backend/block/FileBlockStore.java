package io.pvio.backend.block;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import com.sun.nio.file.ExtendedOpenOption;

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
 * <b>O_DIRECT.</b> A store opened {@linkplain #open(Path, boolean, int, boolean) direct} reads and writes the file
 * with {@link ExtendedOpenOption#DIRECT}, bypassing the page cache, so the device bounds what it does. O_DIRECT needs
 * file positions, lengths and memory aligned to the file system's block size ({@link #directAlignment(Path)}): such
 * a store's logical block size must be a multiple of it, so every request the {@link BlockStore} checks accept is
 * aligned on the file, and only memory can be misaligned. Off-heap memory that is aligned (grant-mapped frames are)
 * is read and written in place, as without O_DIRECT; other memory, heap memory always, goes through a per-thread
 * aligned bounce buffer of {@value #BOUNCE_LENGTH} bytes, allocated on the thread's first such operation and reused,
 * one system call per {@value #BOUNCE_LENGTH} bytes. (Heap memory is never handed to the JDK on a direct channel:
 * JDK 17 caches the aligned temporary buffer it would use, a slice without a cleaner, and a later release of that
 * cache fails.) A file system that refuses O_DIRECT fails the open with a {@link DirectIoUnsupportedException}.
 * <p>
 * A read-write store opens the file with {@link RandomAccessFile} (for {@code setLength}; with O_DIRECT a second
 * descriptor, a direct {@link FileChannel}, does the I/O); it neither locks the file nor stops another process from
 * writing it.
 */
public final class FileBlockStore implements BlockStore
{
    /** Bytes of zeros written per system call by a discard that cannot truncate. */
    public static final int ZERO_CHUNK_LENGTH = 128 * 1024;

    /** Bytes a direct store moves per system call through its bounce buffer, for memory O_DIRECT cannot use. */
    public static final int BOUNCE_LENGTH = 128 * 1024;

    // aligned to the largest logical block size, so O_DIRECT discards can write them too
    private static final ByteBuffer ZEROS =
        ByteBuffer.allocateDirect(ZERO_CHUNK_LENGTH + MAX_SECTOR_SIZE).alignedSlice(MAX_SECTOR_SIZE);
    private static final long ZEROS_ADDRESS = BufferUtil.address(ZEROS);
    private static final ThreadLocal<ByteBuffer> BOUNCE = ThreadLocal.withInitial(() ->
        ByteBuffer.allocateDirect(BOUNCE_LENGTH + MAX_SECTOR_SIZE).alignedSlice(MAX_SECTOR_SIZE));

    private final Path path;
    private final RandomAccessFile file;
    private final FileChannel channel;
    private final boolean readOnly;
    private final boolean direct;
    private final int alignmentMask;
    private final int sectorSize;
    private final long fileLength;
    private final long sectors;
    private final BlockStoreCounters counters = new BlockStoreCounters();
    private final InFlightGuard guard = new InFlightGuard();

    private FileBlockStore(
        final Path path,
        final RandomAccessFile file,
        final FileChannel channel,
        final int alignment,
        final int sectorSize,
        final long fileLength)
    {
        this.path = path;
        this.file = file;
        this.channel = channel;
        this.readOnly = null == file;
        this.direct = 0 != alignment;
        this.alignmentMask = direct ? alignment - 1 : 0;
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
     * Opens an existing image through the page cache. The file is never created.
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
        return open(path, readOnly, sectorSize, false);
    }

    /**
     * Opens an existing image, through the page cache or with O_DIRECT (see the class comment). The file is never
     * created.
     *
     * @param path       the image file.
     * @param readOnly   true to refuse writes and discards, and open the file for reading only.
     * @param sectorSize logical block size: a power of two from 512 to 4096; with {@code direct} a multiple of
     *                   {@link #directAlignment(Path)}.
     * @param direct     true to open the file with O_DIRECT.
     * @return the store; close it to close the file.
     * @throws DirectIoUnsupportedException if {@code direct} and the file system refuses O_DIRECT.
     * @throws IOException                  if the file does not exist or cannot be opened.
     * @throws IllegalArgumentException     if the sector size is unsupported, or not a multiple of the file system's
     *                                      block size with {@code direct}, or the image is smaller than one block.
     */
    public static FileBlockStore open(final Path path, final boolean readOnly, final int sectorSize,
        final boolean direct) throws IOException
    {
        BlockStoreChecks.checkSectorSize(sectorSize);
        final int alignment = direct ? directAlignment(path) : 0;
        if (direct && 0 != sectorSize % alignment)
        {
            throw new IllegalArgumentException("O_DIRECT needs a sector size that is a multiple of the file " +
                "system's block size: path=" + path + " sectorSize=" + sectorSize + " fileSystemBlockSize=" +
                alignment);
        }
        final RandomAccessFile file;
        final FileChannel channel;
        if (readOnly)
        {
            file = null;
            channel = direct ? openDirect(path, StandardOpenOption.READ) : FileChannel.open(path,
                StandardOpenOption.READ);
        }
        else
        {
            // RandomAccessFile would create a missing file: resolve it first so that a wrong path fails instead
            final Path real = path.toRealPath();
            file = new RandomAccessFile(real.toFile(), "rw");
            try
            {
                channel = direct ? openDirect(real, StandardOpenOption.READ, StandardOpenOption.WRITE) :
                    file.getChannel();
            }
            catch (final IOException | RuntimeException ex)
            {
                file.close();
                throw ex;
            }
        }

        try
        {
            final long fileLength = channel.size();
            if (fileLength < sectorSize)
            {
                throw new IllegalArgumentException("image smaller than one logical block: path=" + path +
                    " bytes=" + fileLength + " sectorSize=" + sectorSize);
            }
            return new FileBlockStore(path, file, channel, alignment, sectorSize, fileLength);
        }
        catch (final IOException | RuntimeException ex)
        {
            channel.close();
            if (null != file)
            {
                file.close();
            }
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
     * Creates a new sparse image of {@code bytes} and opens it read-write through the page cache. The length is set
     * without writing any data, so the file takes (almost) no disk blocks until it is written.
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
        return createSparse(path, bytes, sectorSize, false);
    }

    /**
     * Creates a new sparse image of {@code bytes} and opens it read-write, through the page cache or with O_DIRECT.
     * The length is set without writing any data, so the file takes (almost) no disk blocks until it is written. If
     * the store cannot be opened (O_DIRECT refused, for one) the new file is deleted.
     *
     * @param path       where to create the file, which must not exist.
     * @param bytes      the device size, a positive multiple of {@code sectorSize}.
     * @param sectorSize logical block size: a power of two from 512 to 4096; with {@code direct} a multiple of
     *                   {@link #directAlignment(Path)}.
     * @param direct     true to open the file with O_DIRECT.
     * @return the store, reading as zeros; close it to close the file.
     * @throws DirectIoUnsupportedException if {@code direct} and the file system refuses O_DIRECT.
     * @throws IOException                  if the file exists or cannot be created.
     * @throws IllegalArgumentException     if the sector size is unsupported (see {@link #open(Path, boolean, int,
     *                                      boolean)}) or the size is not a positive whole number of logical blocks.
     */
    public static FileBlockStore createSparse(final Path path, final long bytes, final int sectorSize,
        final boolean direct) throws IOException
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
            return open(path, false, sectorSize, direct);
        }
        catch (final IOException | RuntimeException ex)
        {
            Files.deleteIfExists(path);
            throw ex;
        }
    }

    /**
     * The alignment O_DIRECT I/O on a file needs: the block size of its file system
     * ({@link java.nio.file.FileStore#getBlockSize()}, {@code f_frsize}), which the JDK checks positions, lengths and
     * memory against.
     *
     * @param path a file or directory on the file system.
     * @return bytes, a power of two.
     * @throws IOException if the file system cannot be asked, for one because the path does not exist.
     */
    public static int directAlignment(final Path path) throws IOException
    {
        final long blockSize = Files.getFileStore(path).getBlockSize();
        if (blockSize < 1 || blockSize > Integer.MAX_VALUE || 1 != Long.bitCount(blockSize))
        {
            throw new IOException("the file system of " + path + " reports a block size of " + blockSize);
        }
        return (int)blockSize;
    }

    /**
     * Whether files in a directory can be read and written with O_DIRECT: creates a probe file there, opens it
     * direct, writes and reads one aligned block, and deletes it.
     *
     * @param directory an existing, writable directory.
     * @return true if the file system accepts O_DIRECT, false if it refuses it.
     * @throws IOException if the probe file cannot be created or deleted, or fails for another reason.
     */
    public static boolean supportsDirectIo(final Path directory) throws IOException
    {
        final Path probe = Files.createTempFile(directory, ".pvio-direct-", ".probe");
        try
        {
            final int alignment = directAlignment(probe);
            try (RandomAccessFile file = new RandomAccessFile(probe.toFile(), "rw"))
            {
                file.setLength(alignment);
            }
            final ByteBuffer block = ByteBuffer.allocateDirect(2 * alignment).alignedSlice(alignment);
            block.limit(alignment);
            try (FileChannel channel = openDirect(probe, StandardOpenOption.READ, StandardOpenOption.WRITE))
            {
                while (block.hasRemaining())
                {
                    channel.write(block, block.position());
                }
                block.clear().limit(alignment);
                int read = 0;
                while (block.hasRemaining() && read >= 0)
                {
                    read = channel.read(block, block.position());
                }
            }
            catch (final DirectIoUnsupportedException ex)
            {
                return false;
            }
            return !block.hasRemaining();
        }
        finally
        {
            Files.delete(probe);
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
     * Whether the file was opened with O_DIRECT.
     *
     * @return true if the page cache is bypassed.
     */
    public boolean isDirect()
    {
        return direct;
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

            final long position = sector << SECTOR_SHIFT;
            if (!direct || inPlace(dst, dstOffset))
            {
                final ByteBuffer view = ChannelViews.forCurrentThread().view(dst, dstOffset, length);
                final int remaining = readFully(view, position);
                if (remaining > 0)
                {
                    dst.setMemory(dstOffset + length - remaining, remaining, (byte)0);
                }
            }
            else
            {
                readBounced(position, dst, dstOffset, length);
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

            final long position = sector << SECTOR_SHIFT;
            if (!direct || inPlace(src, srcOffset))
            {
                writeFully(ChannelViews.forCurrentThread().view(src, srcOffset, length), position);
            }
            else
            {
                writeBounced(position, src, srcOffset, length);
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
                if (null == file || direct)
                {
                    channel.close();
                }
                if (null != file)
                {
                    file.close();
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
            " readOnly=" + readOnly + (direct ? " direct=true" : "") + " closed=" + isClosed() + "}";
    }

    /**
     * Whether O_DIRECT can use the caller's memory as it is: off-heap and aligned. Positions and lengths are aligned
     * already, as multiples of the sector size.
     */
    // An asynchronous engine (UringBlockIo) reads and writes the image through a descriptor of its own; it enters and
    // leaves the store as the calls above do, so close still waits for its I/O, and the same checks and counters apply.

    /**
     * Whether memory at {@code address} of {@code length} bytes can be read or written in place: always without
     * O_DIRECT, with it when both are aligned to the file system's block size.
     */
    boolean inPlace(final long address, final int length)
    {
        return 0 == ((address | length) & alignmentMask);
    }

    /**
     * Enters an asynchronous read or write of {@code length} bytes from {@code sector}, with the checks of
     * {@link #read} and {@link #write}; pair a true result with {@link #exitAsync}.
     *
     * @return false (counted as refused) if the store is closed, read-only for a write, or the range is bad.
     */
    boolean enterAsync(final boolean write, final long sector, final int length)
    {
        if (!guard.tryEnter())
        {
            counters.onRejected();
            return false;
        }
        try
        {
            if (write && readOnly)
            {
                throw BlockStoreChecks.readOnly("write", sector, length >>> SECTOR_SHIFT, counters);
            }
            BlockStoreChecks.checkIo(write ? "write" : "read", sector, length, sectorSize, sectors, counters);
            return true;
        }
        catch (final BlockStoreException ex)
        {
            guard.exit();
            return false;
        }
    }

    /**
     * Leaves an asynchronous read or write entered with {@link #enterAsync}, counting it.
     *
     * @param ok true if it moved every byte.
     */
    void exitAsync(final boolean write, final int length, final boolean ok)
    {
        if (!ok)
        {
            counters.onIoError();
        }
        else if (write)
        {
            counters.onWrite(length);
        }
        else
        {
            counters.onRead(length);
        }
        guard.exit();
    }

    private boolean inPlace(final DirectBuffer buffer, final int offset)
    {
        return null == buffer.byteArray() && 0 == ((buffer.addressOffset() + offset) & alignmentMask);
    }

    /**
     * Reads until the view is full or the file ends; returns the bytes left unread. With O_DIRECT a short read that
     * leaves the position misaligned is the end of the file.
     */
    private int readFully(final ByteBuffer view, final long start) throws IOException
    {
        final FileChannel channel = this.channel;
        long position = start;
        while (view.hasRemaining())
        {
            final int read = channel.read(view, position);
            if (read < 0)
            {
                break;
            }
            position += read;
            if (0 != (position & alignmentMask))
            {
                break;
            }
        }
        return view.remaining();
    }

    private void writeFully(final ByteBuffer view, final long start) throws IOException
    {
        final FileChannel channel = this.channel;
        long position = start;
        while (view.hasRemaining())
        {
            position += channel.write(view, position);
        }
    }

    private void readBounced(final long start, final MutableDirectBuffer dst, final int dstOffset, final int length)
        throws IOException
    {
        final ByteBuffer bounce = BOUNCE.get();
        for (int done = 0; done < length; done += BOUNCE_LENGTH)
        {
            final int chunk = Math.min(BOUNCE_LENGTH, length - done);
            bounce.clear().limit(chunk);
            final int got = chunk - readFully(bounce, start + done);
            dst.putBytes(dstOffset + done, bounce, 0, got);
            if (got < chunk)
            {
                dst.setMemory(dstOffset + done + got, length - done - got, (byte)0);
                break;
            }
        }
    }

    private void writeBounced(final long start, final DirectBuffer src, final int srcOffset, final int length)
        throws IOException
    {
        final ByteBuffer bounce = BOUNCE.get();
        for (int done = 0; done < length; done += BOUNCE_LENGTH)
        {
            final int chunk = Math.min(BOUNCE_LENGTH, length - done);
            src.getBytes(srcOffset + done, bounce, 0, chunk);
            bounce.clear().limit(chunk);
            writeFully(bounce, start + done);
        }
    }

    /**
     * Opens a file with O_DIRECT, telling a file system that refuses it apart from other failures: if the same file
     * opens without O_DIRECT, the refusal was O_DIRECT's.
     */
    private static FileChannel openDirect(final Path path, final OpenOption... options) throws IOException
    {
        final OpenOption[] withDirect = new OpenOption[options.length + 1];
        System.arraycopy(options, 0, withDirect, 0, options.length);
        withDirect[options.length] = ExtendedOpenOption.DIRECT;
        try
        {
            return FileChannel.open(path, withDirect);
        }
        catch (final IOException | UnsupportedOperationException ex)
        {
            throw directOpenFailure(path, options, ex);
        }
    }

    /**
     * What a failed O_DIRECT open means: a {@link DirectIoUnsupportedException} if the file opens with the same
     * options but O_DIRECT, otherwise the failure itself.
     *
     * @param path    the file that failed to open.
     * @param options the options it was opened with, without {@link ExtendedOpenOption#DIRECT}.
     * @param failure why it failed.
     * @return the exception to throw.
     */
    static IOException directOpenFailure(final Path path, final OpenOption[] options, final Exception failure)
    {
        try
        {
            FileChannel.open(path, options).close();
        }
        catch (final IOException ex)
        {
            return failure instanceof IOException ? (IOException)failure : new IOException(failure.getMessage(),
                failure);
        }
        return new DirectIoUnsupportedException(path, fileSystemType(path), failure);
    }

    private static String fileSystemType(final Path path)
    {
        try
        {
            return Files.getFileStore(path).type();
        }
        catch (final IOException ex)
        {
            return "unknown"; // the type only decorates a message
        }
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

    /**
     * The file system of an image refuses O_DIRECT (tmpfs before Linux 6.6, for one, fails the open with
     * {@code EINVAL}), though the file itself opens without it.
     */
    public static final class DirectIoUnsupportedException extends IOException
    {
        private static final long serialVersionUID = 1L;

        private final transient Path path;

        /**
         * An exception.
         *
         * @param path           the image file.
         * @param fileSystemType the file system's type, for example {@code tmpfs}.
         * @param cause          the failed open.
         */
        public DirectIoUnsupportedException(final Path path, final String fileSystemType, final Throwable cause)
        {
            super(path + ": the file system (" + fileSystemType + ") does not support O_DIRECT: " +
                cause.getMessage(), cause);
            this.path = path;
        }

        /**
         * The image file.
         *
         * @return the path that could not be opened with O_DIRECT.
         */
        public Path path()
        {
            return path;
        }
    }
}
