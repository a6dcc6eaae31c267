package io.pvio.bench.scenario;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;

import org.agrona.DirectBuffer;

/**
 * The sending application of a network workload, on a host thread of its own: it stamps each datagram
 * ({@link UdpFrames#stamp}) and hands the frame to the guest's driver, which copies it before returning (netfront
 * grants it to netback; the e1000 driver puts it in a descriptor's buffer), as long as fewer than {@code window}
 * datagrams are in flight: sent and neither arrived nor counted as dropped. A full ring is retried. When nothing
 * arrives for {@value #LOSS_TIMEOUT_MILLIS} ms with the window full, whatever is in flight is taken as lost and the
 * window opens again. While it cannot send it spins a little, then yields, then parks until {@link #wake} (called
 * by the receiving side on each arrival) or a timeout, so that a request/response's waiting sender does not take a
 * host CPU from the simulated machine's physical CPUs. The send loop allocates nothing.
 */
final class NetGenerator implements Runnable
{
    /** How long a full window waits for an arrival before taking what is in flight as lost. */
    static final long LOSS_TIMEOUT_MILLIS = 100;

    /** Hands a frame to a guest's network driver. */
    @FunctionalInterface
    interface Transmit
    {
        /**
         * Transmits one frame; the driver copies it before returning.
         *
         * @param frame  the buffer.
         * @param offset where the frame starts.
         * @param length its bytes.
         * @return false if the driver had no room.
         */
        boolean send(DirectBuffer frame, int offset, int length);
    }

    private static final long LOSS_TIMEOUT_NANOS = TimeUnit.MILLISECONDS.toNanos(LOSS_TIMEOUT_MILLIS);
    private static final int SPINS = 200;
    private static final int YIELDS = 50;
    private static final long PARK_NANOS = TimeUnit.MICROSECONDS.toNanos(200);

    private final Transmit transmit;
    private final UdpFrames frames;
    private final int window;
    private final LongSupplier arrived;
    private final LongSupplier dropped;
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();
    private final Thread thread;
    private volatile boolean stopping;
    private volatile boolean parked;
    private volatile Throwable failure;

    /**
     * A generator, not started.
     *
     * @param name     its thread's name.
     * @param transmit the guest's driver.
     * @param frames   the datagrams.
     * @param window   datagrams in flight at most.
     * @param arrived  datagrams that arrived (or responses that came back) so far.
     * @param dropped  datagrams counted as dropped on the way so far (for example for want of a receive buffer).
     */
    NetGenerator(
        final String name, final Transmit transmit, final UdpFrames frames, final int window,
        final LongSupplier arrived, final LongSupplier dropped)
    {
        this.transmit = transmit;
        this.frames = frames;
        this.window = window;
        this.arrived = arrived;
        this.dropped = dropped;
        this.thread = new Thread(this, name);
        this.thread.setDaemon(true);
    }

    /** Starts sending. */
    void start()
    {
        thread.start();
    }

    /**
     * Stops sending and waits for the thread.
     *
     * @throws InterruptedException if interrupted.
     * @throws IllegalStateException if the send loop failed.
     */
    void stop() throws InterruptedException
    {
        stopping = true;
        thread.join();
        if (null != failure)
        {
            throw new IllegalStateException("the sender failed: " + failure, failure);
        }
    }

    /**
     * Unparks the sender if it is waiting for the window to open; from the receiving side, after counting an arrival.
     * Allocates nothing.
     */
    void wake()
    {
        if (parked)
        {
            LockSupport.unpark(thread);
        }
    }

    /**
     * The sending thread.
     *
     * @return the thread.
     */
    Thread thread()
    {
        return thread;
    }

    long sent()
    {
        return sent.get();
    }

    long refused()
    {
        return refused.get();
    }

    /** {@inheritDoc} */
    @Override
    public void run()
    {
        try
        {
            send();
        }
        catch (final RuntimeException | Error ex)
        {
            failure = ex;
        }
    }

    private void send()
    {
        final UdpFrames frames = this.frames;
        final DirectBuffer frame = frames.frame();
        final int length = frames.frameBytes();
        final int window = this.window;
        long sequence = 0;
        long lastArrived = -1;
        long lastMoveNanos = System.nanoTime();
        long lostSoFar = 0;
        int idle = 0;
        while (!stopping)
        {
            final long arrivedSoFar = arrived.getAsLong();
            if (sequence - arrivedSoFar - lostSoFar >= window)
            {
                final long accounted = arrivedSoFar + dropped.getAsLong();
                if (sequence - accounted - lostSoFar >= window)
                {
                    final long now = System.nanoTime();
                    if (accounted != lastArrived)
                    {
                        lastArrived = accounted;
                        lastMoveNanos = now;
                    }
                    else if (now - lastMoveNanos > LOSS_TIMEOUT_NANOS)
                    {
                        lostSoFar = sequence - accounted;
                        lastMoveNanos = now;
                    }
                    idle = idle(idle, arrivedSoFar);
                    continue;
                }
            }
            frames.stamp(sequence, System.nanoTime());
            if (!transmit.send(frame, 0, length))
            {
                refused.lazySet(refused.get() + 1);
                idle = idle(idle, -1);
                continue;
            }
            idle = 0;
            sequence++;
            sent.lazySet(sequence);
        }
    }

    /** Waits a little longer each time nothing can be sent: spins, then yields, then parks. */
    private int idle(final int idle, final long arrivedSoFar)
    {
        if (idle < SPINS)
        {
            Thread.onSpinWait();
        }
        else if (idle < SPINS + YIELDS)
        {
            Thread.yield();
        }
        else
        {
            parked = true;
            if (arrivedSoFar < 0 || arrived.getAsLong() == arrivedSoFar) // StoreLoad: parked before the re-read
            {
                LockSupport.parkNanos(this, PARK_NANOS);
            }
            parked = false;
        }
        return idle + 1;
    }
}
