package io.pvio.hypervisor.xenstore;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static io.pvio.hypervisor.xenstore.XenStoreTest.errorOf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class XenbusStateWatcherTest
{
    private static final String FRONT_DIR = "/local/domain/1/device/vbd/51712";
    private static final String BACK_DIR = "/local/domain/0/backend/vbd/1/51712";

    private final List<String> frontSaw = new ArrayList<>();
    private XenStore store;
    private XenStoreConnection dom0;
    private XenStoreConnection guest;

    @BeforeEach
    void setUp()
    {
        store = new XenStore();
        dom0 = store.connect(0);
        store.introduceDomain(1);
        guest = store.connect(1);
        createDevice(store.connect(0));
    }

    /**
     * What the toolstack does: both directories with state Initialising, each side readable by the other.
     */
    private static void createDevice(final XenStoreConnection toolstack)
    {
        toolstack.write(FRONT_DIR + "/state", "1");
        toolstack.write(FRONT_DIR + "/backend", BACK_DIR);
        toolstack.setPermissions(FRONT_DIR, XsPermissions.parse("n1", "r0"));
        toolstack.setPermissions(FRONT_DIR + "/state", XsPermissions.parse("n1", "r0"));
        toolstack.write(BACK_DIR + "/state", "1");
        toolstack.write(BACK_DIR + "/frontend", FRONT_DIR);
        toolstack.setPermissions(BACK_DIR, XsPermissions.parse("n0", "r1"));
        toolstack.setPermissions(BACK_DIR + "/state", XsPermissions.parse("n0", "r1"));
    }

    private XenbusStateWatcher front()
    {
        return new XenbusStateWatcher(guest, "device/vbd/51712", BACK_DIR,
            (previous, current) -> frontSaw.add(previous + "->" + current));
    }

    @Test
    void shouldReadPeerStateOnFirstFiring()
    {
        final XenbusStateWatcher front = front();
        assertEquals(XenbusState.UNKNOWN, front.peerState());
        front.start();
        assertEquals(1, guest.pollWatchEvents(front, 10));
        assertEquals(List.of("UNKNOWN->INITIALISING"), frontSaw);
        assertEquals(XenbusState.INITIALISING, front.peerState());
        assertEquals(FRONT_DIR + "/state", front.ownStatePath());
        assertEquals(BACK_DIR + "/state", front.peerStatePath());
    }

    @Test
    void shouldReportOnlyTheCurrentStateWhenTransitionsCoalesce()
    {
        final XenbusStateWatcher front = front();
        front.start();
        guest.pollWatchEvents(front, 10);
        dom0.write(BACK_DIR + "/state", "2");
        dom0.write(BACK_DIR + "/state", "4");
        guest.pollWatchEvents(front, 10);
        assertEquals(List.of("UNKNOWN->INITIALISING", "INITIALISING->CONNECTED"), frontSaw,
            "InitWait was never observed, and that is fine");
    }

    @Test
    void shouldReadBackInsteadOfTrustingEventsAndSwallowSpuriousOnes()
    {
        final XenbusStateWatcher front = front();
        front.start();
        guest.pollWatchEvents(front, 10);
        dom0.write(BACK_DIR + "/state", "1");
        front.onWatchEvent(BACK_DIR + "/state", front.token());
        front.onWatchEvent("/anything/at/all", front.token());
        guest.pollWatchEvents(front, 10);
        assertEquals(List.of("UNKNOWN->INITIALISING"), frontSaw);
    }

    @Test
    void shouldTreatMissingOrMalformedPeerStateAsUnknown()
    {
        final XenbusStateWatcher front = front();
        front.start();
        guest.pollWatchEvents(front, 10);
        dom0.write(BACK_DIR + "/state", "4\n");
        guest.pollWatchEvents(front, 10);
        assertEquals(XenbusState.UNKNOWN, front.peerState());
        assertEquals(1, front.invalidPeerValues());
        dom0.write(BACK_DIR + "/state", "6");
        guest.pollWatchEvents(front, 10);
        dom0.rm(BACK_DIR);
        guest.pollWatchEvents(front, 10);
        assertEquals(List.of("UNKNOWN->INITIALISING", "INITIALISING->UNKNOWN", "UNKNOWN->CLOSED", "CLOSED->UNKNOWN"),
            frontSaw);
    }

    @Test
    void shouldIgnoreOtherTokensAndEventsAfterStop()
    {
        final XenbusStateWatcher front = front();
        front.onWatchEvent(BACK_DIR + "/state", front.token());
        assertEquals(List.of(), frontSaw, "not started");
        front.start();
        assertThrows(IllegalStateException.class, front::start);
        front.onWatchEvent(BACK_DIR + "/state", "someone else");
        assertEquals(List.of(), frontSaw);
        front.stop();
        front.stop();
        guest.pollWatchEvents(front, 10);
        assertEquals(List.of(), frontSaw);
        assertEquals(0, store.watchCount(1));
    }

    @Test
    void shouldWriteOwnStateOnceAndNotRecreateRemovedDevice()
    {
        final XenbusStateWatcher front = front();
        assertTrue(front.switchState(XenbusState.INITIALISED));
        assertEquals("3", dom0.readString(FRONT_DIR + "/state"));
        assertEquals(XenbusState.INITIALISED, front.state());
        assertFalse(front.switchState(XenbusState.INITIALISED), "already there");

        dom0.rm(FRONT_DIR);
        assertFalse(front.switchState(XenbusState.CLOSED));
        assertEquals(XsError.ENOENT, errorOf(() -> dom0.read(FRONT_DIR)));
        assertEquals(XenbusState.INITIALISED, front.state());
    }

    @Test
    void shouldFailSwitchWhenStateNodeIsNotWritable()
    {
        final XenbusStateWatcher wrong = new XenbusStateWatcher(guest, BACK_DIR, FRONT_DIR, (p, c) -> {});
        assertEquals(XsError.EACCES, errorOf(() -> wrong.switchState(XenbusState.CONNECTED)));
    }

    @Test
    void shouldCompleteBlkifHandshakeBetweenFrontAndBackThreads() throws InterruptedException
    {
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final Endpoint back = new Endpoint("back", failure);
        final Endpoint front = new Endpoint("front", failure);
        back.connection = store.connect(0, back::wake);
        front.connection = store.connect(1, front::wake);

        back.watcher = new XenbusStateWatcher(back.connection, BACK_DIR, FRONT_DIR, (previous, current) ->
        {
            back.checkOwnThread();
            if ((current == XenbusState.INITIALISED || current == XenbusState.CONNECTED) &&
                back.watcher.state() != XenbusState.CONNECTED)
            {
                back.connection.readString(FRONT_DIR + "/ring-ref");
                back.connection.write(BACK_DIR + "/sectors", "2048");
                back.watcher.switchState(XenbusState.CONNECTED);
            }
        });
        front.watcher = new XenbusStateWatcher(front.connection, "device/vbd/51712", BACK_DIR, (previous, current) ->
        {
            front.checkOwnThread();
            if (current == XenbusState.INIT_WAIT && front.watcher.state() == XenbusState.UNKNOWN)
            {
                front.connection.transaction(8, tx ->
                {
                    front.connection.write(tx, "device/vbd/51712/ring-ref", "8");
                    front.connection.write(tx, "device/vbd/51712/event-channel", "5");
                    return null;
                });
                front.watcher.switchState(XenbusState.INITIALISED);
            }
            else if (current == XenbusState.CONNECTED && front.watcher.state() != XenbusState.CONNECTED)
            {
                front.connection.readString(BACK_DIR + "/sectors");
                front.watcher.switchState(XenbusState.CONNECTED);
            }
        });

        back.start(() -> back.watcher.switchState(XenbusState.INIT_WAIT));
        front.start(() -> { });
        back.thread.join(TimeUnit.SECONDS.toMillis(10));
        front.thread.join(TimeUnit.SECONDS.toMillis(10));

        assertNull(failure.get());
        assertEquals(XenbusState.CONNECTED, front.watcher.state());
        assertEquals(XenbusState.CONNECTED, back.watcher.state());
        assertEquals("4", dom0.readString(FRONT_DIR + "/state"));
        assertEquals("4", dom0.readString(BACK_DIR + "/state"));
    }

    /**
     * One end of the handshake: a thread that owns a connection, parks until its wake-up runs, and polls.
     */
    private static final class Endpoint
    {
        private final String name;
        private final AtomicReference<Throwable> failure;
        private volatile Thread thread;
        XenStoreConnection connection;
        XenbusStateWatcher watcher;

        Endpoint(final String name, final AtomicReference<Throwable> failure)
        {
            this.name = name;
            this.failure = failure;
        }

        void wake()
        {
            final Thread thread = this.thread;
            if (null != thread)
            {
                LockSupport.unpark(thread);
            }
        }

        void checkOwnThread()
        {
            if (Thread.currentThread() != thread)
            {
                throw new IllegalStateException(name + " listener ran on " + Thread.currentThread().getName());
            }
        }

        void start(final Runnable first)
        {
            thread = new Thread(() ->
            {
                try
                {
                    watcher.start();
                    first.run();
                    final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                    while (!(watcher.state() == XenbusState.CONNECTED && watcher.peerState() == XenbusState.CONNECTED))
                    {
                        if (0 == connection.pollWatchEvents(watcher, 16))
                        {
                            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
                        }
                        if (System.nanoTime() - deadlineNs > 0)
                        {
                            throw new AssertionError(name + " stuck: state=" + watcher.state() + ", peer=" +
                                watcher.peerState());
                        }
                    }
                }
                catch (final Throwable t)
                {
                    failure.compareAndSet(null, t);
                }
            }, "xenbus-" + name);
            thread.start();
        }
    }
}
