package io.pvio.ring;

import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;

import org.agrona.IoUtil;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * A ring in a memory-mapped file, so that two processes (Java or C) can share it. The file holds the ring pages
 * only, from offset 0. The mapping is released deterministically by {@link #close()}.
 * <p>
 * {@link #create(Path, RingGeometry, int)} builds and initialises the ring in a temporary file beside the target and
 * links it into place, so a peer polling for the file never sees a half-made ring.
 */
public final class MappedRingFile implements AutoCloseable
{
    private final Path path;
    private final MappedByteBuffer mapped;
    private final UnsafeBuffer buffer;
    private boolean closed;

    private MappedRingFile(final Path path, final MappedByteBuffer mapped)
    {
        this.path = path;
        this.mapped = mapped;
        this.buffer = new UnsafeBuffer(mapped);
    }

    /**
     * Creates a ring file at {@code path}, initialised as a front end does ({@code SHARED_RING_INIT}) with indexes
     * starting at {@code startIndex}, and maps it.
     *
     * @param path       where the ring appears; must not exist.
     * @param geometry   the ring's shape; the file is {@code geometry.ringBytes()} long.
     * @param startIndex first request and response index (0 as Xen does).
     * @return the mapped file; initialise a {@link FrontRing} over it with {@link FrontRing#attach}.
     * @throws IOException if the file exists (also if another process created it first) or cannot be written.
     */
    public static MappedRingFile create(final Path path, final RingGeometry geometry, final int startIndex)
        throws IOException
    {
        final Path absolute = path.toAbsolutePath();
        final Path temp = absolute.resolveSibling(
            absolute.getFileName() + ".tmp." + ProcessHandle.current().pid());
        if (Files.exists(absolute))
        {
            throw new IOException("ring file already exists: " + absolute);
        }
        final MappedByteBuffer mapped = map(temp, geometry.ringBytes(), true);
        boolean done = false;
        try
        {
            FrontRing.init(new UnsafeBuffer(mapped), geometry, startIndex);
            mapped.force();
            publish(temp, absolute);
            done = true;
            return new MappedRingFile(absolute, mapped);
        }
        finally
        {
            if (!done)
            {
                IoUtil.unmap(mapped);
                Files.deleteIfExists(temp);
            }
        }
    }

    private static void publish(final Path temp, final Path target) throws IOException
    {
        try
        {
            // a hard link appears atomically and, unlike rename, never replaces a ring another process made
            Files.createLink(target, temp);
            Files.delete(temp);
        }
        catch (final UnsupportedOperationException ex)
        {
            try
            {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
            }
            catch (final AtomicMoveNotSupportedException moveEx)
            {
                throw new IOException("cannot put ring file into place atomically: " + target, moveEx);
            }
        }
    }

    /**
     * Maps an existing ring file, waiting up to {@code timeoutNs} for it to appear.
     *
     * @param path      the ring file.
     * @param geometry  the ring's shape; the file must be exactly {@code geometry.ringBytes()} long.
     * @param timeoutNs how long to wait for the file; 0 fails at once if it is missing.
     * @return the mapped file.
     * @throws IOException if the file does not appear in time, has the wrong size, or cannot be mapped.
     * @throws InterruptedException if interrupted while waiting.
     */
    public static MappedRingFile open(final Path path, final RingGeometry geometry, final long timeoutNs)
        throws IOException, InterruptedException
    {
        final Path absolute = path.toAbsolutePath();
        final long deadlineNs = System.nanoTime() + timeoutNs;
        while (!Files.exists(absolute))
        {
            if (System.nanoTime() - deadlineNs >= 0)
            {
                throw new NoSuchFileException(absolute.toString(), null,
                    "ring file did not appear within " + TimeUnit.NANOSECONDS.toMillis(timeoutNs) + " ms");
            }
            TimeUnit.MILLISECONDS.sleep(2);
        }
        final long size = Files.size(absolute);
        if (size != geometry.ringBytes())
        {
            throw new IOException("ring file has the wrong size: " + absolute + " size=" + size +
                " (expected: " + geometry.ringBytes() + " for " + geometry + ")");
        }
        return new MappedRingFile(absolute, map(absolute, geometry.ringBytes(), false));
    }

    private static MappedByteBuffer map(final Path file, final int bytes, final boolean create) throws IOException
    {
        final StandardOpenOption[] options = create ?
            new StandardOpenOption[] {
                StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE } :
            new StandardOpenOption[] { StandardOpenOption.READ, StandardOpenOption.WRITE };
        try (FileChannel channel = FileChannel.open(file, options))
        {
            if (create)
            {
                channel.truncate(bytes);
                channel.write(java.nio.ByteBuffer.wrap(new byte[] { 0 }), bytes - 1);
            }
            return channel.map(FileChannel.MapMode.READ_WRITE, 0, bytes);
        }
    }

    /**
     * The file's path.
     *
     * @return absolute path of the ring file.
     */
    public Path path()
    {
        return path;
    }

    /**
     * The mapped ring memory, valid until {@link #close()}.
     *
     * @return a buffer over the whole file.
     */
    public UnsafeBuffer buffer()
    {
        if (closed)
        {
            throw new IllegalStateException("ring file is closed: " + path);
        }
        return buffer;
    }

    /**
     * Unmaps the file. Rings built over {@link #buffer()} must not be used afterwards. The file stays on disk.
     */
    @Override
    public void close()
    {
        if (!closed)
        {
            closed = true;
            buffer.wrap(0, 0);
            IoUtil.unmap(mapped);
        }
    }
}
