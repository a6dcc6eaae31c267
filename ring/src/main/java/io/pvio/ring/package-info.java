/**
 * Xen-compatible asynchronous request/response rings over any Agrona {@link org.agrona.concurrent.AtomicBuffer}.
 * <p>
 * The bytes in the buffer are exactly those of Xen's {@code io/ring.h}: a 64-byte header holding the four shared
 * indexes, then a power-of-two array of entries, each the size of the C union of request and response. A C peer
 * compiled against the real header, a second process mapping the same file, or another thread can sit on the
 * other side. See {@link io.pvio.ring.SharedRingDescriptor} for the layout.
 *
 * <h2>Who writes what</h2>
 * <table>
 *   <caption>Index ownership</caption>
 *   <tr><th>index</th><th>where</th><th>written by</th></tr>
 *   <tr><td>{@code req_prod}</td><td>shared</td><td>front ({@link io.pvio.ring.FrontRing#pushRequests()})</td></tr>
 *   <tr><td>{@code req_event}</td><td>shared</td>
 *       <td>back ({@link io.pvio.ring.BackRing#finalCheckForRequests()})</td></tr>
 *   <tr><td>{@code rsp_prod}</td><td>shared</td><td>back ({@link io.pvio.ring.BackRing#pushResponses()})</td></tr>
 *   <tr><td>{@code rsp_event}</td><td>shared</td>
 *       <td>front ({@link io.pvio.ring.FrontRing#finalCheckForResponses()})</td></tr>
 *   <tr><td>{@code req_prod_pvt}, {@code rsp_cons}</td><td>front object</td><td>front thread only</td></tr>
 *   <tr><td>{@code rsp_prod_pvt}, {@code req_cons}</td><td>back object</td><td>back thread only</td></tr>
 * </table>
 * Indexes are free-running unsigned 32-bit counters held in Java {@code int}s: they are only ever subtracted and
 * the differences compared with {@link java.lang.Integer#compareUnsigned(int, int)}; a slot is {@code index & mask}.
 *
 * <h2>Memory-ordering vocabulary</h2>
 * Every shared access names its ordering, and the call carries a one-line comment saying what it orders:
 * <ul>
 *   <li><b>plain</b>: entry bytes, written by the producer before publication and read by the consumer after it;</li>
 *   <li><b>release</b> ({@code putIntRelease}): publishing a producer index, Xen's {@code wmb()} then store;</li>
 *   <li><b>acquire</b> ({@code getIntAcquire}): reading a producer index before reading entries, Xen's load then
 *       {@code rmb()};</li>
 *   <li><b>volatile</b> ({@code putIntVolatile}/{@code getIntVolatile}): the two places Xen needs {@code mb()}, the
 *       store-then-load of push-and-check-notify and of the final check. Both sides use volatile accesses there, so
 *       the synchronization order guarantees that at least one side sees the other's store: either the producer
 *       sees the new event index and notifies, or the consumer sees the new producer index and does not sleep.</li>
 * </ul>
 *
 * <h2>Conventions</h2>
 * The rings are single-threaded per end: one thread drives a {@link io.pvio.ring.FrontRing}, one drives the
 * {@link io.pvio.ring.BackRing}, exactly as Xen's macros assume ("no interlocks or flow control"). Methods copy fields
 * into {@code final} locals named like the field. Hot per-end fields sit between padding so the two ends never share
 * a cache line through their private indexes. Nothing on the steady-state path allocates.
 * <p>
 * A hostile peer cannot make either end read outside the ring: the peer's producer index is read once, checked
 * against the private indexes, and a ring whose peer broke the protocol stays {@linkplain RingEnd#isBroken() broken}
 * and throws {@link io.pvio.ring.RingProtocolException} on every later consume.
 * <p>
 * Agrona 2.x must be able to reach {@code jdk.internal.misc}: every JVM that loads this module needs
 * {@code --add-exports java.base/jdk.internal.misc=ALL-UNNAMED}.
 */
package io.pvio.ring;
