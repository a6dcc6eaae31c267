package io.pvio.bench.scenario;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.HdrHistogram.Histogram;
import org.agrona.concurrent.UnsafeBuffer;

import io.pvio.frontend.block.BlockFront;
import io.pvio.frontend.block.BlockFrontException;
import io.pvio.frontend.block.BlockIo;
import io.pvio.frontend.block.BlockIoCallback;
import io.pvio.ring.blkif.BlkifOp;

/**
 * A workload driven through a guest's {@link BlockFront}: {@code queueDepth} {@link BlockIo}s stay in flight, each
 * resubmitted from its own completion callback (on the guest's event-loop thread) with the next block, so the steady
 * state allocates nothing. No two I/Os in flight touch the same block, so with {@code verify} every read can be
 * checked exactly against the version of the block last acknowledged.
 */
final class PvDiskWorkload implements BlockIoCallback
{
    private final BlockFront front;
    private final Scenario.Workload workload;
    private final long stream;
    private final long blocks;
    private final int blockSize;
    private final int[] versions;
    private final boolean[] busy;
    private final BlockIo[] ios;
    private final UnsafeBuffer[] buffers;
    private final long[] slotBlock;
    private final int[] slotVersion;
    private final long[] slotStart;
    private final Histogram latency = new Histogram(TimeUnit.SECONDS.toNanos(60), 3);
    private final CountDownLatch finished;
    private long draws;
    private long sequential;
    private long issued;
    private volatile long completed;
    private volatile long measured;
    private volatile long measuredBytes;
    private volatile long mismatches;
    private volatile long errors;
    private volatile String firstError;
    private volatile long measureFrom = Long.MAX_VALUE;
    private volatile boolean stopping;

    PvDiskWorkload(final BlockFront front, final Scenario.Workload workload, final long diskBytes, final long stream)
    {
        this.front = front;
        this.workload = workload;
        this.stream = stream;
        this.blockSize = workload.blockSize();
        this.blocks = diskBytes / blockSize;
        this.versions = workload.verify() ? new int[(int)Math.min(blocks, Integer.MAX_VALUE - 8)] : null;
        this.busy = new boolean[(int)Math.min(blocks, Integer.MAX_VALUE - 8)];
        final int depth = (int)Math.min(workload.queueDepth(), blocks);
        this.ios = new BlockIo[depth];
        this.buffers = new UnsafeBuffer[depth];
        this.slotBlock = new long[depth];
        this.slotVersion = new int[depth];
        this.slotStart = new long[depth];
        this.finished = new CountDownLatch(depth);
        for (int i = 0; i < depth; i++)
        {
            buffers[i] = new UnsafeBuffer(BlockPattern.direct(blockSize));
            ios[i] = new BlockIo().callback(this).tag(i);
        }
    }

    void start(final long measureFromNanos)
    {
        measureFrom = measureFromNanos;
        for (int i = 0; i < ios.length; i++)
        {
            next(i);
        }
    }

    void stop()
    {
        stopping = true;
    }

    boolean awaitFinished(final long timeout, final TimeUnit unit) throws InterruptedException
    {
        return finished.await(timeout, unit);
    }

    long completed()
    {
        return completed;
    }

    long measured()
    {
        return measured;
    }

    long measuredBytes()
    {
        return measuredBytes;
    }

    long mismatches()
    {
        return mismatches;
    }

    long errors()
    {
        return errors;
    }

    String firstError()
    {
        return firstError;
    }

    synchronized Histogram latency()
    {
        return latency.copy();
    }

    @Override
    public void onComplete(final BlockIo io, final BlockFrontException error)
    {
        final long now = System.nanoTime();
        final int slot = (int)io.tag();
        boolean again;
        synchronized (this)
        {
            final long block = slotBlock[slot];
            if (null != error)
            {
                errors++;
                if (null == firstError)
                {
                    firstError = error.getMessage();
                }
            }
            else if (null != versions)
            {
                if (BlkifOp.WRITE == io.operation())
                {
                    versions[(int)block] = slotVersion[slot];
                }
                else if (!BlockPattern.matches(buffers[slot], 0, blockSize, workload.seed(), block,
                    versions[(int)block]))
                {
                    mismatches++;
                }
            }
            busy[(int)block] = false;
            completed++;
            if (slotStart[slot] >= measureFrom)
            {
                measured++;
                measuredBytes += blockSize;
                latency.recordValue(Math.min(now - slotStart[slot], latency.getHighestTrackableValue()));
            }
            again = !stopping && null == error && (0 == workload.count() || issued < workload.count());
        }
        if (again)
        {
            next(slot);
        }
        else
        {
            finished.countDown();
        }
    }

    private void next(final int slot)
    {
        final BlockIo io = ios[slot];
        synchronized (this)
        {
            long block = workload.random() ? BlockPattern.draw(workload.seed(), stream, draws++, blocks) :
                sequential++ % blocks;
            while (busy[(int)block])
            {
                block = (block + 1) % blocks;
            }
            busy[(int)block] = true;
            slotBlock[slot] = block;
            final long sector = block * blockSize >>> 9;
            if (BlockPattern.isRead(workload.seed(), stream, issued, workload.readShare()))
            {
                io.read(sector, buffers[slot], 0, blockSize);
            }
            else
            {
                final int version = null == versions ? 1 : versions[(int)block] + 1;
                slotVersion[slot] = version;
                BlockPattern.fill(buffers[slot], 0, blockSize, workload.seed(), block, version);
                io.write(sector, buffers[slot], 0, blockSize);
            }
            issued++;
            slotStart[slot] = System.nanoTime();
        }
        front.submit(io);
    }
}
