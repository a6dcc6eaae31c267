package io.pvio.bench.scenario;

import java.util.LinkedHashMap;
import java.util.Map;

import org.HdrHistogram.Histogram;

import io.pvio.hypervisor.Domain;
import io.pvio.hypervisor.sched.CreditScheduler;
import io.pvio.hypervisor.sched.Vcpu;
import io.pvio.machine.cpu.CpuCounters;
import io.pvio.machine.cpu.ExitReason;

/**
 * One domain's CPU figures at one moment, summed over its vCPUs: measured time on physical CPUs and wake-up latency,
 * and the CPU model's counters. Two samples give the figures of the window between them.
 */
final class CpuSample
{
    private final Domain domain;
    private final int vcpus;
    private final long runNanos;
    private final Histogram wakeLatency;
    private final CpuCounters counters;

    private CpuSample(
        final Domain domain, final int vcpus, final long runNanos, final Histogram wakeLatency,
        final CpuCounters counters)
    {
        this.domain = domain;
        this.vcpus = vcpus;
        this.runNanos = runNanos;
        this.wakeLatency = wakeLatency;
        this.counters = counters;
    }

    /**
     * Samples a domain.
     *
     * @param scheduler the scheduler running its vCPUs.
     * @param domain    the domain.
     * @return the sample.
     */
    static CpuSample of(final CreditScheduler scheduler, final Domain domain)
    {
        final Vcpu[] vcpus = scheduler.vcpus(domain);
        long run = 0;
        Histogram latency = null;
        final CpuCounters counters = new CpuCounters();
        for (final Vcpu vcpu : vcpus)
        {
            run += vcpu.runNanos();
            final Histogram h = vcpu.wakeLatency();
            if (null == latency)
            {
                latency = h;
            }
            else
            {
                latency.add(h);
            }
            counters.addAll(vcpu.cpu().counters().snapshot());
        }
        return new CpuSample(domain, vcpus.length, run, latency, counters);
    }

    /**
     * The figures from {@code earlier} to this sample.
     *
     * @param earlier    the sample at the window's start.
     * @param scheduler  the scheduler, for weight and cap.
     * @param name       what to call the domain.
     * @param wallNanos  the window's length.
     * @param pcpus      the machine's physical CPUs.
     * @return the report line.
     */
    ScenarioReport.DomainCpu since(
        final CpuSample earlier, final CreditScheduler scheduler, final String name, final long wallNanos,
        final int pcpus)
    {
        final long run = runNanos - earlier.runNanos;
        final Histogram latency = wakeLatency.copy();
        latency.subtract(earlier.wakeLatency);
        final CpuCounters c = counters.minus(earlier.counters);
        final Map<String, Long> exits = new LinkedHashMap<>();
        for (final ExitReason reason : ExitReason.values())
        {
            final long count = c.exits(reason);
            if (0 != count)
            {
                exits.put(reason.name(), count);
            }
        }
        final boolean woken = latency.getTotalCount() > 0;
        return new ScenarioReport.DomainCpu(name, domain.id(), domain.mode().name().toLowerCase(java.util.Locale.ROOT),
            vcpus, scheduler.weight(domain), scheduler.cap(domain), run / 1e9,
            ScenarioRunner.ratio(run, (double)wallNanos * pcpus), latency.getTotalCount(),
            woken ? latency.getValueAtPercentile(50) / 1e3 : 0, woken ? latency.getValueAtPercentile(99) / 1e3 : 0,
            c.exits(), exits, c.calls(), c.injected(), c.upcalls(), c.modeledCycles());
    }
}
