package io.pvio.hypervisor.xenstore;

import java.util.ArrayDeque;
import java.util.HashSet;

/**
 * A connection's bounded queue of undelivered watch events (XSA-349: a peer that stops draining must not make the
 * store grow without bound). Writers offer under the store's lock; the owner polls from its own thread.
 * <p>
 * An event equal to one already pending (same path and token) is coalesced into it: the watcher re-reads the store
 * when it handles the pending one, after the change that produced both. An event that finds the queue full is
 * dropped and counted; the counter tells the owner it must resynchronise by reading the store.
 */
final class XsWatchEventQueue
{
    private final int capacity;
    private final ArrayDeque<WatchEvent> events = new ArrayDeque<>();
    private final HashSet<WatchEvent> pending = new HashSet<>();
    private long dropped;
    private long coalesced;

    XsWatchEventQueue(final int capacity)
    {
        this.capacity = capacity;
    }

    /**
     * @return true if the queue was empty before, so the owner must be woken.
     */
    synchronized boolean offer(final WatchEvent event)
    {
        if (pending.contains(event))
        {
            coalesced++;
            return false;
        }
        if (events.size() >= capacity)
        {
            dropped++;
            return false;
        }
        events.addLast(event);
        pending.add(event);
        return events.size() == 1;
    }

    synchronized WatchEvent poll()
    {
        final WatchEvent event = events.pollFirst();
        if (null != event)
        {
            pending.remove(event);
        }
        return event;
    }

    synchronized int size()
    {
        return events.size();
    }

    synchronized long dropped()
    {
        return dropped;
    }

    synchronized long coalesced()
    {
        return coalesced;
    }

    synchronized void clear()
    {
        events.clear();
        pending.clear();
    }
}
