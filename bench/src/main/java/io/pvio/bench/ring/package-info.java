/**
 * Ring measurements and ring peers: the place for benchmarks of the {@code ring} library against its peers, and for
 * the stand-alone front and back ends ({@link io.pvio.bench.ring.RingPeer}) that exercise one ring shared through a
 * file, driven by {@code pvio ring front-send} and {@code pvio ring back-echo}.
 */
package io.pvio.bench.ring;
