package io.pvio.hypervisor.xenstore;

/**
 * Receives messages a {@link XenStoreRingClient} reads from its response stream: replies and watch events.
 */
@FunctionalInterface
public interface XsMessageHandler
{
    /**
     * One complete message arrived.
     *
     * @param message the message; a private copy the handler may keep.
     */
    void onMessage(XsMessage message);
}
