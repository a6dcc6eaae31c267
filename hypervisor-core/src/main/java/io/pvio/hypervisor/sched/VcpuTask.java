package io.pvio.hypervisor.sched;

import org.agrona.concurrent.Agent;

/**
 * Work a domain runs on one of its vCPUs: a back end's queue, a front end's completion path, a workload. An Agrona
 * {@link Agent} whose {@link #doWork()} does one bounded pass and returns without blocking; the vCPU runs its tasks
 * in turn until its slice ends or none has work, and then blocks until an event or interrupt arrives.
 * <p>
 * So that a blocked vCPU is woken when work comes, a task's work must arrive with an event on the domain's event
 * channels, a timer, or {@link Vcpu#wake()} called by whoever makes the work. Before the vCPU blocks it calls
 * {@link #prepareToBlock()} on every task: the place to arm notifications (a ring's final check) and report work that
 * slipped in meanwhile.
 */
public interface VcpuTask extends Agent
{
    /**
     * The vCPU found no work and is about to block: arm whatever notifies this task (for example set the ring's
     * event index) and say whether work arrived meanwhile.
     *
     * @return true if there is work after all, and the vCPU must not block.
     */
    default boolean prepareToBlock()
    {
        return false;
    }
}
