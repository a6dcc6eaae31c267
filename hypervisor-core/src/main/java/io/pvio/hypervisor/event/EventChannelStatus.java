package io.pvio.hypervisor.event;

import io.pvio.hypervisor.DomainId;

/**
 * What {@code EVTCHNOP_status} reports about one port of the caller.
 *
 * @param state          the port's state.
 * @param remoteDomainId for {@link PortState#UNBOUND} the domain allowed to bind, for {@link PortState#INTERDOMAIN}
 *                       the peer domain, otherwise {@link DomainId#INVALID}.
 * @param remotePort     for {@link PortState#INTERDOMAIN} the peer's port, otherwise 0 (port 0 is never valid).
 * @param vcpu           the vCPU the port notifies; always 0, since pvio does not model {@code bind_vcpu}.
 */
public record EventChannelStatus(PortState state, int remoteDomainId, int remotePort, int vcpu)
{
}
