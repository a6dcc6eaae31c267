package io.pvio.hypervisor.xenstore;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static io.pvio.hypervisor.xenstore.XenStoreRingDescriptor.ERROR_OFFSET;
import static io.pvio.hypervisor.xenstore.XenStoreRingDescriptor.REQ_CONS_OFFSET;
import static io.pvio.hypervisor.xenstore.XenStoreRingDescriptor.REQ_PROD_OFFSET;
import static io.pvio.hypervisor.xenstore.XenStoreRingDescriptor.RSP_CONS_OFFSET;
import static io.pvio.hypervisor.xenstore.XenStoreRingDescriptor.RSP_PROD_OFFSET;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A guest talks to the server through a ring page, both stepped by hand on the test thread.
 */
class XenStoreServerTest
{
    private final AtomicInteger serverWakeUps = new AtomicInteger();
    private final AtomicInteger guestNotifications = new AtomicInteger();
    private final AtomicInteger serverNotifications = new AtomicInteger();
    private final List<XsMessage> replies = new ArrayList<>();
    private final List<XsMessage> events = new ArrayList<>();
    private final UnsafeBuffer page = new UnsafeBuffer(BufferUtil.allocateDirectAligned(4096, 64));
    private XenStore store;
    private XenStoreConnection dom0;
    private XenStoreServer server;
    private XenStoreRingConnection ring;
    private XenStoreRingClient client;

    @BeforeEach
    void setUp()
    {
        store = new XenStore(XenStoreLimits.DEFAULT.withMaxPendingWatchEvents(8));
        dom0 = store.connect(0);
        store.introduceDomain(1);
        server = new XenStoreServer(store, serverWakeUps::incrementAndGet);
        attach(0);
    }

    private void attach(final int startIndex)
    {
        XenStoreRingClient.initialise(page, startIndex);
        ring = server.attach(1, page, guestNotifications::incrementAndGet);
        client = new XenStoreRingClient(page, serverNotifications::incrementAndGet);
    }

    private void onMessage(final XsMessage message)
    {
        if (XsMessageType.WATCH_EVENT.code() == message.type())
        {
            events.add(message);
        }
        else
        {
            replies.add(message);
        }
    }

    private void pump()
    {
        for (int i = 0; i < 100; i++)
        {
            final int responsesConsumed = page.getInt(RSP_CONS_OFFSET);
            final int work = server.doWork() + client.poll(this::onMessage, Integer.MAX_VALUE);
            if (0 == work && 0 == client.pendingRequestBytes() && responsesConsumed == page.getInt(RSP_CONS_OFFSET))
            {
                return;
            }
        }
        fail("ring did not go quiet");
    }

    private XsMessage call(final XsMessageType type, final int txId, final byte[] payload)
    {
        final int reqId = client.send(type, txId, payload);
        pump();
        for (final XsMessage reply : replies)
        {
            if (reply.reqId() == reqId)
            {
                replies.remove(reply);
                return reply;
            }
        }
        throw new AssertionError("no reply to reqId=" + reqId);
    }

    private XsMessage call(final XsMessageType type, final int txId, final String... strings)
    {
        return call(type, txId, XsMessage.nulTerminated(strings));
    }

    private static void assertOk(final XsMessage reply)
    {
        assertEquals("OK\0", reply.payloadString(), reply.toString());
    }

    @Test
    void shouldAdvertiseErrorFieldAndConnectedStateOnAttach()
    {
        assertEquals(XenStoreRingDescriptor.FEATURE_ERROR, page.getInt(XenStoreRingDescriptor.SERVER_FEATURES_OFFSET));
        assertEquals(XenStoreRingDescriptor.CONNECTED, page.getInt(XenStoreRingDescriptor.CONNECTION_OFFSET));
        assertEquals(XenStoreRingDescriptor.ERROR_NONE, client.ringError());
        assertEquals(1, server.ringCount());
        assertEquals("xenstored", server.roleName());
        assertEquals(0, server.doWork(), "nothing to do");
    }

    @Test
    void shouldServeEveryOperationOverTheRing()
    {
        assertOk(call(XsMessageType.WRITE, 0, XsMessage.write(0, 0, "device/vbd/51712/state",
            "1".getBytes(StandardCharsets.US_ASCII)).payload()));
        assertEquals("1", call(XsMessageType.READ, 0, "device/vbd/51712/state").payloadString());
        assertOk(call(XsMessageType.MKDIR, 0, "device/vif"));
        assertEquals("vbd\0vif\0", call(XsMessageType.DIRECTORY, 0, "device").payloadString());
        assertOk(call(XsMessageType.SET_PERMS, 0, "device", "n1", "r0"));
        assertEquals("n1\0r0\0", call(XsMessageType.GET_PERMS, 0, "device").payloadString());
        assertEquals("/local/domain/1\0", call(XsMessageType.GET_DOMAIN_PATH, 0, "1").payloadString());
        assertOk(call(XsMessageType.RM, 0, "device/vif"));
        assertEquals(XsError.ENOENT, call(XsMessageType.READ, 0, "device/vif").error());
        assertEquals(XsError.EACCES, call(XsMessageType.INTRODUCE, 0, "2", "1", "1").error());

        final int txId = Integer.parseInt(call(XsMessageType.TRANSACTION_START, 0, "").strings().get(0));
        assertOk(call(XsMessageType.WRITE, txId, XsMessage.write(0, 0, "ring-ref", new byte[] { '8' }).payload()));
        assertOk(call(XsMessageType.TRANSACTION_END, txId, "T"));
        assertEquals("8", dom0.readString("/local/domain/1/ring-ref"));

        assertOk(call(XsMessageType.WATCH, 0, "ring-ref", "tok"));
        assertOk(call(XsMessageType.UNWATCH, 0, "ring-ref", "tok"));
        assertOk(call(XsMessageType.RESET_WATCHES, 0, ""));
        assertEquals(XsError.EINVAL, call(XsMessageType.WATCH_EVENT, 0, "a", "b").error());
        assertEquals(17, ring.requestsProcessed());
        assertEquals(3, ring.errorReplies());
    }

    @Test
    void shouldAnswerPipelinedRequestsInOrderWithMatchingReqIds()
    {
        final List<Integer> reqIds = new ArrayList<>();
        for (int i = 0; i < 40; i++)
        {
            reqIds.add(client.send(XsMessageType.WRITE, 0,
                XsMessage.write(0, 0, "k" + i, ("v" + i).getBytes(StandardCharsets.US_ASCII)).payload()));
            reqIds.add(client.send(XsMessageType.READ, 0, XsMessage.nulTerminated("k" + i)));
        }
        pump();
        assertEquals(80, replies.size());
        for (int i = 0; i < 80; i++)
        {
            assertEquals((int)reqIds.get(i), replies.get(i).reqId());
        }
        assertEquals("v39", replies.get(79).payloadString());
        assertTrue(guestNotifications.get() > 0);
        assertTrue(serverNotifications.get() > 0);
    }

    @Test
    void shouldDeliverWatchEventsAsMessagesOnTheResponseRing()
    {
        assertOk(call(XsMessageType.WATCH, 0, "device", "front"));
        assertEquals(1, events.size(), "first firing");
        assertEquals(List.of("device", "front"), events.get(0).strings());
        assertEquals(0, events.get(0).reqId());
        assertEquals(0, events.get(0).txId());

        final int wakeUpsBefore = serverWakeUps.get();
        dom0.write("/local/domain/1/device/vbd/51712/state", "4");
        assertEquals(wakeUpsBefore + 1, serverWakeUps.get(), "the store wakes the server, not the guest");
        assertEquals(1, events.size(), "nothing reaches the guest until the server runs");
        pump();
        assertEquals(2, events.size());
        assertEquals(List.of("device/vbd/51712/state", "front"), events.get(1).strings());
        assertEquals(2, ring.watchEventsSent());
    }

    @Test
    void shouldBoundWatchEventsOfAGuestThatStopsReading()
    {
        assertOk(call(XsMessageType.WATCH, 0, "/local/domain/1", "t"));
        for (int i = 0; i < 200; i++)
        {
            dom0.write("/local/domain/1/n" + i, "x".repeat(200));
            server.doWork();
        }
        assertTrue(ring.connection().droppedWatchEvents() > 0, "queue bounded, drops counted");
        assertTrue(ring.connection().pendingWatchEvents() <= 8);
        pump();
        assertTrue(events.size() < 200);
        assertEquals(200 - ring.connection().droppedWatchEvents() + 1, events.size() + 0L);
    }

    @ParameterizedTest
    @ValueSource(ints = { 0, 1000, 0xFFFF_FF00, 0xFFFF_FFF8 })
    void shouldStreamMaximumSizeMessagesAcrossRingEndAndIndexWrap(final int startIndex)
    {
        store = new XenStore();
        store.introduceDomain(1);
        server = new XenStoreServer(store, serverWakeUps::incrementAndGet);
        attach(startIndex);

        final byte[] value = new byte[XsWireDescriptor.PAYLOAD_MAX - 4];
        for (int i = 0; i < value.length; i++)
        {
            value[i] = (byte)(i * 13 + 1);
        }
        for (int round = 0; round < 3; round++)
        {
            assertOk(call(XsMessageType.WRITE, 0, XsMessage.write(0, 0, "big", value).payload()));
            final XsMessage reply = call(XsMessageType.READ, 0, "big");
            assertArrayEquals(value, reply.payload());
        }
        final int requestBytes = 3 * (16 + 4096 + 16 + 4);
        final int responseBytes = 3 * (16 + 3 + 16 + value.length);
        assertEquals(startIndex + requestBytes, page.getInt(REQ_CONS_OFFSET));
        assertEquals(startIndex + responseBytes, page.getInt(RSP_PROD_OFFSET));
        assertEquals(startIndex + responseBytes, page.getInt(RSP_CONS_OFFSET));
    }

    @Test
    void shouldAnswerMalformedRequestsWithErrorsAndKeepServing()
    {
        final byte[] unterminated = "device".getBytes(StandardCharsets.US_ASCII);
        assertEquals(XsError.EINVAL, call(XsMessageType.READ, 0, unterminated).error());
        client.send(new XsMessage(1234, 77, 0, new byte[0]));
        pump();
        assertEquals(XsError.EINVAL, replies.remove(0).error(), "unknown type");
        assertEquals(XsError.EINVAL, call(XsMessageType.READ, 0, "/" + "p".repeat(3072)).error(), "path too long");
        assertEquals(XsError.EINVAL, call(XsMessageType.READ, 0, "a", "b").error(), "bad length for READ");
        assertOk(call(XsMessageType.WRITE, 0, XsMessage.write(0, 0, "still", new byte[0]).payload()));
        assertFalse(ring.isClosed());
    }

    @Test
    void shouldCloseConnectionWithProtocolErrorWhenLengthExceedsPayloadMax()
    {
        assertOk(call(XsMessageType.WATCH, 0, "x", "t"));
        final UnsafeBuffer header = new UnsafeBuffer(new byte[16]);
        XsWireDescriptor.putHeader(header, 0, XsMessageType.WRITE.code(), 9, 0, XsWireDescriptor.PAYLOAD_MAX + 1);
        final XsRingProducer hostile = XsRingProducer.requests(page);
        hostile.write(header, 0, 16);
        final int notificationsBefore = guestNotifications.get();

        assertEquals(1, server.doWork());
        assertTrue(ring.isClosed());
        assertEquals("payload length too large: len=4097 (expected: <= 4096), type=11, reqId=9, domain=1",
            ring.closeReason());
        assertEquals(XenStoreRingDescriptor.ERROR_PROTOCOL, page.getInt(ERROR_OFFSET));
        assertEquals(notificationsBefore + 1, guestNotifications.get());
        assertEquals(0, store.watchCount(1), "the connection's watches are gone");
        assertEquals(0, server.doWork(), "a closed ring is not served");

        final XenStoreProtocolException ex =
            assertThrows(XenStoreProtocolException.class, () -> client.poll(this::onMessage, 10));
        assertEquals(XenStoreRingDescriptor.ERROR_PROTOCOL, ex.ringError());
        assertTrue(client.isBroken());
    }

    @Test
    void shouldCloseConnectionWithRingIndexErrorOnHostileRequestProducer()
    {
        page.putIntRelease(REQ_PROD_OFFSET, page.getInt(REQ_CONS_OFFSET) + 2000);
        assertEquals(1, server.doWork());
        assertTrue(ring.isClosed());
        assertEquals("producer index out of range: prod=2000, cons=0 (expected: 0 <= prod - cons <= 1024), domain=1",
            ring.closeReason());
        assertEquals(XenStoreRingDescriptor.ERROR_RING_INDEX, page.getInt(ERROR_OFFSET));
    }

    @Test
    void shouldCloseConnectionWithRingIndexErrorOnHostileResponseConsumer()
    {
        page.putIntRelease(RSP_CONS_OFFSET, 5000);
        client.send(XsMessageType.READ, 0, XsMessage.nulTerminated("x"));
        server.doWork();
        assertTrue(ring.isClosed());
        assertEquals(XenStoreRingDescriptor.ERROR_RING_INDEX, page.getInt(ERROR_OFFSET));
    }

    @Test
    void shouldKeepServingOtherRingsWhenOneIsClosed()
    {
        store.introduceDomain(2);
        final UnsafeBuffer otherPage = new UnsafeBuffer(BufferUtil.allocateDirectAligned(4096, 64));
        XenStoreRingClient.initialise(otherPage, 0);
        final XenStoreRingConnection otherRing = server.attach(2, otherPage, () -> {});
        final XenStoreRingClient otherClient = new XenStoreRingClient(otherPage, () -> {});

        page.putIntRelease(REQ_PROD_OFFSET, 5000);
        final int reqId = otherClient.send(XsMessageType.WRITE, 0, XsMessage.write(0, 0, "ok", new byte[0]).payload());
        server.doWork();
        assertTrue(ring.isClosed());
        assertFalse(otherRing.isClosed());
        final List<XsMessage> otherReplies = new ArrayList<>();
        otherClient.poll(otherReplies::add, 10);
        assertEquals(1, otherReplies.size());
        assertEquals(reqId, otherReplies.get(0).reqId());
        assertEquals("OK\0", otherReplies.get(0).payloadString());
    }

    @Test
    void shouldStopTakingRequestsWhileGuestDoesNotReadResponses()
    {
        final byte[] big = new byte[1500];
        Arrays.fill(big, (byte)'b');
        dom0.write("/local/domain/1/big", big);
        for (int i = 0; i < 5; i++)
        {
            client.send(XsMessageType.READ, 0, XsMessage.nulTerminated("big"));
        }
        for (int i = 0; i < 10; i++)
        {
            server.doWork();
            client.flush();
        }
        final int consumed = page.getInt(REQ_CONS_OFFSET);
        assertTrue(consumed < 5 * 20, "the server stopped taking requests: req_cons=" + consumed);
        assertEquals(1024, page.getInt(RSP_PROD_OFFSET) - page.getInt(RSP_CONS_OFFSET), "response stream full");

        pump();
        assertEquals(5, replies.size());
        for (final XsMessage reply : replies)
        {
            assertArrayEquals(big, reply.payload());
        }
    }

    @Test
    void shouldBreakClientOnHostileResponseProducer()
    {
        page.putIntRelease(RSP_PROD_OFFSET, 4096);
        final XenStoreProtocolException ex =
            assertThrows(XenStoreProtocolException.class, () -> client.poll(this::onMessage, 10));
        assertEquals(XenStoreRingDescriptor.ERROR_RING_INDEX, ex.ringError());
        assertThrows(XenStoreProtocolException.class, () -> client.send(XsMessageType.READ, 0, new byte[] { 'a', 0 }));
    }

    @Test
    void shouldCloseRingWhenDomainIsReleasedOrDetached()
    {
        store.releaseDomain(1);
        assertEquals(1, server.doWork());
        assertTrue(ring.isClosed());
        assertEquals("domain released: domain=1", ring.closeReason());

        store.introduceDomain(1);
        attach(0);
        assertEquals(2, server.ringCount());
        server.detach(ring);
        server.detach(ring);
        assertEquals(1, server.ringCount());
        assertTrue(ring.connection().isClosed());
    }

    @Test
    void shouldCloseAllConnectionsOnClose()
    {
        assertOk(call(XsMessageType.WATCH, 0, "x", "t"));
        server.onClose();
        assertEquals(0, store.watchCount(1));
        assertTrue(ring.connection().isClosed());
    }

    @Test
    void shouldRejectBadConstruction()
    {
        assertThrows(IllegalArgumentException.class, () -> new XenStoreServer(store, () -> {}, 0));
        final UnsafeBuffer small = new UnsafeBuffer(BufferUtil.allocateDirectAligned(1024, 64));
        assertThrows(IllegalArgumentException.class, () -> server.attach(1, small, () -> {}));
        assertEquals(1, server.ringCount());
        assertEquals(0, store.watchCount(1));
    }
}
