package io.pvio.hypervisor.sched;

import io.pvio.hypervisor.Domain;
import io.pvio.hypervisor.HypercallKind;
import io.pvio.hypervisor.event.DomainEventLoop;
import io.pvio.hypervisor.event.EventChannels;
import io.pvio.hypervisor.event.UpcallListener;
import io.pvio.machine.cpu.CpuMode;
import io.pvio.machine.cpu.CpuPlatform;
import io.pvio.machine.cpu.CpuRegisters;
import io.pvio.machine.cpu.DeviceBus;
import io.pvio.machine.cpu.GuestCpu;
import io.pvio.machine.cpu.IoPending;
import io.pvio.machine.cpu.PvCall;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.SingleWriterRecorder;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * A virtual CPU of a domain: its saved register context, its {@link GuestCpu} (native, full or para, as the domain),
 * the tasks the domain runs on it, and its place in the {@link CreditScheduler}. A cooperative agent: a physical CPU
 * runs it for a slice and it comes back when the slice ends, it blocks, it yields or it is preempted.
 * <p>
 * <b>One pass</b>: VM entry ({@link GuestCpu#enterGuest()}: pending interrupts are injected, or the event upcall is
 * made, which on vCPU 0 runs the domain's {@link DomainEventLoop}), then each task's {@link VcpuTask#doWork()}. With
 * no work the vCPU polls for a short while if nothing else waits for its physical CPU (halt polling: a spin of
 * {@value #HALT_SPIN_NANOS} ns, then a yield of the host thread on each turn, since a Java thread cannot see the host's
 * run queue as KVM's {@code single_task_running()} check does, and the host's threads that stand for devices need the
 * same cores), then calls each
 * task's {@link VcpuTask#prepareToBlock()} and blocks. The polling window adapts per vCPU by default, as KVM's does:
 * it starts at 0, doubles (from {@value #HALT_POLL_GROW_START_NANOS} ns) while halts end within the configured
 * maximum, so a vCPU whose work comes back quickly polls, and halves when a halt outlasts the maximum, so a vCPU whose
 * work comes late stops burning its physical CPU ({@link #adaptedPollWindow}).
 * <p>
 * <b>States.</b> {@code BLOCKED} (asleep, on no run queue), {@code QUEUED} (runnable, on a run queue or parked by
 * its cap), {@code RUNNING} (on a physical CPU), {@code RUNNING_WOKEN} (running, and woken since its pass began),
 * {@code BLOCKING} (has decided to block and is leaving its physical CPU), {@code OFFLINE} (stopped for good).
 * <p>
 * <b>No lost wake-up.</b> A waker publishes its work (an event's pending bit, a ring index) and then calls
 * {@link #wake()}, which begins with a full fence and then moves the state: {@code BLOCKED -> QUEUED} (and queues the
 * vCPU), {@code RUNNING|BLOCKING -> RUNNING_WOKEN}, nothing for {@code QUEUED} or {@code RUNNING_WOKEN}. A pass
 * begins by setting {@code RUNNING} (a CAS from {@code RUNNING_WOKEN}, a full fence) before it reads any work, and
 * the vCPU blocks only by CAS {@code RUNNING -> BLOCKING}. All state accesses are volatile, so they fall in one total
 * order: a wake ordered before a pass's {@code RUNNING} store had its work published before that store, which the pass
 * reads after; a wake ordered after it either turns the state to {@code RUNNING_WOKEN}, so the blocking CAS fails and
 * the vCPU runs another pass, or finds {@code BLOCKING} and does the same, or finds {@code BLOCKED} and queues the
 * vCPU.
 * The physical CPU settles {@code BLOCKING -> BLOCKED} under the scheduler's lock, after saving the context, and
 * re-queues the vCPU instead if the CAS fails.
 * <p>
 * <b>Context.</b> The saved registers are copied into the physical CPU's hardware registers when the vCPU is
 * scheduled and back when it leaves, so guest code that reads {@link GuestCpu#registers()} sees only its own values.
 */
public final class Vcpu implements CpuPlatform
{
    static final int BLOCKED = 0;
    static final int QUEUED = 1;
    static final int RUNNING = 2;
    static final int RUNNING_WOKEN = 3;
    static final int BLOCKING = 4;
    static final int OFFLINE = 5;

    /** Scheduling priorities, best first (Xen credit1's {@code CSCHED_PRI_TS_BOOST/UNDER/OVER}). */
    static final int PRI_BOOST = 0;
    static final int PRI_UNDER = 1;
    static final int PRI_OVER = 2;

    /** Outcomes of {@link #run}. */
    static final int OUT_BLOCK = 0;
    static final int OUT_YIELD = 1;
    static final int OUT_PREEMPT = 2;
    static final int OUT_OFFLINE = 3;

    private static final long MAX_LATENCY_NANOS = TimeUnit.SECONDS.toNanos(60);
    private static final VarHandle STATE;
    private static final VarHandle PASS;
    private static final VcpuTask[] NO_TASKS = new VcpuTask[0];

    static
    {
        try
        {
            final MethodHandles.Lookup lookup = MethodHandles.lookup();
            STATE = lookup.findVarHandle(Vcpu.class, "state", int.class);
            PASS = lookup.findVarHandle(Vcpu.class, "pass", long.class);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    final CreditScheduler scheduler;
    final SchedDomain schedDomain;
    private final Domain domain;
    private final int id;
    private final GuestCpu cpu;
    private final CpuRegisters saved = new CpuRegisters();
    private final String name;
    private final SingleWriterRecorder wakeRecorder = new SingleWriterRecorder(MAX_LATENCY_NANOS, 2);
    private final Histogram wakeTotal = new Histogram(MAX_LATENCY_NANOS, 2);
    private final Object taskLock = new Object();
    /** How long halt polling spins before it yields its host thread on each turn, in nanoseconds. */
    static final long HALT_SPIN_NANOS = 20_000;
    /** The first non-zero adaptive window (KVM's {@code halt_poll_ns_grow_start}), in nanoseconds. */
    static final long HALT_POLL_GROW_START_NANOS = 10_000;
    private final long haltPollNanos;
    private final boolean haltPollAdaptive;
    private final UpcallListener waker = this::wake;
    private volatile VcpuTask[] tasks = NO_TASKS;
    private volatile DeviceBus deviceBus = DeviceBus.NONE;
    private volatile TaskErrorHandler errorHandler = (vcpu, task, error) -> error.printStackTrace();

    /** See the class comment; every access is volatile or a CAS. */
    private volatile int state = BLOCKED;

    /** Odd while a pass runs tasks: see {@link #removeTask}. */
    private volatile long pass;

    /** True (volatile) from the pick until the context is saved and the scheduler has settled the outcome. */
    volatile boolean onCpu;

    // ---- owned by the thread running the vCPU ----
    private PhysicalCpu pcpu;
    /** The task stopped inside a device access ({@link IoPending}) and what it waits for; null when none. */
    private VcpuTask stalled;
    private DeviceWait deviceWait;
    private long deviceStalls;
    private boolean blockRequested;
    private boolean yieldRequested;
    private boolean virqTimerBound;
    private int pollPortCount;
    private final int[] pollPorts = new int[CreditScheduler.MAX_POLL_PORTS];
    /** The halt-polling window now: {@link #haltPollNanos} when fixed, adapted per halt when adaptive. */
    private long pollWindow;
    /** nanoTime when the current halt (no work) began, 0 when none: it can span a block and the next run. */
    private long haltStart;
    private long haltPollGrows;
    private long haltPollShrinks;

    /** nanoTime of the wake that queued a blocked vCPU, 0 once recorded; written before the queueing lock. */
    long wokenAt;

    // ---- under the scheduler's lock ----
    long credit;
    int priority = PRI_UNDER;
    /** On the active list (Xen's {@code active_vcpu}): running at a tick and not over its credit since. */
    boolean active;
    boolean parked;
    PhysicalCpu processor;
    Vcpu next;
    Vcpu prev;
    PhysicalCpu queuedOn;
    long runStart;
    long timerDeadline;
    long pollDeadline;
    long heapDeadline;
    int heapIndex = -1;
    long runNanos;
    long runs;
    long wakeups;
    long blocks;
    long yields;
    long preemptions;

    Vcpu(final CreditScheduler scheduler, final SchedDomain schedDomain, final int id)
    {
        this.scheduler = scheduler;
        this.schedDomain = schedDomain;
        this.domain = schedDomain.domain;
        this.id = id;
        this.name = "d" + domain.id() + "v" + id;
        this.haltPollNanos = scheduler.config().haltPollNanos();
        this.haltPollAdaptive = scheduler.config().haltPollAdaptive();
        this.pollWindow = haltPollAdaptive ? 0 : haltPollNanos;
        this.cpu = GuestCpu.create(CpuMode.of(domain.mode()), this, scheduler.config().cost());
        if (0 == id)
        {
            final DomainEventLoop loop = domain.eventChannels().eventLoop();
            // the guest kernel's boot: register the event callback (set_callbacks, or the HVM callback vector)
            cpu.setEventCallback(loop::doWork);
            loop.upcallListener(cpu::eventsPending);
        }
        saved.interruptsEnabled(true);
    }

    /**
     * The domain.
     *
     * @return the domain this vCPU belongs to.
     */
    public Domain domain()
    {
        return domain;
    }

    /**
     * The vCPU's index in its domain.
     *
     * @return 0 to vcpus - 1.
     */
    public int id()
    {
        return id;
    }

    /**
     * The CPU the guest's kernel uses.
     *
     * @return the guest CPU, in the domain's mode.
     */
    public GuestCpu cpu()
    {
        return cpu;
    }

    /**
     * The saved register context (the live one while the vCPU runs is the physical CPU's).
     *
     * @return the saved context.
     */
    public CpuRegisters savedContext()
    {
        return saved;
    }

    /**
     * Sets the devices behind the vCPU's port and MMIO accesses.
     *
     * @param bus the bus.
     */
    public void deviceBus(final DeviceBus bus)
    {
        this.deviceBus = Objects.requireNonNull(bus, "bus");
    }

    /**
     * The devices behind the vCPU's port and MMIO accesses now.
     *
     * @return the bus ({@link DeviceBus#NONE} unless one was set).
     */
    public DeviceBus deviceBus()
    {
        return deviceBus;
    }

    /**
     * Sets what is told when a task throws; the task is removed and the vCPU carries on.
     *
     * @param handler the handler, called on the vCPU's thread.
     */
    public void errorHandler(final TaskErrorHandler handler)
    {
        this.errorHandler = Objects.requireNonNull(handler, "handler");
    }

    /**
     * Adds a task; the vCPU is woken to run it. Any thread.
     *
     * @param task the task.
     */
    public void addTask(final VcpuTask task)
    {
        Objects.requireNonNull(task, "task");
        synchronized (taskLock)
        {
            final VcpuTask[] old = tasks;
            final VcpuTask[] grown = Arrays.copyOf(old, old.length + 1);
            grown[old.length] = task;
            // volatile store: the next pass reads the new array
            tasks = grown;
        }
        wake();
    }

    /**
     * Removes a task. When this returns, the task is not running on this vCPU and will not run again, unless this
     * is called from the task itself (it then finishes its current pass). Any thread.
     *
     * @param task the task.
     * @return true if it was one of this vCPU's tasks.
     */
    public boolean removeTask(final VcpuTask task)
    {
        synchronized (taskLock)
        {
            final VcpuTask[] old = tasks;
            int index = -1;
            for (int i = 0; i < old.length; i++)
            {
                if (old[i] == task)
                {
                    index = i;
                    break;
                }
            }
            if (index < 0)
            {
                return false;
            }
            final VcpuTask[] shrunk = new VcpuTask[old.length - 1];
            System.arraycopy(old, 0, shrunk, 0, index);
            System.arraycopy(old, index + 1, shrunk, index, old.length - index - 1);
            // volatile store, then the volatile read of the pass marker below (Dekker with the pass's odd marker
            // store then tasks read): either the pass reads the new array or we see it running and wait for its end
            tasks = shrunk;
        }
        awaitPassEnd();
        return true;
    }

    /**
     * The tasks now on this vCPU.
     *
     * @return a copy.
     */
    public VcpuTask[] tasks()
    {
        return tasks.clone();
    }

    /**
     * Makes the vCPU runnable if it is blocked, or makes it run another pass instead of blocking if it is running.
     * Any thread; allocates nothing; see the class comment for why no wake-up is lost.
     */
    public void wake()
    {
        // full fence: the caller's work (plain or release writes) is ordered before the state read below
        VarHandle.fullFence();
        for (;;)
        {
            final int s = state;
            switch (s)
            {
                case BLOCKED:
                    if (STATE.compareAndSet(this, BLOCKED, QUEUED))
                    {
                        wokenAt = System.nanoTime();
                        scheduler.enqueueWoken(this);
                        return;
                    }
                    break;
                case RUNNING:
                case BLOCKING:
                    if (STATE.compareAndSet(this, s, RUNNING_WOKEN))
                    {
                        return;
                    }
                    break;
                default:
                    return;
            }
        }
    }

    /**
     * {@code SCHEDOP_poll}: whether one of {@code ports} is pending; if none is, the vCPU blocks (when the calling
     * task returns) until one becomes pending, masked or not, or until the timeout. Call again from the task's next
     * pass to see which.
     *
     * @param ports         ports of this vCPU's domain (at most {@value CreditScheduler#MAX_POLL_PORTS}).
     * @param count         how many of {@code ports} to poll.
     * @param timeoutNanos  how long to sleep at most; 0 for no timeout.
     * @return true if a port was pending already.
     * @throws IllegalArgumentException if more ports are given than can be polled, or a port is out of range.
     */
    public boolean poll(final int[] ports, final int count, final long timeoutNanos)
    {
        if (count < 1 || count > pollPorts.length)
        {
            throw new IllegalArgumentException("poll of " + count + " ports (expected 1.." + pollPorts.length + ")");
        }
        hypercall(PvCall.SCHEDOP_POLL);
        final EventChannels channels = domain.eventChannels();
        for (int i = 0; i < count; i++)
        {
            if (channels.isPending(ports[i]))
            {
                pollPortCount = 0;
                return true;
            }
        }
        System.arraycopy(ports, 0, pollPorts, 0, count);
        pollPortCount = count;
        channels.pollListener(waker);
        if (timeoutNanos > 0)
        {
            scheduler.setPollTimer(this, System.nanoTime() + timeoutNanos);
        }
        blockRequested = true;
        return false;
    }

    /**
     * Measured time on a physical CPU so far (not modeled cycles).
     *
     * @return nanoseconds.
     */
    public long runNanos()
    {
        synchronized (scheduler.lock)
        {
            return runNanos;
        }
    }

    /**
     * A snapshot of the vCPU's scheduling figures (measured).
     *
     * @return the figures.
     */
    public VcpuStats stats()
    {
        final Histogram latency = wakeLatency();
        synchronized (scheduler.lock)
        {
            return new VcpuStats(name, runNanos, runs, wakeups, blocks, yields, preemptions, credit, priority,
                latency.getTotalCount(), latency.getValueAtPercentile(50), latency.getValueAtPercentile(99),
                latency.getMaxValue());
        }
    }

    /**
     * Wake-up latency so far: from the wake that queued the blocked vCPU to its first pass on a physical CPU, when
     * it takes the event (measured, nanoseconds).
     *
     * @return a copy of the histogram.
     */
    public Histogram wakeLatency()
    {
        synchronized (wakeTotal)
        {
            wakeTotal.add(wakeRecorder.getIntervalHistogram());
            return wakeTotal.copy();
        }
    }

    /**
     * What a vCPU stopped inside a device access waits for.
     */
    @FunctionalInterface
    public interface DeviceWait
    {
        /**
         * Whether the device has answered, so the access can complete. Called on the vCPU's thread.
         *
         * @return true once answered.
         */
        boolean answered();
    }

    /**
     * Called on this vCPU's thread by a device bus that forwarded an access and is about to throw
     * {@link IoPending}: the vCPU then blocks, running nothing else and taking no interrupt, until {@code wait}
     * says the device answered and a {@link #wake()} came; then it runs the stopped task again, which re-issues the
     * access (see {@link IoPending}'s retry contract).
     *
     * @param wait what the access waits for.
     */
    public void awaitDevice(final DeviceWait wait)
    {
        deviceWait = Objects.requireNonNull(wait, "wait");
    }

    /**
     * Times a task of this vCPU stopped inside a device access to wait for a device model. Any thread (an
     * approximate, recent value).
     *
     * @return the count.
     */
    public long deviceStalls()
    {
        return deviceStalls;
    }

    // ------------------------------------------------------------------------------------------------ the run loop

    /**
     * Runs the vCPU on {@code p} until the slice ends, it blocks, yields, is preempted or goes offline. Called by the
     * physical CPU's thread after the scheduler picked this vCPU (state {@code RUNNING}).
     */
    int run(final PhysicalCpu p, final long sliceEnd)
    {
        pcpu = p;
        p.hardware.copyFrom(saved);
        clearPoll();
        blockRequested = false;
        yieldRequested = false;
        long idleSince = 0;
        long nextTick = scheduler.nextTick(System.nanoTime());
        int outcome;
        for (;;)
        {
            final int s = state;
            if (OFFLINE == s || !scheduler.isRunning())
            {
                outcome = OFFLINE == s ? OUT_OFFLINE : OUT_PREEMPT;
                break;
            }
            if (RUNNING_WOKEN == s && !STATE.compareAndSet(this, RUNNING_WOKEN, RUNNING))
            {
                continue;
            }
            // volatile store before the tasks read: see removeTask
            PASS.setVolatile(this, pass + 1);
            if (0 != wokenAt)
            {
                wakeRecorder.recordValue(Math.min(System.nanoTime() - wokenAt, MAX_LATENCY_NANOS));
                wokenAt = 0;
            }
            final VcpuTask[] tasks = this.tasks;
            int work = 0;
            // a vCPU stopped inside an instruction runs nothing else, and takes no interrupt, until it completes
            if (null == stalled || resumeStalled())
            {
                work = cpu.enterGuest();
                for (int i = 0; i < tasks.length; i++)
                {
                    work += runTask(tasks[i]);
                    if (blockRequested || yieldRequested || null != stalled)
                    {
                        break;
                    }
                }
            }
            // release: the pass is over; a remover's volatile read sees the change
            PASS.setRelease(this, pass + 1);
            final long now = System.nanoTime();
            scheduler.pollTimers(p, now);
            if (yieldRequested)
            {
                outcome = OUT_YIELD;
                break;
            }
            if (now - sliceEnd >= 0 || p.preempt)
            {
                outcome = OUT_PREEMPT;
                break;
            }
            if (now - nextTick >= 0)
            {
                nextTick = scheduler.nextTick(now);
                if (scheduler.tick(p, this, now))
                {
                    outcome = OUT_PREEMPT;
                    break;
                }
            }
            if (null != stalled)
            {
                // volatile read of the answer after the state read at the pass's start: an answer published after
                // it comes with a wake that turns RUNNING into RUNNING_WOKEN, so the CAS below fails and we look again
                if (deviceWait.answered() || !STATE.compareAndSet(this, RUNNING, BLOCKING))
                {
                    continue;
                }
                outcome = OUT_BLOCK;
                break;
            }
            if (work > 0 && !blockRequested)
            {
                if (0 != haltStart)
                {
                    endHalt(now - haltStart);
                }
                idleSince = 0;
                continue;
            }
            if (cpu.hasDeliverable())
            {
                continue;
            }
            if (!blockRequested)
            {
                if (0 == idleSince)
                {
                    idleSince = now;
                }
                if (0 == haltStart)
                {
                    haltStart = now;
                }
                if (now - idleSince < pollWindow && 0 == p.waiting)
                {
                    if (now - idleSince < HALT_SPIN_NANOS)
                    {
                        Thread.onSpinWait();
                    }
                    else
                    {
                        Thread.yield();
                    }
                    continue;
                }
            }
            if (prepareTasksToBlock(tasks) || pollSatisfied())
            {
                blockRequested = false;
                idleSince = 0;
                continue;
            }
            if (STATE.compareAndSet(this, RUNNING, BLOCKING))
            {
                outcome = OUT_BLOCK;
                break;
            }
            blockRequested = false; // woken since the pass began: run again
            idleSince = 0;
        }
        saved.copyFrom(p.hardware);
        pcpu = null;
        return outcome;
    }

    /**
     * A halt ended with work after {@code haltNanos}: with adaptive polling the window is adapted as KVM adapts
     * {@code halt_poll_ns} (see {@link #adaptedPollWindow}).
     */
    private void endHalt(final long haltNanos)
    {
        haltStart = 0;
        if (haltPollAdaptive)
        {
            final long adapted = adaptedPollWindow(pollWindow, haltNanos, haltPollNanos);
            if (adapted > pollWindow)
            {
                haltPollGrows++;
            }
            else if (adapted < pollWindow)
            {
                haltPollShrinks++;
            }
            pollWindow = adapted;
        }
    }

    /**
     * The next adaptive halt-polling window after a halt that lasted {@code haltNanos} (from the last work to the
     * next, through polling, blocking and the wake): unchanged if polling caught the work (the halt fit the window);
     * halved (to 0 below {@value #HALT_POLL_GROW_START_NANOS} ns) if the halt outlasted the maximum, so polling could
     * not have caught it and only wastes the CPU; doubled (at least {@value #HALT_POLL_GROW_START_NANOS} ns, at most
     * the maximum) if a longer window within the maximum would have caught it. This is the rule of KVM's
     * {@code kvm_vcpu_halt} with {@code halt_poll_ns_grow} 2 and {@code halt_poll_ns_shrink} 2.
     *
     * @param window    the window now, nanoseconds.
     * @param haltNanos how long the halt lasted.
     * @param max       the most the window may be ({@link SchedulerConfig#haltPollNanos()}).
     * @return the next window.
     */
    static long adaptedPollWindow(final long window, final long haltNanos, final long max)
    {
        if (haltNanos <= window)
        {
            return window;
        }
        if (haltNanos > max)
        {
            final long shrunk = window / 2;
            return shrunk < HALT_POLL_GROW_START_NANOS ? 0 : shrunk;
        }
        return Math.min(max, Math.max(HALT_POLL_GROW_START_NANOS, window * 2));
    }

    /**
     * The halt-polling window in force now.
     *
     * @return nanoseconds: the configured window when fixed, the adapted one when adaptive.
     */
    public long haltPollWindowNanos()
    {
        return pollWindow;
    }

    /**
     * How often the adaptive window grew and shrank.
     *
     * @return {grows, shrinks}; both 0 with a fixed window.
     */
    public long[] haltPollAdaptations()
    {
        return new long[] { haltPollGrows, haltPollShrinks };
    }

    /**
     * Runs the stalled task again if its device has answered, which completes the instruction it stopped in.
     *
     * @return true if the vCPU is no longer stalled.
     */
    private boolean resumeStalled()
    {
        if (!deviceWait.answered())
        {
            return false;
        }
        final VcpuTask task = stalled;
        stalled = null;
        deviceWait = null;
        runTask(task);
        return null == stalled;
    }

    private int runTask(final VcpuTask task)
    {
        try
        {
            return task.doWork();
        }
        catch (final IoPending pending)
        {
            if (null == deviceWait)
            {
                taskFailed(task, new IllegalStateException(name + ": " + task.roleName() +
                    " stopped for a device that did not say what it waits for (Vcpu.awaitDevice)"));
                return 1;
            }
            stalled = task;
            deviceStalls++;
            return 0;
        }
        catch (final Throwable ex)
        {
            taskFailed(task, ex);
            return 1;
        }
    }

    private boolean prepareTasksToBlock(final VcpuTask[] tasks)
    {
        boolean more = false;
        for (int i = 0; i < tasks.length; i++)
        {
            try
            {
                more |= tasks[i].prepareToBlock();
            }
            catch (final Throwable ex)
            {
                taskFailed(tasks[i], ex);
                more = true;
            }
        }
        return more;
    }

    private boolean pollSatisfied()
    {
        final int n = pollPortCount;
        if (0 == n)
        {
            return false;
        }
        final EventChannels channels = domain.eventChannels();
        for (int i = 0; i < n; i++)
        {
            if (channels.isPending(pollPorts[i]))
            {
                return true;
            }
        }
        return false;
    }

    private void taskFailed(final VcpuTask task, final Throwable ex)
    {
        synchronized (taskLock)
        {
            final VcpuTask[] old = tasks;
            final VcpuTask[] shrunk = Arrays.stream(old).filter(t -> t != task).toArray(VcpuTask[]::new);
            tasks = shrunk;
        }
        try
        {
            errorHandler.onError(this, task, ex);
        }
        catch (final Throwable inner)
        {
            ex.addSuppressed(inner);
            ex.printStackTrace();
        }
    }

    private void awaitPassEnd()
    {
        final PhysicalCpu running = pcpu;
        if (null != running && running.thread == Thread.currentThread())
        {
            return; // a task removing itself or a sibling: the pass reads the new array next time
        }
        final long marker = pass;
        if (0 == (marker & 1))
        {
            return;
        }
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        // volatile read: the pass's release store of the next marker ends the wait
        while (pass == marker)
        {
            if (System.nanoTime() - deadline > 0)
            {
                throw new IllegalStateException(name + ": a task pass did not end in 10 s");
            }
            Thread.yield();
        }
    }

    int state()
    {
        return state;
    }

    void setState(final int newState)
    {
        state = newState;
    }

    boolean casState(final int expected, final int newState)
    {
        return STATE.compareAndSet(this, expected, newState);
    }

    int getAndSetState(final int newState)
    {
        return (int)STATE.getAndSet(this, newState);
    }

    void clearPoll()
    {
        if (0 != pollPortCount)
        {
            pollPortCount = 0;
            domain.eventChannels().pollListener(null);
        }
    }

    boolean isRunningOn(final Thread thread)
    {
        final PhysicalCpu running = pcpu;
        return null != running && running.thread == thread;
    }

    // ------------------------------------------------------------------------------------------------ CpuPlatform

    @Override
    public CpuRegisters registers()
    {
        final PhysicalCpu running = pcpu;
        return null == running ? saved : running.hardware;
    }

    @Override
    public long portRead(final int port, final int size)
    {
        return deviceBus.read(false, port, size);
    }

    @Override
    public void portWrite(final int port, final int size, final long value)
    {
        deviceBus.write(false, port, size, value);
    }

    @Override
    public long mmioRead(final long address, final int size)
    {
        return deviceBus.read(true, address, size);
    }

    @Override
    public void mmioWrite(final long address, final int size, final long value)
    {
        deviceBus.write(true, address, size, value);
    }

    @Override
    public void block()
    {
        blockRequested = true;
    }

    @Override
    public void yield()
    {
        yieldRequested = true;
    }

    @Override
    public void armTimer(final long deadlineNanos)
    {
        if (CpuMode.PARA == cpu.mode() && !virqTimerBound && 0 != deadlineNanos)
        {
            // the guest kernel's timer set-up on first use: VIRQ_TIMER bound to a port whose handler ticks
            final int port = domain.hypercalls().eventChannelOp().bindVirq(EventChannels.VIRQ_TIMER);
            domain.eventChannels().bindHandler(port, ignored -> cpu.timerEvent());
            virqTimerBound = true;
        }
        scheduler.setTimer(this, deadlineNanos);
    }

    @Override
    public boolean isRunning()
    {
        final int s = state;
        return RUNNING == s || RUNNING_WOKEN == s || BLOCKING == s;
    }

    @Override
    public void kick()
    {
        wake();
    }

    @Override
    public boolean upcallPending()
    {
        return 0 == id && domain.eventChannels().upcallPending();
    }

    @Override
    public void upcallMask(final boolean masked)
    {
        if (0 == id)
        {
            domain.eventChannels().upcallMask(masked);
        }
    }

    @Override
    public boolean upcallMasked()
    {
        return 0 != id || domain.eventChannels().upcallMasked();
    }

    @Override
    public void sendTimerEvent()
    {
        domain.eventChannels().raiseVirq(EventChannels.VIRQ_TIMER);
    }

    @Override
    public void hypercall(final PvCall call)
    {
        domain.counters().increment(kindOf(call));
    }

    private static HypercallKind kindOf(final PvCall call)
    {
        switch (call)
        {
            case SET_TRAP_TABLE:
                return HypercallKind.SET_TRAP_TABLE;
            case SET_CALLBACKS:
                return HypercallKind.SET_CALLBACKS;
            case IRET:
                return HypercallKind.IRET;
            case SET_TIMER_OP:
                return HypercallKind.SET_TIMER_OP;
            case SCHEDOP_YIELD:
                return HypercallKind.SCHEDOP_YIELD;
            case SCHEDOP_BLOCK:
                return HypercallKind.SCHEDOP_BLOCK;
            case SCHEDOP_POLL:
                return HypercallKind.SCHEDOP_POLL;
            case MMUEXT_OP:
                return HypercallKind.MMUEXT_OP;
            case MULTICALL:
                return HypercallKind.MULTICALL;
            case FORCE_EVTCHN_CALLBACK:
                return HypercallKind.XEN_VERSION;
            case EMULATE_PRIV_OP:
                return HypercallKind.EMULATE_PRIV_OP;
            default:
                return HypercallKind.HVM_SET_PARAM;
        }
    }

    @Override
    public String toString()
    {
        return "Vcpu{" + name + ", " + cpu.mode() + ", state=" + state + '}';
    }

    /**
     * Told when a task throws.
     */
    @FunctionalInterface
    public interface TaskErrorHandler
    {
        /**
         * A task failed and was removed.
         *
         * @param vcpu  the vCPU.
         * @param task  the task.
         * @param error what it threw.
         */
        void onError(Vcpu vcpu, VcpuTask task, Throwable error);
    }
}
