/**
 * JMH benchmarks of the PV network: guest-to-guest frames through netfront, netback and dom0's bridge.
 */
package io.pvio.bench.net;
