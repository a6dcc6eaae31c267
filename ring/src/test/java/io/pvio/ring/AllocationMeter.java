package io.pvio.ring;

import java.lang.management.ManagementFactory;
import java.util.function.IntConsumer;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Measures the bytes the calling thread allocates while it runs a warmed-up loop, net of what reading the counter
 * costs by itself, so a loop that allocates nothing measures exactly 0.
 */
public final class AllocationMeter
{
    private AllocationMeter()
    {
    }

    /**
     * Warms {@code loop} up, then measures one run of it.
     *
     * @param loop              runs the given number of iterations of the code under test.
     * @param warmUpCalls       calls made first so the JIT compiles the loop.
     * @param warmUpIterations  iterations per warm-up call.
     * @param measureIterations iterations of the measured call.
     * @return bytes the measured call allocated, net of the counter's own cost.
     */
    public static long allocatedBytes(
        final IntConsumer loop, final int warmUpCalls, final int warmUpIterations, final int measureIterations)
    {
        final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        assertTrue(threads.isThreadAllocatedMemorySupported() && threads.isThreadAllocatedMemoryEnabled(),
            "this JVM cannot count allocated bytes per thread");
        final long threadId = Thread.currentThread().getId();
        for (int i = 0; i < warmUpCalls; i++)
        {
            loop.accept(warmUpIterations);
        }

        // two back-to-back reads give the probe's own cost; the loop is measured between two reads exactly like these
        final long probeBefore = threads.getThreadAllocatedBytes(threadId);
        final long probeAfter = threads.getThreadAllocatedBytes(threadId);

        final long before = threads.getThreadAllocatedBytes(threadId);
        loop.accept(measureIterations);
        final long after = threads.getThreadAllocatedBytes(threadId);
        return (after - before) - (probeAfter - probeBefore);
    }
}
