package io.pvio.hypervisor;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.pvio.hypervisor.event.EventChannelOps;
import io.pvio.hypervisor.grant.GrantEntryDescriptor;
import io.pvio.hypervisor.grant.GrantTableOps;
import io.pvio.hypervisor.xenstore.XenStore;
import io.pvio.hypervisor.xenstore.XenStoreRingClient;
import io.pvio.hypervisor.xenstore.XenStoreServer;
import io.pvio.hypervisor.xenstore.XsMessage;
import io.pvio.hypervisor.xenstore.XsMessageType;
import io.pvio.machine.memory.MachineMemory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The pieces of the hypervisor core working together as Xen wires a guest to its XenStore: the guest's store page is
 * a frame of its own memory, granted to dom0 through the reserved XenStore grant reference; dom0 maps it, and the
 * XenStore server in dom0 serves the xs_wire ring on it; each side signals the other through one interdomain event
 * channel, and every handler runs on the receiving domain's event-loop thread.
 */
class XenStoreOverSharedPageTest
{
    private static final long STORE_GFN = 3;

    private final Hypervisor hypervisor = new Hypervisor(new MachineMemory(512 * 4096), 128, 1);
    private final List<Thread> loops = new ArrayList<>();

    @AfterEach
    void close() throws InterruptedException
    {
        for (final Domain domain : hypervisor.domains())
        {
            domain.eventChannels().eventLoop().stop();
        }
        for (final Thread loop : loops)
        {
            loop.join(5_000);
        }
        hypervisor.close();
    }

    @Test
    void shouldServeGuestRequestsOverGrantedPageAndEventChannel() throws InterruptedException
    {
        final Domain dom0 = hypervisor.dom0();
        final Domain guest = dom0.hypercalls().createDomain("guest", 16, 1);
        final XenStore store = new XenStore();
        store.introduceDomain(guest.id());

        // guest side: the page, its grant to dom0 and an unbound port for dom0
        final GrantTableOps guestGrants = guest.hypercalls().grantTableOp();
        final EventChannelOps guestEvents = guest.hypercalls().eventChannelOp();
        assertEquals(0, guestGrants.setupTable(1));
        final UnsafeBuffer guestPage = guest.guestFrame(STORE_GFN);
        XenStoreRingClient.initialise(guestPage, 0);
        guest.grantTable().grantReservedAccess(GrantEntryDescriptor.RESERVED_XENSTORE, dom0.id(), STORE_GFN, false);
        final int guestPort = guestEvents.allocUnbound(dom0.id());

        // dom0 side: map the page, bind the port, serve the ring from dom0's event loop
        final GrantTableOps dom0Grants = dom0.hypercalls().grantTableOp();
        final EventChannelOps dom0Events = dom0.hypercalls().eventChannelOp();
        final UnsafeBuffer mapped = new UnsafeBuffer(0, 0);
        final int handle = dom0Grants.map(guest.id(), GrantEntryDescriptor.RESERVED_XENSTORE, false, mapped);
        assertTrue(handle >= 0, "map status " + handle);
        assertEquals(guestPage.addressOffset(), mapped.addressOffset(), "dom0 sees the guest's own frame");
        final int dom0Port = dom0Events.bindInterdomain(guest.id(), guestPort);
        final XenStoreServer server = new XenStoreServer(store, () -> { });
        final List<Thread> serverThreads = new CopyOnWriteArrayList<>();
        server.attach(guest.id(), mapped, () -> dom0Events.send(dom0Port));
        dom0.eventChannels().bindHandler(dom0Port, (port) ->
        {
            serverThreads.add(Thread.currentThread());
            while (server.doWork() > 0)
            {
                Thread.onSpinWait();
            }
        });

        final Semaphore guestWoken = new Semaphore(0);
        final List<Thread> guestHandlerThreads = new CopyOnWriteArrayList<>();
        guest.eventChannels().bindHandler(guestPort, (port) ->
        {
            guestHandlerThreads.add(Thread.currentThread());
            guestWoken.release();
        });
        start(dom0);
        start(guest);

        final XenStoreRingClient client = new XenStoreRingClient(guestPage, () -> guestEvents.send(guestPort));
        final int writeId = client.send(XsMessageType.WRITE, 0,
            bytes("device/vbd/51712/state\0" + "1"));
        final XsMessage written = await(client, guestWoken);
        assertEquals(writeId, written.reqId());
        assertEquals(XsMessageType.WRITE, written.messageType(), written.toString());

        final int readId = client.send(XsMessageType.READ, 0, bytes("device/vbd/51712/state\0"));
        final XsMessage read = await(client, guestWoken);
        assertEquals(readId, read.reqId());
        assertEquals("1", read.payloadString());

        client.send(XsMessageType.READ, 0, bytes("/local/domain/0/secret\0"));
        final XsMessage denied = await(client, guestWoken);
        assertEquals(XsMessageType.ERROR, denied.messageType(), "a guest cannot read dom0's nodes: " + denied);

        assertEquals("1", store.connect(0).readString("/local/domain/" + guest.id() + "/device/vbd/51712/state"));
        assertTrue(serverThreads.stream().allMatch((t) -> t == loops.get(0)), "served on dom0's loop thread");
        assertTrue(guestHandlerThreads.stream().allMatch((t) -> t == loops.get(1)), "woken on the guest's thread");
        assertTrue(guest.counters().get(HypercallKind.EVTCHN_SEND) >= 3);
        assertTrue(dom0.counters().get(HypercallKind.EVTCHN_SEND) >= 3);

        // teardown: the guest dies while dom0 still maps its store page; the frame is held until dom0 unmaps
        final int freeBefore = hypervisor.memory().freeFrames();
        final int guestFrames = hypervisor.memory().framesOwnedBy(guest.id());
        final long storeMfn = guest.mfnOf(STORE_GFN);
        dom0.hypercalls().destroyDomain(guest.id());
        assertEquals(MachineMemory.FREE_WHEN_RELEASED, hypervisor.memory().owner(storeMfn));
        assertEquals(freeBefore + guestFrames - 1, hypervisor.memory().freeFrames(), "all but the mapped page");
        assertEquals(0, dom0Grants.unmap(handle));
        assertEquals(MachineMemory.NO_OWNER, hypervisor.memory().owner(storeMfn));
        assertEquals(freeBefore + guestFrames, hypervisor.memory().freeFrames());
        assertEquals(0, hypervisor.memory().framesOwnedBy(guest.id()), "every guest frame went back");
    }

    private void start(final Domain domain)
    {
        final Thread loop = new Thread(domain.eventChannels().eventLoop(), "evtchn-d" + domain.id());
        loop.setDaemon(true);
        loops.add(loop);
        loop.start();
    }

    private static XsMessage await(final XenStoreRingClient client, final Semaphore woken)
        throws InterruptedException
    {
        final XsMessage[] reply = new XsMessage[1];
        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (null == reply[0])
        {
            client.poll((message) -> reply[0] = message, 1);
            if (null == reply[0])
            {
                assertTrue(System.nanoTime() < deadlineNs, "no reply within 10 s");
                woken.tryAcquire(100, TimeUnit.MILLISECONDS);
            }
        }
        return reply[0];
    }

    private static byte[] bytes(final String text)
    {
        return text.getBytes(StandardCharsets.US_ASCII);
    }
}
