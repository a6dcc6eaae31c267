package io.pvio.hypervisor.sched;

import io.pvio.hypervisor.Domain;
import io.pvio.hypervisor.event.EventChannelOps;

/**
 * An interdomain event channel from dom0 (which no scheduler runs, so the test thread acts for it) to a guest: the
 * guest's port, where the test binds a handler, and dom0's port, on which the test thread sends.
 */
final class EventPort
{
    final int guestPort;
    final int dom0Port;
    private final EventChannelOps dom0Ops;

    EventPort(final Domain dom0, final Domain guest)
    {
        guestPort = guest.hypercalls().eventChannelOp().allocUnbound(dom0.id());
        dom0Ops = dom0.hypercalls().eventChannelOp();
        dom0Port = dom0Ops.bindInterdomain(guest.id(), guestPort);
    }

    void send()
    {
        dom0Ops.send(dom0Port);
    }
}
