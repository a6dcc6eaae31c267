package io.pvio.machine.cpu;

import java.util.Arrays;

/**
 * The architectural state a vCPU owns and the machine models: the sixteen general registers, {@code rip},
 * {@code rflags} (with the interrupt flag), {@code cr2} and {@code cr3}.
 * <p>
 * Two kinds of instance exist. Each physical CPU has one <em>hardware</em> register file, the one running code
 * reads and writes; each vCPU has one <em>saved</em> context. The hypervisor copies a vCPU's saved context into the
 * hardware file when it schedules the vCPU and back when it deschedules it, so a guest sees only its own values.
 * <pre>
 *  index  0..15    16    17      18   19
 *        +-------+-----+--------+----+----+
 *        | GPRs  | rip | rflags | cr2| cr3|
 *        +-------+-----+--------+----+----+
 * </pre>
 * Used by one thread at a time; the scheduler's hand-over of a vCPU orders one thread's use before the next.
 */
public final class CpuRegisters
{
    /** General registers, {@code rax} to {@code r15}. */
    public static final int GENERAL_REGISTERS = 16;

    /** Index of {@code rax}, where a system call's number and result go. */
    public static final int RAX = 0;

    /** Index of {@code rip}. */
    public static final int RIP = 16;

    /** Index of {@code rflags}. */
    public static final int RFLAGS = 17;

    /** Index of {@code cr2}, the last page-fault address. */
    public static final int CR2 = 18;

    /** Index of {@code cr3}, the page-table root. */
    public static final int CR3 = 19;

    /** Registers in the file. */
    public static final int COUNT = 20;

    /** {@code rflags.IF}: maskable interrupts enabled. */
    public static final long RFLAGS_IF = 1L << 9;

    /** {@code rflags} after reset: only the always-one bit 1. */
    public static final long RFLAGS_RESET = 1L << 1;

    private final long[] values = new long[COUNT];

    /**
     * A register file in its reset state (interrupts disabled, every register zero).
     */
    public CpuRegisters()
    {
        values[RFLAGS] = RFLAGS_RESET;
    }

    /**
     * Reads a register.
     *
     * @param index 0 to {@link #COUNT} - 1.
     * @return its value.
     */
    public long get(final int index)
    {
        return values[index];
    }

    /**
     * Writes a register.
     *
     * @param index 0 to {@link #COUNT} - 1.
     * @param value the value.
     */
    public void set(final int index, final long value)
    {
        values[index] = value;
    }

    /**
     * Whether {@code rflags.IF} is set.
     *
     * @return true if maskable interrupts are enabled.
     */
    public boolean interruptsEnabled()
    {
        return 0 != (values[RFLAGS] & RFLAGS_IF);
    }

    /**
     * Sets or clears {@code rflags.IF}.
     *
     * @param enabled the new flag.
     */
    public void interruptsEnabled(final boolean enabled)
    {
        values[RFLAGS] = enabled ? values[RFLAGS] | RFLAGS_IF : values[RFLAGS] & ~RFLAGS_IF;
    }

    /**
     * Copies every register of {@code other} into this file: a context save or restore. Allocates nothing.
     *
     * @param other the source.
     */
    public void copyFrom(final CpuRegisters other)
    {
        System.arraycopy(other.values, 0, values, 0, COUNT);
    }

    /**
     * Puts the file back to its reset state.
     */
    public void reset()
    {
        Arrays.fill(values, 0);
        values[RFLAGS] = RFLAGS_RESET;
    }

    @Override
    public String toString()
    {
        return "CpuRegisters{rax=" + values[RAX] + ", rip=0x" + Long.toHexString(values[RIP]) + ", rflags=0x" +
            Long.toHexString(values[RFLAGS]) + ", cr2=0x" + Long.toHexString(values[CR2]) + ", cr3=0x" +
            Long.toHexString(values[CR3]) + '}';
    }
}
