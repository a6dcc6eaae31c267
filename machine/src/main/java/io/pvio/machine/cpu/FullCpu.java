package io.pvio.machine.cpu;

import io.pvio.machine.CostModel;

/**
 * Full virtualization by trap and emulate: the unmodified kernel runs deprivileged (VT-x non-root mode), so each of
 * its privileged operations is a VM exit with its {@link ExitReason}, emulated by the hypervisor and priced at one
 * exit plus the emulation. Interrupts go through the virtual APIC and are injected on VM entry; one that waits while
 * the guest has interrupts off arms the interrupt window, and the guest's {@code sti} or {@code iret} then exits.
 * Exceptions are intercepted and reflected into the guest's IDT, as a deprivileged kernel's must be.
 */
final class FullCpu extends GuestCpu
{
    /** True while the vCPU is stopped inside a device access that a device model has yet to answer. */
    private boolean awaitingDevice;

    FullCpu(final CpuPlatform platform, final CostModel cost)
    {
        super(CpuMode.FULL, platform, cost);
    }

    @Override
    public void setEventCallback(final Runnable callback)
    {
        call(PvCall.HVM_SET_CALLBACK);
        eventCallback = callback;
        table[Vectors.HYPERVISOR_CALLBACK] = (cpu, vector, errorCode) -> callback.run();
    }

    @Override
    public void setTimerHandler(final Runnable handler)
    {
        timerHandler = handler;
        table[Vectors.LOCAL_TIMER] = (cpu, vector, errorCode) -> handler.run();
    }

    @Override
    public void disableInterrupts()
    {
        platform.registers().interruptsEnabled(false);
    }

    @Override
    public void enableInterrupts()
    {
        final CpuRegisters regs = platform.registers();
        final boolean was = regs.interruptsEnabled();
        regs.interruptsEnabled(true);
        if (!was && apic.deliverable() >= 0)
        {
            if (takeExternalExit())
            {
                exit(ExitReason.EXTERNAL_INTERRUPT);
            }
            exit(ExitReason.INTERRUPT_WINDOW); // the window armed when the vector came in with IF clear
            inject();
        }
    }

    @Override
    public boolean interruptsEnabled()
    {
        return platform.registers().interruptsEnabled();
    }

    @Override
    public void loadCr3(final long root)
    {
        exit(ExitReason.CR_ACCESS);
        platform.registers().set(CpuRegisters.CR3, root);
        reenter();
    }

    @Override
    public void invlpg(final long virtualAddress)
    {
        exit(ExitReason.INVLPG);
        reenter();
    }

    @Override
    public long in(final int port, final int size)
    {
        return access(ExitReason.IO_INSTRUCTION, false, port, size, false, 0);
    }

    @Override
    public void out(final int port, final int size, final long value)
    {
        access(ExitReason.IO_INSTRUCTION, false, port, size, true, value);
    }

    @Override
    public long mmioRead(final long address, final int size)
    {
        return access(ExitReason.EPT_VIOLATION, true, address, size, false, 0);
    }

    @Override
    public void mmioWrite(final long address, final int size, final long value)
    {
        access(ExitReason.EPT_VIOLATION, true, address, size, true, value);
    }

    @Override
    public void halt()
    {
        platform.registers().interruptsEnabled(true);
        exit(ExitReason.HLT);
        if (0 == inject())
        {
            platform.block();
        }
    }

    @Override
    public void setTimer(final long deadlineNanos)
    {
        exit(ExitReason.MSR_WRITE); // IA32_TSC_DEADLINE
        platform.armTimer(deadlineNanos);
        reenter();
    }

    @Override
    public void timerExpired()
    {
        postInterrupt(Vectors.LOCAL_TIMER);
    }

    @Override
    public void eventsPending()
    {
        postInterrupt(Vectors.HYPERVISOR_CALLBACK);
    }

    @Override
    public int enterGuest()
    {
        if (takeExternalExit())
        {
            exit(ExitReason.EXTERNAL_INTERRUPT);
        }
        return inject();
    }

    @Override
    public boolean hasDeliverable()
    {
        return platform.registers().interruptsEnabled() && apic.deliverable() >= 0;
    }

    /**
     * One trapped device access: the exit, the hypervisor's decode, then the device (its emulation or a device model
     * in dom0). An access forwarded to a device model may stop the vCPU with {@link IoPending}; the exit is counted
     * once, when the guest executed the instruction, and the access re-issued after the answer completes it without
     * another (Xen completes the ioreq in {@code hvm_do_resume}, before VM entry).
     */
    private long access(
        final ExitReason reason, final boolean mmio, final long address, final int size, final boolean write,
        final long value)
    {
        if (!awaitingDevice)
        {
            exit(reason);
            counters.add(CpuCounters.CYCLES, cost.portEmulation());
        }
        final long result;
        try
        {
            if (mmio)
            {
                if (write)
                {
                    platform.mmioWrite(address, size, value);
                    result = 0;
                }
                else
                {
                    result = platform.mmioRead(address, size);
                }
            }
            else if (write)
            {
                platform.portWrite((int)address, size, value);
                result = 0;
            }
            else
            {
                result = platform.portRead((int)address, size);
            }
        }
        catch (final IoPending pending)
        {
            if (!awaitingDevice)
            {
                awaitingDevice = true;
                counters.add(CpuCounters.DEVICE_MODEL_ACCESSES, 1);
                counters.add(CpuCounters.CYCLES, cost.deviceModelAccess());
            }
            throw pending;
        }
        awaitingDevice = false;
        reenter();
        return result;
    }

    /** VM entry after an exit: injects what is deliverable now. */
    private void reenter()
    {
        if (0 == depth || platform.registers().interruptsEnabled())
        {
            inject();
        }
    }

    /** Injects deliverable vectors while the guest has interrupts on; with them off the window stays armed. */
    private int inject()
    {
        int n = 0;
        int vector;
        while (platform.registers().interruptsEnabled() && (vector = apic.deliverable()) >= 0)
        {
            counters.add(CpuCounters.INJECTED, 1);
            deliverVector(vector);
            n++;
        }
        return n;
    }

    @Override
    void enterException(final int vector)
    {
        exit(ExitReason.EXCEPTION);
        counters.add(CpuCounters.INJECTED, 1); // reflected into the guest's IDT on entry
    }

    @Override
    void returnFromHandler()
    {
        // iret runs in non-root mode without an exit
    }

    @Override
    void endOfInterrupt()
    {
        exit(ExitReason.MSR_WRITE); // x2APIC EOI without APIC virtualization
        apic.endOfInterrupt();
    }

    @Override
    void afterInterruptReturn()
    {
        if (platform.registers().interruptsEnabled() && apic.deliverable() >= 0)
        {
            // the EOI exit's entry found a vector waiting with IF clear and armed the window; iret opens it
            exit(ExitReason.INTERRUPT_WINDOW);
        }
    }
}
