/**
 * Event channels: Xen's one-bit notifications between domains, 2-level ABI.
 * <p>
 * Each domain has an {@link io.pvio.hypervisor.event.EventChannels}: a table of 4096 ports (port 0 reserved) and the
 * event words of its {@code shared_info} ({@link io.pvio.hypervisor.event.SharedInfoDescriptor}): 64 pending words,
 * 64 mask words, and vCPU 0's selector word and upcall flag. A domain's code makes the hypercalls through
 * {@link io.pvio.hypervisor.event.EventChannelOps} ({@code allocUnbound}, {@code bindInterdomain}, {@code send},
 * {@code close}, {@code unmask}, {@code status}), registers a handler per port, and runs its
 * {@link io.pvio.hypervisor.event.DomainEventLoop} on a thread of its own. A send sets the remote port's pending bit
 * and, on a new event, wakes the remote loop's thread; the handler runs there, never on the sender's thread.
 *
 * <h2>Who writes what</h2>
 * <table>
 *   <caption>Writers of the shared words</caption>
 *   <tr><th>word</th><th>set by</th><th>cleared by</th></tr>
 *   <tr><td>{@code evtchn_pending[w]}</td><td>senders (any thread of any domain), bind</td>
 *       <td>the loop (test-and-clear before the handler), close</td></tr>
 *   <tr><td>{@code evtchn_mask[w]}</td><td>the guest ({@code mask})</td><td>{@code unmask}, allocation</td></tr>
 *   <tr><td>{@code evtchn_pending_sel}</td><td>the sender that made a port pending</td>
 *       <td>the loop (exchange with 0)</td></tr>
 *   <tr><td>{@code evtchn_upcall_pending}</td><td>the sender that marked the selector</td>
 *       <td>the loop (first thing in each round)</td></tr>
 * </table>
 * Every word is shared by many ports and several threads, so every change is an atomic read-modify-write
 * ({@code getAndBitwiseOr}, {@code getAndBitwiseAnd}, {@code getAndSet}), as Xen uses locked bit operations.
 *
 * <h2>Memory-ordering vocabulary</h2>
 * Every shared access names its ordering with a one-line reason:
 * <ul>
 *   <li><b>full fence</b> ({@code VarHandle.fullFence()}): once, on a send's path, before the pending read;</li>
 *   <li><b>volatile</b> ({@code getVolatile}, the atomic read-modify-writes, {@code setVolatile}): the store-then-load
 *       pairs (Dekker) that decide who delivers: send's set-pending-then-read-mask against unmask's
 *       clear-mask-then-read-pending; the sender's raise-upcall-then-read-parked-thread against the loop's
 *       publish-thread-then-read-upcall; close's null-the-handler-then-read-pass against the loop's
 *       mark-pass-then-read-handler. All are sequentially consistent, so at least one side of each pair sees the
 *       other;</li>
 *   <li><b>release/acquire</b>: publishing an immutable port binding and reading it on the send path;</li>
 *   <li><b>opaque</b>: live counters written by one thread and read by anyone.</li>
 * </ul>
 * A send's early exit, when the port is already pending, is a full fence and one volatile read, no write: the fence
 * orders the caller's earlier writes before the read, as Xen's hypercall does, so the handler that takes the pending
 * bit later sees them.
 *
 * <h2>What is not modelled</h2>
 * {@code bind_vcpu} (every port notifies vCPU 0), {@code bind_virq}, {@code bind_pirq}, {@code bind_ipi},
 * {@code reset}, the FIFO ABI, and {@code evtchn_upcall_mask}.
 */
package io.pvio.hypervisor.event;
