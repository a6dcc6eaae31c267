package io.pvio.backend;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import io.pvio.hypervisor.Domain;
import io.pvio.hypervisor.xenstore.XenStore;
import io.pvio.hypervisor.xenstore.XenStoreConnection;
import io.pvio.hypervisor.xenstore.XenStoreException;
import io.pvio.hypervisor.xenstore.XenbusStateWatcher;
import io.pvio.hypervisor.xenstore.XenbusState;
import io.pvio.hypervisor.xenstore.XenbusValues;
import io.pvio.hypervisor.xenstore.XsError;

/**
 * What every split-driver back end in the driver domain shares: a xenbus thread of its own, with its own XenStore
 * connection, that reads the front end's directory, publishes the device's features and goes {@code InitWait}, then
 * follows the front end's state: connect when it is ready ({@link #connectsOn}), disconnect and go {@code Closing} or
 * {@code Closed} with it, publish again and go {@code InitWait} when it starts over. A protocol violation found by a
 * queue's agent is handed to this thread ({@link #reportViolation}), which cuts the front end off ({@code Closing},
 * {@link #disconnectReason()}); {@link #close()} is the driver domain removing the device: disconnect, {@code Closing},
 * {@code Closed}. The device-specific parts are the hooks: {@link #publishFeatures()}, {@link #connect()},
 * {@link #disconnect()}, {@link #serving()} and {@link #countViolation()}.
 */
public abstract class XenbusBackend implements AutoCloseable
{
    private static final long PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
    private static final int WATCH_EVENTS_PER_POLL = 64;
    private static final long CLOSE_WAIT_SECONDS = 30;
    private static final String FRONTEND = "frontend";
    private static final String FRONTEND_ID = "frontend-id";

    /** The driver domain. */
    protected final Domain driverDomain;
    /** The xenbus thread's store connection. */
    protected final XenStoreConnection xs;
    /** The back end's directory. */
    protected final String backendPath;
    private final Thread thread;
    private volatile XenbusState state = XenbusState.INITIALISING;
    private volatile String disconnectReason;
    private volatile String pendingViolation;
    private volatile boolean closeRequested;
    private String frontendPath;
    private int frontendId;
    private XenbusStateWatcher watcher;

    /**
     * A back end on a directory the toolstack created; {@link #startThread()} starts its handshake.
     *
     * @param driverDomain the driver domain.
     * @param xenStore     the store.
     * @param backendPath  the back end's directory.
     * @param threadName   the xenbus thread's name.
     */
    protected XenbusBackend(
        final Domain driverDomain, final XenStore xenStore, final String backendPath, final String threadName)
    {
        this.driverDomain = driverDomain;
        this.backendPath = backendPath;
        this.thread = new Thread(this::run, threadName);
        this.thread.setDaemon(true);
        this.xs = xenStore.connect(driverDomain.id(), () -> LockSupport.unpark(thread));
    }

    /** Starts the xenbus thread; called once the subclass is fully built. */
    protected final void startThread()
    {
        thread.start();
    }

    /**
     * This end's xenbus state.
     *
     * @return the state last written.
     */
    public final XenbusState state()
    {
        return state;
    }

    /**
     * Waits until the device is connected.
     *
     * @param timeout how long to wait.
     * @param unit    its unit.
     * @return true if connected.
     * @throws InterruptedException if interrupted.
     */
    public final boolean awaitConnected(final long timeout, final TimeUnit unit) throws InterruptedException
    {
        return awaitState(XenbusState.CONNECTED, timeout, unit);
    }

    /**
     * Waits until this end has written {@code wanted}.
     *
     * @param wanted  the state.
     * @param timeout how long to wait.
     * @param unit    its unit.
     * @return true if reached.
     * @throws InterruptedException if interrupted.
     */
    public final boolean awaitState(final XenbusState wanted, final long timeout, final TimeUnit unit)
        throws InterruptedException
    {
        final long deadline = System.nanoTime() + unit.toNanos(timeout);
        while (wanted != state)
        {
            if (System.nanoTime() - deadline > 0)
            {
                return false;
            }
            Thread.sleep(1);
        }
        return true;
    }

    /**
     * Why the front end was refused or cut off.
     *
     * @return the reason, or null if it never was.
     */
    public final String disconnectReason()
    {
        return disconnectReason;
    }

    /**
     * Stops serving, as a driver domain removing the device does: disconnect, {@code Closing}, {@code Closed}. The
     * store's directories stay. Idempotent; waits for the xenbus thread.
     */
    @Override
    public final void close()
    {
        closeRequested = true;
        LockSupport.unpark(thread);
        if (Thread.currentThread() != thread)
        {
            try
            {
                thread.join(TimeUnit.SECONDS.toMillis(CLOSE_WAIT_SECONDS));
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Hands a queue's protocol violation to the xenbus thread, which cuts the front end off. Any thread.
     *
     * @param reason what the front end did.
     */
    protected final void reportViolation(final String reason)
    {
        pendingViolation = reason;
        LockSupport.unpark(thread);
    }

    /**
     * The front end's directory, read when the thread starts.
     *
     * @return the path.
     */
    protected final String frontendPath()
    {
        return frontendPath;
    }

    /**
     * The front end's domain id, read when the thread starts.
     *
     * @return the domid.
     */
    protected final int frontendId()
    {
        return frontendId;
    }

    /** Publishes the device's features, before {@code InitWait}; on the xenbus thread. */
    protected abstract void publishFeatures();

    /**
     * Whether a front end in {@code frontState} is ready to be connected to.
     *
     * @param frontState the front end's state.
     * @return true to connect.
     */
    protected abstract boolean connectsOn(XenbusState frontState);

    /**
     * Reads the front end's keys, checks them, maps and binds everything and goes {@code Connected}, or refuses
     * ({@link #refuseBeforeConnect}); on the xenbus thread.
     */
    protected abstract void connect();

    /** Stops serving and lets go of every mapping, port and page; idempotent; on the xenbus thread. */
    protected abstract void disconnect();

    /**
     * Whether a connection is being served.
     *
     * @return true while connected.
     */
    protected abstract boolean serving();

    /** Counts one protocol violation in the device's counters. */
    protected abstract void countViolation();

    /**
     * Refuses a front end whose keys or rings are bad, before anything is served: the reason is kept, the violation
     * counted, and this end goes {@code Closing}.
     *
     * @param reason what was wrong.
     */
    protected final void refuseBeforeConnect(final String reason)
    {
        disconnectReason = "front end " + frontendId + " refused: " + reason;
        countViolation();
        switchState(XenbusState.CLOSING);
    }

    /**
     * Writes this end's state (a directory already gone with its domain is no error) and remembers it.
     *
     * @param newState the state.
     */
    protected final void switchState(final XenbusState newState)
    {
        try
        {
            watcher.switchState(newState);
        }
        catch (final XenStoreException ex)
        {
            if (XsError.ENOENT != ex.error())
            {
                throw ex;
            }
        }
        state = newState;
    }

    /**
     * Writes a node of the back end's directory in a transaction.
     *
     * @param tx    the transaction.
     * @param node  the node, relative to the directory.
     * @param value its value.
     */
    protected final void write(final int tx, final String node, final String value)
    {
        xs.write(tx, backendPath + '/' + node, value);
    }

    /**
     * Reads a node that may be absent.
     *
     * @param path the node's path.
     * @return its value, or null if it does not exist.
     */
    protected final String readOptional(final String path)
    {
        try
        {
            return xs.readString(path);
        }
        catch (final XenStoreException ex)
        {
            if (XsError.ENOENT == ex.error())
            {
                return null;
            }
            throw ex;
        }
    }

    /**
     * Reads an optional decimal node, checked against its range.
     *
     * @param path   the node's path.
     * @param name   its name in an error.
     * @param min    the least value accepted.
     * @param max    the greatest value accepted.
     * @param absent the value when the node does not exist.
     * @return the value.
     * @throws IllegalArgumentException if it is not a decimal in range.
     */
    protected final int optionalInt(
        final String path, final String name, final int min, final int max, final int absent)
    {
        final String value = readOptional(path);
        return null == value ? absent : XenbusValues.parseInt(value, name, min, max);
    }

    /**
     * Closes one of the driver domain's event-channel ports; one already closed with its peer's domain is no error.
     *
     * @param port the port.
     */
    protected final void closePort(final int port)
    {
        try
        {
            driverDomain.hypercalls().eventChannelOp().close(port);
        }
        catch (final RuntimeException ignore)
        {
            // already closed with its peer's domain
        }
    }

    private void run()
    {
        try
        {
            frontendPath = xs.readString(backendPath + '/' + FRONTEND);
            frontendId = XenbusValues.parseInt(xs.readString(backendPath + '/' + FRONTEND_ID), FRONTEND_ID, 0,
                XenStore.MAX_DOMAIN_ID);
            watcher = new XenbusStateWatcher(xs, backendPath, frontendPath, this::onFrontendState);
            publishFeatures();
            switchState(XenbusState.INIT_WAIT);
            watcher.start();
            while (!closeRequested)
            {
                final String violation = pendingViolation;
                if (null != violation)
                {
                    pendingViolation = null;
                    if (serving())
                    {
                        disconnectReason = "front end " + frontendId + " cut off: " + violation;
                        disconnect();
                        switchState(XenbusState.CLOSING);
                    }
                }
                if (0 == xs.pollWatchEvents(watcher, WATCH_EVENTS_PER_POLL) && !closeRequested &&
                    null == pendingViolation)
                {
                    LockSupport.parkNanos(this, PARK_NANOS);
                }
            }
            disconnect();
            switchState(XenbusState.CLOSING);
            switchState(XenbusState.CLOSED);
        }
        catch (final RuntimeException ex)
        {
            disconnectReason = "xenbus thread failed: " + ex;
            disconnect();
        }
        finally
        {
            if (null != watcher)
            {
                watcher.stop();
            }
            xs.close();
        }
    }

    private void onFrontendState(final XenbusState previous, final XenbusState current)
    {
        switch (current)
        {
            case CLOSING:
                disconnect();
                switchState(XenbusState.CLOSING);
                break;
            case CLOSED:
            case UNKNOWN:
                disconnect();
                switchState(XenbusState.CLOSED);
                break;
            case INITIALISING:
                if (XenbusState.CLOSED == state || XenbusState.CLOSING == state)
                {
                    publishFeatures();
                    switchState(XenbusState.INIT_WAIT);
                }
                break;
            default:
                if (connectsOn(current) && !serving() && XenbusState.INIT_WAIT == state)
                {
                    connect();
                }
                break;
        }
    }
}
