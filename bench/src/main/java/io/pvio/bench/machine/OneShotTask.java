package io.pvio.bench.machine;

import io.pvio.hypervisor.sched.Vcpu;
import io.pvio.hypervisor.sched.VcpuTask;

/**
 * Runs an action once on a vCPU, then removes itself: how code outside a domain hands work to the domain's CPU.
 */
final class OneShotTask implements VcpuTask
{
    private final Vcpu vcpu;
    private final Runnable action;
    private boolean done;

    OneShotTask(final Vcpu vcpu, final Runnable action)
    {
        this.vcpu = vcpu;
        this.action = action;
    }

    @Override
    public int doWork()
    {
        if (done)
        {
            return 0;
        }
        done = true;
        try
        {
            action.run();
        }
        finally
        {
            vcpu.removeTask(this);
        }
        return 1;
    }

    @Override
    public String roleName()
    {
        return "oneshot-" + vcpu;
    }
}
