package io.pvio.bench.experiment;

import java.util.List;
import java.util.Locale;

import io.pvio.bench.experiment.NotificationRig.Outcome;
import io.pvio.bench.experiment.NotificationRig.Regime;
import io.pvio.bench.experiment.NotificationRig.Settings;

/**
 * E2: how Xen's event-index rule keeps notifications and upcalls per request low, and what batching costs in
 * latency. A producer (the front end) pushes batches of 1 to 256 requests on a real 256-slot ring with
 * {@code RING_PUSH_REQUESTS_AND_CHECK_NOTIFY}, and notifies only when the consumer (the back end) asked for it with
 * {@code RING_FINAL_CHECK_FOR_REQUESTS} before sleeping; the consumer spends 0, 0.5 or 2 us per request. Two regimes:
 * <b>idle</b> (the next batch only once the last is answered, so the consumer has gone to sleep: about one
 * notification per batch) and <b>busy</b> (the producer streams, so the consumer is usually awake when requests
 * arrive and notifications fall far below one per batch). Anchor: the Xen paper's section 3.2 (asynchronous I/O
 * rings, notification hold-off), Linux's {@code RING_FINAL_CHECK_FOR_REQUESTS}.
 * <p>
 * Notifications, upcalls and request sequence are counted; latency (slot claim to the request's completion) and
 * throughput are measured on two Java threads, so they swing with the host.
 */
final class NotificationExperiment implements Experiment
{
    private static final int[] BATCHES = { 1, 4, 16, 64, 256 };
    private static final long[] WORK_NANOS = { 0, 500, 2000 };

    @Override
    public String name()
    {
        return "e2";
    }

    @Override
    public String summary()
    {
        return "notifications and upcalls per request vs batch size and consumer speed, with latency";
    }

    @Override
    public ExperimentResult run(final ExperimentContext context)
    {
        final ExperimentResult result = new ExperimentResult(name(),
            "Notifications and upcalls per request against batch size and consumer speed (event-index suppression)",
            "series", "regime", "batch", "consumer_ns", "requests", "notifications", "notifications_per_request",
            "upcalls_per_request", "p50_us", "p99_us", "throughput_mreq_s", "allocated_bytes");
        final int requests = roundToBatches(context.scaled(20_480, 1_024));
        // warm-up, not reported: class loading and compilation of both loops
        NotificationRig.run(Settings.point(Regime.IDLE, 1, 0, roundToBatches(context.scaled(2_048, 256))));
        NotificationRig.run(Settings.point(Regime.BUSY, 16, 0, roundToBatches(context.scaled(2_048, 256))));
        long strands = 0;
        long sequenceErrors = 0;
        long allocated = 0;
        boolean allocationKnown = true;
        for (final Regime regime : Regime.values())
        {
            for (final long work : WORK_NANOS)
            {
                for (final int batch : BATCHES)
                {
                    context.progress(String.format(Locale.ROOT, "e2: %s, batch %d, %d ns per request, %,d requests",
                        regime.label(), batch, work, requests));
                    final Outcome o = NotificationRig.run(Settings.point(regime, batch, work, requests));
                    if (o.answered() != requests)
                    {
                        throw new IllegalStateException("e2: " + o.answered() + " of " + requests + " answered");
                    }
                    strands += o.strands();
                    sequenceErrors += o.sequenceErrors();
                    if (o.producerAllocated() < 0 || o.consumerAllocated() < 0)
                    {
                        allocationKnown = false;
                    }
                    else
                    {
                        allocated += o.producerAllocated() + o.consumerAllocated();
                    }
                    result.row(String.format(Locale.ROOT, "%s %d ns", regime.label(), work), regime.label(), batch,
                        work, requests, o.notifications(), (double)o.notifications() / requests,
                        (double)o.upcalls() / requests, o.latency().getValueAtPercentile(50) / 1e3,
                        o.latency().getValueAtPercentile(99) / 1e3, requests / (o.elapsedNanos() / 1e3),
                        o.producerAllocated() + o.consumerAllocated());
                }
            }
        }
        check(result, strands, sequenceErrors, allocationKnown, allocated, requests);
        result.note("a notification is a push that found req_event among the requests it published (one event sent); " +
            "an upcall is an event the consumer took; sends to an event still pending coalesce into one upcall");
        result.note("idle: a batch only after the previous one is answered; busy: batches whenever there is room; " +
            "responses are polled, so only the request direction notifies");
        result.note("latency is from the producer's slot claim to the consumer finishing the request, on two Java " +
            "threads (measured); the ring is 2 pages of 16-byte entries, 256 slots");
        result.chart(new ExperimentResult.Chart(ExperimentResult.Chart.Kind.LINE, "batch",
            List.of("notifications_per_request"), "series", "requests per push (batch)",
            "notifications per request (counted)", true));
        return result;
    }

    private static int roundToBatches(final int requests)
    {
        final int largest = BATCHES[BATCHES.length - 1];
        return Math.max(largest, requests / largest * largest);
    }

    private static void check(
        final ExperimentResult result, final long strands, final long sequenceErrors, final boolean allocationKnown,
        final long allocated, final int requestsPerPoint)
    {
        boolean idleBound = true;
        boolean idleNearOne = true;
        final StringBuilder idle = new StringBuilder();
        boolean busyLow = true;
        final StringBuilder busy = new StringBuilder();
        boolean latencyRises = true;
        final StringBuilder latency = new StringBuilder();
        for (final long work : WORK_NANOS)
        {
            for (final int batch : BATCHES)
            {
                final int r = row(result, "idle", batch, work);
                final double perRequest = result.number(r, "notifications_per_request");
                final double perBatch = perRequest * batch;
                idleBound &= perBatch <= 1.0 + 1e-9;
                // a small batch may reach the consumer before it has gone back to sleep (its final check then finds
                // the requests, and no event is needed); from 16 up it has always been asleep here
                if (batch >= 16)
                {
                    idleNearOne &= perBatch >= 0.75;
                }
                if (1 == batch || 256 == batch)
                {
                    idle.append(String.format(Locale.ROOT, " %d ns B=%d: %.3f per batch;", work, batch, perBatch));
                }
            }
            final double wide = result.number(row(result, "busy", 256, work), "notifications_per_request");
            busyLow &= wide < 0.01;
            busy.append(String.format(Locale.ROOT, " %d ns: %.4f per request at B=256;", work, wide));
            final double p50One = result.number(row(result, "idle", 1, work), "p50_us");
            final double p50Wide = result.number(row(result, "idle", 256, work), "p50_us");
            latencyRises &= p50Wide > p50One;
            latency.append(String.format(Locale.ROOT, " %d ns: p50 %.1f us at B=1, %.1f us at B=256;", work, p50One,
                p50Wide));
        }
        result.check("idle: never more than one notification per batch (per request <= 1/B)", idleBound,
            idle.toString().trim());
        result.check("idle, 16 or more per push: the consumer has gone to sleep, so most batches (at least 3 in 4) " +
            "need an event",
            idleNearOne, idle.toString().trim());
        result.check("busy, 256 per push: fewer than 0.01 notifications per request", busyLow, busy.toString().trim());
        result.check("batching costs latency: idle p50 at B=256 above B=1 for every consumer speed", latencyRises,
            latency.toString().trim());
        result.check("no request lost or stranded: every request answered once, in order, none found by the watchdog",
            0 == strands && 0 == sequenceErrors, strands + " stranded, " + sequenceErrors + " out of sequence");
        if (allocationKnown)
        {
            // an allocation per request would show in every run; one-off residue (a path compiled late, a class
            // loaded) shows in a few
            int allocating = 0;
            for (int r = 0; r < result.rows().size(); r++)
            {
                allocating += result.number(r, "allocated_bytes") > 0 ? 1 : 0;
            }
            final long total = (long)result.rows().size() * requestsPerPoint;
            result.check("the producer's and consumer's loops allocate nothing per request: most runs (4 in 5) " +
                "allocate 0 bytes", allocating * 5 <= result.rows().size(), String.format(Locale.ROOT,
                "%d of %d runs allocated, %d bytes in all over %,d requests", allocating, result.rows().size(),
                allocated, total));
        }
    }

    private static int row(final ExperimentResult result, final String regime, final int batch, final long work)
    {
        for (int r = 0; r < result.rows().size(); r++)
        {
            if (regime.equals(result.value(r, "regime")) && batch == result.number(r, "batch") &&
                work == result.number(r, "consumer_ns"))
            {
                return r;
            }
        }
        throw new IllegalStateException("no row " + regime + ' ' + batch + ' ' + work);
    }
}
