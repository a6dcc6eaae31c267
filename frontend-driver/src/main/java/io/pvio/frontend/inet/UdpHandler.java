package io.pvio.frontend.inet;

import org.agrona.DirectBuffer;

/**
 * Receives the payload of a UDP datagram addressed to an {@link Ipv4Host}'s bound port. The payload is lent for the
 * call only.
 */
@FunctionalInterface
public interface UdpHandler
{
    /**
     * One datagram, its checksum already verified.
     *
     * @param host       the host that received it, to answer with {@link Ipv4Host#sendUdp}.
     * @param sourceIp   the sender's IPv4 address.
     * @param sourcePort the sender's port.
     * @param payload    the buffer holding the payload.
     * @param offset     where it starts.
     * @param length     its bytes.
     */
    void onDatagram(Ipv4Host host, int sourceIp, int sourcePort, DirectBuffer payload, int offset, int length);
}
