package io.pvio.machine.cpu;

import io.pvio.machine.vm.PagingMode;

/**
 * How a domain's CPU is virtualized: how its kernel's privileged operations and its events reach the hardware.
 */
public enum CpuMode
{
    /** No hypervisor below the kernel: privileged instructions execute, interrupts go through the IDT. */
    NATIVE,

    /**
     * Full virtualization: the unmodified kernel runs deprivileged, so its privileged operations trap (VM exits) and
     * are emulated; interrupts are injected as virtual interrupts on VM entry.
     */
    FULL,

    /**
     * Para virtualization: the kernel asks for privileged work by hypercalls (or writes shared flags that need none,
     * such as the event upcall mask), and receives events as upcalls into a registered callback.
     */
    PARA;

    /**
     * The CPU mode that goes with a memory mode: a domain gets one mode for both. Nested paging is hardware-assisted
     * full virtualization.
     *
     * @param paging the memory mode.
     * @return the CPU mode.
     */
    public static CpuMode of(final PagingMode paging)
    {
        switch (paging)
        {
            case NATIVE:
                return NATIVE;
            case PARA:
                return PARA;
            default:
                return FULL;
        }
    }
}
