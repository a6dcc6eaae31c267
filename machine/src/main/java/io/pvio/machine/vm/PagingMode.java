package io.pvio.machine.vm;

/**
 * How a guest's address translation is virtualized.
 */
public enum PagingMode
{
    /** No hypervisor: the kernel's tables map virtual to machine frames and the MMU walks them. */
    NATIVE,

    /**
     * Full virtualization with shadow paging: the unmodified kernel's tables map virtual to guest-physical frames; the
     * hypervisor walks them into shadow tables the MMU uses, trapping table writes, CR3 loads and INVLPG.
     */
    FULL,

    /**
     * Para virtualization with direct paging: the kernel's tables hold machine frames, are read-only to it, and change
     * only through validating {@code mmu_update} hypercalls, batched.
     */
    PARA,

    /** Hardware-assisted nested paging: guest tables walked without traps, then the hypervisor's host tables. */
    NESTED
}
