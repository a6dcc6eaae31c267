package io.pvio.hypervisor.sched;

import io.pvio.hypervisor.Domain;
import io.pvio.hypervisor.Hypervisor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Xen's credit scheduler (credit1) over real host threads: N {@link PhysicalCpu}s run the domains' {@link Vcpu}s.
 * <p>
 * <b>Credit.</b> Each accounting period ({@code ticksPerAccounting} ticks, 30 ms by default) the machine's time,
 * {@code pcpus x} the time since the last accounting (a period, or a little more when the accounting ran at a
 * later pick; an idle physical CPU wakes for it), is handed to the domains that were active, in proportion to
 * {@code weight x active vCPUs}
 * (Xen's {@code csched_acct}), never more than a domain's active vCPUs could use nor than its cap (percent of one
 * physical CPU) allows; what a domain cannot take goes to the others, again by weight. A vCPU's credit is kept in
 * nanoseconds of physical-CPU time (Xen counts 10 credits per millisecond; the unit is the only difference); running
 * burns it at one nanosecond per nanosecond, measured. Credit is bounded to plus and minus one accounting period or
 * one slice, whichever is longer, so an idle vCPU cannot hoard and a busy one cannot sink forever. (Xen bounds it by
 * one slice's worth and accounts once a slice; pvio lets the slice and the tick be set apart, and a bound shorter
 * than the period would forgive the debt of every vCPU that ran a whole slice, flattening the weights to equal
 * shares whenever the slice is shorter than the period.)
 * <p>
 * <b>Priorities.</b> UNDER while credit is positive, OVER once spent. A vCPU woken from blocking while UNDER runs
 * BOOST: ahead of every UNDER and OVER vCPU, preempting a worse one on its physical CPU, until the next tick (Xen
 * drops BOOST at the tick). Each physical CPU has a run queue in priority order, first in first out among BOOST and
 * among UNDER, and by credit among OVER (least in debt first: Xen keeps OVER first in first out too, which hands
 * CPU-bound vCPUs equal turns whenever all are in debt); a vCPU that yields goes behind one queued vCPU, if
 * any, so that the yield lets it run, as in Xen. At every tick the running vCPU's credit is burnt and it
 * gives way if a queued vCPU now has a better priority. A vCPU takes a share at accounting if it was running at a
 * tick since it last overflowed its credit (Xen's active list) or is runnable and not just woken. A CPU with nothing
 * better than OVER steals UNDER or BOOST vCPUs from the others, and an idle one steals anything: the scheduler is
 * work-conserving, except that a capped domain whose credit is spent is parked until the next accounting.
 * <p>
 * <b>Time.</b> Each vCPU has a one-shot timer ({@code set_timer_op}, or the TSC-deadline MSR in full mode) and a poll
 * timeout ({@code SCHEDOP_poll}); both sit in one binary heap by deadline. Running physical CPUs check it between
 * passes, idle ones sleep until its head.
 * <p>
 * <b>Cost.</b> Decisions take one lock (the scheduler is meant for a handful of CPUs, as a 2-socket Xen host's
 * run queues under one lock would be) and allocate nothing: run queues are intrusive lists, the heap and the
 * scratch arrays are sized when domains are added. Context switches are priced by the {@code CostModel} and charged
 * to the vCPU switched in (modeled cycles).
 */
public final class CreditScheduler implements AutoCloseable
{
    /** Xen's default domain weight. */
    public static final int DEFAULT_WEIGHT = 256;

    /** Largest weight ({@code XEN_DOMCTL_SCHEDOP} accepts 1 to 65535). */
    public static final int MAX_WEIGHT = 65535;

    /** Ports one {@code SCHEDOP_poll} may name (Linux polls one at a time; Xen allows up to 128). */
    public static final int MAX_POLL_PORTS = 8;

    /** vCPUs the scheduler holds at most, over all domains. */
    public static final int MAX_VCPUS = 512;

    private static final long MAX_IDLE_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    private static final long OFFLINE_WAIT_NANOS = TimeUnit.SECONDS.toNanos(10);

    final Object lock = new Object();
    private final Hypervisor hypervisor;
    private final SchedulerConfig config;
    private final PhysicalCpu[] pcpus;
    private final long sliceNanos;
    private final long tickNanos;
    private final long periodNanos;
    private final long creditBound;
    private final long contextSwitchCycles;
    private final long epoch = System.nanoTime();
    private final Vcpu[] heap = new Vcpu[MAX_VCPUS];
    private SchedDomain[] domains = new SchedDomain[0];
    private int heapSize;
    private int vcpuCount;
    private long nextAccounting;
    private long lastAccounting;
    private long accountings;
    private volatile long nextTimer = Long.MAX_VALUE;
    private volatile boolean running;
    private boolean started;

    /**
     * A scheduler for the domains of {@code hypervisor}; the hypervisor stops a domain's vCPUs through it before it
     * frees the domain's memory. Call {@link #start()} to start the physical CPUs.
     *
     * @param hypervisor the hypervisor.
     * @param config     the settings (copied).
     */
    public CreditScheduler(final Hypervisor hypervisor, final SchedulerConfig config)
    {
        this.hypervisor = hypervisor;
        this.config = new SchedulerConfig().pcpus(config.pcpus()).sliceNanos(config.sliceNanos())
            .tickNanos(config.tickNanos()).ticksPerAccounting(config.ticksPerAccounting())
            .haltPollNanos(config.haltPollNanos()).haltPollAdaptive(config.haltPollAdaptive())
            .idleSpinNanos(config.idleSpinNanos()).cost(config.cost());
        this.sliceNanos = config.sliceNanos();
        this.tickNanos = config.tickNanos();
        this.periodNanos = config.tickNanos() * config.ticksPerAccounting();
        this.creditBound = Math.max(sliceNanos, periodNanos);
        this.contextSwitchCycles = config.cost().contextSwitch();
        this.pcpus = new PhysicalCpu[config.pcpus()];
        for (int i = 0; i < pcpus.length; i++)
        {
            pcpus[i] = new PhysicalCpu(this, i, MAX_VCPUS);
        }
        this.nextAccounting = epoch + periodNanos;
        this.lastAccounting = epoch;
        hypervisor.attachScheduler(this);
    }

    /**
     * The settings.
     *
     * @return a copy made at construction; do not change it.
     */
    public SchedulerConfig config()
    {
        return config;
    }

    /**
     * The physical CPUs.
     *
     * @return a copy of the array.
     */
    public PhysicalCpu[] pcpus()
    {
        return pcpus.clone();
    }

    /**
     * Starts one host thread per physical CPU. Idempotent.
     *
     * @return this.
     */
    public CreditScheduler start()
    {
        synchronized (lock)
        {
            if (started)
            {
                return this;
            }
            started = true;
            running = true;
        }
        for (final PhysicalCpu pcpu : pcpus)
        {
            final Thread thread = new Thread(pcpu::loop, "pcpu" + pcpu.id);
            thread.setDaemon(true);
            pcpu.thread = thread;
        }
        for (final PhysicalCpu pcpu : pcpus)
        {
            pcpu.thread.start();
        }
        return this;
    }

    /**
     * The host threads' ids of the physical CPUs, for per-thread measurements such as allocation or CPU time.
     *
     * @return one id per physical CPU, in CPU order; empty before {@link #start()} has returned.
     */
    public long[] physicalCpuThreadIds()
    {
        final long[] ids = new long[pcpus.length];
        for (int i = 0; i < pcpus.length; i++)
        {
            final Thread thread = pcpus[i].thread;
            if (null == thread)
            {
                return new long[0];
            }
            ids[i] = thread.getId();
        }
        return ids;
    }

    /**
     * Whether the physical CPUs run.
     *
     * @return true between {@link #start()} and {@link #close()}.
     */
    public boolean isRunning()
    {
        return running;
    }

    /**
     * Gives a domain its vCPUs ({@link Domain#vcpus()} of them, in the domain's mode) and boots them: each is woken
     * once and blocks when it finds nothing to do.
     *
     * @param domain a live domain not yet added.
     * @return its vCPUs.
     * @throws IllegalStateException if the domain was added already or the scheduler holds too many vCPUs.
     */
    public Vcpu[] addDomain(final Domain domain)
    {
        final SchedDomain sd;
        synchronized (lock)
        {
            if (null != find(domain))
            {
                throw new IllegalStateException(domain + " already has vCPUs");
            }
            if (vcpuCount + domain.vcpus() > MAX_VCPUS)
            {
                throw new IllegalStateException("scheduler full: " + vcpuCount + " vCPUs, " + domain.vcpus() +
                    " more asked (at most " + MAX_VCPUS + ")");
            }
            sd = new SchedDomain(this, domain);
            for (int i = 0; i < sd.vcpus.length; i++)
            {
                sd.vcpus[i].processor = pcpus[(vcpuCount + i) % pcpus.length];
                // start UNDER with half the bound, as a vCPU that left the active list: a fresh vCPU that boots,
                // burns a few microseconds and blocks is not running at a tick, takes no share, and would otherwise
                // stay OVER (and never boosted) until it happened to run across a tick
                sd.vcpus[i].credit = creditBound / 2;
            }
            vcpuCount += sd.vcpus.length;
            final SchedDomain[] grown = Arrays.copyOf(domains, domains.length + 1);
            grown[domains.length] = sd;
            domains = grown;
        }
        for (final Vcpu vcpu : sd.vcpus)
        {
            vcpu.wake();
        }
        return sd.vcpus.clone();
    }

    /**
     * One vCPU of a domain.
     *
     * @param domain the domain.
     * @param index  the vCPU's index.
     * @return the vCPU, or null if the domain has no vCPUs here.
     */
    public Vcpu vcpu(final Domain domain, final int index)
    {
        synchronized (lock)
        {
            final SchedDomain sd = find(domain);
            return null == sd || index < 0 || index >= sd.vcpus.length ? null : sd.vcpus[index];
        }
    }

    /**
     * Every vCPU of a domain.
     *
     * @param domain the domain.
     * @return its vCPUs, empty if it has none here.
     */
    public Vcpu[] vcpus(final Domain domain)
    {
        synchronized (lock)
        {
            final SchedDomain sd = find(domain);
            return null == sd ? new Vcpu[0] : sd.vcpus.clone();
        }
    }

    /**
     * Sets a domain's weight and cap ({@code XEN_DOMCTL_SCHEDOP_putinfo}); takes effect at the next accounting.
     *
     * @param domain the domain.
     * @param weight 1 to {@value #MAX_WEIGHT}; 256 is the default.
     * @param cap    0 for none, else the most CPU the domain may use, in percent of one physical CPU (1 to
     *               100 x vCPUs).
     * @throws IllegalArgumentException if a value is out of range or the domain has no vCPUs here.
     */
    public void setParameters(final Domain domain, final int weight, final int cap)
    {
        if (weight < 1 || weight > MAX_WEIGHT)
        {
            throw new IllegalArgumentException("weight=" + weight + " (expected 1.." + MAX_WEIGHT + ")");
        }
        synchronized (lock)
        {
            final SchedDomain sd = find(domain);
            if (null == sd)
            {
                throw new IllegalArgumentException(domain + " has no vCPUs in this scheduler");
            }
            if (cap < 0 || cap > 100 * sd.vcpus.length)
            {
                throw new IllegalArgumentException("cap=" + cap + " (expected 0 for none, or 1.." +
                    100 * sd.vcpus.length + " percent for " + sd.vcpus.length + " vCPUs)");
            }
            sd.weight = weight;
            sd.cap = cap;
        }
    }

    /**
     * A domain's weight.
     *
     * @param domain the domain.
     * @return the weight, or 0 if it has no vCPUs here.
     */
    public int weight(final Domain domain)
    {
        synchronized (lock)
        {
            final SchedDomain sd = find(domain);
            return null == sd ? 0 : sd.weight;
        }
    }

    /**
     * A domain's cap.
     *
     * @param domain the domain.
     * @return the cap in percent of one CPU, 0 for none.
     */
    public int cap(final Domain domain)
    {
        synchronized (lock)
        {
            final SchedDomain sd = find(domain);
            return null == sd ? 0 : sd.cap;
        }
    }

    /**
     * Accounting periods run so far.
     *
     * @return the count.
     */
    public long accountings()
    {
        synchronized (lock)
        {
            return accountings;
        }
    }

    /**
     * Takes a dying domain's vCPUs off the machine for good and waits until none runs. The hypervisor calls this
     * before it closes the domain's ports and frees its frames. From one of the domain's own vCPUs, that vCPU stops
     * at the end of its current pass instead.
     *
     * @param domain the domain.
     * @throws IllegalStateException if a vCPU does not leave its physical CPU within 10 s.
     */
    public void offline(final Domain domain)
    {
        final SchedDomain sd;
        synchronized (lock)
        {
            sd = find(domain);
            if (null == sd)
            {
                return;
            }
            final List<SchedDomain> kept = new ArrayList<>(Arrays.asList(domains));
            kept.remove(sd);
            domains = kept.toArray(new SchedDomain[0]);
            vcpuCount -= sd.vcpus.length;
            for (final Vcpu vcpu : sd.vcpus)
            {
                vcpu.getAndSetState(Vcpu.OFFLINE);
                if (null != vcpu.queuedOn)
                {
                    vcpu.queuedOn.remove(vcpu);
                }
                vcpu.parked = false;
                vcpu.timerDeadline = 0;
                vcpu.pollDeadline = 0;
                updateHeap(vcpu);
            }
        }
        domain.eventChannels().eventLoop().upcallListener(null);
        final Thread self = Thread.currentThread();
        final long deadline = System.nanoTime() + OFFLINE_WAIT_NANOS;
        for (final Vcpu vcpu : sd.vcpus)
        {
            while (vcpu.onCpu && !vcpu.isRunningOn(self))
            {
                if (System.nanoTime() - deadline > 0)
                {
                    throw new IllegalStateException(vcpu + " did not leave its physical CPU in 10 s");
                }
                Thread.yield();
            }
        }
    }

    /**
     * Stops the physical CPUs and waits for their threads. The vCPUs stop at the end of their current pass.
     */
    @Override
    public void close()
    {
        synchronized (lock)
        {
            if (!running)
            {
                return;
            }
            running = false;
        }
        for (final PhysicalCpu pcpu : pcpus)
        {
            LockSupport.unpark(pcpu.thread);
        }
        for (final PhysicalCpu pcpu : pcpus)
        {
            if (Thread.currentThread() == pcpu.thread)
            {
                continue;
            }
            try
            {
                pcpu.thread.join(TimeUnit.NANOSECONDS.toMillis(OFFLINE_WAIT_NANOS));
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
                return;
            }
            if (pcpu.thread.isAlive())
            {
                throw new IllegalStateException(pcpu.thread.getName() + " did not stop in 10 s");
            }
        }
    }

    @Override
    public String toString()
    {
        return "CreditScheduler{" + config + '}';
    }

    // ------------------------------------------------------------------------------------------ physical CPU side

    Vcpu pick(final PhysicalCpu p, final long now)
    {
        synchronized (lock)
        {
            if (now - nextAccounting >= 0)
            {
                account(now);
            }
            Vcpu vcpu = p.head;
            if (null != vcpu && vcpu == p.yielder && null != vcpu.next)
            {
                // the accounting just run may have re-sorted the yielder ahead again: its yield still lets one run
                vcpu = vcpu.next;
            }
            p.yielder = null;
            if (null == vcpu || Vcpu.PRI_OVER == vcpu.priority)
            {
                final Vcpu stolen = steal(p, null == vcpu);
                if (null != stolen && (null == vcpu || stolen.priority < vcpu.priority))
                {
                    vcpu = stolen;
                }
            }
            if (null == vcpu)
            {
                return null;
            }
            vcpu.queuedOn.remove(vcpu);
            vcpu.processor = p;
            vcpu.setState(Vcpu.RUNNING);
            vcpu.onCpu = true;
            vcpu.runStart = now;
            vcpu.runs++;
            if (p.last != vcpu)
            {
                p.switches++;
                vcpu.cpu().chargeCycles(contextSwitchCycles);
            }
            p.current = vcpu;
            p.preempt = false;
            return vcpu;
        }
    }

    /** The first tick boundary after {@code now}. */
    long nextTick(final long now)
    {
        return epoch + ((now - epoch) / tickNanos + 1) * tickNanos;
    }

    /**
     * Xen's {@code csched_tick} for the vCPU running on {@code p}: accounts if the period is over, burns the credit
     * the vCPU used since it was picked or last ticked, ends its BOOST, and says whether it must give way to a queued
     * vCPU of better priority (or, capped, has spent its credit). Without this a vCPU that went OVER would keep its
     * CPU for the rest of its slice while a vCPU made UNDER by the accounting waited.
     *
     * @return true if the vCPU is to be preempted.
     */
    boolean tick(final PhysicalCpu p, final Vcpu vcpu, final long now)
    {
        synchronized (lock)
        {
            if (now - nextAccounting >= 0)
            {
                account(now);
            }
            final long ran = now - vcpu.runStart;
            vcpu.runNanos += ran;
            p.busyNanos += ran;
            vcpu.runStart = now;
            vcpu.credit = Math.max(vcpu.credit - ran, -creditBound);
            vcpu.active = true;
            vcpu.priority = vcpu.credit > 0 ? Vcpu.PRI_UNDER : Vcpu.PRI_OVER;
            if (vcpu.schedDomain.cap > 0 && vcpu.credit <= 0)
            {
                return true;
            }
            final Vcpu head = p.head;
            if (null != head && head.priority < vcpu.priority)
            {
                return true;
            }
            final Vcpu stolen = steal(p, false);
            return null != stolen && stolen.priority < vcpu.priority;
        }
    }

    long sliceEnd(final Vcpu vcpu, final long now)
    {
        long end = now + sliceNanos;
        if (Vcpu.PRI_BOOST == vcpu.priority)
        {
            end = Math.min(end, nextTick(now));
        }
        if (vcpu.schedDomain.cap > 0 && vcpu.credit > 0)
        {
            end = Math.min(end, now + vcpu.credit);
        }
        return end;
    }

    void descheduled(final PhysicalCpu p, final Vcpu vcpu, final int outcome, final long now)
    {
        PhysicalCpu wake = null;
        synchronized (lock)
        {
            final long ran = now - vcpu.runStart;
            vcpu.runNanos += ran;
            p.busyNanos += ran;
            vcpu.credit = Math.max(vcpu.credit - ran, -creditBound);
            vcpu.priority = vcpu.credit > 0 ? Vcpu.PRI_UNDER : Vcpu.PRI_OVER;
            p.current = null;
            p.last = vcpu;
            if (Vcpu.OUT_BLOCK == outcome)
            {
                vcpu.blocks++;
                if (vcpu.casState(Vcpu.BLOCKING, Vcpu.BLOCKED))
                {
                    vcpu.onCpu = false;
                    return;
                }
            }
            else if (Vcpu.OUT_YIELD == outcome)
            {
                vcpu.yields++;
            }
            else if (Vcpu.OUT_PREEMPT == outcome)
            {
                vcpu.preemptions++;
            }
            p.yielder = Vcpu.OUT_YIELD == outcome ? vcpu : null;
            if (toQueued(vcpu) && running)
            {
                wake = place(vcpu, Vcpu.OUT_YIELD == outcome);
            }
            vcpu.onCpu = false;
        }
        if (null != wake)
        {
            LockSupport.unpark(wake.thread);
        }
    }

    void enqueueWoken(final Vcpu vcpu)
    {
        PhysicalCpu wake = null;
        synchronized (lock)
        {
            if (Vcpu.QUEUED != vcpu.state() || null != vcpu.queuedOn || vcpu.parked || vcpu.onCpu)
            {
                return;
            }
            vcpu.wakeups++;
            if (Vcpu.PRI_UNDER == vcpu.priority)
            {
                vcpu.priority = Vcpu.PRI_BOOST;
            }
            wake = place(vcpu);
        }
        if (null != wake)
        {
            LockSupport.unpark(wake.thread);
        }
    }

    long prepareIdle(final PhysicalCpu p, final long now)
    {
        synchronized (lock)
        {
            if (!running || p.waiting > 0 || null != steal(p, true))
            {
                return 0;
            }
            p.idle = true;
            p.idleParks++;
            final long untilTimer = nextTimer - now;
            // wake for the next accounting too: a capped vCPU parked until then must not wait for a timer
            final long untilAccounting = nextAccounting - now;
            return Math.max(1, Math.min(Math.min(untilTimer, untilAccounting), MAX_IDLE_PARK_NANOS));
        }
    }

    void endIdle(final PhysicalCpu p)
    {
        synchronized (lock)
        {
            p.idle = false;
        }
    }

    // --------------------------------------------------------------------------------------------------- timers

    void setTimer(final Vcpu vcpu, final long deadline)
    {
        synchronized (lock)
        {
            if (Vcpu.OFFLINE == vcpu.state())
            {
                return;
            }
            vcpu.timerDeadline = deadline;
            updateHeap(vcpu);
            kickIdleForTimer();
        }
    }

    void setPollTimer(final Vcpu vcpu, final long deadline)
    {
        synchronized (lock)
        {
            if (Vcpu.OFFLINE == vcpu.state())
            {
                return;
            }
            vcpu.pollDeadline = deadline;
            updateHeap(vcpu);
            kickIdleForTimer();
        }
    }

    boolean timerDue(final long now)
    {
        // volatile read: the heap head's deadline, published under the lock
        return now - nextTimer >= 0;
    }

    void pollTimers(final PhysicalCpu p, final long now)
    {
        if (now - nextTimer < 0)
        {
            return;
        }
        final Vcpu[] expired = p.expired;
        final boolean[] fired = p.fired;
        int n = 0;
        synchronized (lock)
        {
            while (heapSize > 0 && heap[0].heapDeadline - now <= 0)
            {
                final Vcpu vcpu = heap[0];
                final boolean timer = 0 != vcpu.timerDeadline && vcpu.timerDeadline - now <= 0;
                final boolean poll = 0 != vcpu.pollDeadline && vcpu.pollDeadline - now <= 0;
                if (timer)
                {
                    vcpu.timerDeadline = 0;
                }
                if (poll)
                {
                    vcpu.pollDeadline = 0;
                }
                updateHeap(vcpu);
                fired[2 * n] = timer;
                fired[2 * n + 1] = poll;
                expired[n++] = vcpu;
            }
        }
        for (int i = 0; i < n; i++)
        {
            final Vcpu vcpu = expired[i];
            final boolean timer = fired[2 * i];
            final boolean poll = fired[2 * i + 1];
            expired[i] = null;
            if (timer)
            {
                vcpu.cpu().timerExpired();
            }
            if (poll)
            {
                vcpu.wake();
            }
        }
    }

    // ------------------------------------------------------------------------------------------ under the lock

    private SchedDomain find(final Domain domain)
    {
        for (final SchedDomain sd : domains)
        {
            if (sd.domain == domain)
            {
                return sd;
            }
        }
        return null;
    }

    /** Moves a vCPU that leaves its CPU runnable to QUEUED; false if it went offline meanwhile. */
    private static boolean toQueued(final Vcpu vcpu)
    {
        for (;;)
        {
            final int s = vcpu.state();
            if (Vcpu.OFFLINE == s)
            {
                return false;
            }
            if (vcpu.casState(s, Vcpu.QUEUED))
            {
                return true;
            }
        }
    }

    /** Queues a runnable vCPU on the best physical CPU; returns a parked CPU to unpark, or null. */
    private PhysicalCpu place(final Vcpu vcpu)
    {
        return place(vcpu, false);
    }

    /** As {@link #place(Vcpu)}; a vCPU that yielded is queued behind one of worse priority. */
    private PhysicalCpu place(final Vcpu vcpu, final boolean yielded)
    {
        if (vcpu.schedDomain.cap > 0 && vcpu.credit <= 0)
        {
            vcpu.parked = true;
            return null;
        }
        PhysicalCpu target = vcpu.processor;
        if (null == target || null != target.current || target.waiting > 0)
        {
            for (final PhysicalCpu q : pcpus)
            {
                if (null == q.current && 0 == q.waiting)
                {
                    target = q;
                    break;
                }
            }
        }
        if (null == target)
        {
            target = pcpus[0];
        }
        target.insert(vcpu, yielded);
        final Vcpu current = target.current;
        if (null != current && vcpu.priority < current.priority)
        {
            target.preempt = true;
        }
        if (target.idle)
        {
            target.idle = false;
            return target;
        }
        return null;
    }

    /** The best vCPU queued on another CPU: BOOST or UNDER, or anything if {@code any}. */
    private Vcpu steal(final PhysicalCpu p, final boolean any)
    {
        Vcpu best = null;
        for (final PhysicalCpu q : pcpus)
        {
            if (q == p)
            {
                continue;
            }
            final Vcpu head = q.head;
            if (null != head && (any || head.priority < Vcpu.PRI_OVER) &&
                (null == best || head.priority < best.priority))
            {
                best = head;
            }
        }
        return best;
    }

    private void kickIdleForTimer()
    {
        for (final PhysicalCpu q : pcpus)
        {
            if (q.idle)
            {
                LockSupport.unpark(q.thread);
                return;
            }
        }
    }

    /**
     * Whether a vCPU takes a share of the period: it was running at a tick since it last overflowed its credit
     * (Xen's active list: a vCPU that runs in short bursts and blocks earns credit in proportion to how often it is
     * caught running), or it is runnable and not merely just woken (BOOST). Accounting runs when a CPU next
     * schedules, which an I/O vCPU's wake-up often causes; counting the just-woken would hand it a share every
     * period and take it from the CPU-bound.
     */
    private static boolean takesShare(final Vcpu vcpu)
    {
        final int s = vcpu.state();
        return vcpu.active || (Vcpu.OFFLINE != s && Vcpu.BLOCKED != s && Vcpu.PRI_BOOST != vcpu.priority);
    }

    /**
     * Xen's {@code csched_acct}: hands the period's CPU time to the active domains by weight, bounded by what each
     * can use and by its cap, with the remainder going round again; then re-sorts, parks and unparks.
     */
    private void account(final long now)
    {
        // accounting runs at the first pick after it is due, so a period can last up to a slice longer than
        // nominal: hand out the time that really passed, or credit falls behind consumption and caps undershoot
        final long span = now - lastAccounting;
        lastAccounting = now;
        nextAccounting = now + periodNanos;
        accountings++;
        final SchedDomain[] domains = this.domains;
        long remaining = pcpus.length * span;
        long weightSum = 0;
        for (final SchedDomain sd : domains)
        {
            int active = 0;
            for (final Vcpu vcpu : sd.vcpus)
            {
                if (takesShare(vcpu))
                {
                    active++;
                }
            }
            sd.activeVcpus = active;
            sd.satisfied = 0 == active;
            sd.grant = 0;
            weightSum += (long)sd.weight * active;
        }
        boolean changed = true;
        while (changed && weightSum > 0)
        {
            changed = false;
            for (final SchedDomain sd : domains)
            {
                if (sd.satisfied)
                {
                    continue;
                }
                long peak = sd.activeVcpus * span;
                if (sd.cap > 0)
                {
                    peak = Math.min(peak, sd.cap * span / 100);
                }
                final long fair = remaining * sd.weight * sd.activeVcpus / weightSum;
                if (fair >= peak)
                {
                    sd.grant = peak;
                    sd.satisfied = true;
                    remaining -= peak;
                    weightSum -= (long)sd.weight * sd.activeVcpus;
                    changed = true;
                }
            }
        }
        for (final SchedDomain sd : domains)
        {
            if (!sd.satisfied && weightSum > 0)
            {
                sd.grant = remaining * sd.weight * sd.activeVcpus / weightSum;
            }
            if (0 == sd.activeVcpus)
            {
                continue;
            }
            final long perVcpu = sd.grant / sd.activeVcpus;
            for (final Vcpu vcpu : sd.vcpus)
            {
                if (!takesShare(vcpu))
                {
                    continue;
                }
                vcpu.credit += perVcpu;
                if (vcpu.credit > creditBound)
                {
                    // Xen's csched_acct: a vCPU that does not use its share stops taking one (until it is running
                    // at a tick again) and keeps half the bound, so that it wakes UNDER and can be boosted
                    vcpu.credit = creditBound / 2;
                    vcpu.active = false;
                }
                if (Vcpu.PRI_BOOST != vcpu.priority)
                {
                    final int priority = vcpu.credit > 0 ? Vcpu.PRI_UNDER : Vcpu.PRI_OVER;
                    if ((priority != vcpu.priority || Vcpu.PRI_OVER == priority) && null != vcpu.queuedOn)
                    {
                        final PhysicalCpu q = vcpu.queuedOn;
                        q.remove(vcpu);
                        vcpu.priority = priority;
                        q.insert(vcpu);
                    }
                    vcpu.priority = priority;
                }
                if (sd.cap > 0)
                {
                    if (vcpu.parked && vcpu.credit > 0)
                    {
                        vcpu.parked = false;
                        final PhysicalCpu wake = place(vcpu);
                        if (null != wake)
                        {
                            LockSupport.unpark(wake.thread);
                        }
                    }
                    else if (vcpu.credit <= 0 && null != vcpu.queuedOn)
                    {
                        vcpu.queuedOn.remove(vcpu);
                        vcpu.parked = true;
                    }
                }
            }
        }
    }

    private void updateHeap(final Vcpu vcpu)
    {
        final long t = vcpu.timerDeadline;
        final long q = vcpu.pollDeadline;
        final long deadline = 0 == t ? q : 0 == q ? t : (t - q <= 0 ? t : q);
        if (vcpu.heapIndex >= 0)
        {
            removeAt(vcpu.heapIndex);
        }
        if (0 != deadline)
        {
            vcpu.heapDeadline = deadline;
            int i = heapSize++;
            heap[i] = vcpu;
            vcpu.heapIndex = i;
            siftUp(i);
        }
        nextTimer = 0 == heapSize ? Long.MAX_VALUE : heap[0].heapDeadline;
    }

    private void removeAt(final int index)
    {
        final Vcpu removed = heap[index];
        removed.heapIndex = -1;
        final int last = --heapSize;
        if (index != last)
        {
            final Vcpu moved = heap[last];
            heap[index] = moved;
            moved.heapIndex = index;
            siftDown(index);
            siftUp(moved.heapIndex);
        }
        heap[last] = null;
    }

    private void siftUp(final int index)
    {
        int i = index;
        while (i > 0)
        {
            final int parent = (i - 1) >>> 1;
            if (heap[parent].heapDeadline - heap[i].heapDeadline <= 0)
            {
                break;
            }
            swap(i, parent);
            i = parent;
        }
    }

    private void siftDown(final int index)
    {
        int i = index;
        for (;;)
        {
            final int left = 2 * i + 1;
            if (left >= heapSize)
            {
                return;
            }
            final int right = left + 1;
            final int child = right < heapSize && heap[right].heapDeadline - heap[left].heapDeadline < 0 ?
                right : left;
            if (heap[i].heapDeadline - heap[child].heapDeadline <= 0)
            {
                return;
            }
            swap(i, child);
            i = child;
        }
    }

    private void swap(final int a, final int b)
    {
        final Vcpu va = heap[a];
        final Vcpu vb = heap[b];
        heap[a] = vb;
        heap[b] = va;
        va.heapIndex = b;
        vb.heapIndex = a;
    }
}
