package io.pvio.backend.block;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The workers' hand-off: every submitted job runs exactly once, whatever the moment it arrives at (a worker spinning,
 * about to park, parked, or every worker busy), and close runs what is still queued.
 */
class BlockIoWorkersTest
{
    private static final long DEADLINE_NANOS = TimeUnit.SECONDS.toNanos(30);

    /**
     * One job at a time, each submitted after a random pause: the submissions land on every phase of a worker's
     * spin-then-park cycle, which is where a lost wake-up would show as a job that never runs.
     */
    @ParameterizedTest
    @ValueSource(ints = {1, 2, 8})
    void oneJobAtATimeIsNeverLost(final int threads)
    {
        final SplittableRandom random = new SplittableRandom(threads);
        final AtomicInteger done = new AtomicInteger();
        try (BlockIoWorkers workers = new BlockIoWorkers("t", threads, 4))
        {
            workers.start();
            for (int i = 0; i < 3_000; i++)
            {
                workers.submit(done::incrementAndGet);
                awaitAtLeast(done, i + 1);
                final int pause = random.nextInt(4);
                if (pause > 0)
                {
                    // 0: at once (the worker still spins); then a few microseconds to over the whole spin window
                    LockSupport.parkNanos(pause * pause * 40_000L);
                }
            }
        }
        assertEquals(3_000, done.get());
    }

    /**
     * Bursts of random size from a submitter bounded like the ring (at most {@code capacity} jobs outstanding), jobs
     * of random length: every job runs exactly once, including when every worker is busy as jobs arrive.
     */
    @ParameterizedTest
    @ValueSource(ints = {1, 3, 16})
    void burstsRunEveryJobExactlyOnce(final int threads)
    {
        final int capacity = 32;
        final int jobs = 40_000;
        final AtomicIntegerArray runs = new AtomicIntegerArray(jobs);
        final AtomicInteger done = new AtomicInteger();
        final Runnable[] job = new Runnable[jobs];
        final SplittableRandom random = new SplittableRandom(42 + threads);
        for (int i = 0; i < jobs; i++)
        {
            final int index = i;
            final int work = random.nextInt(3) * 200;
            job[i] = () ->
            {
                for (int k = 0; k < work; k++)
                {
                    Thread.onSpinWait();
                }
                runs.incrementAndGet(index);
                done.incrementAndGet();
            };
        }
        try (BlockIoWorkers workers = new BlockIoWorkers("t", threads, capacity))
        {
            workers.start();
            int submitted = 0;
            while (submitted < jobs)
            {
                final int burst = 1 + random.nextInt(capacity);
                awaitAtLeast(done, submitted + burst - capacity);
                for (int b = 0; b < burst && submitted < jobs; b++)
                {
                    workers.submit(job[submitted++]);
                }
                if (random.nextInt(8) == 0)
                {
                    LockSupport.parkNanos(random.nextInt(300_000)); // let the workers park between bursts
                }
            }
            awaitAtLeast(done, jobs);
        }
        for (int i = 0; i < jobs; i++)
        {
            assertEquals(1, runs.get(i), "job " + i + " runs");
        }
    }

    @Test
    void closeRunsWhatIsStillQueued()
    {
        final AtomicInteger done = new AtomicInteger();
        final BlockIoWorkers workers = new BlockIoWorkers("t", 2, 64);
        for (int i = 0; i < 64; i++)
        {
            workers.submit(done::incrementAndGet); // not started yet: all 64 wait in the queue
        }
        workers.start();
        workers.close();
        assertEquals(64, done.get());
    }

    @Test
    void aQueueOverflowIsReportedNotDropped()
    {
        try (BlockIoWorkers workers = new BlockIoWorkers("t", 1, 2))
        {
            workers.submit(() -> { });
            workers.submit(() -> { });
            final IllegalStateException ex = assertThrows(IllegalStateException.class, () -> workers.submit(() -> { }));
            assertTrue(ex.getMessage().contains("queue full"), ex.getMessage());
            workers.start();
        }
    }

    private static void awaitAtLeast(final AtomicInteger done, final int count)
    {
        final long deadline = System.nanoTime() + DEADLINE_NANOS;
        while (done.get() < count)
        {
            if (System.nanoTime() - deadline > 0)
            {
                throw new AssertionError("lost job: " + done.get() + " of " + count + " ran in 30 s");
            }
            Thread.onSpinWait();
        }
    }
}
