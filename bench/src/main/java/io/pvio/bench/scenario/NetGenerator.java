package io.pvio.bench.scenario;

import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

import io.pvio.bench.machine.GuestSender;
import io.pvio.hypervisor.sched.Vcpu;

/**
 * The sending application of a network workload, a {@link GuestSender} on the vCPU that runs the sending guest's NIC
 * driver: each pass stamps one datagram ({@link UdpFrames#stamp}) and hands its frame to the driver, which copies it
 * before returning (netfront grants it to netback; the e1000 driver puts it in a descriptor's buffer), as long as
 * fewer than {@code window} datagrams are in flight: sent and neither arrived nor counted as dropped. One frame per
 * pass, so the driver's doorbell (netfront's notification, the e1000's TDT write) comes between the application's
 * sends as it would from a guest's socket. A full ring ends the pass; so does a full window, and the vCPU then
 * blocks until {@link #wake} (called by the receiving side on each arrival, and by the runner's loop now and then).
 * When nothing arrives for {@value #LOSS_TIMEOUT_MILLIS} ms with the window full, whatever is in flight is taken as
 * lost and the window opens again. The send path allocates nothing.
 */
final class NetGenerator implements GuestSender.Source
{
    /** How long a full window waits for an arrival before taking what is in flight as lost. */
    static final long LOSS_TIMEOUT_MILLIS = 100;

    private static final long LOSS_TIMEOUT_NANOS = TimeUnit.MILLISECONDS.toNanos(LOSS_TIMEOUT_MILLIS);

    private final UdpFrames frames;
    private final int window;
    private final LongSupplier arrived;
    private final LongSupplier dropped;
    private final GuestSender sender;
    // ---- the vCPU's ----
    private long sequence;
    private long lastAccounted = -1;
    private long lastMoveNanos = System.nanoTime();
    private long lostSoFar;

    /**
     * A generator, not started.
     *
     * @param name     the task's role name.
     * @param vcpu     the vCPU that runs the sending guest's NIC driver, or null for a guest without vCPUs.
     * @param transmit the guest's driver.
     * @param frames   the datagrams.
     * @param window   datagrams in flight at most.
     * @param arrived  datagrams that arrived (or responses that came back) so far.
     * @param dropped  datagrams counted as dropped on the way so far (for example for want of a receive buffer).
     */
    NetGenerator(
        final String name, final Vcpu vcpu, final GuestSender.Driver transmit, final UdpFrames frames,
        final int window, final LongSupplier arrived, final LongSupplier dropped)
    {
        this.frames = frames;
        this.window = window;
        this.arrived = arrived;
        this.dropped = dropped;
        this.sender = new GuestSender(name, vcpu, transmit, frames.frame(), this);
    }

    /** Puts the application on the guest's vCPU. */
    void start()
    {
        sender.start();
    }

    /**
     * Takes the application off the vCPU.
     *
     * @throws InterruptedException if interrupted.
     * @throws IllegalStateException if the send loop failed.
     */
    void stop() throws InterruptedException
    {
        sender.stop();
        final Throwable failure = sender.failure();
        if (null != failure)
        {
            throw new IllegalStateException("the sender failed: " + failure, failure);
        }
    }

    /** Has the sender look at its window again; from the receiving side, after an arrival. Allocates nothing. */
    void wake()
    {
        sender.wake();
    }

    /**
     * Whether the application failed.
     *
     * @return true if it did.
     */
    boolean failed()
    {
        return null != sender.failure();
    }

    long sent()
    {
        return sender.sent();
    }

    long refused()
    {
        return sender.refused();
    }

    /** {@inheritDoc} */
    @Override
    public int next()
    {
        final long arrivedSoFar = arrived.getAsLong();
        if (sequence - arrivedSoFar - lostSoFar >= window)
        {
            final long accounted = arrivedSoFar + dropped.getAsLong();
            if (sequence - accounted - lostSoFar >= window)
            {
                final long now = System.nanoTime();
                if (accounted != lastAccounted)
                {
                    lastAccounted = accounted;
                    lastMoveNanos = now;
                    return 0;
                }
                if (now - lastMoveNanos <= LOSS_TIMEOUT_NANOS)
                {
                    return 0;
                }
                lostSoFar = sequence - accounted;
                lastMoveNanos = now;
            }
        }
        frames.stamp(sequence, System.nanoTime());
        return frames.frameBytes();
    }

    /** {@inheritDoc} */
    @Override
    public boolean taken()
    {
        sequence++;
        return false;
    }
}
