package io.pvio.backend.block;

import io.pvio.ring.blkif.BlkifRequestDescriptor;
import io.pvio.ring.blkif.BlkifStatus;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The host's block layer under one blkback ring as an io_uring ({@link UringFile}): one thread takes the agent's
 * jobs, turns each run of a job into a read or write at the run's file offset, and submits every job queued since its
 * last pass with one {@code io_uring_enter}; completions come back on the same thread, which answers each finished
 * job through {@link BlkbackQueue#complete(AsyncBlockIo, boolean)} and, after the pass's last CQE, sends the one
 * event they owe the front end ({@link BlkbackQueue#sendOwedEvent()}). This is what Linux's blkback gets from a
 * plugged batch of bios with one kick: the device sees the whole queue depth, and the host pays one system call and
 * one wake-up per batch instead of a thread hand-off and a blocking {@code pread} per I/O ({@link BlockIoWorkers}).
 * <p>
 * The image is opened again by the ring (with O_DIRECT when the store has it); every job enters and leaves the
 * {@link FileBlockStore} as its synchronous calls do (same checks, counters, and a close that waits for it). A read
 * that ends short at the end of the file is completed with zeros, as {@link FileBlockStore#read} does; a failed or
 * short write, or a failed read, answers the request with an error.
 * <p>
 * <b>Hand-off.</b> The agent passes a job with {@link UringFile#execute} (Netty's MPSC task queue: the offer
 * publishes the job's fields to the loop thread). A completion's tag names the job's index in the agent's pool,
 * shifted left by 4, plus the run. Jobs are tracked in fixed arrays; nothing is allocated per job but Netty's ops.
 */
final class UringBlockIo implements BlockIoEngine, UringFile.Completion
{
    private static final int RUN_BITS = 4;
    /** The job the loop has answered on the ring and not yet offered back: one at a time, on its one thread. */
    private static final int EXTRA_JOBS = 1;

    private final FileBlockStore store;
    private final String name;
    private final int ringEntries;
    private final Submission[] submissions;
    /** The loop's view for zero-filling a read that ends at the end of the file. */
    private final UnsafeBuffer tail = new UnsafeBuffer(0, 0);
    private UringFile file;
    /** Sends the event the pass's completions left owed; queued on the loop once per pass that answered a job. */
    private final Runnable sendOwedEvent = this::sendOwedEvent;
    /** On the loop: the ring whose owed event {@link #sendOwedEvent} sends, or null if none is queued. */
    private BlkbackQueue eventOwner;

    /**
     * An engine for one ring.
     *
     * @param name        thread name prefix.
     * @param store       the image; the engine opens it again with its own descriptor.
     * @param ringSlots   the ring's size: the agent's pool holds {@code ringSlots + extraJobs()} jobs, whose
     *                    indexes are the tags.
     * @param ringEntries submission queue entries.
     */
    UringBlockIo(final String name, final FileBlockStore store, final int ringSlots, final int ringEntries)
    {
        if (BlkifRequestDescriptor.MAX_SEGMENTS_PER_REQUEST >= 1 << RUN_BITS)
        {
            throw new AssertionError("runs of a job do not fit the tag");
        }
        this.name = name;
        this.store = store;
        this.ringEntries = ringEntries;
        this.submissions = new Submission[ringSlots + EXTRA_JOBS];
        for (int i = 0; i < submissions.length; i++)
        {
            submissions[i] = new Submission(i);
        }
    }

    /**
     * Starts the loop thread and opens the image on its ring.
     *
     * @throws UncheckedIOException if io_uring cannot be set up or the image cannot be opened.
     */
    @Override
    public void start()
    {
        try
        {
            file = UringFile.open(name, store.path(), !store.isReadOnly(), store.isDirect(), ringEntries, this);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }

    @Override
    public void submit(final AsyncBlockIo io)
    {
        final Submission submission = submissions[io.tag];
        submission.io = io;
        file.execute(submission); // the task queue's offer publishes the job's fields to the loop thread
    }

    /**
     * One: the loop answers a job on the ring before it offers the job back, so in that window the front end may
     * already have a new request for the slot.
     */
    @Override
    public int extraJobs()
    {
        return EXTRA_JOBS;
    }

    /**
     * Shuts the loop down and closes the image's descriptor. The caller has taken back every job first (the ring's
     * stop waits for them), so no I/O is in flight.
     */
    @Override
    public boolean stopAndJoin()
    {
        return null == file || file.closeAndJoin();
    }

    /** On the loop thread: one run's completion. */
    @Override
    public void onComplete(final long tag, final int result)
    {
        final int index = (int)(tag >>> RUN_BITS);
        if (index >= submissions.length || null == submissions[index].io)
        {
            throw new IllegalStateException(name + ": a completion for no job in flight: tag=" + tag);
        }
        submissions[index].onRun((int)tag & ((1 << RUN_BITS) - 1), result);
    }

    /** On the loop, after the completions of a pass: their one event to the front end, if it asked for one. */
    private void sendOwedEvent()
    {
        final BlkbackQueue owner = eventOwner;
        eventOwner = null;
        owner.sendOwedEvent();
    }

    /** On the loop: a job's runs go into the submission queue, submitted together at the loop's next enter. */
    private final class Submission implements Runnable
    {
        private final int index;
        /** The job: set by the agent before the execute that runs this, cleared on the loop when answered. */
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
            if (!store.enterAsync(io.write, io.sector, (int)io.bytes))
            {
                finish(BlkifStatus.ERROR.value());
                return;
            }
            pending = io.runs;
            failed = false;
            long offset = io.sector << BlockStore.SECTOR_SHIFT;
            for (int run = 0; run < io.runs; run++)
            {
                final long tag = (long)index << RUN_BITS | run;
                final boolean queued = io.write ?
                    file.submitWrite(offset, io.runAddress[run], io.runBytes[run], tag) :
                    file.submitRead(offset, io.runAddress[run], io.runBytes[run], tag);
                if (!queued)
                {
                    // the ring is closing: the runs not queued fail now
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

        void onRun(final int run, final int result)
        {
            final AsyncBlockIo io = this.io;
            final int expected = io.runBytes[run];
            if (result != expected)
            {
                if (result >= 0 && !io.write)
                {
                    // a read that ends at the end of the file: the rest reads as zeros, as FileBlockStore#read does
                    tail.wrap(io.runAddress[run] + result, expected - result);
                    tail.setMemory(0, expected - result, (byte)0);
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
            finish(failed ? BlkifStatus.ERROR.value() : BlkifStatus.OKAY.value());
        }

        private void finish(final short status)
        {
            final AsyncBlockIo io = this.io;
            this.io = null;
            io.status = status;
            io.finishedAt = System.nanoTime();
            final BlkbackQueue owner = io.owner; // read first: once completed, the job belongs to the agent again
            owner.complete(io, true);
            if (null == eventOwner)
            {
                // tasks run after the pass's CQEs: one event for the batch, as a disk's coalesced interrupt
                eventOwner = owner;
                file.execute(sendOwedEvent);
            }
        }
    }
}
