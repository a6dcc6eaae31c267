package io.pvio.hypervisor.xenstore;

import java.util.concurrent.atomic.AtomicLong;

/**
 * One end of the xenbus handshake: watches the other end's {@code state} node, reads it back whenever the watch
 * fires, and writes this end's own {@code state}. Block and network front and back ends share it.
 * <p>
 * It follows the rules that implementations get wrong (Xen protocol notes 7.1 item 10):
 * <ul>
 *   <li>the watch event's payload is never trusted: every event, including the first firing, triggers a fresh read
 *       of the peer's node;</li>
 *   <li>states may be coalesced or skipped (the peer may pass through several before this end reads), so the
 *       listener is told only the state read now and the one it was told before; it must act on the current value
 *       and make each action, such as connecting, idempotent;</li>
 *   <li>spurious events (nothing changed) are swallowed;</li>
 *   <li>a missing or unreadable node reads as {@link XenbusState#UNKNOWN}, as does a value that is not exactly one
 *       digit 0 to 8 (counted in {@link #invalidPeerValues()}).</li>
 * </ul>
 * Use it from the end's own thread: pass the connection's events to {@link #onWatchEvent(String, String)} from
 * {@link XenStoreConnection#pollWatchEvents(WatchEventHandler, int)}; events with other tokens are ignored, so one
 * handler may offer each event to several watchers.
 */
public final class XenbusStateWatcher implements WatchEventHandler
{
    /**
     * Told when the peer's state, as read back from the store, differs from the last one read.
     */
    @FunctionalInterface
    public interface Listener
    {
        /**
         * The peer's state changed; intermediate states may have been skipped.
         *
         * @param previous the state last reported, {@link XenbusState#UNKNOWN} before the first read.
         * @param current  the state just read.
         */
        void onPeerStateChanged(XenbusState previous, XenbusState current);
    }

    /** Name of the state node under a device directory. */
    public static final String STATE_NODE = "state";

    /** Transactions tried by {@link #switchState(XenbusState)} before giving up on conflicts. */
    public static final int SWITCH_STATE_ATTEMPTS = 16;

    private static final AtomicLong TOKENS = new AtomicLong();

    private final XenStoreConnection connection;
    private final String ownStatePath;
    private final String peerStatePath;
    private final Listener listener;
    private final String token;
    private XenbusState peerState = XenbusState.UNKNOWN;
    private XenbusState state = XenbusState.UNKNOWN;
    private long invalidPeerValues;
    private boolean started;

    /**
     * Creates a watcher; nothing is watched until {@link #start()}.
     *
     * @param connection    this end's store connection.
     * @param ownDirectory  this end's device directory, for example {@code device/vbd/51712}.
     * @param peerDirectory the other end's device directory, read from this end's {@code backend} or
     *                      {@code frontend} node.
     * @param listener      told about the peer's state changes, on the thread that delivers events.
     * @throws XenStoreException with {@link XsError#EINVAL} if a directory is not a valid path.
     */
    public XenbusStateWatcher(
        final XenStoreConnection connection,
        final String ownDirectory,
        final String peerDirectory,
        final Listener listener)
    {
        this.connection = connection;
        this.ownStatePath = XenStorePath.resolve(connection.domainId(), ownDirectory + '/' + STATE_NODE);
        this.peerStatePath = XenStorePath.resolve(connection.domainId(), peerDirectory + '/' + STATE_NODE);
        this.listener = listener;
        this.token = "xenbus-state-" + TOKENS.incrementAndGet();
    }

    /**
     * Sets the watch on the peer's state node; its first firing leads to the first read.
     *
     * @throws XenStoreException if the watch cannot be set (quota, duplicate).
     * @throws IllegalStateException if already started.
     */
    public void start()
    {
        if (started)
        {
            throw new IllegalStateException("already watching: peerStatePath=" + peerStatePath);
        }
        connection.watch(peerStatePath, token);
        started = true;
    }

    /**
     * Removes the watch. Events already queued are ignored when offered. Does nothing on a closed connection, whose
     * watches are gone already.
     */
    public void stop()
    {
        if (started)
        {
            started = false;
            if (connection.isClosed())
            {
                return;
            }
            try
            {
                connection.unwatch(peerStatePath, token);
            }
            catch (final XenStoreException ignore)
            {
                // the watch is already gone (connection reset): nothing to remove
            }
        }
    }

    /**
     * Handles an event if it carries this watcher's token: reads the peer's state and tells the listener if it
     * changed. Events with other tokens, and events after {@link #stop()}, are ignored.
     *
     * @param path  the event's path; not trusted, not used.
     * @param token the event's token.
     */
    @Override
    public void onWatchEvent(final String path, final String token)
    {
        if (started && this.token.equals(token))
        {
            refresh();
        }
    }

    /**
     * Reads the peer's state now and tells the listener if it differs from the last one read.
     *
     * @return the state read.
     */
    public XenbusState refresh()
    {
        final XenbusState current = readPeerState();
        final XenbusState previous = peerState;
        if (current != previous)
        {
            peerState = current;
            listener.onPeerStateChanged(previous, current);
        }
        return current;
    }

    /**
     * Writes this end's state, as Linux's {@code xenbus_switch_state} does: in a transaction that first checks the
     * state node still exists, so a device directory removed by the toolstack is not recreated. Writing the state
     * this end already has does nothing.
     *
     * @param newState the state to enter.
     * @return true if the state was written, false if it was already current or the node no longer exists.
     * @throws XenStoreException if the write fails for another reason (permissions, persistent conflicts).
     */
    public boolean switchState(final XenbusState newState)
    {
        if (newState == state)
        {
            return false;
        }
        final boolean written = connection.transaction(SWITCH_STATE_ATTEMPTS, txId ->
        {
            try
            {
                connection.read(txId, ownStatePath);
            }
            catch (final XenStoreException ex)
            {
                if (XsError.ENOENT == ex.error())
                {
                    return Boolean.FALSE;
                }
                throw ex;
            }
            connection.write(txId, ownStatePath, newState.toBytes());
            return Boolean.TRUE;
        });
        if (written)
        {
            state = newState;
        }
        return written;
    }

    /**
     * The peer's state as last read.
     *
     * @return the state, {@link XenbusState#UNKNOWN} before the first read.
     */
    public XenbusState peerState()
    {
        return peerState;
    }

    /**
     * This end's state as last written by {@link #switchState(XenbusState)}.
     *
     * @return the state, {@link XenbusState#UNKNOWN} before the first switch.
     */
    public XenbusState state()
    {
        return state;
    }

    /**
     * The token of this watcher's watch.
     *
     * @return the token.
     */
    public String token()
    {
        return token;
    }

    /**
     * The absolute path of this end's state node.
     *
     * @return the path.
     */
    public String ownStatePath()
    {
        return ownStatePath;
    }

    /**
     * The absolute path of the peer's state node.
     *
     * @return the path.
     */
    public String peerStatePath()
    {
        return peerStatePath;
    }

    /**
     * Reads of the peer's state that were not exactly one digit 0 to 8.
     *
     * @return the count.
     */
    public long invalidPeerValues()
    {
        return invalidPeerValues;
    }

    private XenbusState readPeerState()
    {
        final byte[] value;
        try
        {
            value = connection.read(peerStatePath);
        }
        catch (final XenStoreException ex)
        {
            if (XsError.ENOENT == ex.error() || XsError.EACCES == ex.error())
            {
                return XenbusState.UNKNOWN;
            }
            throw ex;
        }
        final XenbusState parsed = XenbusState.tryParse(value);
        if (null == parsed)
        {
            invalidPeerValues++;
            return XenbusState.UNKNOWN;
        }
        return parsed;
    }
}
