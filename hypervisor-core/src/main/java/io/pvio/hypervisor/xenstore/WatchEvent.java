package io.pvio.hypervisor.xenstore;

/**
 * One firing of a watch: the path that changed (or, for the first firing and for the removal of an ancestor, the
 * watch's own path) and the token given when the watch was set. An event says only that something at or below the
 * watched path may have changed; the watcher must read the store to learn what, and must expect spurious and
 * coalesced events.
 */
public final class WatchEvent
{
    private final String path;
    private final String token;

    /**
     * Creates an event.
     *
     * @param path  the changed path, relative if the watch was set with a relative path.
     * @param token the watch's token.
     */
    public WatchEvent(final String path, final String token)
    {
        this.path = path;
        this.token = token;
    }

    /**
     * The path the event is about.
     *
     * @return the path, relative to the domain path if the watch was set with a relative path.
     */
    public String path()
    {
        return path;
    }

    /**
     * The token the watch was set with.
     *
     * @return the token.
     */
    public String token()
    {
        return token;
    }

    /**
     * {@inheritDoc}
     */
    @Override
    public boolean equals(final Object other)
    {
        if (this == other)
        {
            return true;
        }
        if (!(other instanceof WatchEvent))
        {
            return false;
        }
        final WatchEvent that = (WatchEvent)other;
        return path.equals(that.path) && token.equals(that.token);
    }

    /**
     * {@inheritDoc}
     */
    @Override
    public int hashCode()
    {
        return 31 * path.hashCode() + token.hashCode();
    }

    /**
     * {@inheritDoc}
     */
    @Override
    public String toString()
    {
        return "WatchEvent{path=" + XenStorePath.quote(path) + ", token=" + XenStorePath.quote(token) + "}";
    }
}
