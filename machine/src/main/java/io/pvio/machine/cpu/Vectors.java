package io.pvio.machine.cpu;

/**
 * Interrupt and exception vectors the machine uses, with Linux's numbers where Linux fixes one.
 */
public final class Vectors
{
    /** {@code #DE}, divide error. */
    public static final int DIVIDE_ERROR = 0;

    /** {@code #UD}, invalid opcode. */
    public static final int INVALID_OPCODE = 6;

    /** {@code #GP}, general protection. */
    public static final int GENERAL_PROTECTION = 13;

    /** {@code #PF}, page fault; the faulting address is in {@code cr2}. */
    public static final int PAGE_FAULT = 14;

    /** First vector for external (device) interrupts. */
    public static final int FIRST_EXTERNAL = 0x20;

    /** Linux's {@code LOCAL_TIMER_VECTOR}: the local APIC timer. */
    public static final int LOCAL_TIMER = 0xEC;

    /** Linux's {@code HYPERVISOR_CALLBACK_VECTOR}: event-channel upcalls for a full-mode (HVM) guest. */
    public static final int HYPERVISOR_CALLBACK = 0xF3;

    private Vectors()
    {
    }

    /**
     * Whether a vector is an exception (0 to 31) rather than an interrupt.
     *
     * @param vector the vector.
     * @return true for 0 to 31.
     */
    public static boolean isException(final int vector)
    {
        return vector >= 0 && vector < FIRST_EXTERNAL;
    }
}
