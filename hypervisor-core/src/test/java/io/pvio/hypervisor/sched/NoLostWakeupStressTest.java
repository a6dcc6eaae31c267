package io.pvio.hypervisor.sched;

import io.pvio.machine.vm.PagingMode;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * The no-lost-wake-up protocol of {@link Vcpu#wake()} on its own, with no event channel in between: a waker publishes
 * an item in a mailbox and calls {@code wake()} while the vCPU's task, which never looks at the mailbox in
 * {@link VcpuTask#prepareToBlock()} (so only the state machine can save the wake), is going to block. Thousands of
 * wakes land (a) before the vCPU decides to block (the task holds in prepareToBlock until the wake is done), (b) after
 * it decided ({@code BLOCKING} or already {@code BLOCKED}), and (c) at random moments, from two wakers at once, with
 * two physical CPUs; every wake is followed by the task running and taking the item, and items taken equal items sent.
 */
class NoLostWakeupStressTest
{
    private static final int ITERATIONS = 3_000;

    /** Takes every published item on each pass; signals each time it is about to block. */
    private static final class Mailbox implements VcpuTask
    {
        final AtomicLong sent = new AtomicLong();
        final AtomicLong taken = new AtomicLong();
        final AtomicLong passes = new AtomicLong();
        final AtomicInteger aboutToBlock = new AtomicInteger();
        /** Before-mode handshake: prepareToBlock holds until this reaches its signal count. */
        final AtomicInteger releasedUpTo = new AtomicInteger(-1);
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        private long seen;

        @Override
        public int doWork()
        {
            passes.incrementAndGet();
            final long now = sent.get();
            final int work = (int)(now - seen);
            seen = now;
            taken.addAndGet(work);
            return work;
        }

        @Override
        public boolean prepareToBlock()
        {
            final int signal = aboutToBlock.incrementAndGet();
            if (releasedUpTo.get() >= 0)
            {
                try
                {
                    SchedFixture.spinUntil(() -> releasedUpTo.get() >= signal, "the waker to release prepareToBlock " + signal);
                }
                catch (final AssertionError ex)
                {
                    failure.compareAndSet(null, ex);
                }
            }
            return false; // deliberately blind to the mailbox: the wake alone must keep the vCPU running
        }

        @Override
        public String roleName()
        {
            return "mailbox";
        }

        void send(final Vcpu vcpu)
        {
            sent.incrementAndGet(); // publish, then wake
            vcpu.wake();
        }
    }

    private static SchedulerConfig config(final int pcpus)
    {
        return new SchedulerConfig().pcpus(pcpus).haltPollNanos(0).idleSpinNanos(0);
    }

    @Test
    void shouldRunAgainForEveryWakeMadeBeforeTheVcpuDecidesToBlock()
    {
        try (SchedFixture f = new SchedFixture(config(1)).start())
        {
            final Vcpu vcpu = f.vcpu0(f.domain("guest", 1, PagingMode.PARA));
            final long blocksBefore = settle(vcpu);
            final Mailbox box = new Mailbox();
            box.releasedUpTo.set(0);
            vcpu.addTask(box);
            for (int i = 0; i < ITERATIONS; i++)
            {
                final int signal = i + 1;
                SchedFixture.spinUntil(() -> box.aboutToBlock.get() >= signal, "prepareToBlock " + signal);
                assertEquals(Vcpu.RUNNING, vcpu.state(), "the vCPU has not decided yet");
                box.send(vcpu);
                assertEquals(Vcpu.RUNNING_WOKEN, vcpu.state(), "the wake marked the running pass");
                box.releasedUpTo.set(signal);
                final long taken = i + 1;
                SchedFixture.spinUntil(() -> box.taken.get() >= taken, "item " + taken + " taken (a lost wake-up?)");
            }
            box.releasedUpTo.set(Integer.MAX_VALUE);
            finish(vcpu, box);
            assertEquals(1, vcpu.stats().blocks() - blocksBefore,
                "every wake kept it running: it slept only at the end");
        }
    }

    @Test
    void shouldRunAgainForEveryWakeMadeAfterTheVcpuDecidedToBlock()
    {
        try (SchedFixture f = new SchedFixture(config(1)).start())
        {
            final Vcpu vcpu = f.vcpu0(f.domain("guest", 1, PagingMode.NESTED));
            final long blocksBefore = settle(vcpu);
            final Mailbox box = new Mailbox();
            vcpu.addTask(box);
            int sawBlocking = 0;
            for (int i = 0; i < ITERATIONS; i++)
            {
                final int signal = i + 1;
                SchedFixture.spinUntil(() -> box.aboutToBlock.get() >= signal, "prepareToBlock " + signal);
                SchedFixture.spinUntil(() -> Vcpu.RUNNING != vcpu.state(), "the decision to block " + signal);
                if (Vcpu.BLOCKING == vcpu.state())
                {
                    sawBlocking++;
                }
                box.send(vcpu);
                final long taken = i + 1;
                SchedFixture.spinUntil(() -> box.taken.get() >= taken, "item " + taken + " taken (a lost wake-up?)");
            }
            finish(vcpu, box);
            assertEquals(ITERATIONS + 1, vcpu.stats().blocks() - blocksBefore,
                "it really left its CPU before each wake (" + sawBlocking + " found it still BLOCKING)");
        }
    }

    @Test
    void shouldTakeEveryItemFromTwoWakersAtRandomMomentsOnTwoCpus() throws InterruptedException
    {
        try (SchedFixture f = new SchedFixture(config(2)).start())
        {
            final Vcpu vcpu = f.vcpu0(f.domain("guest", 1, PagingMode.PARA));
            final Mailbox box = new Mailbox();
            vcpu.addTask(box);
            final AtomicReference<Throwable> wakerFailure = new AtomicReference<>();
            final Thread[] wakers = new Thread[2];
            for (int w = 0; w < wakers.length; w++)
            {
                final SplittableRandom random = new SplittableRandom(w);
                wakers[w] = new Thread(() ->
                {
                    try
                    {
                        for (int i = 0; i < ITERATIONS; i++)
                        {
                            final int signal = box.aboutToBlock.get();
                            // half the time wait for the next "about to block", then a random delay around it
                            if (random.nextBoolean())
                            {
                                SchedFixture.spinUntil(() -> box.aboutToBlock.get() > signal || Vcpu.BLOCKED == vcpu.state(),
                                    "the vCPU to head for a block");
                            }
                            delay(random.nextInt(20_000));
                            final long before = box.passes.get();
                            box.send(vcpu);
                            SchedFixture.spinUntil(() -> box.passes.get() > before, "a pass after the wake");
                        }
                    }
                    catch (final Throwable ex)
                    {
                        wakerFailure.compareAndSet(null, ex);
                    }
                }, "waker-" + w);
                wakers[w].start();
            }
            for (final Thread waker : wakers)
            {
                waker.join(TimeUnit.SECONDS.toMillis(60));
            }
            assertNull(wakerFailure.get());
            assertEquals(2L * ITERATIONS, box.sent.get());
            finish(vcpu, box);
        }
    }

    /** Waits out the fresh domain's first pass (it is woken when added) and returns the blocks so far. */
    private static long settle(final Vcpu vcpu)
    {
        SchedFixture.await(() -> Vcpu.BLOCKED == vcpu.state(), "the fresh vCPU to block");
        return vcpu.stats().blocks();
    }

    private static void finish(final Vcpu vcpu, final Mailbox box)
    {
        SchedFixture.spinUntil(() -> box.taken.get() == box.sent.get(), "every item taken: " + box.taken + " of " + box.sent);
        SchedFixture.await(() -> Vcpu.BLOCKED == vcpu.state(), "the vCPU to block at the end");
        assertNull(box.failure.get());
        assertEquals(box.sent.get(), box.taken.get(), "items taken == items sent");
    }

    private static void delay(final long nanos)
    {
        final long until = System.nanoTime() + nanos;
        while (System.nanoTime() - until < 0)
        {
            Thread.onSpinWait();
        }
    }
}
