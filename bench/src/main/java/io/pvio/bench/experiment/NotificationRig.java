package io.pvio.bench.experiment;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

import io.pvio.ring.BackRing;
import io.pvio.ring.EntryHandler;
import io.pvio.ring.FrontRing;
import io.pvio.ring.Notifier;
import io.pvio.ring.RingEnd;
import io.pvio.ring.RingGeometry;
import io.pvio.ring.SharedRingDescriptor;
import org.HdrHistogram.Histogram;
import org.agrona.BufferUtil;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The request direction of a split driver on one real ring in off-heap memory ({@link #GEOMETRY}: two 4 KiB pages,
 * 16-byte requests and responses, 256 slots), driven by two plain Java threads.
 * <p>
 * The producer (the front end) claims {@code batch} request slots, stamps each with its sequence number and the time
 * of the claim, and pushes once with {@code RING_PUSH_REQUESTS_AND_CHECK_NOTIFY}; only when that push finds the
 * consumer's {@code req_event} among the requests just published does it notify, by setting a pending flag and
 * unparking the consumer (the event channel and its upcall). It polls for responses, so only the request direction
 * notifies. The consumer (the back end) takes a pending event (an upcall), drains the ring, answering each request in
 * its own slot after a busy-spin of {@code workNanos}, and goes back to sleep by the rule {@link Sleep} selects.
 * <p>
 * The consumer's park has a timeout, the watchdog: when it expires with requests in the ring and no event pending, a
 * request was stranded by a lost wake-up; it is counted and served. Nothing in either thread's loop allocates.
 */
final class NotificationRig
{
    /** The ring: 2 pages of 16-byte entries, {@code (8192 - 64) / 16 = 508} rounded down to 256 slots. */
    static final RingGeometry GEOMETRY = RingGeometry.ofPages(2, 16, 16);

    /** Watchdog of the experiment's runs: far above any wake-up, so it fires only for a stranded request. */
    static final long EXPERIMENT_WATCHDOG_NANOS = TimeUnit.SECONDS.toNanos(1);

    /** Longest latency the histograms hold; longer ones are recorded as this. */
    static final long MAX_LATENCY_NANOS = TimeUnit.SECONDS.toNanos(10);

    private static final long RUN_TIMEOUT_MILLIS = TimeUnit.SECONDS.toMillis(120);
    private static final int SEQUENCE_OFFSET = 0;
    private static final int TIME_OFFSET = 8;
    private static final com.sun.management.ThreadMXBean THREADS =
        ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean t &&
            t.isThreadAllocatedMemorySupported() && t.isThreadAllocatedMemoryEnabled() ? t : null;

    private NotificationRig()
    {
    }

    /** How the producer feeds the ring. */
    enum Regime
    {
        /** One batch at a time: the next only once every response of the last is in, so the consumer sleeps. */
        IDLE("idle"),
        /** Streaming: a batch whenever {@code batch} slots are free, responses reaped only when they are not. */
        BUSY("busy");

        private final String label;

        Regime(final String label)
        {
            this.label = label;
        }

        /**
         * The name in tables.
         *
         * @return the label.
         */
        String label()
        {
            return label;
        }
    }

    /** How the consumer goes to sleep once it has drained the ring. */
    enum Sleep
    {
        /** Xen's {@code RING_FINAL_CHECK_FOR_REQUESTS}: set {@code req_event = req_cons + 1}, re-check, then park. */
        FINAL_CHECK,
        /** Broken: set {@code req_event = req_cons + 1} and park without looking at {@code req_prod} again. */
        NO_RECHECK
    }

    /**
     * One run.
     *
     * @param regime        how the producer feeds the ring.
     * @param batch         requests per push, 1 to the ring's size.
     * @param workNanos     the consumer's busy-spin per request.
     * @param requests      requests in the run, a multiple of {@code batch}.
     * @param sleep         how the consumer goes to sleep.
     * @param raceSpins     at most this many {@link Thread#onSpinWait()} calls (a seeded random count) between the
     *                      consumer's last empty drain and its sleep rule, the same for both rules; 0 for none.
     * @param watchdogNanos the consumer's park timeout.
     * @param consumerFirst start the consumer thread before the producer.
     * @param stopOnStrand  stop issuing requests once one has been stranded.
     * @param seed          seed of the race delays.
     */
    record Settings(
        Regime regime, int batch, long workNanos, int requests, Sleep sleep, int raceSpins, long watchdogNanos,
        boolean consumerFirst, boolean stopOnStrand, long seed)
    {
        /**
         * Checks the settings.
         *
         * @param regime        feeding.
         * @param batch         requests per push.
         * @param workNanos     work per request.
         * @param requests      requests.
         * @param sleep         sleep rule.
         * @param raceSpins     race delay bound.
         * @param watchdogNanos park timeout.
         * @param consumerFirst start order.
         * @param stopOnStrand  stop at the first stranded request.
         * @param seed          seed.
         */
        Settings
        {
            if (batch < 1 || batch > GEOMETRY.size() || requests < batch || requests % batch != 0 || workNanos < 0 ||
                raceSpins < 0 || watchdogNanos <= 0)
            {
                throw new IllegalArgumentException("batch " + batch + ", requests " + requests + ", work " +
                    workNanos + ", race spins " + raceSpins + ", watchdog " + watchdogNanos);
            }
        }

        /**
         * A point of the experiment: Xen's final check, no race delay, consumer started first.
         *
         * @param regime    feeding.
         * @param batch     requests per push.
         * @param workNanos work per request.
         * @param requests  requests.
         * @return the settings.
         */
        static Settings point(final Regime regime, final int batch, final long workNanos, final int requests)
        {
            return new Settings(regime, batch, workNanos, requests, Sleep.FINAL_CHECK, 0, EXPERIMENT_WATCHDOG_NANOS,
                true, false, 0);
        }
    }

    /**
     * What a run measured and counted.
     *
     * @param settings          the run.
     * @param issued            requests the producer wrote and pushed.
     * @param answered          responses the producer read, each carrying the sequence number it expected.
     * @param pushes            request pushes.
     * @param notifications     pushes that found the consumer asking to be notified (each sent one event).
     * @param upcalls           events the consumer took (pending flag found set and cleared); sends to a pending flag
     *                          coalesce.
     * @param parks             the consumer's calls to park.
     * @param strands           watchdog expiries that found requests waiting and no event pending.
     * @param sequenceErrors    requests or responses out of sequence (lost, repeated or reordered).
     * @param elapsedNanos      the producer's first claim to its last response.
     * @param latency           slot claim to the consumer finishing the request, nanoseconds.
     * @param longestWaitNanos  longest time the producer had requests outstanding and no response arrived.
     * @param producerAllocated bytes the producer's thread allocated in its loop, -1 if the JVM cannot say.
     * @param consumerAllocated bytes the consumer's thread allocated in its loop, -1 if the JVM cannot say.
     */
    record Outcome(
        Settings settings, long issued, long answered, long pushes, long notifications, long upcalls, long parks,
        long strands, long sequenceErrors, long elapsedNanos, Histogram latency, long longestWaitNanos,
        long producerAllocated, long consumerAllocated)
    {
    }

    /**
     * Runs both threads on a fresh ring until every issued request is answered.
     *
     * @param settings the run.
     * @return what it measured.
     * @throws IllegalStateException if a thread failed or the run made no progress for two minutes.
     */
    static Outcome run(final Settings settings)
    {
        final ByteBuffer memory = ByteBuffer.allocateDirect(GEOMETRY.ringBytes() + SharedRingDescriptor.PAGE_SIZE);
        final boolean[] stopped = new boolean[1];
        try
        {
            return run(settings, new UnsafeBuffer(memory.alignedSlice(SharedRingDescriptor.PAGE_SIZE)), stopped);
        }
        finally
        {
            if (stopped[0])
            {
                BufferUtil.free(memory); // neither thread can touch the ring any more
            }
        }
    }

    private static Outcome run(final Settings settings, final AtomicBuffer buffer, final boolean[] stopped)
    {
        final FrontRing front = FrontRing.init(buffer, GEOMETRY);
        final BackRing back = BackRing.attach(buffer, GEOMETRY);
        final Consumer consumer = new Consumer(back, settings);
        final Producer producer = new Producer(front, settings, consumer);
        if (settings.consumerFirst())
        {
            consumer.start();
            producer.start();
        }
        else
        {
            producer.start();
            consumer.start();
        }
        boolean stuck = false;
        try
        {
            producer.join(RUN_TIMEOUT_MILLIS);
            if (producer.isAlive())
            {
                stuck = true;
                producer.abort();
                producer.join(RUN_TIMEOUT_MILLIS);
            }
            consumer.halt();
            consumer.join(RUN_TIMEOUT_MILLIS);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            producer.abort();
            consumer.halt();
            throw new IllegalStateException("interrupted while waiting for the e2 threads", ex);
        }
        stopped[0] = !producer.isAlive() && !consumer.isAlive();
        final String indexes = "req_prod=" + buffer.getIntVolatile(SharedRingDescriptor.REQ_PROD_OFFSET) +
            " req_event=" + buffer.getIntVolatile(SharedRingDescriptor.REQ_EVENT_OFFSET) + " rsp_prod=" +
            buffer.getIntVolatile(SharedRingDescriptor.RSP_PROD_OFFSET) + " " + settings;
        if (null != producer.failure || null != consumer.failure)
        {
            final IllegalStateException ex = new IllegalStateException("an e2 thread failed: " + indexes);
            if (null != producer.failure)
            {
                ex.addSuppressed(producer.failure);
            }
            if (null != consumer.failure)
            {
                ex.addSuppressed(consumer.failure);
            }
            throw ex;
        }
        if (stuck || consumer.isAlive())
        {
            throw new IllegalStateException("e2 run made no progress for " + RUN_TIMEOUT_MILLIS + " ms: " + indexes);
        }
        return new Outcome(settings, producer.issued, producer.reaped, producer.pushes, producer.notifications,
            consumer.upcalls, consumer.parks, consumer.strands, producer.sequenceErrors + consumer.sequenceErrors,
            producer.elapsedNanos, consumer.latency, producer.longestWaitNanos, producer.allocated,
            consumer.allocated);
    }

    /** Bytes the calling thread has allocated so far, -1 if the JVM does not count them. */
    private static long allocatedBytes()
    {
        return null == THREADS ? -1 : THREADS.getCurrentThreadAllocatedBytes();
    }

    /** Bytes allocated since {@code before}, net of one reading's own cost, -1 if the JVM does not count them. */
    private static long allocatedSince(final long before, final long probe)
    {
        return before < 0 ? -1 : allocatedBytes() - before - probe;
    }

    /** What one reading of the allocation counter allocates by itself. */
    private static long probeCost()
    {
        final long first = allocatedBytes();
        return first < 0 ? 0 : allocatedBytes() - first;
    }

    private static void spin(final long nanos)
    {
        if (nanos > 0)
        {
            final long end = System.nanoTime() + nanos;
            while (System.nanoTime() - end < 0)
            {
                // busy: the consumer's work for one request
            }
        }
    }

    /**
     * The back end: sleeps until an event, drains the ring, answers every request, and sleeps again. Its pending
     * flag and {@link #notifyPeer()} are the event channel the producer signals.
     */
    private static final class Consumer extends Thread implements Notifier, EntryHandler
    {
        private final BackRing back;
        private final AtomicBuffer shared;
        private final long workNanos;
        private final Sleep sleep;
        private final int raceSpins;
        private final long watchdogNanos;
        private final SplittableRandom random;
        private final AtomicBoolean pending = new AtomicBoolean();
        private final Histogram latency = new Histogram(MAX_LATENCY_NANOS, 3);
        private volatile boolean stop;
        private volatile boolean stranded;
        private volatile Throwable failure;
        private long expected;
        private long upcalls;
        private long parks;
        private long strands;
        private long sequenceErrors;
        private long allocated = -1;

        Consumer(final BackRing back, final Settings settings)
        {
            super("e2-consumer");
            setDaemon(true);
            this.back = back;
            this.shared = back.buffer();
            this.workNanos = settings.workNanos();
            this.sleep = settings.sleep();
            this.raceSpins = settings.raceSpins();
            this.watchdogNanos = settings.watchdogNanos();
            this.random = new SplittableRandom(settings.seed());
        }

        /**
         * Sends the event: sets the pending flag, then unparks. Called by the producer's thread.
         */
        @Override
        public void notifyPeer()
        {
            // volatile store before the unpark. The consumer reads the flag (getAndSet) before every park, so:
            //   flag set before its read            -> it takes the event without parking;
            //   flag set after its read, unpark before its park -> unpark left a permit, the park returns at once
            //                                          and the next read sees the flag;
            //   unpark while it is parked           -> it wakes and reads the flag.
            // No order leaves it parked with the flag set. An unpark before the thread has started does nothing,
            // but the flag it follows is then read before the first park.
            pending.set(true);
            LockSupport.unpark(this);
        }

        @Override
        public void run()
        {
            try
            {
                final long probe = probeCost();
                final long before = allocatedBytes();
                while (awaitEvent())
                {
                    boolean more;
                    do
                    {
                        while (0 != back.readRequests(this, Integer.MAX_VALUE))
                        {
                            // drain: readRequests returns 0 once req_prod (read with acquire) equals req_cons
                        }
                        raceDelay();
                        more = finishOrSleep();
                    }
                    while (more);
                }
                allocated = allocatedSince(before, probe);
            }
            catch (final Throwable ex)
            {
                failure = ex;
            }
        }

        /**
         * Waits for an event (an upcall) or the watchdog.
         *
         * @return false once halted.
         */
        private boolean awaitEvent()
        {
            long deadline = System.nanoTime() + watchdogNanos;
            while (true)
            {
                // volatile read-and-clear, before the drain's reads of req_prod (blkback: waiting_reqs = 0; mb()):
                // a notification sent after this clear sets the flag again and costs at most one spurious upcall,
                // and one read here happens-after the producer's push that preceded its flag store
                if (pending.getAndSet(false))
                {
                    upcalls++;
                    return true;
                }
                if (stop)
                {
                    return false;
                }
                final long now = System.nanoTime();
                final long left = deadline - now;
                if (left <= 0)
                {
                    if (0 != back.unconsumedRequests())
                    {
                        // the watchdog, not an event, found work: a request was published while we slept unasked
                        strands++;
                        stranded = true;
                        return true;
                    }
                    deadline = now + watchdogNanos;
                    continue;
                }
                parks++;
                LockSupport.parkNanos(this, left);
            }
        }

        /** The race window: the same delay before either sleep rule, from the last empty drain to req_event. */
        private void raceDelay()
        {
            if (raceSpins > 0)
            {
                for (int i = random.nextInt(raceSpins + 1); i > 0; i--)
                {
                    Thread.onSpinWait();
                }
            }
        }

        /**
         * Applies the sleep rule.
         *
         * @return true if requests arrived and the consumer must drain again, false to wait for an event.
         */
        private boolean finishOrSleep()
        {
            if (Sleep.FINAL_CHECK == sleep)
            {
                // RING_FINAL_CHECK_FOR_REQUESTS. Inside: [check req_prod], S1 volatile store req_event = req_cons + 1,
                // L1 volatile load req_prod. The producer's push is S2 volatile store req_prod, L2 volatile load
                // req_event. Store-buffering (Dekker) shape, all four accesses volatile, so they take part in one
                // total synchronization order consistent with program order (S1 < L1, S2 < L2):
                //   L1 sees S2, L2 sees S1 -> both: a spurious event, the consumer drains anyway   (allowed)
                //   L1 sees S2, L2 misses S1 -> the consumer drains, no event needed             (allowed)
                //   L1 misses S2, L2 sees S1 -> req_event = req_cons + 1 lies in (old, new]: event (allowed)
                //   L1 misses S2, L2 misses S1 -> would need L1 < S2 and L2 < S1 in that order,
                //                                 contradicting S1 < L1 and S2 < L2           (forbidden)
                // With plain or release/acquire accesses the fourth outcome is allowed (each store may sit in its
                // core's store buffer past the other's load); the full fence between S1 and L1 is what closes it.
                return back.finalCheckForRequests();
            }
            // NO_RECHECK: S1 without L1. Our last load of req_prod was the drain's (L0, before the delay), so
            //   L0 misses S2, then S2, L2 reads the old req_event (<= old req_prod: no event), then S1, park
            // is a legal interleaving for any fences: the request is published, nobody will announce it, and only
            // the watchdog finds it. This is the lost wake-up the final check exists to prevent.
            shared.putIntVolatile(SharedRingDescriptor.REQ_EVENT_OFFSET, back.requestConsumerIndex() + 1);
            return false;
        }

        /** One request, in place: check it, work, record its latency, answer it in its own slot. */
        @Override
        public void onEntry(final DirectBuffer buffer, final int offset)
        {
            final long sequence = buffer.getLong(offset + SEQUENCE_OFFSET);
            final long claimed = buffer.getLong(offset + TIME_OFFSET);
            if (sequence != expected)
            {
                sequenceErrors++;
            }
            expected = sequence + 1;
            spin(workNanos);
            final long done = System.nanoTime();
            latency.recordValue(Math.min(Math.max(0, done - claimed), MAX_LATENCY_NANOS));
            final int slot = back.claimResponse();
            shared.putLong(slot + SEQUENCE_OFFSET, sequence);
            shared.putLong(slot + TIME_OFFSET, done);
            back.pushResponses(); // release: the producer polls rsp_prod, so responses never notify
        }

        void halt()
        {
            stop = true;
            LockSupport.unpark(this);
        }

        boolean stranded()
        {
            return stranded;
        }

        Throwable failure()
        {
            return failure;
        }
    }

    /**
     * The front end: writes batches, pushes once per batch, notifies when the push says so, and polls for responses.
     */
    private static final class Producer extends Thread implements EntryHandler
    {
        private final FrontRing front;
        private final AtomicBuffer shared;
        private final Regime regime;
        private final int batch;
        private final int requests;
        private final boolean stopOnStrand;
        private final Consumer consumer;
        private volatile boolean abort;
        private volatile Throwable failure;
        private long issued;
        private long reaped;
        private long pushes;
        private long notifications;
        private long sequenceErrors;
        private long waitingSince;
        private long longestWaitNanos;
        private long elapsedNanos;
        private long allocated = -1;

        Producer(final FrontRing front, final Settings settings, final Consumer consumer)
        {
            super("e2-producer");
            setDaemon(true);
            this.front = front;
            this.shared = front.buffer();
            this.regime = settings.regime();
            this.batch = settings.batch();
            this.requests = settings.requests();
            this.stopOnStrand = settings.stopOnStrand();
            this.consumer = consumer;
        }

        @Override
        public void run()
        {
            try
            {
                final long probe = probeCost();
                final long before = allocatedBytes();
                final long start = System.nanoTime();
                if (Regime.IDLE == regime)
                {
                    while (issuing())
                    {
                        issueBatch();
                        while (reaped < issued && running())
                        {
                            reap();
                        }
                    }
                }
                else
                {
                    while (running())
                    {
                        final boolean issuing = issuing();
                        if (!issuing && reaped == issued)
                        {
                            break;
                        }
                        if (issuing && front.freeRequests() >= batch)
                        {
                            issueBatch();
                        }
                        else
                        {
                            reap();
                        }
                    }
                }
                elapsedNanos = System.nanoTime() - start;
                allocated = allocatedSince(before, probe);
            }
            catch (final Throwable ex)
            {
                failure = ex;
            }
        }

        private boolean running()
        {
            return !abort && null == consumer.failure();
        }

        private boolean issuing()
        {
            return issued < requests && running() && !(stopOnStrand && consumer.stranded());
        }

        private void issueBatch()
        {
            final boolean idle = reaped == issued;
            for (int i = 0; i < batch; i++)
            {
                final int slot = front.claimRequest();
                if (RingEnd.RING_FULL == slot)
                {
                    throw new IllegalStateException("ring full with " + front.freeRequests() + " free");
                }
                shared.putLong(slot + SEQUENCE_OFFSET, issued);
                shared.putLong(slot + TIME_OFFSET, System.nanoTime());
                issued++;
            }
            pushes++;
            // RING_PUSH_REQUESTS_AND_CHECK_NOTIFY: S2 volatile store req_prod (the entries' plain stores before it),
            // then L2 volatile load req_event; see the consumer's final check for the orderings this pairs with
            if (front.pushRequestsAndCheckNotify())
            {
                notifications++;
                consumer.notifyPeer();
            }
            if (idle)
            {
                waitingSince = System.nanoTime();
            }
        }

        private void reap()
        {
            if (0 == front.readResponses(this, Integer.MAX_VALUE))
            {
                Thread.onSpinWait();
                return;
            }
            final long now = System.nanoTime();
            longestWaitNanos = Math.max(longestWaitNanos, now - waitingSince);
            waitingSince = now;
        }

        /** One response: it must carry the next sequence number, so each request is answered exactly once. */
        @Override
        public void onEntry(final DirectBuffer buffer, final int offset)
        {
            if (buffer.getLong(offset + SEQUENCE_OFFSET) != reaped)
            {
                sequenceErrors++;
            }
            reaped++;
        }

        void abort()
        {
            abort = true;
        }
    }
}
