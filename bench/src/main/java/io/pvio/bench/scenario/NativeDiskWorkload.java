package io.pvio.bench.scenario;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.HdrHistogram.Histogram;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The native baseline: the same workload (blocks, read share, block size) issued directly on the image with
 * positional {@code FileChannel} I/O. A synchronous file channel has one I/O in flight per thread, so the baseline
 * runs one thread per queue of the PV disk, the number of back-end threads serving it.
 */
final class NativeDiskWorkload
{
    private final Path image;
    private final Scenario.Workload workload;
    private final long blocks;
    private final int threads;
    private final Histogram latency = new Histogram(TimeUnit.SECONDS.toNanos(60), 3);
    private final AtomicLong measured = new AtomicLong();
    private long elapsedNanos;

    NativeDiskWorkload(final Path image, final Scenario.Workload workload, final long diskBytes, final int threads)
    {
        this.image = image;
        this.workload = workload;
        this.blocks = diskBytes / workload.blockSize();
        this.threads = threads;
    }

    int threads()
    {
        return threads;
    }

    /**
     * Runs the baseline for the workload's duration (or count) after its warm-up.
     *
     * @return I/Os per second over the measured window.
     */
    double run() throws IOException, InterruptedException
    {
        try (FileChannel channel = FileChannel.open(image, StandardOpenOption.READ,
            workload.readShare() < 1.0 ? StandardOpenOption.WRITE : StandardOpenOption.READ))
        {
            final long start = System.nanoTime();
            final long measureFrom = start + workload.warmupNanos();
            final long end = 0 == workload.count() ? measureFrom + workload.durationNanos() : Long.MAX_VALUE;
            final long perThread = 0 == workload.count() ? Long.MAX_VALUE : Math.max(1, workload.count() / threads);
            final Thread[] workers = new Thread[threads];
            final Throwable[] failure = new Throwable[1];
            for (int t = 0; t < threads; t++)
            {
                final int stream = 1000 + t;
                workers[t] = new Thread(() ->
                {
                    try
                    {
                        loop(channel, stream, measureFrom, end, perThread);
                    }
                    catch (final IOException ex)
                    {
                        synchronized (failure)
                        {
                            failure[0] = ex;
                        }
                    }
                }, "native-baseline-" + t);
                workers[t].start();
            }
            for (final Thread worker : workers)
            {
                worker.join();
            }
            if (null != failure[0])
            {
                throw new UncheckedIOException((IOException)failure[0]);
            }
            elapsedNanos = Math.max(1, Math.min(System.nanoTime(), end) - measureFrom);
            return measured.get() * 1e9 / elapsedNanos;
        }
    }

    synchronized Histogram latency()
    {
        return latency.copy();
    }

    private void loop(final FileChannel channel, final int stream, final long measureFrom, final long end,
        final long count) throws IOException
    {
        final int blockSize = workload.blockSize();
        final ByteBuffer buffer = ByteBuffer.allocateDirect(blockSize);
        final UnsafeBuffer view = new UnsafeBuffer(buffer);
        final Histogram local = new Histogram(TimeUnit.SECONDS.toNanos(60), 3);
        long n = 0;
        long sequential = (blocks / threads) * (stream - 1000);
        while (n < count)
        {
            final long started = System.nanoTime();
            if (started >= end)
            {
                break;
            }
            final long block = workload.random() ? BlockPattern.draw(workload.seed(), stream, n, blocks) :
                sequential++ % blocks;
            final long position = block * blockSize;
            buffer.clear();
            if (BlockPattern.isRead(workload.seed(), stream, n, workload.readShare()))
            {
                int read;
                do
                {
                    read = channel.read(buffer, position + buffer.position());
                }
                while (read >= 0 && buffer.hasRemaining());
            }
            else
            {
                BlockPattern.fill(view, 0, blockSize, workload.seed(), block, 1);
                while (buffer.hasRemaining())
                {
                    channel.write(buffer, position + buffer.position());
                }
            }
            final long finished = System.nanoTime();
            if (started >= measureFrom)
            {
                measured.incrementAndGet();
                local.recordValue(Math.min(finished - started, local.getHighestTrackableValue()));
            }
            n++;
        }
        synchronized (this)
        {
            latency.add(local);
        }
    }
}
