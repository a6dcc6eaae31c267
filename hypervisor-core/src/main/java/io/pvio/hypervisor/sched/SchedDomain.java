package io.pvio.hypervisor.sched;

import io.pvio.hypervisor.Domain;

/**
 * The scheduler's view of one domain: its weight, its cap and its vCPUs. Fields are guarded by the scheduler's lock.
 */
final class SchedDomain
{
    final Domain domain;
    final Vcpu[] vcpus;
    int weight = CreditScheduler.DEFAULT_WEIGHT;
    int cap;

    // accounting scratch
    int activeVcpus;
    long grant;
    boolean satisfied;

    SchedDomain(final CreditScheduler scheduler, final Domain domain)
    {
        this.domain = domain;
        this.vcpus = new Vcpu[domain.vcpus()];
        for (int i = 0; i < vcpus.length; i++)
        {
            vcpus[i] = new Vcpu(scheduler, this, i);
        }
    }
}
