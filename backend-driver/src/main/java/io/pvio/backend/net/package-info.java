/**
 * dom0's network side: netback ({@link io.pvio.backend.net.NetBack}), one per guest vif, and the learning
 * {@link io.pvio.backend.net.Bridge} that joins the vifs, emulated NICs and the uplink.
 */
package io.pvio.backend.net;
