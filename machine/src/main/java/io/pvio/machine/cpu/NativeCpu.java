package io.pvio.machine.cpu;

import io.pvio.machine.CostModel;

/**
 * A CPU with no hypervisor below the kernel: privileged instructions execute, interrupts and exceptions go straight
 * through the guest's IDT, devices answer port and MMIO accesses themselves. Nothing here enters a hypervisor.
 */
final class NativeCpu extends GuestCpu
{
    NativeCpu(final CpuPlatform platform, final CostModel cost)
    {
        super(CpuMode.NATIVE, platform, cost);
    }

    @Override
    public void setEventCallback(final Runnable callback)
    {
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
        platform.registers().interruptsEnabled(true);
        deliverPending();
    }

    @Override
    public boolean interruptsEnabled()
    {
        return platform.registers().interruptsEnabled();
    }

    @Override
    public void loadCr3(final long root)
    {
        platform.registers().set(CpuRegisters.CR3, root);
    }

    @Override
    public void invlpg(final long virtualAddress)
    {
        // the TLB is the MMU's business: nothing to count here
    }

    @Override
    public long in(final int port, final int size)
    {
        return platform.portRead(port, size);
    }

    @Override
    public void out(final int port, final int size, final long value)
    {
        platform.portWrite(port, size, value);
    }

    @Override
    public long mmioRead(final long address, final int size)
    {
        return platform.mmioRead(address, size);
    }

    @Override
    public void mmioWrite(final long address, final int size, final long value)
    {
        platform.mmioWrite(address, size, value);
    }

    @Override
    public void halt()
    {
        platform.registers().interruptsEnabled(true);
        if (0 == deliverPending())
        {
            platform.block();
        }
    }

    @Override
    public void setTimer(final long deadlineNanos)
    {
        platform.armTimer(deadlineNanos);
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
        takeExternalExit(); // bare hardware: an interrupt is just taken, no exit
        return deliverPending();
    }

    @Override
    public boolean hasDeliverable()
    {
        return platform.registers().interruptsEnabled() && apic.deliverable() >= 0;
    }

    private int deliverPending()
    {
        int n = 0;
        int vector;
        while (platform.registers().interruptsEnabled() && (vector = apic.deliverable()) >= 0)
        {
            deliverVector(vector);
            n++;
        }
        return n;
    }

    @Override
    void enterException(final int vector)
    {
        // straight through the IDT
    }

    @Override
    void returnFromHandler()
    {
        // iret executes
    }

    @Override
    void endOfInterrupt()
    {
        apic.endOfInterrupt();
    }

    @Override
    void afterInterruptReturn()
    {
        // the delivery loop takes the next vector
    }
}
