package io.pvio.bench.machine;

import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import org.agrona.DirectBuffer;

import io.pvio.hypervisor.sched.Vcpu;
import io.pvio.hypervisor.sched.VcpuTask;
import io.pvio.machine.cpu.IoPending;

/**
 * A guest's sending application: a task on the vCPU that runs its NIC's driver (vCPU 0, where netfront's completions
 * and the e1000 driver's register program run), as a socket's sender runs on the vCPU that then runs the driver's
 * transmit path. A register write of the driver that traps therefore stops the application too, and the doorbell
 * follows each pass's frames instead of batching whatever a free-running thread queued meanwhile. Each pass asks its
 * {@link Source} for a frame, hands it to the driver, and goes on in the same pass only if the source says so; a
 * full ring ends the pass (the driver's completion wakes the vCPU). Allocates nothing per frame.
 * <p>
 * A guest without vCPUs ({@code execution: threads}) has no vCPU to run it: the application then runs on a host
 * thread of its own, which parks briefly whenever a pass sent nothing.
 */
public final class GuestSender implements VcpuTask
{
    /** Hands a frame to a guest's network driver, which copies it before returning. */
    @FunctionalInterface
    public interface Driver
    {
        /**
         * Transmits one frame.
         *
         * @param frame  the buffer.
         * @param offset where the frame starts.
         * @param length its bytes.
         * @return false if the driver had no room.
         */
        boolean send(DirectBuffer frame, int offset, int length);
    }

    /** What the application sends and when; called on the sender's vCPU only. */
    public interface Source
    {
        /**
         * Readies the next frame in the sender's buffer, from offset 0.
         *
         * @return its bytes, or 0 if there is nothing to send now.
         */
        int next();

        /**
         * The driver took the frame {@link #next()} readied.
         *
         * @return true to offer another frame in the same pass, false to end the pass.
         */
        boolean taken();
    }

    private static final long IDLE_PARK_NANOS = TimeUnit.MICROSECONDS.toNanos(50);

    private final String role;
    private final Vcpu vcpu;
    private final Driver driver;
    private final DirectBuffer frame;
    private final Source source;
    private Thread thread;
    private volatile boolean running;
    private volatile long sent;
    private volatile long refused;
    private volatile Throwable failure;

    /**
     * A sender, not started.
     *
     * @param role   the task's role name.
     * @param vcpu   the vCPU that runs the NIC's driver, or null for a guest without vCPUs.
     * @param driver the guest's driver.
     * @param frame  the buffer the source readies frames in.
     * @param source what to send.
     */
    public GuestSender(
        final String role, final Vcpu vcpu, final Driver driver, final DirectBuffer frame, final Source source)
    {
        this.role = Objects.requireNonNull(role, "role");
        this.vcpu = vcpu;
        this.driver = Objects.requireNonNull(driver, "driver");
        this.frame = Objects.requireNonNull(frame, "frame");
        this.source = Objects.requireNonNull(source, "source");
    }

    /** Puts the application on its vCPU (or its host thread) and wakes it. */
    public void start()
    {
        running = true;
        if (null != vcpu)
        {
            vcpu.addTask(this);
            return;
        }
        final Thread t = new Thread(this::runOnThread, role);
        t.setDaemon(true);
        thread = t;
        t.start();
    }

    /**
     * Takes the application off its vCPU; when this returns it sends no more.
     *
     * @throws InterruptedException if interrupted while waiting for the host thread.
     */
    public void stop() throws InterruptedException
    {
        running = false;
        if (null != vcpu)
        {
            vcpu.removeTask(this);
        }
        else if (null != thread)
        {
            LockSupport.unpark(thread);
            thread.join();
        }
    }

    /** Has the application look at its source again: its work came from elsewhere. Any thread; allocates nothing. */
    public void wake()
    {
        if (null != vcpu)
        {
            vcpu.wake();
            return;
        }
        final Thread t = thread;
        if (null != t)
        {
            LockSupport.unpark(t);
        }
    }

    /**
     * Frames the driver took.
     *
     * @return the count.
     */
    public long sent()
    {
        return sent;
    }

    /**
     * Times the driver had no room for a frame.
     *
     * @return the count.
     */
    public long refused()
    {
        return refused;
    }

    /**
     * Why the application stopped, if it failed.
     *
     * @return the failure, or null.
     */
    public Throwable failure()
    {
        return failure;
    }

    /** {@inheritDoc} */
    @Override
    public int doWork()
    {
        if (!running || null != failure)
        {
            return 0;
        }
        int work = 0;
        try
        {
            while (true)
            {
                final int length = source.next();
                if (0 == length)
                {
                    return work;
                }
                if (!driver.send(frame, 0, length))
                {
                    refused = refused + 1; // only this task writes it
                    return work;
                }
                sent = sent + 1; // only this task writes it
                work++;
                if (!source.taken())
                {
                    return work;
                }
            }
        }
        catch (final IoPending pending)
        {
            throw pending;
        }
        catch (final RuntimeException | Error ex)
        {
            failure = ex;
            return work;
        }
    }

    /** {@inheritDoc} */
    @Override
    public String roleName()
    {
        return role;
    }

    private void runOnThread()
    {
        while (running && null == failure)
        {
            if (0 == doWork())
            {
                LockSupport.parkNanos(this, IDLE_PARK_NANOS);
            }
        }
    }
}
