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
import io.pvio.ring.blkif.BlkifRequestDescriptor;
import io.pvio.ring.blkif.BlkifStatus;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The host's block layer under one blkback ring as an io_uring: one thread (a Netty io_uring event loop) takes the
 * agent's jobs, turns each run of a job into an {@code IORING_OP_READ} or {@code IORING_OP_WRITE} at the run's file
 * offset, and submits every job queued since its last pass with one {@code io_uring_enter}; completions come back as
 * CQEs on the same thread, which answers each finished job through {@link BlkbackQueue#complete}. This is what
 * Linux's blkback gets from a plugged batch of bios with one kick: the device sees the whole queue depth, and the
 * host pays one system call and one wake-up per batch instead of a thread hand-off and a blocking {@code pread}
 * per I/O ({@link BlockIoWorkers}).
 * <p>
 * The image is opened by the ring itself ({@code IORING_OP_OPENAT} with {@code O_DIRECT} when the store has it), so
 * the engine has a descriptor of its own; every job enters and leaves the {@link FileBlockStore} as its synchronous
 * calls do (same checks, counters, and a close that waits for it). A read that ends short at the end of the file is
 * completed with zeros, as {@link FileBlockStore#read} does; a failed or short write, or a failed read, answers the
 * request with an error.
 * <p>
 * <b>Hand-off.</b> The agent passes a job with the loop's {@code execute} (Netty's MPSC task queue; the offer
 * publishes the job's fields to the loop thread, and a loop blocked in {@code io_uring_enter} is woken through its
 * eventfd once per batch, not once per job). A job's CQE names it by its user data: the job's index in the
 * agent's pool, shifted left by 4, plus the run. Jobs are tracked in fixed arrays; nothing is allocated per job
 * except the {@link IoUringIoOps} Netty's API takes by value.
 * <p>
 * x86-64 Linux only (the open flags below are that ABI's, and Netty's native jar here is {@code linux-x86_64}).
 */
final class UringBlockIo implements BlockIoEngine
{
    /** Most jobs (pool slots) one engine tracks. */
    static final int MAX_JOBS = 1 << 11;

    private static final byte IORING_OP_OPENAT = 18;
    private static final byte IORING_OP_READ = 22;
    private static final byte IORING_OP_WRITE = 23;
    private static final int AT_FDCWD = -100;
    private static final int O_RDONLY = 0;
    private static final int O_RDWR = 2;
    private static final int O_DIRECT = 0x4000;
    private static final int O_CLOEXEC = 0x80000;
    private static final int RUN_BITS = 4;
    private static final long OPEN_DATA = 1L << 40;
    private static final long OPEN_TIMEOUT_SECONDS = 30;

    private final FileBlockStore store;
    private final String name;
    private final int ringEntries;
    private final AsyncBlockIo[] jobs;
    private final Submission[] submissions;
    private final UringHandle handle = new UringHandle();
    /** The loop's view for zero-filling a read that ends at the end of the file. */
    private final UnsafeBuffer tail = new UnsafeBuffer(0, 0);
    private MultiThreadIoEventLoopGroup group;
    private IoEventLoop loop;
    private IoRegistration registration;
    private CompletableFuture<Integer> opened;
    /** The image's descriptor, once opened; read and written on the loop thread (and by stop, after the loop). */
    private int fd = -1;
    private boolean stopped;

    /**
     * Whether io_uring works in this JVM on this kernel.
     *
     * @return null if it does, else why not.
     */
    static String unavailableReason()
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

    /**
     * An engine for one ring.
     *
     * @param name        thread name prefix.
     * @param store       the image; the engine opens it again with its own descriptor.
     * @param jobs        the agent's pool size: job indexes run from 0 to {@code jobs - 1}; at most
     *                    {@value #MAX_JOBS}.
     * @param ringEntries submission queue entries (rounded up to a power of two by the kernel).
     */
    UringBlockIo(final String name, final FileBlockStore store, final int jobs, final int ringEntries)
    {
        if (jobs < 1 || jobs > MAX_JOBS)
        {
            throw new IllegalArgumentException("jobs must be 1 to " + MAX_JOBS + ": " + jobs);
        }
        if (BlkifRequestDescriptor.MAX_SEGMENTS_PER_REQUEST >= 1 << RUN_BITS)
        {
            throw new AssertionError("runs of a job do not fit the CQE data");
        }
        this.name = name;
        this.store = store;
        this.ringEntries = ringEntries;
        this.jobs = new AsyncBlockIo[jobs];
        this.submissions = new Submission[jobs];
        for (int i = 0; i < jobs; i++)
        {
            submissions[i] = new Submission(i);
        }
    }

    /**
     * Starts the loop thread, registers the handle and opens the image on the ring (O_DIRECT if the store has it).
     *
     * @throws UncheckedIOException if io_uring cannot be set up or the image cannot be opened.
     */
    @Override
    public void start()
    {
        final String reason = unavailableReason();
        if (null != reason)
        {
            throw new UncheckedIOException(new IOException(reason));
        }
        group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory(name + "-uring", true),
            IoUringIoHandler.newFactory(ringEntries));
        loop = group.next();
        try
        {
            registration = loop.register(handle).get(OPEN_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            opened = new CompletableFuture<>();
            final byte[] pathBytes = store.path().toAbsolutePath().toString().getBytes(StandardCharsets.UTF_8);
            final ByteBuffer path = ByteBuffer.allocateDirect(pathBytes.length + 1).put(pathBytes).put((byte)0);
            final int flags = (store.isReadOnly() ? O_RDONLY : O_RDWR) | (store.isDirect() ? O_DIRECT : 0) | O_CLOEXEC;
            loop.execute(() -> registration.submit(new IoUringIoOps(IORING_OP_OPENAT, (byte)0, (short)0, AT_FDCWD,
                0L, BufferUtil.address(path), 0, flags, OPEN_DATA, (short)0, (short)0, 0, 0L)));
            final int result = opened.get(OPEN_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            if (result < 0)
            {
                throw new IOException("io_uring openat of " + store.path() + " failed: errno " + -result);
            }
            BufferUtil.free(path);
        }
        catch (final IOException ex)
        {
            stopAndJoin();
            throw new UncheckedIOException(ex);
        }
        catch (final ExecutionException | TimeoutException ex)
        {
            stopAndJoin();
            throw new UncheckedIOException(new IOException("io_uring set-up for " + store.path() + " failed", ex));
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            stopAndJoin();
            throw new UncheckedIOException(new IOException("interrupted while setting up io_uring", ex));
        }
    }

    @Override
    public void submit(final AsyncBlockIo io)
    {
        final Submission submission = submissions[io.tag];
        submission.io = io;
        loop.execute(submission); // the task queue's offer publishes the job's fields to the loop thread
    }

    /** The loop hands a job back within the same pass that answers it: nothing beyond one job per ring slot. */
    @Override
    public int extraJobs()
    {
        return 0;
    }

    /**
     * Shuts the loop down and closes the image's descriptor. The caller has taken back every job first (the ring's
     * stop waits for them), so no I/O is in flight.
     */
    @Override
    public synchronized boolean stopAndJoin()
    {
        if (stopped)
        {
            return true;
        }
        stopped = true;
        if (null == group)
        {
            return true;
        }
        final boolean ended = group.shutdownGracefully(0, 1, TimeUnit.SECONDS)
            .awaitUninterruptibly(OPEN_TIMEOUT_SECONDS, TimeUnit.SECONDS);
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

    /** On the loop: a job's runs go into the submission queue, submitted together at the loop's next enter. */
    private final class Submission implements Runnable
    {
        private final int index;
        AsyncBlockIo io;
        private int pending;
        private boolean failed;

        Submission(final int index)
        {
            this.index = index;
        }

        @Override
        public void run()
        {
            final AsyncBlockIo io = this.io;
            io.startedAt = System.nanoTime();
            jobs[index] = io;
            if (!store.enterAsync(io.write, io.sector, (int)io.bytes))
            {
                finish(io, BlkifStatus.ERROR.value());
                return;
            }
            pending = io.runs;
            failed = false;
            long offset = io.sector << BlockStore.SECTOR_SHIFT;
            final byte opcode = io.write ? IORING_OP_WRITE : IORING_OP_READ;
            for (int run = 0; run < io.runs; run++)
            {
                final long id = registration.submit(new IoUringIoOps(opcode, (byte)0, (short)0, fd, offset,
                    io.runAddress[run], io.runBytes[run], 0, (long)(index << RUN_BITS | run), (short)0, (short)0, 0,
                    0L));
                if (-1 == id)
                {
                    // the registration is gone (the loop shuts down): the runs not submitted fail now
                    failed = true;
                    pending -= io.runs - run;
                    if (0 == pending)
                    {
                        done();
                    }
                    return;
                }
                offset += io.runBytes[run];
            }
        }

        /** One run's CQE: {@code res} bytes moved or {@code -errno}. */
        void onRun(final int run, final int res)
        {
            final AsyncBlockIo io = this.io;
            final int expected = io.runBytes[run];
            if (res != expected)
            {
                if (res >= 0 && !io.write)
                {
                    // a read that ends at the end of the file: the rest reads as zeros, as FileBlockStore#read does
                    tail.wrap(io.runAddress[run] + res, expected - res);
                    tail.setMemory(0, expected - res, (byte)0);
                }
                else
                {
                    failed = true;
                }
            }
            if (0 == --pending)
            {
                done();
            }
        }

        private void done()
        {
            store.exitAsync(io.write, (int)io.bytes, !failed);
            finish(io, failed ? BlkifStatus.ERROR.value() : BlkifStatus.OKAY.value());
        }

        private void finish(final AsyncBlockIo io, final short status)
        {
            jobs[index] = null;
            io.status = status;
            io.finishedAt = System.nanoTime();
            io.owner.complete(io);
        }
    }

    /** Receives the ring's CQEs on the loop thread. */
    private final class UringHandle implements IoUringIoHandle
    {
        @Override
        public void handle(final IoRegistration registration, final IoEvent ioEvent)
        {
            final IoUringIoEvent event = (IoUringIoEvent)ioEvent;
            final long data = event.userData();
            if (OPEN_DATA == data)
            {
                if (event.res() >= 0)
                {
                    fd = event.res();
                }
                opened.complete(event.res());
                return;
            }
            final int index = (int)(data >>> RUN_BITS);
            if (data < 0 || index >= submissions.length || null == jobs[index])
            {
                throw new IllegalStateException(name + ": a completion for no job in flight: data=" + data);
            }
            submissions[index].onRun((int)data & ((1 << RUN_BITS) - 1), event.res());
        }

        @Override
        public void close()
        {
            // the descriptor is closed by stopAndJoin, after the loop has ended
        }
    }
}
