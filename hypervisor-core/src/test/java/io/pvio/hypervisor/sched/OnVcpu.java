package io.pvio.hypervisor.sched;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * A vCPU task that runs what the test hands it, on the vCPU's thread, as the guest kernel's code would run there: each
 * {@link #submit} queues an action and wakes the vCPU; the next pass runs it. Passes with nothing queued do no work,
 * so the vCPU blocks between actions.
 */
final class OnVcpu implements VcpuTask
{
    private final Vcpu vcpu;
    private final Queue<Runnable> actions = new ConcurrentLinkedQueue<>();

    OnVcpu(final Vcpu vcpu)
    {
        this.vcpu = vcpu;
        vcpu.addTask(this);
    }

    void submit(final Runnable action)
    {
        actions.add(action);
        vcpu.wake();
    }

    @Override
    public int doWork()
    {
        final Runnable action = actions.poll();
        if (null == action)
        {
            return 0;
        }
        action.run();
        return 1;
    }

    @Override
    public boolean prepareToBlock()
    {
        return !actions.isEmpty();
    }

    @Override
    public String roleName()
    {
        return "on-vcpu";
    }
}
