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
 * <b>Hand-off.</b> The agent offers a job to a JCTools MPMC queue and then wakes one parked worker, if any. A worker
 * polls, spins a little, then marks itself parked (volatile), polls once more and only then parks. Both sides write
 * one volatile and then read the other's (the queue's index, the worker's flag): in every interleaving either the
 * worker's last poll sees the job, or the agent sees the flag and unparks it (a permit that makes a later park return
 * at once). Allocates nothing per job.
 */
final class BlockIoWorkers implements AutoCloseable
{
    private static final int SPINS = 200;
    private static final VarHandle PARKED;

    static
    {
        try
        {
            PARKED = MethodHandles.lookup().findVarHandle(Worker.class, "parked", boolean.class);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    private final MpmcArrayQueue<AsyncBlockIo> submissions;
    private final Worker[] workers;
    private volatile boolean running = true;

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

    void start()
    {
        for (final Worker worker : workers)
        {
            worker.thread.start();
        }
    }

    /**
     * Queues a job and wakes a parked worker. Called by the ring's agent only.
     *
     * @param io the job.
     * @throws IllegalStateException if the queue is full (more jobs than the ring has slots: a bug).
     */
    void submit(final AsyncBlockIo io)
    {
        if (!submissions.offer(io))
        {
            throw new IllegalStateException("I/O worker queue full (" + submissions.capacity() + ")");
        }
        // after the offer (a volatile index store): read each worker's flag; see the class comment
        for (final Worker worker : workers)
        {
            if (worker.parked && PARKED.compareAndSet(worker, true, false))
            {
                LockSupport.unpark(worker.thread);
                return;
            }
        }
    }

    /** Stops the workers and waits for them; the jobs they hold finish first. Idempotent. */
    @Override
    public void close()
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
            int idle = 0;
            while (running)
            {
                AsyncBlockIo io = submissions.poll();
                if (null != io)
                {
                    io.execute();
                    idle = 0;
                    continue;
                }
                if (++idle < SPINS)
                {
                    Thread.onSpinWait();
                    continue;
                }
                idle = 0;
                parked = true; // volatile store, then the queue's volatile index read in poll
                io = submissions.poll();
                if (null != io)
                {
                    parked = false;
                    io.execute();
                    continue;
                }
                if (running)
                {
                    LockSupport.park(this);
                }
                parked = false;
            }
            // drain what is left so no job is lost on close
            AsyncBlockIo io;
            while (null != (io = submissions.poll()))
            {
                io.execute();
            }
        }
    }
}
