/**
 * The netif wire format of Xen's {@code io/netif.h} on x86_64: transmit and receive requests and responses, the extra
 * info slot, flags, status codes, ring geometry and the xenbus keys of the netfront/netback handshake. Layouts only:
 * the rings themselves are {@link io.pvio.ring.FrontRing} and {@link io.pvio.ring.BackRing}.
 */
package io.pvio.ring.netif;
