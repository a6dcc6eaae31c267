package io.pvio.machine.cpu;

import io.pvio.machine.CostModel;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Objects;

/**
 * The one CPU interface a guest kernel uses for privileged work, in three implementations, one per {@link CpuMode}:
 * <table>
 *   <caption>one kernel, three ways to reach the hardware</caption>
 *   <tr><th>operation</th><th>native</th><th>full (trap and emulate)</th><th>para (hypercalls)</th></tr>
 *   <tr><td>interrupts off/on</td><td>{@code cli}/{@code sti}</td><td>{@code cli}/{@code sti}; {@code sti} with a
 *       virtual interrupt waiting exits (interrupt window)</td><td>a byte in {@code vcpu_info}; unmasking with an
 *       upcall pending makes one hypercall</td></tr>
 *   <tr><td>CR3 load, INVLPG</td><td>instruction</td><td>exit (CR access, INVLPG)</td><td>{@code mmuext_op}</td></tr>
 *   <tr><td>port I/O</td><td>the device</td><td>exit (I/O instruction), emulated</td>
 *       <td>#GP, decoded and emulated by the hypervisor</td></tr>
 *   <tr><td>MMIO</td><td>the device</td><td>exit (EPT violation), emulated</td><td>the device (mapped)</td></tr>
 *   <tr><td>HLT</td><td>the CPU sleeps</td><td>exit (HLT), the vCPU blocks</td><td>{@code SCHEDOP_block}</td></tr>
 *   <tr><td>timer</td><td>TSC-deadline MSR</td><td>exit (MSR write)</td><td>{@code set_timer_op}; fires as
 *       {@code VIRQ_TIMER}</td></tr>
 *   <tr><td>exception</td><td>IDT</td><td>exit (exception), reflected into the guest's IDT</td>
 *       <td>bounced to the trap table (faults carry {@code cr2})</td></tr>
 *   <tr><td>interrupt</td><td>IDT</td><td>injected on VM entry; exit if it arrives while the guest runs</td>
 *       <td>event upcall into the callback</td></tr>
 *   <tr><td>end of interrupt</td><td>APIC EOI</td><td>exit (MSR write)</td><td>none (pending bits)</td></tr>
 *   <tr><td>return from handler</td><td>{@code iret}</td><td>{@code iret}</td><td>{@code HYPERVISOR_iret}</td></tr>
 *   <tr><td>system call</td><td>{@code LSTAR}</td><td>through the monitor</td><td>fast handler, direct</td></tr>
 * </table>
 * Every exit, hypercall, injection, upcall and delivery is counted in {@link #counters()} and priced with the
 * {@link CostModel} (modeled cycles, not measured time).
 * <p>
 * <b>Threads.</b> The guest-facing methods and {@link #enterGuest()} run on the thread that runs the vCPU now (one at
 * a time). {@link #postInterrupt(int)}, {@link #timerExpired()} and {@link #eventsPending()} are safe from any
 * thread: they record what is pending and kick the vCPU; delivery happens on the vCPU's thread, at the next entry.
 */
public abstract class GuestCpu
{
    private static final VarHandle EXTERNAL_EXIT;

    static
    {
        try
        {
            EXTERNAL_EXIT = MethodHandles.lookup().findVarHandle(GuestCpu.class, "externalExit", int.class);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    final CpuMode mode;
    final CpuPlatform platform;
    final CostModel cost;
    final CpuCounters counters = new CpuCounters();
    final InterruptController apic = new InterruptController();
    final InterruptHandler[] table = new InterruptHandler[InterruptController.VECTORS];
    SyscallHandler syscallHandler;
    Runnable eventCallback;
    Runnable timerHandler;
    int depth;

    /** Set (volatile) when an interrupt was posted while the vCPU ran: the host's IPI took it out of guest mode. */
    volatile int externalExit;

    GuestCpu(final CpuMode mode, final CpuPlatform platform, final CostModel cost)
    {
        this.mode = mode;
        this.platform = Objects.requireNonNull(platform, "platform");
        this.cost = Objects.requireNonNull(cost, "cost");
    }

    /**
     * A CPU of the given mode.
     *
     * @param mode     how the CPU is virtualized.
     * @param platform what runs it.
     * @param cost     prices of exits, hypercalls and deliveries.
     * @return the CPU.
     */
    public static GuestCpu create(final CpuMode mode, final CpuPlatform platform, final CostModel cost)
    {
        switch (mode)
        {
            case NATIVE:
                return new NativeCpu(platform, cost);
            case FULL:
                return new FullCpu(platform, cost);
            default:
                return new ParaCpu(platform, cost);
        }
    }

    /**
     * The mode.
     *
     * @return how this CPU is virtualized.
     */
    public final CpuMode mode()
    {
        return mode;
    }

    /**
     * Counts and modeled cycles of this vCPU.
     *
     * @return the live counters.
     */
    public final CpuCounters counters()
    {
        return counters;
    }

    /**
     * The interrupt controller (the virtual APIC in full mode, the APIC natively; unused in para mode).
     *
     * @return the controller.
     */
    public final InterruptController interruptController()
    {
        return apic;
    }

    /**
     * The registers the guest sees now (the hardware file of the physical CPU it runs on).
     *
     * @return the live registers.
     */
    public final CpuRegisters registers()
    {
        return platform.registers();
    }

    /**
     * Handler nesting depth: 0 when no exception, interrupt or upcall handler is running.
     *
     * @return the depth.
     */
    public final int handlerDepth()
    {
        return depth;
    }

    /**
     * Installs the guest's exception and interrupt handlers ({@code lidt}; in para mode {@code set_trap_table}).
     *
     * @param handlers vector to handler; missing or null entries are empty.
     */
    public void setInterruptTable(final InterruptHandler[] handlers)
    {
        java.util.Arrays.fill(table, null);
        System.arraycopy(handlers, 0, table, 0, Math.min(handlers.length, table.length));
    }

    /**
     * Installs or replaces one handler (part of {@link #setInterruptTable}).
     *
     * @param vector  0 to 255.
     * @param handler the handler, or null to clear.
     */
    public void setHandler(final int vector, final InterruptHandler handler)
    {
        if (vector < 0 || vector >= table.length)
        {
            throw new IllegalArgumentException("vector out of range: " + vector);
        }
        table[vector] = handler;
    }

    /**
     * Installs the system-call entry point ({@code wrmsr LSTAR} natively and in full mode; the fast handler in para).
     *
     * @param handler the handler.
     */
    public void setSyscallHandler(final SyscallHandler handler)
    {
        syscallHandler = Objects.requireNonNull(handler, "handler");
    }

    /**
     * Registers the guest's event-channel callback: {@code set_callbacks} in para mode, the HVM callback vector in full
     * mode, the callback vector's IDT entry natively.
     *
     * @param callback the upcall handler (for example the domain's event loop pass).
     */
    public abstract void setEventCallback(Runnable callback);

    /**
     * Registers what runs on each timer expiry: the {@link Vectors#LOCAL_TIMER} handler, or the handler of the
     * {@code VIRQ_TIMER} event in para mode.
     *
     * @param handler the tick handler.
     */
    public abstract void setTimerHandler(Runnable handler);

    /**
     * The handler of the {@code VIRQ_TIMER} event (para mode): counts the tick and runs the guest's tick handler. The
     * hypervisor binds it to the VIRQ's port; called from the event callback on the vCPU's thread.
     */
    public final void timerEvent()
    {
        counters.add(CpuCounters.TIMER_TICKS, 1);
        final Runnable handler = timerHandler;
        if (null != handler)
        {
            handler.run();
        }
    }

    /**
     * Disables maskable interrupts (para: masks upcalls).
     */
    public abstract void disableInterrupts();

    /**
     * Enables maskable interrupts and takes any that wait (para: unmasks upcalls and takes a pending one).
     */
    public abstract void enableInterrupts();

    /**
     * Whether maskable interrupts (para: upcalls) are enabled.
     *
     * @return true if enabled.
     */
    public abstract boolean interruptsEnabled();

    /**
     * Loads a page-table root into {@code cr3}.
     *
     * @param root the root frame's address as the guest knows it.
     */
    public abstract void loadCr3(long root);

    /**
     * Invalidates one TLB entry.
     *
     * @param virtualAddress the address.
     */
    public abstract void invlpg(long virtualAddress);

    /**
     * {@code in}: reads a port.
     *
     * @param port 0 to 65535.
     * @param size 1, 2 or 4.
     * @return the value.
     */
    public abstract long in(int port, int size);

    /**
     * {@code out}: writes a port.
     *
     * @param port  0 to 65535.
     * @param size  1, 2 or 4.
     * @param value the value.
     */
    public abstract void out(int port, int size, long value);

    /**
     * Reads device memory.
     *
     * @param address guest-physical address.
     * @param size    1, 2, 4 or 8.
     * @return the value.
     */
    public abstract long mmioRead(long address, int size);

    /**
     * Writes device memory.
     *
     * @param address guest-physical address.
     * @param size    1, 2, 4 or 8.
     * @param value   the value.
     */
    public abstract void mmioWrite(long address, int size, long value);

    /**
     * The idle instruction: enables interrupts and, unless one is already deliverable, gives the CPU up until one
     * arrives (Linux's {@code safe_halt}: {@code sti; hlt}). Cooperative: the vCPU sleeps once the running code
     * returns to its loop.
     */
    public abstract void halt();

    /**
     * Programs the one-shot timer.
     *
     * @param deadlineNanos {@link System#nanoTime()} deadline, or 0 to cancel.
     */
    public abstract void setTimer(long deadlineNanos);

    /**
     * Gives the CPU up for now ({@code SCHEDOP_yield} in para mode; natively and in full mode a {@code pause} loop the
     * hypervisor sees as a yield).
     */
    public void yieldCpu()
    {
        if (CpuMode.PARA == mode)
        {
            call(PvCall.SCHEDOP_YIELD);
        }
        platform.yield();
    }

    /**
     * A system call from user code: enters the kernel's handler and returns its result.
     *
     * @param number the call number (put in {@code rax}).
     * @return the result (from {@code rax}).
     * @throws GuestCrash if no handler is installed.
     */
    public final long syscall(final long number)
    {
        final SyscallHandler handler = syscallHandler;
        if (null == handler)
        {
            throw new GuestCrash(mode + " cpu: system call " + number + " with no handler installed");
        }
        counters.add(CpuCounters.SYSCALLS, 1);
        if (CpuMode.FULL == mode)
        {
            // the monitor handles the privilege change (as GuestKernel prices it)
            counters.add(CpuCounters.ENTRIES, 1);
            counters.add(CpuCounters.CYCLES, cost.syscallEmulation());
        }
        final CpuRegisters regs = platform.registers();
        regs.set(CpuRegisters.RAX, number);
        final long result = handler.handle(this, number);
        regs.set(CpuRegisters.RAX, result);
        return result;
    }

    /**
     * An exception raised by the code running now (for example a divide error); delivered to the guest's handler
     * the way the mode delivers exceptions, before this returns.
     *
     * @param vector    0 to 31.
     * @param errorCode the error code, or 0.
     * @throws GuestCrash if the guest has no handler for it.
     */
    public final void raiseException(final int vector, final long errorCode)
    {
        if (!Vectors.isException(vector))
        {
            throw new IllegalArgumentException("not an exception vector: " + vector);
        }
        final InterruptHandler handler = table[vector];
        if (null == handler)
        {
            throw new GuestCrash(mode + " cpu: exception " + vector + " with no handler (double fault)");
        }
        enterException(vector);
        counters.add(CpuCounters.EXCEPTIONS, 1);
        counters.add(CpuCounters.CYCLES, cost.exceptionDelivery());
        depth++;
        try
        {
            handler.handle(this, vector, errorCode);
        }
        finally
        {
            depth--;
        }
        returnFromHandler();
    }

    /**
     * A page fault at {@code address}: {@code cr2} is set (by the CPU natively, by the hypervisor otherwise) and the
     * fault is delivered as {@link Vectors#PAGE_FAULT}.
     *
     * @param address   the faulting address.
     * @param errorCode the page-fault error code.
     */
    public final void pageFault(final long address, final long errorCode)
    {
        platform.registers().set(CpuRegisters.CR2, address);
        raiseException(Vectors.PAGE_FAULT, errorCode);
    }

    /**
     * Raises an interrupt vector for this vCPU: a device, timer or IPI. Safe from any thread; the vCPU is kicked and
     * takes it on its next entry if interrupts are enabled. In para mode there is no APIC and events are the only
     * interrupts, so this is refused.
     *
     * @param vector 32 to 255.
     * @throws IllegalStateException in para mode.
     */
    public void postInterrupt(final int vector)
    {
        if (Vectors.isException(vector))
        {
            throw new IllegalArgumentException("not an interrupt vector: " + vector);
        }
        if (apic.raise(vector) && platform.isRunning())
        {
            // volatile store: the next entry on the vCPU's thread counts the external-interrupt exit
            externalExit = 1;
        }
        platform.kick();
    }

    /**
     * The platform's timer expired. Any thread.
     */
    public abstract void timerExpired();

    /**
     * Events became pending for this vCPU ({@code evtchn_upcall_pending} went 0 to 1). Any thread.
     */
    public abstract void eventsPending();

    /**
     * VM entry (or, natively, the instruction boundary the loop stands for): delivers whatever is pending and
     * deliverable. Called by the vCPU's loop on its thread before running guest code.
     *
     * @return handlers run.
     */
    public abstract int enterGuest();

    /**
     * Charges cycles of work done for this vCPU elsewhere (a device model answering, say).
     *
     * @param cycles modeled cycles.
     */
    public final void chargeCycles(final long cycles)
    {
        counters.add(CpuCounters.CYCLES, cycles);
    }

    /**
     * Whether anything is pending that {@link #enterGuest()} would deliver now.
     *
     * @return true if an entry would run a handler.
     */
    public abstract boolean hasDeliverable();

    /** Mode hook: how an exception reaches the guest (exit, bounce or nothing). */
    abstract void enterException(int vector);

    /** Mode hook: the handler's return (iret). */
    abstract void returnFromHandler();

    final void exit(final ExitReason reason)
    {
        counters.exit(reason, cost.vmExit());
    }

    final void call(final PvCall call)
    {
        counters.call(call, cost.hypercall());
        platform.hypercall(call);
    }

    final boolean takeExternalExit()
    {
        // volatile read, then a plain reset on the vCPU's thread: a post racing with the reset is counted next time
        // at worst, never lost as an interrupt (the vector itself is in IRR)
        if (0 != externalExit)
        {
            EXTERNAL_EXIT.setVolatile(this, 0);
            return true;
        }
        return false;
    }

    /**
     * Delivers one interrupt vector through the guest's table: interrupts off, handler, end of interrupt, return.
     * Native and full mode.
     */
    final void deliverVector(final int vector)
    {
        apic.accept(vector);
        final CpuRegisters regs = platform.registers();
        final boolean wasEnabled = regs.interruptsEnabled();
        regs.interruptsEnabled(false);
        counters.add(CpuCounters.INTERRUPTS, 1);
        counters.add(CpuCounters.CYCLES, cost.exceptionDelivery());
        if (Vectors.LOCAL_TIMER == vector)
        {
            counters.add(CpuCounters.TIMER_TICKS, 1);
        }
        final InterruptHandler handler = table[vector];
        depth++;
        try
        {
            if (null != handler)
            {
                handler.handle(this, vector, 0);
            }
        }
        finally
        {
            depth--;
        }
        endOfInterrupt();
        regs.interruptsEnabled(wasEnabled);
        afterInterruptReturn();
    }

    /** Mode hook: the handler writes the APIC's end-of-interrupt register. */
    abstract void endOfInterrupt();

    /** Mode hook: interrupts may have been re-enabled by {@code iret}. */
    abstract void afterInterruptReturn();

    @Override
    public String toString()
    {
        return getClass().getSimpleName() + '{' + counters + '}';
    }
}
