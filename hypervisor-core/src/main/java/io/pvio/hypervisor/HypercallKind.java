package io.pvio.hypervisor;

/**
 * Every hypercall a domain can make, counted per domain in {@link HypercallCounters}.
 */
public enum HypercallKind
{
    /** {@code domctl createdomain} (privileged). */
    DOMCTL_CREATE,
    /** {@code domctl destroydomain} (privileged). */
    DOMCTL_DESTROY,
    /** {@code domctl pausedomain} (privileged). */
    DOMCTL_PAUSE,
    /** {@code domctl unpausedomain} (privileged). */
    DOMCTL_UNPAUSE,
    /** {@code GNTTABOP_map_grant_ref}. */
    GRANT_MAP,
    /** {@code GNTTABOP_unmap_grant_ref}. */
    GRANT_UNMAP,
    /** {@code GNTTABOP_copy} (one per batch). */
    GRANT_COPY,
    /** {@code GNTTABOP_setup_table} (grow the caller's table). */
    GRANT_SETUP_TABLE,
    /** {@code GNTTABOP_query_size}. */
    GRANT_QUERY_SIZE,
    /** {@code EVTCHNOP_alloc_unbound}. */
    EVTCHN_ALLOC_UNBOUND,
    /** {@code EVTCHNOP_bind_interdomain}. */
    EVTCHN_BIND_INTERDOMAIN,
    /** {@code EVTCHNOP_send}. */
    EVTCHN_SEND,
    /** {@code EVTCHNOP_close}. */
    EVTCHN_CLOSE,
    /** {@code EVTCHNOP_unmask}. */
    EVTCHN_UNMASK,
    /** {@code EVTCHNOP_status}. */
    EVTCHN_STATUS,
    /** {@code EVTCHNOP_bind_virq}. */
    EVTCHN_BIND_VIRQ,
    /** {@code HYPERVISOR_sched_op(SCHEDOP_yield)}. */
    SCHEDOP_YIELD,
    /** {@code HYPERVISOR_sched_op(SCHEDOP_block)}. */
    SCHEDOP_BLOCK,
    /** {@code HYPERVISOR_sched_op(SCHEDOP_poll)}. */
    SCHEDOP_POLL,
    /** {@code HYPERVISOR_set_timer_op}. */
    SET_TIMER_OP,
    /** {@code HYPERVISOR_set_trap_table}. */
    SET_TRAP_TABLE,
    /** {@code HYPERVISOR_set_callbacks}. */
    SET_CALLBACKS,
    /** {@code HYPERVISOR_iret}. */
    IRET,
    /** {@code HYPERVISOR_mmuext_op}. */
    MMUEXT_OP,
    /** {@code HYPERVISOR_multicall}. */
    MULTICALL,
    /** {@code HYPERVISOR_xen_version}, made to force a pending event callback. */
    XEN_VERSION,
    /** A privileged instruction trapped (#GP) and emulated by the hypervisor. */
    EMULATE_PRIV_OP,
    /** {@code HVMOP_set_param}. */
    HVM_SET_PARAM,
    /** {@code XEN_DOMCTL_scheduler_op}: a domain's weight and cap. */
    DOMCTL_SCHEDULER_OP,
    /** {@code memory_op} reservation changes. */
    MEMORY_OP,
    /** {@code HYPERVISOR_dm_op}: a device model's call for its target (ioreq server setup, {@code inject_msi}). */
    DM_OP
}
