package io.pvio.bench.machine;

import io.pvio.hypervisor.sched.SchedulerConfig;

/**
 * How a {@link PvMachine} runs its domains: on vCPUs scheduled on physical CPUs by Xen's credit scheduler (the
 * default), or each domain's event loop and each back-end queue on a host thread of its own (the execution model
 * pvio had before it had CPUs; kept so the two can be compared). Mutable and fluent.
 */
public final class MachineOptions
{
    /** How domains' code runs. */
    public enum Execution
    {
        /** Domains' code runs as tasks of their vCPUs, which the credit scheduler runs on physical-CPU threads. */
        VCPUS,

        /** Each domain's event loop and each back-end queue has a host thread of its own; no scheduler. */
        THREADS
    }

    private Execution execution = Execution.VCPUS;
    private SchedulerConfig scheduler = new SchedulerConfig();
    private int dom0Vcpus;

    /**
     * The defaults: vCPUs, Xen's scheduler settings, as many physical CPUs as the host has processors and as many
     * dom0 vCPUs as physical CPUs.
     */
    public MachineOptions()
    {
    }

    /**
     * The execution model.
     *
     * @return vCPUs or threads.
     */
    public Execution execution()
    {
        return execution;
    }

    /**
     * Sets the execution model.
     *
     * @param execution vCPUs or threads.
     * @return this.
     */
    public MachineOptions execution(final Execution execution)
    {
        this.execution = execution;
        return this;
    }

    /**
     * The scheduler's settings (physical CPUs, slice, tick).
     *
     * @return the settings.
     */
    public SchedulerConfig scheduler()
    {
        return scheduler;
    }

    /**
     * Sets the scheduler's settings.
     *
     * @param scheduler the settings.
     * @return this.
     */
    public MachineOptions scheduler(final SchedulerConfig scheduler)
    {
        this.scheduler = scheduler;
        return this;
    }

    /**
     * dom0's vCPUs.
     *
     * @return the count, or 0 for one per physical CPU.
     */
    public int dom0Vcpus()
    {
        return dom0Vcpus;
    }

    /**
     * Sets dom0's vCPUs.
     *
     * @param vcpus 0 for one per physical CPU, else 1 to 32.
     * @return this.
     */
    public MachineOptions dom0Vcpus(final int vcpus)
    {
        if (vcpus < 0 || vcpus > 32)
        {
            throw new IllegalArgumentException("dom0Vcpus=" + vcpus + " (expected 0..32)");
        }
        this.dom0Vcpus = vcpus;
        return this;
    }

    int resolvedDom0Vcpus()
    {
        return 0 == dom0Vcpus ? (Execution.VCPUS == execution ? scheduler.pcpus() : 1) : dom0Vcpus;
    }
}
