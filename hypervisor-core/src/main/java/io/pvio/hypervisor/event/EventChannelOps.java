package io.pvio.hypervisor.event;

import io.pvio.hypervisor.Domain;
import io.pvio.hypervisor.DomainId;
import io.pvio.hypervisor.Errno;
import io.pvio.hypervisor.HypercallException;
import io.pvio.hypervisor.HypercallKind;
import io.pvio.hypervisor.Hypercalls;
import io.pvio.hypervisor.Hypervisor;

/**
 * {@code event_channel_op} bound to one calling domain, reached through {@link Hypercalls#eventChannelOp()}. Every
 * call counts itself with {@link Hypercalls#enter(HypercallKind)}, acts on the caller's own port table only, and
 * fails with a {@link HypercallException} naming the caller, the port and its state, changing nothing.
 * <p>
 * Setting up a PV device's channel (section 3.2 of the protocol notes): the front end calls
 * {@link #allocUnbound(int)} naming the back end and publishes the port in XenStore; the back end calls
 * {@link #bindInterdomain(int, int)} with it; from then on either side calls {@link #send(int)} on its own port, and
 * {@link #close(int)} tears its end down. Thread-safe: any thread of the caller may use it.
 */
public final class EventChannelOps
{
    private final Hypervisor hypervisor;
    private final Domain caller;
    private final Hypercalls hypercalls;
    private final EventChannels channels;

    /**
     * Binds the operations to a caller.
     *
     * @param hypervisor the hypervisor.
     * @param caller     the domain making the calls.
     */
    public EventChannelOps(final Hypervisor hypervisor, final Domain caller)
    {
        this.hypervisor = hypervisor;
        this.caller = caller;
        this.hypercalls = caller.hypercalls();
        this.channels = caller.eventChannels();
    }

    /**
     * The calling domain.
     *
     * @return the caller.
     */
    public Domain caller()
    {
        return caller;
    }

    /**
     * {@code EVTCHNOP_alloc_unbound}: allocates the caller's lowest free port, waiting for {@code remoteDomainId} to
     * bind to it. The port is allocated in the caller's own table (Xen's {@code dom = DOMID_SELF}). Unlike Xen, which
     * records any id, the remote domain must exist, since domain ids are never reused and a port waiting for a domain
     * that does not exist could never be bound.
     *
     * @param remoteDomainId the domain allowed to bind, or {@link DomainId#SELF}.
     * @return the new port, unbound, unmasked and not pending.
     * @throws HypercallException ESRCH if there is no live remote domain or the caller is dying, ENOSPC if the
     *                            caller's table is full.
     */
    public int allocUnbound(final int remoteDomainId)
    {
        hypercalls.enter(HypercallKind.EVTCHN_ALLOC_UNBOUND);
        return channels.allocateUnbound(liveDomain(remoteDomainId, EventChannels.ALLOC_UNBOUND).id());
    }

    /**
     * {@code EVTCHNOP_bind_interdomain}: connects a new port of the caller to {@code remotePort} of
     * {@code remoteDomainId}, which must be unbound for the caller. As in Xen the new local port is set pending at
     * once, so its handler runs once (possibly for nothing) to cover sends that came before the bind.
     *
     * @param remoteDomainId the domain that allocated the unbound port, or {@link DomainId#SELF} for a loopback.
     * @param remotePort     the unbound port in that domain's table.
     * @return the caller's new port, interdomain and pending.
     * @throws HypercallException ESRCH if there is no live remote domain or the caller is dying, EINVAL if the remote
     *                            port is out of range or not unbound for the caller, ENOSPC if the caller's table is
     *                            full.
     */
    public int bindInterdomain(final int remoteDomainId, final int remotePort)
    {
        hypercalls.enter(HypercallKind.EVTCHN_BIND_INTERDOMAIN);
        final Domain remote = liveDomain(remoteDomainId, EventChannels.BIND_INTERDOMAIN);
        return channels.bindInterdomain(remote.eventChannels(), remotePort);
    }

    /**
     * {@code EVTCHNOP_bind_virq}: binds a new port of the caller to a virtual interrupt of its vCPU 0, such as
     * {@link EventChannels#VIRQ_TIMER}; the hypervisor sets the port pending when the VIRQ fires.
     *
     * @param virq the virtual interrupt.
     * @return the new port.
     * @throws HypercallException EINVAL if out of range, EEXIST if already bound, ENOSPC if the table is full, ESRCH
     *                            if the caller is dying.
     */
    public int bindVirq(final int virq)
    {
        hypercalls.enter(HypercallKind.EVTCHN_BIND_VIRQ);
        return channels.bindVirq(virq);
    }

    /**
     * {@code EVTCHNOP_send}: sets the remote end of {@code port} pending and, if that is a new event on an unmasked
     * port, wakes the remote domain's event loop, which runs the handler on its own thread. A send to a port still
     * pending does nothing more (events coalesce) and costs a few nanoseconds; a send on an unbound port is dropped,
     * as in Xen. Lock-free and allocation-free.
     * <p>
     * Like Xen's hypercall, a send is a full fence: what the caller wrote before it is visible to the handler that
     * runs for this event or for a later one.
     *
     * @param port the caller's port.
     * @throws HypercallException EINVAL if the port is out of range or free, ESRCH if the caller is dying.
     */
    public void send(final int port)
    {
        hypercalls.enter(HypercallKind.EVTCHN_SEND);
        channels.send(port);
    }

    /**
     * {@code EVTCHNOP_close}: frees {@code port}, dropping its handler and any undelivered event; an interdomain peer
     * goes back to unbound for the caller, so it can be bound again. When this returns, the port's handler is not
     * running on the loop thread and will not run again; so do not call it from a thread that the handler waits for.
     *
     * @param port the caller's port.
     * @throws HypercallException EINVAL if the port is out of range or already free, ESRCH if the caller is dying.
     */
    public void close(final int port)
    {
        hypercalls.enter(HypercallKind.EVTCHN_CLOSE);
        channels.close(port);
    }

    /**
     * {@code EVTCHNOP_unmask}: clears the port's mask bit and, if it was masked and is pending, delivers the event
     * that arrived while masked. The last step of the late-EOI pattern described on {@link EventHandler}. As in Xen,
     * only the range is checked: unmasking a port in any state is allowed.
     *
     * @param port the caller's port.
     * @throws HypercallException EINVAL if the port is out of range, ESRCH if the caller is dying.
     */
    public void unmask(final int port)
    {
        hypercalls.enter(HypercallKind.EVTCHN_UNMASK);
        channels.unmask(port);
    }

    /**
     * {@code EVTCHNOP_status} of one of the caller's ports.
     *
     * @param port the caller's port.
     * @return its state, remote domain and remote port.
     * @throws HypercallException EINVAL if the port is out of range, ESRCH if the caller is dying.
     */
    public EventChannelStatus status(final int port)
    {
        hypercalls.enter(HypercallKind.EVTCHN_STATUS);
        return channels.status(port);
    }

    private Domain liveDomain(final int domainId, final String call)
    {
        final int id = DomainId.SELF == domainId ? caller.id() : domainId;
        final Domain domain = hypervisor.domain(id);
        if (null == domain || !domain.isAlive())
        {
            throw new HypercallException(Errno.ESRCH, call + ": domain " + caller.id() + " named no live domain " +
                domainId);
        }
        return domain;
    }
}
