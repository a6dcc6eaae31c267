package io.pvio.backend;

import java.util.concurrent.CountDownLatch;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Counter slabs: sums over every slab, a recycled slab reused with its counts kept, nothing foreign or spare recycled,
 * and the counts of writers on other threads, one after another in the same slab, all present.
 */
class CounterSlabsTest
{
    @Test
    void sumsEverySlabAndKeepsARecycledSlabsCounts()
    {
        final CounterSlabs slabs = new CounterSlabs(3);
        final long[] a = slabs.newSlab();
        final long[] b = slabs.newSlab();
        CounterSlabs.add(a, 1, 5);
        CounterSlabs.addShared(b, 1, 7);
        CounterSlabs.add(b, 2, 1);
        assertEquals(12, slabs.sum(1));
        assertEquals(1, slabs.sum(2));
        assertEquals(0, slabs.sum(0));

        slabs.recycle(a);
        assertEquals(12, slabs.sum(1), "a recycled slab's counts stay in the sums");
        final long[] again = slabs.newSlab();
        assertSame(a, again, "the spare slab is reused");
        CounterSlabs.add(again, 1, 1);
        assertEquals(13, slabs.sum(1), "and counts on from its values");
        assertEquals(2, slabs.slabCount());
        assertNotSame(a, slabs.newSlab(), "with no spare, a new one");
        assertEquals(3, slabs.slabCount());
    }

    @Test
    void refusesASlabItDidNotMake()
    {
        final CounterSlabs slabs = new CounterSlabs(2);
        final long[] foreign = new CounterSlabs(2).newSlab();
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> slabs.recycle(foreign));
        assertEquals("not a slab of these counters", ex.getMessage());
        final long[] own = slabs.newSlab();
        slabs.recycle(own);
        assertEquals("slab recycled twice",
            assertThrows(IllegalStateException.class, () -> slabs.recycle(own)).getMessage());
        assertSame(own, slabs.newSlab(), "the refused second recycle left one spare");
        assertNotSame(own, slabs.newSlab());
    }

    @Test
    void writersOneAfterAnotherOnOtherThreadsLoseNoCount() throws Exception
    {
        // each generation's thread counts with plain single-writer adds, is joined, and hands the slab back; the
        // next generation's thread takes it from newSlab: the join and the spare queue order every count before the
        // next writer's first read, so no add is lost (a lost one would show as a smaller sum)
        final CounterSlabs slabs = new CounterSlabs(1);
        final int generations = 200;
        final int adds = 10_000;
        for (int g = 0; g < generations; g++)
        {
            final long[][] taken = new long[1][];
            final CountDownLatch done = new CountDownLatch(1);
            final Thread writer = new Thread(() ->
            {
                taken[0] = slabs.newSlab();
                for (int i = 0; i < adds; i++)
                {
                    CounterSlabs.add(taken[0], 0, 1);
                }
                done.countDown();
            });
            writer.start();
            done.await();
            writer.join();
            slabs.recycle(taken[0]);
        }
        assertEquals((long)generations * adds, slabs.sum(0));
        assertEquals(1, slabs.slabCount(), "one writer at a time needs one slab");
    }
}
