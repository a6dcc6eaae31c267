package io.pvio.hypervisor.memory;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiConsumer;

import org.junit.jupiter.api.RepeatedTest;

import io.pvio.hypervisor.Domain;
import io.pvio.hypervisor.Hypervisor;
import io.pvio.hypervisor.P2M;
import io.pvio.machine.memory.MachineMemory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Guests ballooning, being swapped and touching their memory on their own threads at once, and guests writing beside
 * the sharing scanner: every frame's data survives, the accounting holds, and every frame is back in the machine
 * after the domains die.
 */
class MemoryManagerStressTest
{
    private static final int GUESTS = 4;
    private static final int PAGES = 128;
    private static final int OPERATIONS = 20_000;

    /** What one guest's thread does. */
    @FunctionalInterface
    private interface GuestBody
    {
        void run(Domain guest, MemoryManager manager, SplittableRandom random);
    }

    @RepeatedTest(3)
    void concurrentReservationsSwappingAndAccessesKeepDataAndFrames() throws Exception
    {
        runGuests(MemoryManagerStressTest::exercise, null);
    }

    @RepeatedTest(3)
    void guestsWritingBesideTheSharingScannerNeverSeeAnotherGuestsData() throws Exception
    {
        runGuests(MemoryManagerStressTest::writeBesideScanner, (manager, guests) ->
        {
            final SplittableRandom random = new SplittableRandom(99);
            for (final Domain guest : guests)
            {
                manager.sharing().scan(guest, 16, random);
            }
        });
    }

    /**
     * Starts {@link #GUESTS} guests, runs {@code body} for each on its own thread (all released at once) while
     * {@code background}, if any, runs in a loop on one more thread; then checks no thread failed, destroys the
     * guests and checks every frame and swap slot came back.
     */
    private static void runGuests(
        final GuestBody body, final BiConsumer<MemoryManager, List<Domain>> background)
        throws Exception
    {
        try (Hypervisor hypervisor = new Hypervisor(
            new MachineMemory((long)(GUESTS * PAGES + 128) * MachineMemory.FRAME_SIZE), 64, 1))
        {
            final MemoryManager manager = hypervisor.memoryManager();
            final int start = hypervisor.memory().freeFrames();
            final List<Domain> guests = new ArrayList<>();
            for (int g = 0; g < GUESTS; g++)
            {
                guests.add(hypervisor.dom0().hypercalls().createDomain("g" + g, PAGES, 1));
            }
            final CyclicBarrier barrier = new CyclicBarrier(GUESTS);
            final AtomicReference<Throwable> failure = new AtomicReference<>();
            final AtomicBoolean running = new AtomicBoolean(true);
            final Thread scanner = new Thread(() ->
            {
                while (running.get())
                {
                    background.accept(manager, guests);
                }
            }, "background");
            if (null != background)
            {
                scanner.start();
            }
            final List<Thread> threads = new ArrayList<>();
            for (int g = 0; g < GUESTS; g++)
            {
                final Domain guest = guests.get(g);
                final int seed = g;
                final Thread thread = new Thread(() ->
                {
                    try
                    {
                        barrier.await();
                        body.run(guest, manager, new SplittableRandom(seed));
                    }
                    catch (final Throwable ex)
                    {
                        failure.compareAndSet(null, ex);
                    }
                }, "guest-" + g);
                threads.add(thread);
                thread.start();
            }
            for (final Thread thread : threads)
            {
                thread.join();
            }
            running.set(false);
            if (null != background)
            {
                scanner.join();
                assertTrue(manager.sharing().merged() > 0, "the scanner merged pages while the guests ran");
                assertTrue(manager.sharing().breaks() > 0, "and writes broke sharing");
            }
            assertNull(failure.get(), () -> "a guest failed: " + failure.get());
            for (final Domain guest : guests)
            {
                hypervisor.dom0().hypercalls().destroyDomain(guest.id());
            }
            assertEquals(0, manager.swappedPages());
            assertEquals(start, hypervisor.memory().freeFrames(), "every frame back after the domains die");
        }
    }

    /** One guest: stamps pages, gives some back, takes them again, is swapped under a limit, checks every read. */
    private static void exercise(final Domain guest, final MemoryManager manager, final SplittableRandom random)
    {
        final MemoryOps ops = guest.hypercalls().memoryOp();
        final long[] stamp = new long[PAGES];
        final long[] one = new long[1];
        for (int i = 0; i < OPERATIONS; i++)
        {
            final int gfn = random.nextInt(PAGES);
            final int op = random.nextInt(20);
            one[0] = gfn;
            if (0 == op)
            {
                final int done = ops.decreaseReservation(one, 1);
                assertEquals(stamp[gfn] >= 0 ? 1 : 0, done, "decrease of gfn " + gfn);
                stamp[gfn] = -1;
            }
            else if (1 == op)
            {
                final int done = ops.populatePhysmap(one, 1);
                assertEquals(stamp[gfn] < 0 ? 1 : 0, done, "populate of gfn " + gfn);
                if (1 == done)
                {
                    stamp[gfn] = 0;
                }
            }
            else if (2 == op)
            {
                manager.setHostLimit(guest, 32 + random.nextInt(PAGES), random);
            }
            else if (stamp[gfn] >= 0)
            {
                assertEquals(stamp[gfn], manager.readLong(guest, gfn, 256), "gfn " + gfn + " of " + guest);
                if (random.nextBoolean())
                {
                    stamp[gfn] = random.nextLong() & Long.MAX_VALUE;
                    manager.writeLong(guest, gfn, 256, stamp[gfn]);
                }
            }
            else
            {
                assertEquals(P2M.INVALID_MFN, guest.resolveFrame(gfn, false));
            }
        }
    }

    /**
     * One guest beside the scanner: most pages keep contents every guest shares (zero, or a value every guest writes),
     * so the scanner keeps merging them while this guest writes its own values into some and checks every read.
     */
    private static void writeBesideScanner(
        final Domain guest, final MemoryManager manager, final SplittableRandom random)
    {
        final long[] expected = new long[PAGES];
        final long own = (long)guest.id() << 32; // values no other guest writes
        for (int i = 0; i < OPERATIONS; i++)
        {
            final int gfn = random.nextInt(PAGES);
            if (random.nextInt(4) == 0)
            {
                expected[gfn] = random.nextInt(8) == 0 ? own | i : 42;
                manager.writeLong(guest, gfn, 512, expected[gfn]);
            }
            else
            {
                assertEquals(expected[gfn], manager.readLong(guest, gfn, 512), "gfn " + gfn + " of " + guest);
            }
        }
    }
}
