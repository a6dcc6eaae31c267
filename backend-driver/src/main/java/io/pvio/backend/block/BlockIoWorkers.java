package io.pvio.backend.block;

import org.jctools.queues.MpmcArrayQueue;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The host's block layer under one blkback ring: {@code N} threads that perform image reads and writes handed to them
 * by the ring's agent, so that the device sees as many I/Os in flight as the front end queued, as Linux's blkback
 * gets by submitting bios instead of waiting for each. They stand for the host kernel and the device, not for the
 * driver domain's vCPUs: their CPU time is outside the scheduler's accounting.
 * <p>
 * <b>Hand-off.</b> The agent offers a job to a JCTools MPMC queue. A worker with nothing to do spins a little
 * ({@code spinning} counts those), then marks itself parked, polls once more and only then parks. The agent wakes a
 * parked worker only when no worker spins: a spinner will take the job. A worker that takes a job and sees more
 * queued with no spinner left wakes the next parked worker itself, so a burst of submissions costs the agent (a task
 * of a driver-domain vCPU) one wake-up and the rest are paid by the host's threads, as a kernel thread pool that
 * wakes workers in a chain does.
 * <p>
 * <b>No lost job.</b> Two Dekker pairs, each a store then a full fence (or an atomic read-modify-write) then a load,
 * so in every interleaving at least one side sees the other's store:
 * <ul>
 *   <li>agent: offer the job, fence, read {@code spinning}; spinner giving up: decrement {@code spinning}, set its
 *       {@code parked} flag, fence, poll. Either the agent sees the spinner still counted, and the spinner's last
 *       poll (after its decrement) sees the job, or the agent sees zero spinners and wakes a parked worker;</li>
 *   <li>waker: read a worker's {@code parked} flag and clear it by CAS, then unpark; parking worker: set
 *       {@code parked}, fence, poll, park. Either its last poll sees the job, or the waker's CAS succeeds and the
 *       unpark leaves a permit that makes the park return at once.</li>
 * </ul>
 * A job queued while every worker is busy executing is taken by the first of them to poll again. Allocates nothing
 * per job.
 */
final class BlockIoWorkers implements BlockIoEngine, AutoCloseable
{
    private static final int SPINS = 200;
    private static final long YIELD_NANOS = TimeUnit.MICROSECONDS.toNanos(100);
    private static final VarHandle PARKED;
    private static final VarHandle SPINNING;

    static
    {
        try
        {
            final MethodHandles.Lookup lookup = MethodHandles.lookup();
            PARKED = lookup.findVarHandle(Worker.class, "parked", boolean.class);
            SPINNING = lookup.findVarHandle(BlockIoWorkers.class, "spinning", int.class);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    private final MpmcArrayQueue<Runnable> submissions;
    private final Worker[] workers;
    private volatile boolean running = true;
    /** Workers polling the queue without a job, not parked; changed by atomic add only. */
    private volatile int spinning;

    /**
     * Workers for one ring.
     *
     * @param name     thread name prefix.
     * @param count    1 to 256 threads.
     * @param capacity most jobs queued at once (the ring's size).
     */
    BlockIoWorkers(final String name, final int count, final int capacity)
    {
        submissions = new MpmcArrayQueue<>(Math.max(2, capacity));
        workers = new Worker[count];
        for (int i = 0; i < count; i++)
        {
            workers[i] = new Worker(name + "-io" + i);
        }
    }

    @Override
    public void start()
    {
        for (final Worker worker : workers)
        {
            worker.thread.start();
        }
    }

    /**
     * Queues a job and, when no worker spins, wakes a parked one. Called by the ring's agent only.
     *
     * @param io the job.
     * @throws IllegalStateException if the queue is full (more jobs than the ring has slots: a bug).
     */
    void submit(final Runnable io)
    {
        if (!submissions.offer(io))
        {
            throw new IllegalStateException("I/O worker queue full (" + submissions.capacity() + ")");
        }
        VarHandle.fullFence(); // the offer before the read of spinning (first pair in the class comment)
        if (0 == spinning)
        {
            wakeOne();
        }
    }

    @Override
    public void submit(final AsyncBlockIo io)
    {
        submit((Runnable)io);
    }

    /** Each worker may hold one job it has answered and not yet handed back. */
    @Override
    public int extraJobs()
    {
        return workers.length;
    }

    /** Stops the workers and waits for them; the jobs they hold finish first. Idempotent. */
    @Override
    public void close()
    {
        stopAndJoin();
    }

    /**
     * As {@link #close()}, and says whether it worked.
     *
     * @return true if every worker thread has ended.
     */
    @Override
    public boolean stopAndJoin()
    {
        running = false;
        for (final Worker worker : workers)
        {
            LockSupport.unpark(worker.thread);
        }
        for (final Worker worker : workers)
        {
            try
            {
                worker.thread.join(TimeUnit.SECONDS.toMillis(30));
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        for (final Worker worker : workers)
        {
            if (worker.thread.isAlive())
            {
                return false;
            }
        }
        return true;
    }

    private void wakeOne()
    {
        for (final Worker worker : workers)
        {
            if (worker.parked && PARKED.compareAndSet(worker, true, false))
            {
                LockSupport.unpark(worker.thread);
                return;
            }
        }
    }

    private final class Worker implements Runnable
    {
        private final Thread thread;
        /** True while the worker is (about to be) parked; accessed volatile or by CAS. */
        private volatile boolean parked;

        Worker(final String name)
        {
            thread = new Thread(this, name);
            thread.setDaemon(true);
        }

        @Override
        public void run()
        {
            while (running)
            {
                Runnable io = submissions.poll();
                if (null == io)
                {
                    io = spinForJob();
                }
                if (null == io)
                {
                    io = parkForJob();
                }
                if (null != io)
                {
                    // more queued and nobody spinning to take it: wake the next worker (the chain in the class comment)
                    if (0 == spinning && !submissions.isEmpty())
                    {
                        wakeOne();
                    }
                    io.run();
                }
            }
            // drain what is left so no job is lost on close
            Runnable io;
            while (null != (io = submissions.poll()))
            {
                io.run();
            }
        }

        private Runnable spinForJob()
        {
            SPINNING.getAndAdd(BlockIoWorkers.this, 1);
            Runnable io = null;
            final long deadline = System.nanoTime() + YIELD_NANOS;
            for (int i = 0; running && null == (io = submissions.poll()); i++)
            {
                if (i < SPINS)
                {
                    Thread.onSpinWait();
                }
                else if (System.nanoTime() - deadline < 0)
                {
                    Thread.yield();
                }
                else
                {
                    break;
                }
            }
            SPINNING.getAndAdd(BlockIoWorkers.this, -1);
            return io;
        }

        private Runnable parkForJob()
        {
            parked = true;
            VarHandle.fullFence(); // parked (and the spinning decrement before it) before the last poll
            final Runnable io = submissions.poll();
            if (null != io)
            {
                // if a waker's CAS beat ours it chose us for a job it queued first: run() passes that job on (the chain
                // check reads the queue after this CAS); its unpark leaves a permit, which costs one empty pass
                PARKED.compareAndSet(this, true, false);
                return io;
            }
            if (running)
            {
                LockSupport.park(this);
            }
            parked = false;
            return null;
        }
    }
}
