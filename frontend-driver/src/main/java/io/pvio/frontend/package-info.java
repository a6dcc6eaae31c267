/**
 * Guest-side drivers: the code that runs on a guest domain's vCPU threads, on top of the {@code ring} library and
 * the {@code hypervisor-core} services.
 * <p>
 * This is the place for the xenbus front ends (the front half of the XenStore handshake: allocate and grant the
 * rings, bind the event channels, publish {@code ring-ref*}, {@code event-channel*} and {@code protocol}), blkfront,
 * netfront with its separate transmit and receive rings, the balloon driver, and the unmodified drivers that talk to
 * emulated devices when a guest runs in full-virtualization mode.
 * <p>
 * Trust boundary: a guest trusts the driver domain with nothing beyond the data it asked for. Responses are copied
 * out of shared memory once and their ids checked against the requests actually in flight.
 */
package io.pvio.frontend;
