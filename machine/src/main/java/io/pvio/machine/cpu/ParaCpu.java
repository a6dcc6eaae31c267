package io.pvio.machine.cpu;

import io.pvio.machine.CostModel;

/**
 * Para virtualization, Xen's x86-64 PV ABI: the kernel knows it runs on a hypervisor. Interrupts off and on are the
 * {@code evtchn_upcall_mask} byte of its {@code vcpu_info}, a plain write to shared memory; unmasking with an upcall
 * already pending makes one cheap hypercall so that it is delivered. CR3 loads and INVLPG are {@code mmuext_op}, the
 * timer is {@code set_timer_op} and fires as a {@code VIRQ_TIMER} event, HLT is {@code SCHEDOP_block}, returning from
 * any handler is {@code HYPERVISOR_iret}. Exceptions trap to the hypervisor, which bounces them to the trap table
 * ({@code cr2} written for page faults); system calls enter the kernel's fast handler directly. Events arrive as an
 * upcall into the callback registered with {@code set_callbacks}. There is no APIC.
 */
final class ParaCpu extends GuestCpu
{
    /** Upcalls one entry delivers at most before the vCPU's loop runs again. */
    static final int MAX_UPCALLS_PER_ENTRY = 4;

    ParaCpu(final CpuPlatform platform, final CostModel cost)
    {
        super(CpuMode.PARA, platform, cost);
    }

    @Override
    public void setInterruptTable(final InterruptHandler[] handlers)
    {
        call(PvCall.SET_TRAP_TABLE);
        super.setInterruptTable(handlers);
    }

    @Override
    public void setEventCallback(final Runnable callback)
    {
        call(PvCall.SET_CALLBACKS);
        eventCallback = callback;
    }

    @Override
    public void setTimerHandler(final Runnable handler)
    {
        timerHandler = handler;
    }

    @Override
    public void disableInterrupts()
    {
        platform.upcallMask(true);
    }

    @Override
    public void enableInterrupts()
    {
        platform.upcallMask(false);
        if (platform.upcallPending() && null != eventCallback)
        {
            call(PvCall.FORCE_EVTCHN_CALLBACK);
            deliverUpcalls();
        }
    }

    @Override
    public boolean interruptsEnabled()
    {
        return !platform.upcallMasked();
    }

    @Override
    public void loadCr3(final long root)
    {
        call(PvCall.MMUEXT_OP); // MMUEXT_NEW_BASEPTR
        platform.registers().set(CpuRegisters.CR3, root);
    }

    @Override
    public void invlpg(final long virtualAddress)
    {
        call(PvCall.MMUEXT_OP); // MMUEXT_INVLPG_LOCAL
    }

    @Override
    public long in(final int port, final int size)
    {
        call(PvCall.EMULATE_PRIV_OP);
        counters.add(CpuCounters.CYCLES, cost.portEmulation());
        return platform.portRead(port, size);
    }

    @Override
    public void out(final int port, final int size, final long value)
    {
        call(PvCall.EMULATE_PRIV_OP);
        counters.add(CpuCounters.CYCLES, cost.portEmulation());
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
        call(PvCall.SCHEDOP_BLOCK);
        platform.upcallMask(false); // SCHEDOP_block enables event delivery
        if (0 == deliverUpcalls())
        {
            platform.block();
        }
    }

    @Override
    public void setTimer(final long deadlineNanos)
    {
        call(PvCall.SET_TIMER_OP);
        platform.armTimer(deadlineNanos);
    }

    @Override
    public void timerExpired()
    {
        platform.sendTimerEvent();
    }

    @Override
    public void eventsPending()
    {
        platform.kick();
    }

    @Override
    public void postInterrupt(final int vector)
    {
        throw new IllegalStateException("para cpu has no interrupt controller: vector " + vector +
            " must arrive as an event");
    }

    @Override
    public int enterGuest()
    {
        takeExternalExit();
        return deliverUpcalls();
    }

    @Override
    public boolean hasDeliverable()
    {
        return null != eventCallback && !platform.upcallMasked() && platform.upcallPending();
    }

    private int deliverUpcalls()
    {
        final Runnable callback = eventCallback;
        int n = 0;
        while (null != callback && n < MAX_UPCALLS_PER_ENTRY && !platform.upcallMasked() && platform.upcallPending())
        {
            counters.add(CpuCounters.UPCALLS, 1);
            counters.add(CpuCounters.CYCLES, cost.upcall());
            platform.upcallMask(true); // the hypervisor masks events while the callback runs
            depth++;
            try
            {
                callback.run();
            }
            finally
            {
                depth--;
            }
            call(PvCall.IRET); // restores the saved (clear) mask
            platform.upcallMask(false);
            n++;
        }
        return n;
    }

    @Override
    void enterException(final int vector)
    {
        // the trap enters the hypervisor, which builds a bounce frame for the guest's trap-table handler
        counters.add(CpuCounters.BOUNCES, 1);
        counters.add(CpuCounters.ENTRIES, 1);
        counters.add(CpuCounters.CYCLES, cost.hypercall());
    }

    @Override
    void returnFromHandler()
    {
        call(PvCall.IRET);
    }

    @Override
    void endOfInterrupt()
    {
        // no APIC
    }

    @Override
    void afterInterruptReturn()
    {
        // no APIC
    }
}
