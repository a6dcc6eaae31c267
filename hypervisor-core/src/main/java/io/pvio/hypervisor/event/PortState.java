package io.pvio.hypervisor.event;

/**
 * The state of an event channel port, Xen's {@code ECS_*}, with the code {@code EVTCHNOP_status} reports for it.
 */
public enum PortState
{
    /** Not in use; {@code EVTCHNSTAT_closed}. Port 0, reserved, also reads as closed. */
    FREE(0),
    /** Allocated and waiting for one named remote domain to bind to it; {@code EVTCHNSTAT_unbound}. */
    UNBOUND(1),
    /** Connected to a port of a remote domain (possibly the same domain); {@code EVTCHNSTAT_interdomain}. */
    INTERDOMAIN(2),
    /** Bound to a virtual interrupt the hypervisor raises (such as {@code VIRQ_TIMER}); {@code EVTCHNSTAT_virq}. */
    VIRQ(4);

    private final int xenStatus;

    PortState(final int xenStatus)
    {
        this.xenStatus = xenStatus;
    }

    /**
     * The {@code EVTCHNSTAT_*} value of {@code evtchn_status.status} for this state.
     *
     * @return the Xen status code.
     */
    public int xenStatus()
    {
        return xenStatus;
    }
}
