package io.pvio.frontend.inet;

/**
 * Why an {@link Ipv4Host} dropped a frame it received, or one it meant to send.
 */
public enum DropReason
{
    /** Shorter than its headers say, or than an Ethernet header. */
    TRUNCATED,
    /** Addressed to another MAC, or an IPv4 packet for another address. */
    NOT_FOR_US,
    /** An EtherType, IP protocol, ARP opcode or ICMP type this stack does not handle. */
    UNSUPPORTED,
    /** An ARP packet that is not Ethernet/IPv4 with 6- and 4-byte addresses. */
    BAD_ARP,
    /** Not version 4, a header length below 20 bytes, or a total length that does not fit. */
    BAD_IP_HEADER,
    /** The IPv4 header checksum is wrong. */
    BAD_IP_CHECKSUM,
    /** A fragment: this stack does not reassemble. */
    FRAGMENT,
    /** The ICMP checksum is wrong. */
    BAD_ICMP_CHECKSUM,
    /** A UDP length that does not match the packet. */
    BAD_UDP_LENGTH,
    /** The UDP checksum is wrong. */
    BAD_UDP_CHECKSUM,
    /** A UDP datagram for a port nothing is bound to. */
    NO_LISTENER,
    /** To send: no ARP entry for the next hop yet (an ARP request went out instead). */
    UNRESOLVED,
    /** To send: the device had no room. */
    DEVICE_FULL
}
