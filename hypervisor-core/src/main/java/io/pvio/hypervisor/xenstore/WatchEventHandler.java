package io.pvio.hypervisor.xenstore;

/**
 * Receives watch events, on the thread that {@linkplain XenStoreConnection#pollWatchEvents(WatchEventHandler, int)
 * polls} the connection: the watcher's own thread, never the thread that made the change.
 */
@FunctionalInterface
public interface WatchEventHandler
{
    /**
     * One watch fired. Re-read the store to learn the current state; do not trust the event to describe it.
     *
     * @param path  the path the event is about.
     * @param token the token of the watch that fired.
     */
    void onWatchEvent(String path, String token);
}
