/**
 * The guests' LAN as a user runs it: a host with pvio's IPv4 stack on dom0's bridge, beside the VXLAN uplink that
 * lets a real Linux network stack join the LAN.
 */
package io.pvio.bench.net;
