/**
 * JMH benchmarks of the XenStore: reads and writes through a domain's connection, with and without a watch to fire.
 */
package io.pvio.bench.xenstore;
