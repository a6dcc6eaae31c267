package io.pvio.hypervisor.xenstore;

import java.util.Arrays;

import org.agrona.concurrent.Agent;
import org.agrona.concurrent.AtomicBuffer;

/**
 * The XenStore daemon: an {@link Agent} that serves every domain's XenStore ring on one thread. Each duty cycle
 * visits every attached ring, processes the requests that have arrived, and writes replies (matching req_id, in the
 * order the requests were processed) and watch events back. Domain 0 and other in-process users may bypass the
 * rings and use the {@link XenStore} directly.
 * <p>
 * Attach and detach may be called from any thread; {@link #doWork()} runs on the server's thread only. The
 * {@code wakeUp} given to the constructor is what the store calls when one of the served connections has a new
 * watch event; the event channels that carry the guests' notifications should run it too.
 */
public final class XenStoreServer implements Agent
{
    /** The role name reported to the agent runner. */
    public static final String ROLE_NAME = "xenstored";

    /** Messages (requests and watch events) handled per ring per duty cycle, so one guest cannot starve others. */
    public static final int MESSAGES_PER_RING_DEFAULT = 16;

    private static final XenStoreRingConnection[] NONE = new XenStoreRingConnection[0];

    private final XenStore store;
    private final Runnable wakeUp;
    private final XsRequestProcessor processor;
    private final int messagesPerRing;
    private volatile XenStoreRingConnection[] connections = NONE;

    /**
     * Creates a server that handles {@value #MESSAGES_PER_RING_DEFAULT} messages per ring per duty cycle.
     *
     * @param store  the store it serves.
     * @param wakeUp wakes the server's thread; runs on other threads and must not block.
     */
    public XenStoreServer(final XenStore store, final Runnable wakeUp)
    {
        this(store, wakeUp, MESSAGES_PER_RING_DEFAULT);
    }

    /**
     * Creates a server.
     *
     * @param store           the store it serves.
     * @param wakeUp          wakes the server's thread; runs on other threads and must not block.
     * @param messagesPerRing messages handled per ring per duty cycle, at least 1.
     * @throws IllegalArgumentException if {@code messagesPerRing} is less than 1.
     */
    public XenStoreServer(final XenStore store, final Runnable wakeUp, final int messagesPerRing)
    {
        if (messagesPerRing < 1)
        {
            throw new IllegalArgumentException("messagesPerRing must be at least 1: messagesPerRing=" +
                messagesPerRing);
        }
        this.store = store;
        this.wakeUp = wakeUp;
        this.processor = new XsRequestProcessor(store);
        this.messagesPerRing = messagesPerRing;
    }

    /**
     * Starts serving a domain's ring page. The guest's indexes are taken as they are (they need not be 0); the
     * server sets {@code server_features}, {@code connection} and {@code error}.
     *
     * @param domainId    the domain, as the toolstack knows it; requests act with its permissions.
     * @param page        the ring page, at least {@value XenStoreRingDescriptor#LENGTH} bytes, 8-byte aligned.
     * @param notifyGuest signals the guest (its store event channel) after the server moved bytes.
     * @return the ring connection.
     * @throws IllegalArgumentException if the domain id is out of range or the page too small.
     */
    public XenStoreRingConnection attach(final int domainId, final AtomicBuffer page, final Runnable notifyGuest)
    {
        final XenStoreConnection connection = store.connect(domainId, wakeUp);
        final XenStoreRingConnection ring;
        try
        {
            ring = new XenStoreRingConnection(domainId, page, notifyGuest, connection, processor);
        }
        catch (final RuntimeException ex)
        {
            connection.close();
            throw ex;
        }
        synchronized (this)
        {
            final XenStoreRingConnection[] current = connections;
            final XenStoreRingConnection[] updated = Arrays.copyOf(current, current.length + 1);
            updated[current.length] = ring;
            connections = updated;
        }
        wakeUp.run();
        return ring;
    }

    /**
     * Stops serving a ring and closes its store connection. Detaching twice does nothing.
     *
     * @param ring a ring attached to this server.
     */
    public void detach(final XenStoreRingConnection ring)
    {
        synchronized (this)
        {
            final XenStoreRingConnection[] current = connections;
            for (int i = 0; i < current.length; i++)
            {
                if (current[i] == ring)
                {
                    final XenStoreRingConnection[] updated = new XenStoreRingConnection[current.length - 1];
                    System.arraycopy(current, 0, updated, 0, i);
                    System.arraycopy(current, i + 1, updated, i, current.length - i - 1);
                    connections = updated;
                    break;
                }
            }
        }
        ring.connection().close();
    }

    /**
     * Rings currently attached, closed ones included until detached.
     *
     * @return the count.
     */
    public int ringCount()
    {
        return connections.length;
    }

    /**
     * The store this server serves.
     *
     * @return the store.
     */
    public XenStore store()
    {
        return store;
    }

    /**
     * One duty cycle over every attached ring.
     *
     * @return messages handled, 0 if there was nothing to do.
     */
    @Override
    public int doWork()
    {
        final XenStoreRingConnection[] connections = this.connections;
        final int messagesPerRing = this.messagesPerRing;
        int work = 0;
        for (final XenStoreRingConnection connection : connections)
        {
            work += connection.doWork(messagesPerRing);
        }
        return work;
    }

    /**
     * {@inheritDoc}
     */
    @Override
    public String roleName()
    {
        return ROLE_NAME;
    }

    /**
     * Closes every ring's store connection, dropping their watches and transactions.
     */
    @Override
    public void onClose()
    {
        for (final XenStoreRingConnection connection : connections)
        {
            connection.connection().close();
        }
    }
}
