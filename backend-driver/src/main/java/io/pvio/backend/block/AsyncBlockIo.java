package io.pvio.backend.block;

import io.pvio.ring.blkif.BlkifRequestDescriptor;
import io.pvio.ring.blkif.BlkifStatus;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * One blkif read or write handed by a ring's agent to its {@link BlockIoWorkers}: the request's id and operation,
 * and the runs of machine-contiguous memory (persistently mapped grant pages, which stay mapped while the job is in
 * flight) with the sector each starts at. Filled by the agent, executed and answered by one worker, taken back by
 * the agent; the queues between them order those steps (an offer happens-before the poll that returns it). Pooled
 * per ring.
 */
final class AsyncBlockIo implements Runnable
{
    final BlkbackQueue owner;
    /** The job's index in its agent's pool, fixed. */
    final int tag;
    final long[] runAddress = new long[BlkifRequestDescriptor.MAX_SEGMENTS_PER_REQUEST];
    final int[] runBytes = new int[BlkifRequestDescriptor.MAX_SEGMENTS_PER_REQUEST];
    private final BlockStore store;
    private final UnsafeBuffer view = new UnsafeBuffer(0, 0);
    long id;
    /** When the agent handed the job over ({@link System#nanoTime()}); published by the queue's offer. */
    long handedAt;
    /** When a worker took it. */
    long startedAt;
    /** When its image I/O ended. */
    long finishedAt;
    int operation;
    boolean write;
    long sector;
    int runs;
    long bytes;
    short status;

    AsyncBlockIo(final BlkbackQueue owner, final BlockStore store, final int tag)
    {
        this.owner = owner;
        this.tag = tag;
        this.store = store;
    }

    /** On a worker thread ({@link BlockIoWorkers}): the image I/O, the response on the ring, the job back. */
    @Override
    public void run()
    {
        short result = BlkifStatus.OKAY.value();
        startedAt = System.nanoTime();
        try
        {
            long at = sector;
            for (int i = 0; i < runs; i++)
            {
                view.wrap(runAddress[i], runBytes[i]);
                if (write)
                {
                    store.write(at, view, 0, runBytes[i]);
                }
                else
                {
                    store.read(at, view, 0, runBytes[i]);
                }
                at += runBytes[i] >>> BlkifRequestDescriptor.SECTOR_SHIFT;
            }
        }
        catch (final RuntimeException ex)
        {
            result = BlkifStatus.ERROR.value();
        }
        status = result;
        finishedAt = System.nanoTime();
        owner.complete(this);
    }
}
