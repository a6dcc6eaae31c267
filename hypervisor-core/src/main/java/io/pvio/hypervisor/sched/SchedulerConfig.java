package io.pvio.hypervisor.sched;

import io.pvio.machine.CostModel;

import java.util.concurrent.TimeUnit;

/**
 * Settings of a {@link CreditScheduler}, with Xen's credit-scheduler defaults: a 30 ms time slice, a 10 ms tick and
 * accounting every 3 ticks. Mutable and fluent; the scheduler copies what it needs when built.
 */
public final class SchedulerConfig
{
    /** Xen's default time slice ({@code sched_credit_tslice_ms}), in milliseconds. */
    public static final long DEFAULT_SLICE_MILLIS = 30;

    /** Xen's credit tick ({@code CSCHED_TICK}), in milliseconds. */
    public static final long DEFAULT_TICK_MILLIS = 10;

    /** Ticks per accounting period ({@code CSCHED_TICKS_PER_ACCT}). */
    public static final int DEFAULT_TICKS_PER_ACCOUNTING = 3;

    /**
     * The longest an idle vCPU polls its work before it blocks (halt polling, as KVM's default
     * {@code halt_poll_ns}), in microseconds: the whole window when fixed, the window's ceiling when adaptive.
     */
    public static final long DEFAULT_HALT_POLL_MICROS = 200;

    /** How long an idle physical CPU spins for new work before it parks, in microseconds. */
    public static final long DEFAULT_IDLE_SPIN_MICROS = 100;

    private int pcpus = Runtime.getRuntime().availableProcessors();
    private long sliceNanos = TimeUnit.MILLISECONDS.toNanos(DEFAULT_SLICE_MILLIS);
    private long tickNanos = TimeUnit.MILLISECONDS.toNanos(DEFAULT_TICK_MILLIS);
    private int ticksPerAccounting = DEFAULT_TICKS_PER_ACCOUNTING;
    private long haltPollNanos = TimeUnit.MICROSECONDS.toNanos(DEFAULT_HALT_POLL_MICROS);
    private boolean haltPollAdaptive = true;
    private long idleSpinNanos = TimeUnit.MICROSECONDS.toNanos(DEFAULT_IDLE_SPIN_MICROS);
    private CostModel cost = new CostModel();

    /**
     * The defaults: one physical CPU per host processor, Xen's slice and tick.
     */
    public SchedulerConfig()
    {
    }

    /**
     * Physical CPUs, each a host thread.
     *
     * @return the count.
     */
    public int pcpus()
    {
        return pcpus;
    }

    /**
     * Sets the number of physical CPUs.
     *
     * @param pcpus 1 to 64.
     * @return this.
     */
    public SchedulerConfig pcpus(final int pcpus)
    {
        if (pcpus < 1 || pcpus > 64)
        {
            throw new IllegalArgumentException("pcpus=" + pcpus + " (expected 1..64)");
        }
        this.pcpus = pcpus;
        return this;
    }

    /**
     * The time slice, in nanoseconds.
     *
     * @return the slice.
     */
    public long sliceNanos()
    {
        return sliceNanos;
    }

    /**
     * Sets the time slice.
     *
     * @param nanos 100 us to 10 s.
     * @return this.
     */
    public SchedulerConfig sliceNanos(final long nanos)
    {
        this.sliceNanos = checkRange(nanos, "sliceNanos");
        return this;
    }

    /**
     * The accounting tick, in nanoseconds.
     *
     * @return the tick.
     */
    public long tickNanos()
    {
        return tickNanos;
    }

    /**
     * Sets the accounting tick.
     *
     * @param nanos 100 us to 10 s.
     * @return this.
     */
    public SchedulerConfig tickNanos(final long nanos)
    {
        this.tickNanos = checkRange(nanos, "tickNanos");
        return this;
    }

    /**
     * Ticks per accounting period.
     *
     * @return the count.
     */
    public int ticksPerAccounting()
    {
        return ticksPerAccounting;
    }

    /**
     * Sets the ticks per accounting period.
     *
     * @param ticks 1 to 100.
     * @return this.
     */
    public SchedulerConfig ticksPerAccounting(final int ticks)
    {
        if (ticks < 1 || ticks > 100)
        {
            throw new IllegalArgumentException("ticksPerAccounting=" + ticks + " (expected 1..100)");
        }
        this.ticksPerAccounting = ticks;
        return this;
    }

    /**
     * Whether each vCPU adapts its halt-polling window between 0 and {@link #haltPollNanos()} from how long its halts
     * last, as KVM does (grow when a longer window would have caught the wake, shrink when a halt outlasts the
     * maximum), instead of always polling for the whole window.
     *
     * @return true (the default) if adaptive; false for a fixed window.
     */
    public boolean haltPollAdaptive()
    {
        return haltPollAdaptive;
    }

    /**
     * Chooses an adaptive or a fixed halt-polling window.
     *
     * @param adaptive true to adapt per vCPU up to {@link #haltPollNanos()}.
     * @return this.
     */
    public SchedulerConfig haltPollAdaptive(final boolean adaptive)
    {
        this.haltPollAdaptive = adaptive;
        return this;
    }

    /**
     * How long an idle vCPU keeps polling its tasks before it blocks, when nothing else waits for its pCPU.
     *
     * @return nanoseconds; 0 blocks at once.
     */
    public long haltPollNanos()
    {
        return haltPollNanos;
    }

    /**
     * Sets the halt-polling window.
     *
     * @param nanos 0 to 10 ms.
     * @return this.
     */
    public SchedulerConfig haltPollNanos(final long nanos)
    {
        if (nanos < 0 || nanos > TimeUnit.MILLISECONDS.toNanos(10))
        {
            throw new IllegalArgumentException("haltPollNanos=" + nanos + " (expected 0..10 ms)");
        }
        this.haltPollNanos = nanos;
        return this;
    }

    /**
     * How long an idle physical CPU spins before parking its thread.
     *
     * @return nanoseconds.
     */
    public long idleSpinNanos()
    {
        return idleSpinNanos;
    }

    /**
     * Sets the idle spin.
     *
     * @param nanos 0 to 10 ms.
     * @return this.
     */
    public SchedulerConfig idleSpinNanos(final long nanos)
    {
        if (nanos < 0 || nanos > TimeUnit.MILLISECONDS.toNanos(10))
        {
            throw new IllegalArgumentException("idleSpinNanos=" + nanos + " (expected 0..10 ms)");
        }
        this.idleSpinNanos = nanos;
        return this;
    }

    /**
     * Prices of exits, hypercalls, deliveries and context switches.
     *
     * @return the cost model.
     */
    public CostModel cost()
    {
        return cost;
    }

    /**
     * Sets the cost model.
     *
     * @param cost the model (copied).
     * @return this.
     */
    public SchedulerConfig cost(final CostModel cost)
    {
        this.cost = cost.copy();
        return this;
    }

    private static long checkRange(final long nanos, final String name)
    {
        if (nanos < TimeUnit.MICROSECONDS.toNanos(100) || nanos > TimeUnit.SECONDS.toNanos(10))
        {
            throw new IllegalArgumentException(name + "=" + nanos + " (expected 100 us..10 s)");
        }
        return nanos;
    }

    @Override
    public String toString()
    {
        return "SchedulerConfig{pcpus=" + pcpus + ", slice=" + sliceNanos / 1000 + " us, tick=" + tickNanos / 1000 +
            " us, ticksPerAccounting=" + ticksPerAccounting + ", haltPoll=" + haltPollNanos / 1000 + " us" +
            (haltPollAdaptive ? " adaptive" : "") + '}';
    }
}
