/**
 * Event channel measurements: notify-to-wake latency between two domains' event loops beside a plain
 * {@link java.util.concurrent.locks.LockSupport} ping-pong, and the cost of a send that coalesces into a pending port.
 */
package io.pvio.bench.event;
