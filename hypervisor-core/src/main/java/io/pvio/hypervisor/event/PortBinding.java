package io.pvio.hypervisor.event;

import io.pvio.hypervisor.DomainId;

/**
 * What one port is bound to. Immutable: a state change stores a new instance, so a sender that reads the port once
 * sees a consistent state, remote domain and remote port without a lock.
 */
final class PortBinding
{
    static final PortBinding FREE = new PortBinding(PortState.FREE, DomainId.INVALID, null, 0);

    final PortState state;
    final int remoteDomainId;
    final EventChannels remote;
    final int remotePort;

    private PortBinding(
        final PortState state, final int remoteDomainId, final EventChannels remote, final int remotePort)
    {
        this.state = state;
        this.remoteDomainId = remoteDomainId;
        this.remote = remote;
        this.remotePort = remotePort;
    }

    static PortBinding unbound(final int remoteDomainId)
    {
        return new PortBinding(PortState.UNBOUND, remoteDomainId, null, 0);
    }

    static PortBinding interdomain(final EventChannels remote, final int remotePort)
    {
        return new PortBinding(PortState.INTERDOMAIN, remote.domainId(), remote, remotePort);
    }

    static PortBinding virq(final int virq)
    {
        return new PortBinding(PortState.VIRQ, DomainId.INVALID, null, virq);
    }

    EventChannelStatus status()
    {
        return new EventChannelStatus(state, remoteDomainId, remotePort, 0);
    }

    String describe()
    {
        switch (state)
        {
            case UNBOUND:
                return "unbound for domain " + remoteDomainId;
            case VIRQ:
                return "bound to virq " + remotePort;
            case INTERDOMAIN:
                return "interdomain with domain " + remoteDomainId + " port " + remotePort;
            default:
                return "free";
        }
    }
}
