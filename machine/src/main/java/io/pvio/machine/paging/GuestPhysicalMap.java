package io.pvio.machine.paging;

/**
 * The hypervisor's guest-physical to machine map (the P2M) as the paging hardware needs it.
 */
@FunctionalInterface
public interface GuestPhysicalMap
{
    /** Returned for a guest frame with no machine frame behind it. */
    long NOT_POPULATED = -1;

    /**
     * The machine frame behind a guest frame.
     *
     * @param gfn the guest frame number.
     * @return the machine frame number, or {@link #NOT_POPULATED}.
     */
    long machineFrame(long gfn);
}
