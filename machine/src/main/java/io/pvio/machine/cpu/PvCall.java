package io.pvio.machine.cpu;

/**
 * The hypercalls a para-virtualized kernel makes in place of privileged instructions (Xen's x86-64 PV ABI).
 */
public enum PvCall
{
    /** {@code HYPERVISOR_set_trap_table}: registers the exception and system-call handlers. */
    SET_TRAP_TABLE,

    /** {@code HYPERVISOR_set_callbacks}: registers the event upcall entry point. */
    SET_CALLBACKS,

    /**
     * {@code HYPERVISOR_iret}: returns from an exception, interrupt or upcall frame (x86-64 PV kernels run in ring 3).
     */
    IRET,

    /** {@code HYPERVISOR_set_timer_op}: arms the vCPU's one-shot timer. */
    SET_TIMER_OP,

    /** {@code SCHEDOP_yield}. */
    SCHEDOP_YIELD,

    /** {@code SCHEDOP_block}: sleeps until an event, with events unmasked. */
    SCHEDOP_BLOCK,

    /** {@code SCHEDOP_poll}: sleeps until one of the given ports is pending or a timeout. */
    SCHEDOP_POLL,

    /** {@code HYPERVISOR_mmuext_op}: base-pointer loads, INVLPG, TLB flushes. */
    MMUEXT_OP,

    /** {@code HYPERVISOR_multicall}: several calls in one entry. */
    MULTICALL,

    /**
     * {@code HYPERVISOR_xen_version(0)}: the cheapest hypercall, made when events are unmasked with an upcall already
     * pending so that the hypervisor delivers it ({@code xen_force_evtchn_callback} in Linux).
     */
    FORCE_EVTCHN_CALLBACK,

    /** A privileged instruction (port I/O) the guest executed anyway: a #GP the hypervisor decodes and emulates. */
    EMULATE_PRIV_OP,

    /** {@code HVMOP_set_param(HVM_PARAM_CALLBACK_IRQ)}: a full-mode guest asks for events on a vector. */
    HVM_SET_CALLBACK;

    private static final PvCall[] VALUES = values();

    static PvCall[] all()
    {
        return VALUES;
    }
}
