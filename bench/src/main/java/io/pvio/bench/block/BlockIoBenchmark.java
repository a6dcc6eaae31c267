package io.pvio.bench.block;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import io.pvio.backend.block.BlockBackOptions;
import io.pvio.backend.block.FileBlockStore;
import io.pvio.bench.event.CompletionCounter;
import io.pvio.bench.machine.EmulatedDisk;
import io.pvio.bench.machine.GuestOptions;
import io.pvio.bench.machine.MachineOptions;
import io.pvio.bench.machine.PvDisk;
import io.pvio.bench.machine.PvMachine;
import io.pvio.frontend.block.BlockFront;
import io.pvio.frontend.block.BlockFrontException;
import io.pvio.frontend.block.BlockFrontOptions;
import io.pvio.frontend.block.BlockIo;
import io.pvio.frontend.block.BlockIoCallback;
import io.pvio.machine.vm.PagingMode;

/**
 * IOPS of one guest disk through the split driver ({@code pv}) against the same I/O issued on the image file
 * directly ({@code native}), on a page-cached image. One operation is one completed I/O.
 * <p>
 * <b>pv</b>: {@code depth} {@link BlockIo}s stay in flight; each completion callback, run by the guest's vCPU 0
 * (its event-channel upcall) on a physical-CPU thread of the credit scheduler, points its I/O at the next offset and
 * submits it again at once, as a completion-driven guest would; the benchmark thread only waits (parked) for
 * {@value #BATCH} more completions per invocation. The back end serves the disk with one queue, a task of a dom0 vCPU,
 * doing positional {@code FileChannel} I/O straight into the granted pages.
 * <b>pv-threads</b>: the same with {@link MachineOptions.Execution#THREADS}: the guest's event loop and the back-end
 * queue each on a host thread of its own, no scheduler (the execution model before vCPUs, kept for comparison).
 * <b>native</b>: the benchmark thread issues the same positional {@code FileChannel} calls itself, one at a time: a
 * synchronous file channel has one I/O in flight per thread, the same as the back end's one queue thread, so
 * {@code depth} does not change what native does and the native rows of both depths measure the same thing.
 * <p>
 * Run with {@code -prof gc}: the pv rows should show 0 B/op once warm.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {
    "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED", "-Dagrona.disable.bounds.checks=true",
    "-Xms1g", "-Xmx1g", "-XX:+AlwaysPreTouch"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class BlockIoBenchmark
{
    /** Size of the image, small enough to stay in the page cache. */
    public static final long IMAGE_BYTES = 64L << 20;

    private static final int MACHINE_FRAMES = 16_384;
    private static final int DOM0_FRAMES = 2048;
    private static final int GUEST_FRAMES = 8192;

    /** {@code target}: through the split driver, domains on vCPUs scheduled on physical CPUs. */
    public static final String PV = "pv";

    /** {@code target}: through the split driver, each domain's event loop and back-end queue on its own thread. */
    public static final String PV_THREADS = "pv-threads";

    /** {@code target}: the image file directly. */
    public static final String NATIVE = "native";

    /**
     * {@code target}: an emulated AHCI disk in a full-mode guest, every register access an exit to dom0's device
     * model.
     */
    public static final String EMULATED = "emulated";

    /** I/Os per benchmark invocation. */
    public static final int BATCH = 64;

    /** The access pattern. */
    @Param({"RANDOM_READ_4K", "SEQ_READ_64K", "SEQ_WRITE_64K"})
    public BlockWorkload workload;

    /** I/Os in flight (pv and emulated; native issues one at a time). */
    @Param({"1", "32"})
    public int depth;

    /** {@code pv} (on vCPUs), {@code pv-threads} (thread per domain), {@code emulated} (AHCI, full) or {@code native}. */
    @Param({PV, PV_THREADS, EMULATED, NATIVE})
    public String target;

    private Path image;
    private FileChannel channel;
    private ByteBuffer nativeBuffer;
    private PvMachine machine;
    private BlockFront front;
    private PvDisk disk;
    private EmulatedDisk emulated;
    private FileBlockStore store;
    private Consumer<BlockIo> submit;
    private final CompletionCounter completions = new CompletionCounter();
    private final AtomicLong pvSequence = new AtomicLong();
    private final AtomicInteger inFlight = new AtomicInteger();
    private volatile boolean stopping;
    private BlockIo[] ios;
    private UnsafeBuffer[] buffers;
    private long sequence;
    private volatile long failures;

    /**
     * For JMH, which instantiates the state.
     */
    public BlockIoBenchmark()
    {
    }

    /**
     * Writes the image with random bytes and reads it once, so that it is in the page cache, then boots the machine
     * (pv) or opens the channel (native).
     *
     * @throws IOException if the image cannot be written.
     */
    @Setup(Level.Trial)
    public void setUp() throws IOException
    {
        image = Files.createTempFile("pvio-bench-", ".img");
        fillImage(image);
        if (NATIVE.equals(target))
        {
            channel = FileChannel.open(image, StandardOpenOption.READ, StandardOpenOption.WRITE);
            nativeBuffer = ByteBuffer.allocateDirect(workload.blockSize());
            fillBuffer(nativeBuffer);
            return;
        }
        if (!PV.equals(target) && !PV_THREADS.equals(target) && !EMULATED.equals(target))
        {
            throw new IllegalArgumentException("target must be pv, pv-threads, emulated or native: " + target);
        }
        machine = PvMachine.start(MACHINE_FRAMES, DOM0_FRAMES, new MachineOptions().execution(
            PV_THREADS.equals(target) ? MachineOptions.Execution.THREADS : MachineOptions.Execution.VCPUS));
        if (EMULATED.equals(target))
        {
            store = FileBlockStore.open(image, false);
            emulated = EmulatedDisk.attach(machine, machine.createGuest("bench", GUEST_FRAMES,
                new GuestOptions().mode(PagingMode.FULL)), store, depth);
            submit = emulated.driver()::submit;
        }
        else
        {
            disk = machine.attachDisk(machine.createGuest("bench", GUEST_FRAMES), 51712,
                FileBlockStore.open(image, false), new BlockBackOptions(), new BlockFrontOptions());
            front = disk.front();
            submit = front::submit;
        }
        inFlight.set(depth);
        final BlockIoCallback callback = this::onComplete;
        ios = new BlockIo[depth];
        buffers = new UnsafeBuffer[depth];
        for (int i = 0; i < depth; i++)
        {
            final ByteBuffer bytes = ByteBuffer.allocateDirect(workload.blockSize());
            fillBuffer(bytes);
            ios[i] = new BlockIo().callback(callback);
            ios[i].tag(i);
            prepare(ios[i], new UnsafeBuffer(bytes));
            submit.accept(ios[i]);
        }
    }

    /**
     * {@value #BATCH} I/Os: through the split driver, waits until the callbacks (which resubmit each I/O at once, on
     * the guest's event-loop thread, as a completion-driven guest would) have completed that many more; natively,
     * issues them one after another.
     *
     * @return the number of I/Os completed so far, so that the work is not dead code.
     * @throws IOException if a native I/O fails.
     */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long pvOrNative() throws IOException
    {
        if (null != channel)
        {
            long last = 0;
            for (int i = 0; i < BATCH; i++)
            {
                last = nativeIo();
            }
            return last;
        }
        return completions.awaitMore(BATCH);
    }

    /**
     * Waits for the I/Os in flight, then shuts the machine down and deletes the image.
     *
     * @throws IOException          if the image cannot be deleted.
     * @throws InterruptedException if interrupted while draining.
     */
    @TearDown(Level.Trial)
    public void tearDown() throws IOException, InterruptedException
    {
        try
        {
            if (null != machine)
            {
                stopping = true;
                final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (inFlight.get() > 0 && System.nanoTime() - deadline < 0)
                {
                    Thread.sleep(1);
                }
                if (null != emulated)
                {
                    // for the emulated disk: I/Os, ioreqs (guest to dom0) and interrupts (dom0 to guest)
                    BlockBenchReport.recordStats(target, workload, depth, emulated.driver().completed(),
                        emulated.ioreqs(), emulated.driver().interrupts());
                    emulated.close();
                    store.close();
                }
                else
                {
                    BlockBenchReport.recordStats(target, workload, depth, front.counters().requests(),
                        front.counters().notificationsSent(), disk.back().counters().notificationsSent());
                }
                machine.close();
                if (failures > 0)
                {
                    throw new IllegalStateException(failures + " I/Os failed");
                }
            }
            if (null != channel)
            {
                channel.close();
            }
        }
        finally
        {
            Files.deleteIfExists(image);
        }
    }

    private long nativeIo() throws IOException
    {
        final long offset = workload.offset(sequence++, IMAGE_BYTES);
        nativeBuffer.clear();
        int done = 0;
        while (done < nativeBuffer.capacity())
        {
            final int n = workload.isRead() ?
                channel.read(nativeBuffer, offset + done) : channel.write(nativeBuffer, offset + done);
            if (n < 0)
            {
                throw new IOException("unexpected end of image at " + (offset + done));
            }
            done += n;
        }
        return offset;
    }

    private void onComplete(final BlockIo io, final BlockFrontException error)
    {
        if (null != error)
        {
            failures = failures + 1; // one writer: the guest's vCPU 0 upcall (or its event-loop thread)
        }
        if (stopping)
        {
            inFlight.decrementAndGet();
        }
        else
        {
            resubmit(io);
        }
        completions.complete();
    }

    private void resubmit(final BlockIo io)
    {
        final long offset = workload.offset(pvSequence.getAndIncrement(), IMAGE_BYTES);
        if (workload.isRead())
        {
            io.read(offset >>> 9, bufferOf(io), 0, workload.blockSize());
        }
        else
        {
            io.write(offset >>> 9, bufferOf(io), 0, workload.blockSize());
        }
        submit.accept(io);
    }

    private void prepare(final BlockIo io, final UnsafeBuffer buffer)
    {
        buffers[(int)io.tag()] = buffer;
        final long offset = workload.offset(pvSequence.getAndIncrement(), IMAGE_BYTES);
        if (workload.isRead())
        {
            io.read(offset >>> 9, buffer, 0, workload.blockSize());
        }
        else
        {
            io.write(offset >>> 9, buffer, 0, workload.blockSize());
        }
    }

    private UnsafeBuffer bufferOf(final BlockIo io)
    {
        return buffers[(int)io.tag()];
    }

    private static void fillBuffer(final ByteBuffer buffer)
    {
        final ThreadLocalRandom random = ThreadLocalRandom.current();
        for (int i = 0; i < buffer.capacity(); i++)
        {
            buffer.put(i, (byte)random.nextInt());
        }
    }

    private static void fillImage(final Path path) throws IOException
    {
        final ByteBuffer chunk = ByteBuffer.allocateDirect(1 << 20);
        fillBuffer(chunk);
        try (FileChannel out = FileChannel.open(path, StandardOpenOption.WRITE, StandardOpenOption.READ))
        {
            for (long position = 0; position < IMAGE_BYTES; position += chunk.capacity())
            {
                chunk.clear();
                while (chunk.hasRemaining())
                {
                    out.write(chunk, position + chunk.position());
                }
            }
            out.force(false);
            final ByteBuffer sink = ByteBuffer.allocateDirect(1 << 20);
            for (long position = 0; position < IMAGE_BYTES; position += sink.capacity())
            {
                sink.clear();
                int n;
                do
                {
                    n = out.read(sink, position + sink.position());
                }
                while (n > 0 && sink.hasRemaining());
            }
        }
    }
}
