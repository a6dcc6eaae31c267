package io.pvio.bench.scenario;

import io.pvio.hypervisor.sched.Vcpu;
import io.pvio.hypervisor.sched.VcpuTask;

/**
 * A CPU-bound loop on a guest's vCPU: it always has work, so the vCPU uses every slice the scheduler gives it and
 * the domain's weight and cap decide how much of the machine it gets. Each pass is a short bounded computation, so
 * the vCPU's other tasks (its event loop) still run between passes.
 */
final class CpuBoundTask implements VcpuTask
{
    private static final int ROUNDS_PER_PASS = 2048;

    private final Vcpu vcpu;
    private volatile boolean stopped;
    private long state = 0x9E3779B97F4A7C15L;

    private CpuBoundTask(final Vcpu vcpu)
    {
        this.vcpu = vcpu;
    }

    /**
     * Starts a loop on a vCPU.
     *
     * @param vcpu the vCPU.
     * @return the running loop.
     */
    static CpuBoundTask start(final Vcpu vcpu)
    {
        final CpuBoundTask task = new CpuBoundTask(vcpu);
        vcpu.addTask(task);
        return task;
    }

    @Override
    public int doWork()
    {
        if (stopped)
        {
            return 0;
        }
        long x = state;
        for (int i = 0; i < ROUNDS_PER_PASS; i++)
        {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
        }
        state = x;
        return 1;
    }

    /** Stops the loop and takes it off its vCPU, which can block again. */
    void stop()
    {
        stopped = true;
        vcpu.removeTask(this);
    }

    @Override
    public String roleName()
    {
        return "cpu-bound-" + vcpu;
    }
}
