package io.pvio.backend.block;

import io.netty.channel.IoEvent;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoRegistration;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.unix.FileDescriptor;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoEvent;
import io.netty.channel.uring.IoUringIoHandle;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringIoOps;
import io.netty.util.concurrent.DefaultThreadFactory;
import org.agrona.BufferUtil;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A file read and written through an io_uring that one thread owns: a Netty io_uring event loop with a handle of our
 * own. Tasks {@linkplain #execute(Runnable) executed} on that thread queue reads and writes at file offsets into the
 * ring's submission queue ({@link #submitRead}, {@link #submitWrite}); the loop submits everything queued in a pass
 * with one {@code io_uring_enter} and hands each CQE to the {@link Completion}, on the same thread. This is the
 * host's asynchronous block layer for blkback ({@link BlockBackOptions#ioUring(boolean)}) and for the native
 * baseline it is compared with.
 * <p>
 * The file is opened by the ring itself ({@code IORING_OP_OPENAT}), so the descriptor is this object's alone and is
 * closed by {@link #close()}. Memory handed to a read or write must stay valid until its completion; with O_DIRECT
 * its address, length and offset must be aligned to the file system's block size. Nothing is allocated per I/O but
 * the {@link IoUringIoOps} that Netty's API takes by value.
 * <p>
 * x86-64 Linux only: the open flags below are that ABI's, and Netty's native jar here is {@code linux-x86_64}.
 */
public final class UringFile implements AutoCloseable
{
    /** Receives completions on the loop thread. */
    @FunctionalInterface
    public interface Completion
    {
        /**
         * A read or write has completed.
         *
         * @param tag    the tag it was submitted with.
         * @param result bytes moved, or {@code -errno}.
         */
        void onComplete(long tag, int result);
    }

    /** The largest tag a read or write may carry. */
    public static final long MAX_TAG = (1L << 40) - 1;

    private static final byte IORING_OP_OPENAT = 18;
    private static final byte IORING_OP_READ = 22;
    private static final byte IORING_OP_WRITE = 23;
    private static final int AT_FDCWD = -100;
    private static final int O_RDONLY = 0;
    private static final int O_RDWR = 2;
    private static final int O_DIRECT = 0x4000;
    private static final int O_CLOEXEC = 0x80000;
    private static final long OPEN_TAG = MAX_TAG + 1;
    private static final long TIMEOUT_SECONDS = 30;

    private final Path path;
    private final Completion completion;
    private final MultiThreadIoEventLoopGroup group;
    private final IoEventLoop loop;
    private final CompletableFuture<Integer> opened = new CompletableFuture<>();
    private IoRegistration registration;
    /** The descriptor: set on the loop thread by the open's CQE, read there, and by close after the loop ended. */
    private int fd = -1;
    private boolean closed;

    /**
     * Whether io_uring works in this JVM on this kernel.
     *
     * @return null if it does, else why not.
     */
    public static String unavailableReason()
    {
        if (!"amd64".equals(System.getProperty("os.arch")) || !"Linux".equals(System.getProperty("os.name")))
        {
            return "io_uring needs x86-64 Linux, this is " + System.getProperty("os.name") + '/' +
                System.getProperty("os.arch");
        }
        if (IoUring.isAvailable())
        {
            return null;
        }
        final Throwable cause = IoUring.unavailabilityCause();
        return "io_uring is not available: " + (null == cause ? "unknown cause" : cause.toString());
    }

    private UringFile(final String name, final Path path, final int entries, final Completion completion)
    {
        this.path = path;
        this.completion = completion;
        this.group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory(name + "-uring", true),
            IoUringIoHandler.newFactory(entries));
        this.loop = group.next();
    }

    /**
     * Starts a loop thread and opens a file on its ring.
     *
     * @param name       thread name prefix (the thread is {@code name-uring-...}).
     * @param path       the file.
     * @param write      true to open it for reading and writing, false for reading only.
     * @param direct     true to open it with O_DIRECT.
     * @param entries    submission queue entries (the kernel rounds up to a power of two).
     * @param completion receives each completion on the loop thread.
     * @return the open file.
     * @throws IOException if io_uring is unavailable, or the file cannot be opened (the message names the errno).
     */
    public static UringFile open(
        final String name, final Path path, final boolean write, final boolean direct, final int entries,
        final Completion completion) throws IOException
    {
        final String reason = unavailableReason();
        if (null != reason)
        {
            throw new IOException(reason);
        }
        final UringFile file = new UringFile(name, path, entries, completion);
        try
        {
            file.openOnRing(write, direct);
            return file;
        }
        catch (final IOException | RuntimeException ex)
        {
            file.close();
            throw ex;
        }
    }

    private void openOnRing(final boolean write, final boolean direct) throws IOException
    {
        final byte[] name = path.toAbsolutePath().toString().getBytes(StandardCharsets.UTF_8);
        final ByteBuffer cPath = ByteBuffer.allocateDirect(name.length + 1).put(name).put((byte)0);
        final int flags = (write ? O_RDWR : O_RDONLY) | (direct ? O_DIRECT : 0) | O_CLOEXEC;
        try
        {
            registration = loop.register(new Handle()).get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            loop.execute(() -> submit(IORING_OP_OPENAT, AT_FDCWD, 0L, BufferUtil.address(cPath), 0, flags, OPEN_TAG));
            final int result = opened.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            if (result < 0)
            {
                throw new IOException("io_uring openat of " + path + " failed: errno " + -result);
            }
        }
        catch (final ExecutionException | TimeoutException ex)
        {
            throw new IOException("io_uring set-up for " + path + " failed", ex);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while setting up io_uring for " + path, ex);
        }
        finally
        {
            BufferUtil.free(cPath); // the open has completed (or never will: the loop is closed next)
        }
    }

    /**
     * Runs a task on the loop thread; the queue's offer publishes what the caller wrote before. A loop blocked in
     * {@code io_uring_enter} is woken through its eventfd once per batch of tasks, not once per task.
     *
     * @param task what to run; it may submit reads and writes.
     */
    public void execute(final Runnable task)
    {
        loop.execute(task);
    }

    /**
     * On the loop thread: queues a read of {@code length} bytes at {@code offset} into memory at {@code address}.
     *
     * @param offset  file offset in bytes.
     * @param address memory address, valid until the completion.
     * @param length  bytes.
     * @param tag     passed back to the completion; 0 to {@link #MAX_TAG}.
     * @return false if the ring no longer takes submissions (the file is closing); no completion will come.
     */
    public boolean submitRead(final long offset, final long address, final int length, final long tag)
    {
        return submit(IORING_OP_READ, fd, offset, address, length, 0, tag);
    }

    /**
     * On the loop thread: queues a write of {@code length} bytes from memory at {@code address} to {@code offset}.
     *
     * @param offset  file offset in bytes.
     * @param address memory address, valid until the completion.
     * @param length  bytes.
     * @param tag     passed back to the completion; 0 to {@link #MAX_TAG}.
     * @return false if the ring no longer takes submissions (the file is closing); no completion will come.
     */
    public boolean submitWrite(final long offset, final long address, final int length, final long tag)
    {
        return submit(IORING_OP_WRITE, fd, offset, address, length, 0, tag);
    }

    private boolean submit(
        final byte opcode, final int fd, final long offset, final long address, final int length, final int opFlags,
        final long tag)
    {
        return -1 != registration.submit(new IoUringIoOps(opcode, (byte)0, (short)0, fd, offset, address, length,
            opFlags, tag, (short)0, (short)0, 0, 0L));
    }

    /**
     * Shuts the loop down, waits for its thread and closes the descriptor. Every read and write must have completed
     * first (the kernel would still write into memory of one that has not). Idempotent.
     *
     * @return true if the loop thread has ended.
     */
    public synchronized boolean closeAndJoin()
    {
        if (closed)
        {
            return true;
        }
        closed = true;
        final boolean ended = group.shutdownGracefully(0, 1, TimeUnit.SECONDS)
            .awaitUninterruptibly(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        if (fd >= 0)
        {
            try
            {
                new FileDescriptor(fd).close();
            }
            catch (final IOException ignored)
            {
                // the descriptor only read and wrote; nothing is lost if its close fails
            }
            fd = -1;
        }
        return ended;
    }

    /** As {@link #closeAndJoin()}. */
    @Override
    public void close()
    {
        closeAndJoin();
    }

    @Override
    public String toString()
    {
        return "UringFile{" + path + ", fd=" + fd + '}';
    }

    /** Receives the ring's CQEs on the loop thread. */
    private final class Handle implements IoUringIoHandle
    {
        @Override
        public void handle(final IoRegistration registration, final IoEvent ioEvent)
        {
            final IoUringIoEvent event = (IoUringIoEvent)ioEvent;
            final long tag = event.userData();
            if (OPEN_TAG == tag)
            {
                if (event.res() >= 0)
                {
                    fd = event.res();
                }
                opened.complete(event.res());
                return;
            }
            completion.onComplete(tag, event.res());
        }

        @Override
        public void close()
        {
            // the descriptor is closed by UringFile.close, after the loop has ended
        }
    }
}
