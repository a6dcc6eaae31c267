package io.pvio.hypervisor;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Per-domain count of hypercalls by kind. Incremented by the calling domain's threads, read live by anyone.
 */
public final class HypercallCounters
{
    private static final HypercallKind[] KINDS = HypercallKind.values();
    private static final int STRIDE = 8;

    private final AtomicLongArray counts = new AtomicLongArray(KINDS.length * STRIDE);

    /**
     * Counts one call.
     *
     * @param kind the hypercall.
     */
    public void increment(final HypercallKind kind)
    {
        counts.getAndIncrement(kind.ordinal() * STRIDE);
    }

    /**
     * Calls of one kind so far.
     *
     * @param kind the hypercall.
     * @return the count.
     */
    public long get(final HypercallKind kind)
    {
        return counts.get(kind.ordinal() * STRIDE);
    }

    /**
     * Calls of every kind so far.
     *
     * @return the sum.
     */
    public long total()
    {
        long total = 0;
        for (final HypercallKind kind : KINDS)
        {
            total += get(kind);
        }
        return total;
    }

    /**
     * A copy of the non-zero counts, for reports.
     *
     * @return kind to count, in declaration order.
     */
    public Map<HypercallKind, Long> snapshot()
    {
        final Map<HypercallKind, Long> snapshot = new EnumMap<>(HypercallKind.class);
        for (final HypercallKind kind : KINDS)
        {
            final long count = get(kind);
            if (0 != count)
            {
                snapshot.put(kind, count);
            }
        }
        return snapshot;
    }
}
