package io.pvio.machine.cpu;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * What one vCPU's privileged operations and events cost: VM exits by reason, para-virtual hypercalls by kind,
 * virtual interrupts injected, upcalls, exceptions and interrupts delivered, and the cycles the cost model prices
 * them at (modeled, not measured).
 * <p>
 * One writer at a time (the thread running the vCPU; the scheduler's hand-over orders successive ones), any number of
 * live readers: every slot is written and read with opaque accesses, so a reader sees whole, recent values. Counting
 * allocates nothing.
 */
public final class CpuCounters
{
    /** Slot: virtual interrupts injected on VM entry (full). */
    static final int INJECTED = 0;
    /** Slot: upcalls into the event callback (para). */
    static final int UPCALLS = 1;
    /** Slot: exceptions delivered to the guest's handler, every mode. */
    static final int EXCEPTIONS = 2;
    /** Slot: interrupts delivered through the guest's IDT (native and full). */
    static final int INTERRUPTS = 3;
    /** Slot: timer interrupts or timer events delivered. */
    static final int TIMER_TICKS = 4;
    /** Slot: system calls. */
    static final int SYSCALLS = 5;
    /** Slot: hypervisor entries of any kind (exits, hypercalls, bounces). */
    static final int ENTRIES = 6;
    /** Slot: faults and exceptions bounced to the guest by the hypervisor (para). */
    static final int BOUNCES = 7;
    /** Slot: modeled cycles. */
    static final int CYCLES = 8;
    /** Slot: accesses forwarded to a device model that the vCPU waited for (full mode ioreqs). */
    static final int DEVICE_MODEL_ACCESSES = 9;
    private static final int FIXED = 10;
    private static final int EXIT_BASE = FIXED;
    private static final int CALL_BASE = EXIT_BASE + ExitReason.all().length;
    private static final int SLOTS = CALL_BASE + PvCall.all().length;

    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(long[].class);

    private final long[] slots = new long[SLOTS];

    /**
     * A zeroed set.
     */
    public CpuCounters()
    {
    }

    void add(final int slot, final long n)
    {
        // opaque: single writer, whole values for live readers, no ordering needed
        SLOT.setOpaque(slots, slot, (long)SLOT.getOpaque(slots, slot) + n);
    }

    void exit(final ExitReason reason, final long cycles)
    {
        add(EXIT_BASE + reason.ordinal(), 1);
        add(ENTRIES, 1);
        add(CYCLES, cycles);
    }

    void call(final PvCall call, final long cycles)
    {
        add(CALL_BASE + call.ordinal(), 1);
        add(ENTRIES, 1);
        add(CYCLES, cycles);
    }

    private long read(final int slot)
    {
        return (long)SLOT.getOpaque(slots, slot);
    }

    /**
     * VM exits with one reason.
     *
     * @param reason the reason.
     * @return the count.
     */
    public long exits(final ExitReason reason)
    {
        return read(EXIT_BASE + reason.ordinal());
    }

    /**
     * VM exits of every reason.
     *
     * @return the count.
     */
    public long exits()
    {
        long n = 0;
        for (final ExitReason reason : ExitReason.all())
        {
            n += exits(reason);
        }
        return n;
    }

    /**
     * Para-virtual hypercalls of one kind.
     *
     * @param call the kind.
     * @return the count.
     */
    public long calls(final PvCall call)
    {
        return read(CALL_BASE + call.ordinal());
    }

    /**
     * Para-virtual hypercalls of every kind.
     *
     * @return the count.
     */
    public long calls()
    {
        long n = 0;
        for (final PvCall call : PvCall.all())
        {
            n += calls(call);
        }
        return n;
    }

    /**
     * Device accesses forwarded to a device model (an ioreq each) that the vCPU stopped for (full mode).
     *
     * @return the count.
     */
    public long deviceModelAccesses()
    {
        return read(DEVICE_MODEL_ACCESSES);
    }

    /**
     * Virtual interrupts injected on VM entry (full mode).
     *
     * @return the count.
     */
    public long injected()
    {
        return read(INJECTED);
    }

    /**
     * Upcalls into the event callback (para mode).
     *
     * @return the count.
     */
    public long upcalls()
    {
        return read(UPCALLS);
    }

    /**
     * Exceptions delivered to the guest's handlers.
     *
     * @return the count.
     */
    public long exceptions()
    {
        return read(EXCEPTIONS);
    }

    /**
     * Interrupts taken through the guest's IDT (native and full mode).
     *
     * @return the count.
     */
    public long interrupts()
    {
        return read(INTERRUPTS);
    }

    /**
     * Timer interrupts or timer events delivered.
     *
     * @return the count.
     */
    public long timerTicks()
    {
        return read(TIMER_TICKS);
    }

    /**
     * System calls made.
     *
     * @return the count.
     */
    public long syscalls()
    {
        return read(SYSCALLS);
    }

    /**
     * Faults and exceptions the hypervisor bounced to the guest (para mode).
     *
     * @return the count.
     */
    public long bounces()
    {
        return read(BOUNCES);
    }

    /**
     * Every entry into the hypervisor: exits, hypercalls and bounces.
     *
     * @return the count.
     */
    public long hypervisorEntries()
    {
        return read(ENTRIES);
    }

    /**
     * Modeled cycles of everything counted here.
     *
     * @return cycles (modeled).
     */
    public long modeledCycles()
    {
        return read(CYCLES);
    }

    /**
     * Adds every count of {@code other} into this set (for per-domain totals).
     *
     * @param other another set.
     * @return this.
     */
    public CpuCounters addAll(final CpuCounters other)
    {
        for (int i = 0; i < SLOTS; i++)
        {
            add(i, other.read(i));
        }
        return this;
    }

    /**
     * A copy of the current values.
     *
     * @return a new set.
     */
    public CpuCounters snapshot()
    {
        return new CpuCounters().addAll(this);
    }

    /**
     * The difference {@code this - earlier}.
     *
     * @param earlier an earlier snapshot.
     * @return a new set.
     */
    public CpuCounters minus(final CpuCounters earlier)
    {
        final CpuCounters d = snapshot();
        for (int i = 0; i < SLOTS; i++)
        {
            d.add(i, -earlier.read(i));
        }
        return d;
    }

    @Override
    public String toString()
    {
        final StringBuilder b = new StringBuilder("CpuCounters{exits=").append(exits());
        for (final ExitReason reason : ExitReason.all())
        {
            final long n = exits(reason);
            if (0 != n)
            {
                b.append(' ').append(reason).append('=').append(n);
            }
        }
        b.append(", calls=").append(calls());
        for (final PvCall call : PvCall.all())
        {
            final long n = calls(call);
            if (0 != n)
            {
                b.append(' ').append(call).append('=').append(n);
            }
        }
        return b.append(", injected=").append(injected()).append(", upcalls=").append(upcalls())
            .append(", interrupts=").append(interrupts()).append(", exceptions=").append(exceptions())
            .append(", timerTicks=").append(timerTicks()).append(", bounces=").append(bounces())
            .append(", modeledCycles=").append(modeledCycles()).append('}').toString();
    }
}
