package io.pvio.backend;

import java.util.concurrent.locks.LockSupport;

import org.agrona.ErrorHandler;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.IdleStrategy;

import io.pvio.hypervisor.sched.Vcpu;
import io.pvio.hypervisor.sched.VcpuTask;

/**
 * Where a back-end queue's agent runs: as a task of one of the driver domain's vCPUs, which the front end's event
 * wakes, or, when the driver domain has no vCPUs (no scheduler), on a daemon thread of its own under an Agrona
 * {@link AgentRunner} with the queue's idle strategy, which the event unparks. {@link #wake()} allocates nothing.
 */
public final class AgentHost
{
    private volatile Vcpu vcpu;
    private volatile Thread thread;
    private AgentRunner runner;

    /**
     * Starts the agent.
     *
     * @param agent   the queue's agent.
     * @param host    the driver domain's vCPU to run it on, or null for a thread of its own.
     * @param idle    how its own thread idles.
     * @param onError told about an error thrown on its own thread.
     */
    public void start(final VcpuTask agent, final Vcpu host, final IdleStrategy idle, final ErrorHandler onError)
    {
        if (null != host)
        {
            vcpu = host;
            host.addTask(agent);
            return;
        }
        runner = new AgentRunner(idle, onError, null, agent);
        AgentRunner.startOnThread(runner, (r) ->
        {
            final Thread t = new Thread(r, agent.roleName());
            t.setDaemon(true);
            thread = t;
            return t;
        });
    }

    /** Wakes the agent: its vCPU, or its thread. Any thread; allocates nothing. */
    public void wake()
    {
        final Vcpu host = vcpu;
        if (null != host)
        {
            host.wake();
            return;
        }
        final Thread t = thread;
        if (null != t)
        {
            LockSupport.unpark(t);
        }
    }

    /**
     * Stops the agent: takes the task off its vCPU (which waits for a pass in progress), or closes its thread's
     * runner.
     *
     * @param agent the agent started.
     */
    public void stop(final VcpuTask agent)
    {
        final Vcpu host = vcpu;
        if (null != host)
        {
            host.removeTask(agent);
            return;
        }
        final Thread t = thread;
        if (null != t)
        {
            LockSupport.unpark(t);
        }
        if (null != runner)
        {
            runner.close();
        }
    }
}
