package io.pvio.bench.ring;

import java.io.PrintStream;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.HdrHistogram.Histogram;
import org.agrona.BufferUtil;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;

import io.pvio.ring.BackRing;
import io.pvio.ring.EntryHandler;
import io.pvio.ring.FrontRing;
import io.pvio.ring.Notifier;
import io.pvio.ring.ParkingIdleStrategy;
import io.pvio.ring.RingEnd;
import io.pvio.ring.RingGeometry;

/**
 * The ring demo behind {@code pvio ring demo}: a front end and a back end on two threads of this process exchange
 * blkif-sized requests and responses through one shared ring, first spinning, then parking between notifications,
 * and report throughput, round-trip latency of sampled requests and how many notifications the event-index rule let
 * through. Every response is checked against its request.
 */
public final class RingDemo
{
    /** How the two ends wait when they run out of work. */
    public enum WaitMode
    {
        /** Busy-spin: lowest latency, two cores at 100%. */
        SPIN,
        /** Final check, then park until the peer notifies: Xen's event-channel model. */
        PARK
    }

    /** What one run measured. */
    public static final class Result
    {
        /** Wait mode of the run. */
        public final WaitMode mode;
        /** Round trips completed. */
        public final long messages;
        /** Wall-clock duration in nanoseconds. */
        public final long elapsedNs;
        /** Notifications the front end sent to the back end. */
        public final long requestNotifications;
        /** Notifications the back end sent to the front end. */
        public final long responseNotifications;
        /** Round-trip latency of sampled requests, nanoseconds. */
        public final Histogram latencyNs;

        Result(final WaitMode mode, final long messages, final long elapsedNs, final long requestNotifications,
            final long responseNotifications, final Histogram latencyNs)
        {
            this.mode = mode;
            this.messages = messages;
            this.elapsedNs = elapsedNs;
            this.requestNotifications = requestNotifications;
            this.responseNotifications = responseNotifications;
            this.latencyNs = latencyNs;
        }

        /**
         * Round trips per second.
         *
         * @return the rate.
         */
        public double messagesPerSecond()
        {
            return messages * 1e9 / elapsedNs;
        }
    }

    private static final int SAMPLE_MASK = 1023;

    private RingDemo()
    {
    }

    /**
     * Runs the front and back ends for {@code durationNs}, printing a progress line every second.
     *
     * @param geometry   ring shape; requests and responses must be at least 16 bytes.
     * @param mode       how the ends wait.
     * @param durationNs how long to run.
     * @param out        where progress goes.
     * @return what was measured.
     * @throws InterruptedException if interrupted while waiting for the back end.
     */
    public static Result run(final RingGeometry geometry, final WaitMode mode, final long durationNs,
        final PrintStream out) throws InterruptedException
    {
        if (geometry.requestBytes() < 16 || geometry.responseBytes() < 16)
        {
            throw new IllegalArgumentException("demo messages carry 16 bytes: requestBytes=" +
                geometry.requestBytes() + ", responseBytes=" + geometry.responseBytes());
        }
        final UnsafeBuffer shared = new UnsafeBuffer(BufferUtil.allocateDirectAligned(geometry.ringBytes(), 64));
        final FrontRing front = FrontRing.init(shared, geometry);
        final BackRing back = BackRing.attach(shared, geometry);
        final IdleStrategy frontIdle = mode == WaitMode.PARK ? new ParkingIdleStrategy(200, 20, 0) :
            new BusySpinIdleStrategy();
        final IdleStrategy backIdle = mode == WaitMode.PARK ? new ParkingIdleStrategy(200, 20, 0) :
            new BusySpinIdleStrategy();
        final Notifier toBack = backIdle instanceof Notifier ? (Notifier)backIdle : () -> {};
        final Notifier toFront = frontIdle instanceof Notifier ? (Notifier)frontIdle : () -> {};

        final BackEnd backEnd = new BackEnd(back, backIdle, toFront);
        final Thread backThread = new Thread(backEnd, "ring-demo-back");
        backThread.setDaemon(true);
        backThread.start();

        final FrontEnd frontEnd = new FrontEnd(front, frontIdle, toBack);
        final long startNs = System.nanoTime();
        final long endNs = startNs + durationNs;
        long nextReportNs = startNs + TimeUnit.SECONDS.toNanos(1);
        while (true)
        {
            final long nowNs = frontEnd.step();
            if (nowNs - endNs >= 0)
            {
                break;
            }
            if (nowNs - nextReportNs >= 0)
            {
                out.printf("  %-5s %4.1f s  %,d round trips%n", mode.name().toLowerCase(),
                    (nowNs - startNs) / 1e9, frontEnd.received);
                nextReportNs += TimeUnit.SECONDS.toNanos(1);
            }
        }
        frontEnd.drain();
        final long elapsedNs = System.nanoTime() - startNs;
        backEnd.stop.set(frontEnd.sent);
        toBack.notifyPeer();
        backThread.join(TimeUnit.SECONDS.toMillis(10));
        if (backEnd.failure != null)
        {
            throw new IllegalStateException("back end failed: " + backEnd.failure);
        }
        return new Result(mode, frontEnd.received, elapsedNs, frontEnd.notifications, backEnd.notifications,
            frontEnd.latencyNs);
    }

    private static final class FrontEnd implements EntryHandler
    {
        private final FrontRing front;
        private final IdleStrategy idle;
        private final Notifier toBack;
        private final AtomicBuffer buffer;
        private final long[] sentAtNs;
        private final Histogram latencyNs = new Histogram(TimeUnit.SECONDS.toNanos(10), 3);
        private long sent;
        private long received;
        private long notifications;
        private long nowNs;

        FrontEnd(final FrontRing front, final IdleStrategy idle, final Notifier toBack)
        {
            this.front = front;
            this.idle = idle;
            this.toBack = toBack;
            this.buffer = front.buffer();
            this.sentAtNs = new long[front.size()];
        }

        long step()
        {
            nowNs = System.nanoTime();
            int slot;
            while ((slot = front.claimRequest()) != RingEnd.RING_FULL)
            {
                final long sequence = sent++;
                buffer.putLong(slot, sequence);
                buffer.putLong(slot + 8, ~sequence);
                sentAtNs[(int)(sequence & (sentAtNs.length - 1))] = nowNs;
            }
            if (front.pushRequestsAndCheckNotify())
            {
                notifications++;
                toBack.notifyPeer();
            }
            final int n = front.copyResponses(this, Integer.MAX_VALUE);
            if (n > 0)
            {
                idle.reset();
            }
            else if (!front.finalCheckForResponses())
            {
                idle.idle();
            }
            return nowNs;
        }

        void drain()
        {
            while (received < sent)
            {
                if (front.copyResponses(this, Integer.MAX_VALUE) == 0 && !front.finalCheckForResponses())
                {
                    idle.idle();
                }
            }
        }

        @Override
        public void onEntry(final DirectBuffer response, final int offset)
        {
            final long sequence = received++;
            if (response.getLong(offset) != sequence || response.getLong(offset + 8) != sequence * 3)
            {
                throw new IllegalStateException("response " + sequence + " carries " + response.getLong(offset) +
                    "/" + response.getLong(offset + 8));
            }
            if ((sequence & SAMPLE_MASK) == 0)
            {
                latencyNs.recordValue(Math.max(0, System.nanoTime() - sentAtNs[(int)(sequence &
                    (sentAtNs.length - 1))]));
            }
        }
    }

    private static final class BackEnd implements Runnable, EntryHandler
    {
        private final BackRing back;
        private final IdleStrategy idle;
        private final Notifier toFront;
        private final AtomicBuffer buffer;
        private final AtomicLong stop = new AtomicLong(-1);
        private long notifications;
        private volatile String failure;

        BackEnd(final BackRing back, final IdleStrategy idle, final Notifier toFront)
        {
            this.back = back;
            this.idle = idle;
            this.toFront = toFront;
            this.buffer = back.buffer();
        }

        @Override
        public void run()
        {
            try
            {
                while (true)
                {
                    final int n = back.copyRequests(this, 64);
                    if (back.pushResponsesAndCheckNotify())
                    {
                        notifications++;
                        toFront.notifyPeer();
                    }
                    if (n > 0)
                    {
                        idle.reset();
                    }
                    else if (!back.finalCheckForRequests())
                    {
                        final long stopAt = stop.get();
                        if (stopAt >= 0 && back.requestConsumerIndex() == (int)stopAt)
                        {
                            return;
                        }
                        idle.idle();
                    }
                }
            }
            catch (final RuntimeException ex)
            {
                failure = ex.toString();
            }
        }

        @Override
        public void onEntry(final DirectBuffer request, final int offset)
        {
            final long sequence = request.getLong(offset);
            if (request.getLong(offset + 8) != ~sequence)
            {
                throw new IllegalStateException("request " + sequence + " is corrupt");
            }
            final int slot = back.claimResponse();
            buffer.putLong(slot, sequence);
            buffer.putLong(slot + 8, sequence * 3);
            buffer.setMemory(slot + 16, back.geometry().responseBytes() - 16, (byte)0);
        }
    }

    /**
     * Prints a result table row set: rate, latency percentiles and notifications per message in each direction.
     *
     * @param results runs to print.
     * @param out     destination.
     */
    public static void print(final Result[] results, final PrintStream out)
    {
        out.printf("%n%-6s %14s %10s %10s %10s %10s %12s %12s%n", "wait", "round trips/s", "p50 ns", "p99 ns",
            "p99.9 ns", "max ns", "notify/req", "notify/rsp");
        for (final Result r : results)
        {
            final Histogram h = r.latencyNs;
            out.printf("%-6s %,14.0f %,10d %,10d %,10d %,10d %12.4f %12.4f%n", r.mode.name().toLowerCase(),
                r.messagesPerSecond(), h.getValueAtPercentile(50), h.getValueAtPercentile(99),
                h.getValueAtPercentile(99.9), h.getMaxValue(), (double)r.requestNotifications / r.messages,
                (double)r.responseNotifications / r.messages);
        }
        out.println();
        out.println("Latency is measured on one request in 1024 (wall clock, send to response consumed, up to " +
            "a full ring in flight); notify/req counts the pushes after which the ring said the back end had " +
            "asked to be woken.");
    }
}
