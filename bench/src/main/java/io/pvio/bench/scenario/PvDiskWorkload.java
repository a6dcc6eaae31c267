package io.pvio.bench.scenario;

import java.nio.ByteBuffer;
import java.util.function.Consumer;

import org.agrona.concurrent.UnsafeBuffer;

import io.pvio.frontend.block.BlockFront;
import io.pvio.frontend.block.BlockFrontException;
import io.pvio.frontend.block.BlockIo;
import io.pvio.frontend.block.BlockIoCallback;
import io.pvio.ring.blkif.BlkifOp;

/**
 * A workload driven through a guest's block device ({@link BlockFront#submit}): {@code queueDepth} {@link BlockIo}s
 * stay in flight, each set up again with the next block and resubmitted from its own completion callback (on the
 * guest's event-loop thread), reusing its {@code BlockIo} and its buffer, so that the steady state allocates nothing.
 * <p>
 * With verification, no two I/Os in flight touch the same block (a block drawn while busy gives way to the next free
 * one), every write stores the next version of its block's pattern and, once acknowledged, makes it the block's
 * version, and every read is compared with the version last acknowledged, so a read checks the data exactly. A write
 * that fails leaves its block {@link BlockVersions#UNKNOWN}. An I/O that fails ends its slot.
 */
final class PvDiskWorkload extends DiskWorkload implements BlockIoCallback
{
    private static final int SECTOR_SHIFT = 9;

    private final Consumer<BlockIo> device;
    private final boolean random;
    private final int blockSize;
    private final double readShare;
    private final long count;
    private final long seed;
    private final long stream;
    private final long blocks;
    private final BlockVersions versions;
    private final boolean[] busy;
    private final BlockIo[] ios;
    private final UnsafeBuffer[] buffers;
    private final long[] slotBlock;
    private final int[] slotVersion;
    private final long[] slotStart;
    private long draws;
    private long sequential;
    private long issued;

    /**
     * An engine.
     *
     * @param device    submits an I/O to the disk, for example {@code front::submit}; it completes by calling
     *                  {@link #onComplete} on any thread, at once or later.
     * @param workload  the workload.
     * @param diskBytes bytes of the disk the workload spans.
     * @param stream    tells this disk's offsets and read/write choices apart from other disks' with the same seed.
     * @param versions  the block versions to keep, or null not to verify.
     */
    PvDiskWorkload(
        final Consumer<BlockIo> device, final Scenario.Workload workload, final long diskBytes, final long stream,
        final BlockVersions versions)
    {
        super((int)Math.max(0, Math.min(workload.queueDepth(), diskBytes / workload.blockSize())));
        this.device = device;
        this.random = workload.random();
        this.blockSize = workload.blockSize();
        this.readShare = workload.readShare();
        this.count = workload.count();
        this.seed = workload.seed();
        this.stream = stream;
        this.blocks = diskBytes / blockSize;
        if (blocks < 1 || (null != versions && versions.blocks() != blocks))
        {
            throw new IllegalArgumentException("diskBytes=" + diskBytes + " blockSize=" + blockSize +
                (null == versions ? "" : " versions=" + versions.blocks()));
        }
        this.versions = versions;
        this.busy = null == versions ? null : new boolean[(int)blocks];
        final int depth = (int)Math.min(workload.queueDepth(), blocks);
        this.ios = new BlockIo[depth];
        this.buffers = new UnsafeBuffer[depth];
        this.slotBlock = new long[depth];
        this.slotVersion = new int[depth];
        this.slotStart = new long[depth];
        for (int i = 0; i < depth; i++)
        {
            buffers[i] = new UnsafeBuffer(ByteBuffer.allocateDirect(blockSize));
            ios[i] = new BlockIo().callback(this).tag(i);
        }
    }

    /**
     * {@inheritDoc}
     */
    @Override
    public void start(final long measureFromNanos)
    {
        stats.measureFrom(measureFromNanos);
        for (int slot = 0; slot < ios.length; slot++)
        {
            final boolean go;
            synchronized (this)
            {
                go = prepare(slot);
            }
            if (go)
            {
                submit(slot);
            }
            else
            {
                finished.countDown();
            }
        }
    }

    /** The buffer of one of this engine's I/Os: what a write sends, where a read lands. */
    UnsafeBuffer buffer(final BlockIo io)
    {
        return buffers[(int)io.tag()];
    }

    /**
     * Checks a completed I/O, records it and sends its slot's next I/O.
     *
     * @param io    the I/O, one of this engine's.
     * @param error why it failed, or null.
     */
    @Override
    public void onComplete(final BlockIo io, final BlockFrontException error)
    {
        final long now = System.nanoTime();
        final int slot = (int)io.tag();
        final long block = slotBlock[slot];
        final boolean write = BlkifOp.WRITE == io.operation();
        if (null != error)
        {
            stats.error(error.getMessage());
        }
        else if (null != versions && !write)
        {
            // the block is this slot's until released below: its version cannot change meanwhile
            final int version = versions.get(block);
            if (BlockVersions.UNKNOWN != version)
            {
                stats.checked(BlockPattern.matches(buffers[slot], 0, blockSize, seed, block, version));
            }
        }
        stats.completed(slotStart[slot], now, blockSize);
        final boolean again;
        synchronized (this)
        {
            if (null != versions)
            {
                if (write)
                {
                    versions.set(block, null == error ? slotVersion[slot] : BlockVersions.UNKNOWN);
                }
                busy[(int)block] = false;
            }
            again = null == error && prepare(slot);
        }
        if (again)
        {
            submit(slot);
        }
        else
        {
            finished.countDown();
        }
    }

    /** Under the lock: picks the slot's next block and operation, or returns false if nothing more is to be issued. */
    private boolean prepare(final int slot)
    {
        if (stopping || (0 != count && issued >= count))
        {
            return false;
        }
        final long n = issued++;
        long block = random ? BlockPattern.draw(seed, stream, draws++, blocks) : sequential++ % blocks;
        if (null != busy)
        {
            while (busy[(int)block])
            {
                block = block + 1 == blocks ? 0 : block + 1;
            }
            busy[(int)block] = true;
        }
        slotBlock[slot] = block;
        if (BlockPattern.isRead(seed, stream, n, readShare))
        {
            slotVersion[slot] = -1;
        }
        else
        {
            slotVersion[slot] = null == versions ? 1 : versions.next(block);
        }
        return true;
    }

    /** Outside the lock: sets the slot's I/O up and submits it; the buffer is the slot's alone. */
    private void submit(final int slot)
    {
        final BlockIo io = ios[slot];
        final UnsafeBuffer buffer = buffers[slot];
        final long block = slotBlock[slot];
        final long sector = block * blockSize >>> SECTOR_SHIFT;
        final int version = slotVersion[slot];
        if (version < 0)
        {
            io.read(sector, buffer, 0, blockSize);
        }
        else
        {
            BlockPattern.fill(buffer, 0, blockSize, seed, block, version);
            io.write(sector, buffer, 0, blockSize);
        }
        slotStart[slot] = System.nanoTime();
        device.accept(io);
    }
}
