/**
 * Driver-domain drivers: the code that runs on the driver domain's threads, on top of the {@code ring} library, the
 * {@code hypervisor-core} services and Netty.
 * <p>
 * This is the place for the xenbus back ends (the back half of the XenStore handshake: advertise features, map the
 * granted rings, bind the event channels), blkback over a real disk image file, netback with a software bridge and a
 * Netty uplink to real sockets, and the device models that emulate hardware registers for full-mode guests.
 * <p>
 * Trust boundary: a driver domain trusts no guest. Shared memory is read once into private copies and validated
 * before use; indexes, ids, grant references, sizes and sector ranges are bounded. A misbehaving guest gets an error
 * response or its device is disconnected, without crashing a back-end thread, touching another guest's data or
 * leaking a frame.
 */
package io.pvio.backend;
