package io.pvio.machine.cpu;

/**
 * Why a full-mode guest left guest mode: the basic exit reasons of Intel VT-x (SDM volume 3, appendix C), with their
 * numbers, for the exits this machine models.
 */
public enum ExitReason
{
    /** An exception the hypervisor intercepts (exception bitmap); reflected back into the guest. */
    EXCEPTION(0),

    /** A physical interrupt arrived while the guest ran (for example the IPI that posts a virtual interrupt). */
    EXTERNAL_INTERRUPT(1),

    /** The guest opened its interrupt window ({@code sti}, {@code iret}) while a virtual interrupt waited. */
    INTERRUPT_WINDOW(7),

    /** {@code hlt}: the guest is idle; the hypervisor deschedules the vCPU until an interrupt. */
    HLT(12),

    /** {@code invlpg}, intercepted under shadow paging. */
    INVLPG(14),

    /** A control-register access ({@code mov cr3}). */
    CR_ACCESS(28),

    /** {@code in}/{@code out} to a port the hypervisor intercepts. */
    IO_INSTRUCTION(30),

    /** {@code wrmsr}: the TSC-deadline timer and the x2APIC end-of-interrupt register without APIC virtualization. */
    MSR_WRITE(32),

    /** An access to guest-physical memory with no RAM behind it: emulated MMIO. */
    EPT_VIOLATION(48);

    private static final ExitReason[] VALUES = values();

    private final int number;

    ExitReason(final int number)
    {
        this.number = number;
    }

    /**
     * The VT-x basic exit reason number.
     *
     * @return the number.
     */
    public int number()
    {
        return number;
    }

    /**
     * Every reason, in declaration order; a shared array, do not change it.
     *
     * @return the reasons.
     */
    static ExitReason[] all()
    {
        return VALUES;
    }
}
