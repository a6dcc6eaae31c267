package io.pvio.hypervisor.event;

/**
 * Runs when a port of the domain has an event, on the thread of the domain's {@link DomainEventLoop}, never on the
 * sender's thread. Registered by the domain's own driver with {@link EventChannels#bindHandler(int, EventHandler)}.
 * <p>
 * An event is one bit: sends that arrive before the handler runs collapse into one call, and a call may find
 * nothing to do (binding sets the port pending, and a send racing a drain finds the work already done). A handler
 * therefore drains its ring until the ring's final check says there is nothing more, and never counts events.
 * <p>
 * <b>Late EOI.</b> A peer can send as fast as it likes (XSA-332, XSA-391). To keep a storm from starving the loop,
 * mask the port while processing, drain, then unmask, which re-delivers if a send came in meanwhile; the re-delivered
 * call then re-checks the ring:
 * <pre>{@code
 * public void onEvent(final int port)
 * {
 *     channels.mask(port);                        // sends from now on set pending but raise no upcall
 *     do
 *     {
 *         backRing.copyRequests(requestHandler, budget);
 *     }
 *     while (backRing.finalCheckForRequests());   // arms req_event, then re-checks behind a full fence
 *     ops.unmask(port);                           // EVTCHNOP_unmask: delivers again if pending, so nothing is lost
 * }
 * }</pre>
 * A handler that found nothing to do can leave the port masked for a while before unmasking, to rate-limit a peer
 * that keeps firing with nothing on the ring.
 * <p>
 * A handler may call any hypercall, including {@code close} of its own port. It should not block: it holds up every
 * other port of the domain. An exception it throws goes to the loop's error handler and the loop carries on.
 */
@FunctionalInterface
public interface EventHandler
{
    /**
     * An event arrived on {@code port}; its pending bit has been cleared, so a send from now on calls this again.
     *
     * @param port the local port.
     */
    void onEvent(int port);
}
