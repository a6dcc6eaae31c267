/**
 * dom0's network side: the learning {@link io.pvio.backend.net.Bridge} that joins netback vifs, emulated NICs and the
 * uplink.
 */
package io.pvio.backend.net;
