package io.pvio.hypervisor.sched;

/**
 * A vCPU's scheduling figures at one moment. Times are measured (wall time on a physical CPU), not modeled.
 *
 * @param name          the vCPU, {@code d<domain>v<index>}.
 * @param runNanos      time spent on physical CPUs.
 * @param runs          times it was scheduled.
 * @param wakeups       times a wake found it blocked and queued it.
 * @param blocks        times it blocked.
 * @param yields        times it yielded.
 * @param preemptions   times its slice ended or a better vCPU took its physical CPU.
 * @param credit        its credit now, in nanoseconds of physical CPU time.
 * @param priority      0 BOOST, 1 UNDER, 2 OVER.
 * @param wakeSamples   wake-ups whose latency was recorded.
 * @param wakeP50Nanos  median wake-up latency.
 * @param wakeP99Nanos  99th percentile wake-up latency.
 * @param wakeMaxNanos  longest wake-up latency.
 */
public record VcpuStats(
    String name,
    long runNanos,
    long runs,
    long wakeups,
    long blocks,
    long yields,
    long preemptions,
    long credit,
    int priority,
    long wakeSamples,
    long wakeP50Nanos,
    long wakeP99Nanos,
    long wakeMaxNanos)
{
}
