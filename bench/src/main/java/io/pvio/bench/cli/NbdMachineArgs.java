package io.pvio.bench.cli;

import java.math.BigDecimal;
import java.util.concurrent.TimeUnit;

import io.pvio.backend.block.BlockBackOptions;
import io.pvio.bench.machine.MachineOptions;
import io.pvio.bench.scenario.ScenarioParser;
import io.pvio.hypervisor.sched.SchedulerConfig;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The machine under an NBD export, shared by {@code pvio nbd serve} and {@code pvio bench nbd}: blkback's I/O workers
 * and how long idle vCPUs and physical CPUs spin before they sleep.
 * <p>
 * Both spins default to none. The export's network thread, the host's TCP stack and the NBD client run on the same
 * host cores as the physical CPUs' threads, outside the scheduler: a vCPU polling for work it will only get once
 * those threads have run takes the core they need. KVM polls a halted vCPU only while nothing else is runnable on
 * that CPU ({@code single_task_running()}); a Java thread cannot see the host's run queue, so here the choice is the
 * user's. Measured with {@code pvio bench nbd} on a 2-core host, 4 KiB random reads at depth 32: about 0.4x nbdkit
 * with the scheduler's default spins (200 us halt polling, 100 us idle spin), about 1x without them.
 */
final class NbdMachineArgs
{
    private static final long MAX_SPIN_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
    private static final int MAX_IO_WORKERS = 256;

    @Spec(Spec.Target.MIXEE)
    private CommandSpec mixee;

    private int ioWorkers;
    private long haltPollNanos;
    private long idleSpinNanos;

    @Option(
        names = "--io-workers",
        order = 20,
        paramLabel = "N",
        description = "blkback I/O worker threads for the ring, 0 to 256; 0 serves each request in turn on dom0's " +
            "vCPU (default: 0).")
    void ioWorkers(final int value)
    {
        if (value < 0 || value > MAX_IO_WORKERS)
        {
            throw CliSupport.badValue(mixee, "--io-workers", Integer.toString(value), "0 to " + MAX_IO_WORKERS);
        }
        ioWorkers = value;
    }

    @Option(
        names = "--halt-poll",
        order = 21,
        paramLabel = "D",
        description = "How long an idle vCPU polls for work before it blocks, e.g. 0.2ms, from 0ms to 10ms " +
            "(default: 0ms, it blocks at once: a polling vCPU takes the host core that the network thread and the " +
            "client need).")
    void haltPoll(final String text)
    {
        haltPollNanos = spin("--halt-poll", text);
    }

    @Option(
        names = "--idle-spin",
        order = 22,
        paramLabel = "D",
        description = "How long an idle physical CPU spins for a vCPU before it parks, from 0ms to 10ms " +
            "(default: 0ms).")
    void idleSpin(final String text)
    {
        idleSpinNanos = spin("--idle-spin", text);
    }

    private long spin(final String option, final String text)
    {
        final long nanos = ScenarioParser.parseDuration(text);
        if (nanos < 0 || nanos > MAX_SPIN_NANOS)
        {
            throw CliSupport.badValue(mixee, option, text, "a duration from 0ms to 10ms, e.g. 0.2ms");
        }
        return nanos;
    }

    /**
     * The machine's execution options: the default scheduler with these spins.
     *
     * @return new options.
     */
    MachineOptions machine()
    {
        return new MachineOptions().scheduler(new SchedulerConfig()
            .haltPollNanos(haltPollNanos)
            .idleSpinNanos(idleSpinNanos));
    }

    /**
     * blkback's options for the exported disk.
     *
     * @return new options.
     */
    BlockBackOptions back()
    {
        return new BlockBackOptions().ioWorkers(ioWorkers);
    }

    /**
     * One line for a report: the settings in force.
     *
     * @return e.g. {@code "blkback serves in turn, halt-poll 0ms, idle-spin 0ms"}.
     */
    String describe()
    {
        return (0 == ioWorkers ? "blkback serves in turn" : "blkback " + ioWorkers + " I/O workers") +
            ", halt-poll " + millis(haltPollNanos) + ", idle-spin " + millis(idleSpinNanos);
    }

    private static String millis(final long nanos)
    {
        return BigDecimal.valueOf(nanos, 6).stripTrailingZeros().toPlainString() + "ms";
    }
}
