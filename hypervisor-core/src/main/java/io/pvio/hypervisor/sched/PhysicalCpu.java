package io.pvio.hypervisor.sched;

import io.pvio.machine.cpu.CpuRegisters;

import java.util.concurrent.locks.LockSupport;

/**
 * A physical CPU: a host thread that runs whatever vCPU the {@link CreditScheduler} picks for it, for a slice, and
 * asks again; idle, it spins for a moment, then parks until a vCPU is queued on it or a timer is due. It owns the
 * hardware register file into which the running vCPU's context is restored.
 * <p>
 * Its run queue is an intrusive doubly linked list of vCPUs ordered by priority (BOOST, UNDER, OVER) and first in,
 * first out within one, as Xen credit1's {@code runq_insert}; it and the fields marked so are guarded by the
 * scheduler's lock.
 */
public final class PhysicalCpu
{
    final int id;
    final CreditScheduler scheduler;
    final CpuRegisters hardware = new CpuRegisters();
    final Vcpu[] expired;
    final boolean[] fired;
    Thread thread;

    // ---- under the scheduler's lock ----
    Vcpu head;
    Vcpu tail;
    Vcpu current;
    Vcpu last;
    /** Under the scheduler's lock: the vCPU that just yielded here, until the next pick (which passes it over). */
    Vcpu yielder;
    boolean idle;
    long busyNanos;
    long idleParks;
    long switches;

    /** vCPUs on this run queue; written under the lock, read by a halt-polling vCPU without it. */
    volatile int waiting;

    /** Set when a vCPU better than the current one was queued here; read by the running vCPU between passes. */
    volatile boolean preempt;

    PhysicalCpu(final CreditScheduler scheduler, final int id, final int maxVcpus)
    {
        this.scheduler = scheduler;
        this.id = id;
        this.expired = new Vcpu[maxVcpus];
        this.fired = new boolean[2 * maxVcpus];
    }

    /**
     * The CPU's number.
     *
     * @return 0 to pcpus - 1.
     */
    public int id()
    {
        return id;
    }

    /**
     * Time this CPU spent running vCPUs (measured).
     *
     * @return nanoseconds.
     */
    public long busyNanos()
    {
        synchronized (scheduler.lock)
        {
            return busyNanos;
        }
    }

    /**
     * Context switches onto this CPU (a vCPU other than the last one scheduled).
     *
     * @return the count.
     */
    public long switches()
    {
        synchronized (scheduler.lock)
        {
            return switches;
        }
    }

    void loop()
    {
        final CreditScheduler scheduler = this.scheduler;
        final long spinNanos = scheduler.config().idleSpinNanos();
        while (scheduler.isRunning())
        {
            long now = System.nanoTime();
            scheduler.pollTimers(this, now);
            final Vcpu vcpu = scheduler.pick(this, now);
            if (null != vcpu)
            {
                final int outcome = vcpu.run(this, scheduler.sliceEnd(vcpu, now));
                scheduler.descheduled(this, vcpu, outcome, System.nanoTime());
                continue;
            }
            final long idleFrom = now;
            final long spinUntil = now + spinNanos;
            while (0 == waiting && scheduler.isRunning() && (now = System.nanoTime()) - spinUntil < 0 &&
                !scheduler.timerDue(now))
            {
                // as halt polling: spin briefly, then give the host's other threads (the devices) the core each turn
                if (now - idleFrom < Vcpu.HALT_SPIN_NANOS)
                {
                    Thread.onSpinWait();
                }
                else
                {
                    Thread.yield();
                }
            }
            if (0 == waiting && !scheduler.timerDue(now))
            {
                final long parkNanos = scheduler.prepareIdle(this, now);
                if (parkNanos > 0)
                {
                    LockSupport.parkNanos(this, parkNanos);
                    scheduler.endIdle(this);
                }
            }
        }
    }

    // ---- run queue, under the scheduler's lock ----

    void insert(final Vcpu vcpu)
    {
        insert(vcpu, false);
    }

    /**
     * Queues a vCPU by priority; one that yielded goes behind one vCPU of worse priority if there is one (Xen
     * credit1's {@code CSCHED_FLAG_VCPU_YIELD} in {@code runq_insert}), so that its yield lets that one run.
     */
    void insert(final Vcpu vcpu, final boolean yielded)
    {
        Vcpu after = tail;
        while (null != after && (after.priority > vcpu.priority ||
            (Vcpu.PRI_OVER == vcpu.priority && Vcpu.PRI_OVER == after.priority && after.credit < vcpu.credit)))
        {
            after = after.prev;
        }
        if (yielded)
        {
            final Vcpu worse = null == after ? head : after.next;
            if (null != worse)
            {
                after = worse;
            }
        }
        vcpu.prev = after;
        vcpu.next = null == after ? head : after.next;
        if (null == after)
        {
            head = vcpu;
        }
        else
        {
            after.next = vcpu;
        }
        if (null == vcpu.next)
        {
            tail = vcpu;
        }
        else
        {
            vcpu.next.prev = vcpu;
        }
        vcpu.queuedOn = this;
        waiting = waiting + 1;
    }

    void remove(final Vcpu vcpu)
    {
        if (null == vcpu.prev)
        {
            head = vcpu.next;
        }
        else
        {
            vcpu.prev.next = vcpu.next;
        }
        if (null == vcpu.next)
        {
            tail = vcpu.prev;
        }
        else
        {
            vcpu.next.prev = vcpu.prev;
        }
        vcpu.next = null;
        vcpu.prev = null;
        vcpu.queuedOn = null;
        waiting = waiting - 1;
    }

    @Override
    public String toString()
    {
        return "PhysicalCpu{" + id + '}';
    }
}
