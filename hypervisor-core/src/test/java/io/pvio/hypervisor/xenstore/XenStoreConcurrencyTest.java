package io.pvio.hypervisor.xenstore;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Several domains, each on its own thread, write their own nodes, increment a shared counter in transactions and
 * watch both, all at once. Afterwards the tree must be consistent (running quota counts equal a recount, no lost
 * increment, every key holds its last value), every watch event must have been handled on its owner's thread, and
 * each domain must have seen an event for every node it wrote.
 */
class XenStoreConcurrencyTest
{
    private static final int DOMAINS = 6;
    private static final int ITERATIONS = 400;
    private static final int KEYS = 10;

    @Test
    void shouldStayConsistentAndDeliverEveryEventOnOwnersThread() throws Exception
    {
        final XenStore store = new XenStore(XenStoreLimits.DEFAULT.withMaxPendingWatchEvents(100_000));
        final XenStoreConnection dom0 = store.connect(0);
        dom0.write("/shared/counter", "0");
        dom0.setPermissions("/shared", XsPermissions.parse("b0"));
        dom0.setPermissions("/shared/counter", XsPermissions.parse("b0"));
        for (int domain = 1; domain <= DOMAINS; domain++)
        {
            store.introduceDomain(domain);
        }

        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final CyclicBarrier startLine = new CyclicBarrier(DOMAINS);
        final Guest[] guests = new Guest[DOMAINS];
        for (int i = 0; i < DOMAINS; i++)
        {
            guests[i] = new Guest(store, i + 1, startLine, failure);
        }
        for (final Guest guest : guests)
        {
            guest.thread.start();
        }
        for (final Guest guest : guests)
        {
            guest.thread.join(TimeUnit.SECONDS.toMillis(30));
        }

        assertNull(failure.get(), () -> "a guest failed: " + failure.get());
        assertEquals(Integer.toString(DOMAINS * ITERATIONS), dom0.readString("/shared/counter"), "no lost update");
        assertEquals(store.recountOwnedNodes(), store.ownedNodeCounts());
        for (final Guest guest : guests)
        {
            assertEquals(0, guest.connection.droppedWatchEvents());
            for (final Map.Entry<String, String> expected : guest.lastWritten.entrySet())
            {
                if (null == expected.getValue())
                {
                    assertEquals(XsError.ENOENT, XenStoreTest.errorOf(() -> dom0.read(expected.getKey())));
                }
                else
                {
                    assertEquals(expected.getValue(), dom0.readString(expected.getKey()));
                }
            }
            assertTrue(guest.seenPaths.containsAll(guest.lastWritten.keySet()),
                "domain " + guest.domainId + " missed events for " + missing(guest));
            assertTrue(guest.counterEvents > 0);
        }
    }

    private static Set<String> missing(final Guest guest)
    {
        final Set<String> missing = new HashSet<>(guest.lastWritten.keySet());
        missing.removeAll(guest.seenPaths);
        return missing;
    }

    private static final class Guest implements Runnable, WatchEventHandler
    {
        final int domainId;
        final Thread thread;
        final XenStoreConnection connection;
        final Map<String, String> lastWritten = new HashMap<>();
        final Set<String> seenPaths = new HashSet<>();
        private final CyclicBarrier startLine;
        private final AtomicReference<Throwable> failure;
        int counterEvents;

        Guest(final XenStore store, final int domainId, final CyclicBarrier startLine,
            final AtomicReference<Throwable> failure)
        {
            this.domainId = domainId;
            this.startLine = startLine;
            this.failure = failure;
            this.thread = new Thread(this, "guest-" + domainId);
            this.connection = store.connect(domainId, () -> LockSupport.unpark(thread));
        }

        @Override
        public void run()
        {
            try
            {
                connection.watch("data", "own");
                connection.watch("/shared/counter", "counter");
                startLine.await(10, TimeUnit.SECONDS);
                final String home = connection.domainPath() + "/data/";
                for (int i = 0; i < ITERATIONS; i++)
                {
                    final String key = home + "k" + (i % KEYS);
                    if (i % 7 == 6)
                    {
                        connection.rm(key);
                        lastWritten.put(key, null);
                    }
                    else
                    {
                        connection.write(key, Integer.toString(i));
                        lastWritten.put(key, Integer.toString(i));
                    }
                    connection.transaction(1000, tx ->
                    {
                        final int value = Integer.parseInt(connection.readString(tx, "/shared/counter"));
                        connection.write(tx, "/shared/counter", Integer.toString(value + 1));
                        return null;
                    });
                    connection.pollWatchEvents(this, 64);
                }
                final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (!seenPaths.containsAll(lastWritten.keySet()) && System.nanoTime() - deadlineNs < 0)
                {
                    if (0 == connection.pollWatchEvents(this, 64))
                    {
                        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
                    }
                }
            }
            catch (final Throwable t)
            {
                failure.compareAndSet(null, t);
            }
        }

        @Override
        public void onWatchEvent(final String path, final String token)
        {
            if (Thread.currentThread() != thread)
            {
                throw new IllegalStateException("event for domain " + domainId + " handled on " +
                    Thread.currentThread().getName());
            }
            if ("own".equals(token))
            {
                seenPaths.add(path.startsWith("/") ? path : connection.domainPath() + "/" + path);
            }
            else if ("counter".equals(token))
            {
                counterEvents++;
            }
            else
            {
                throw new IllegalStateException("unexpected token " + token + " for domain " + domainId);
            }
        }
    }
}
