/**
 * A guest's minimal IPv4 stack: ARP, ICMP echo and UDP with checksums over Ethernet frames, enough for a real Linux
 * host to {@code ping} a guest and exchange datagrams with it. The stack sees frames only: whatever carries them
 * (netfront, an emulated NIC, a port of dom0's bridge) hands it received frames and takes the frames it sends.
 */
package io.pvio.frontend.inet;
