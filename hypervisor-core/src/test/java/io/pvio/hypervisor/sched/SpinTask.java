package io.pvio.hypervisor.sched;

import java.util.concurrent.atomic.AtomicLong;

/**
 * A CPU-bound vCPU task for scheduler tests: each pass spins for a few microseconds and always reports work, so the
 * vCPU never blocks and runs until its slice ends or it is preempted.
 */
final class SpinTask implements VcpuTask
{
    private static final long PASS_NANOS = 20_000;

    final AtomicLong passes = new AtomicLong();

    @Override
    public int doWork()
    {
        final long end = System.nanoTime() + PASS_NANOS;
        while (System.nanoTime() - end < 0)
        {
            Thread.onSpinWait();
        }
        passes.incrementAndGet();
        return 1;
    }

    @Override
    public String roleName()
    {
        return "spin";
    }
}
