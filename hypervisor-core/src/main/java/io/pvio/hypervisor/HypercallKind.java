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
    /** {@code memory_op} reservation changes. */
    MEMORY_OP
}
