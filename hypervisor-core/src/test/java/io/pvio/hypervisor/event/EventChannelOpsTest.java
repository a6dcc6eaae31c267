package io.pvio.hypervisor.event;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.pvio.hypervisor.Domain;
import io.pvio.hypervisor.DomainId;
import io.pvio.hypervisor.DomainState;
import io.pvio.hypervisor.Errno;
import io.pvio.hypervisor.HypercallException;
import io.pvio.hypervisor.HypercallKind;

import static io.pvio.hypervisor.event.EventChannelFixture.channels;
import static io.pvio.hypervisor.event.EventChannelFixture.connect;
import static io.pvio.hypervisor.event.EventChannelFixture.ops;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every event channel hypercall and its errors, with the loops not running: the pending, mask and state changes are
 * read straight from the port tables.
 */
class EventChannelOpsTest
{
    private final EventChannelFixture fixture = new EventChannelFixture();
    private final Domain a = fixture.a;
    private final Domain b = fixture.b;

    @AfterEach
    void close() throws InterruptedException
    {
        fixture.close();
    }

    @Test
    void shouldAllocateLowestFreePortUnboundForRemoteWhenAllocUnbound()
    {
        final int first = ops(a).allocUnbound(b.id());
        final int second = ops(a).allocUnbound(b.id());

        assertEquals(1, first);
        assertEquals(2, second);
        assertEquals(new EventChannelStatus(PortState.UNBOUND, b.id(), 0, 0), ops(a).status(first));
        assertFalse(channels(a).isPending(first));
        assertFalse(channels(a).isMasked(first));
        assertEquals(2, a.counters().get(HypercallKind.EVTCHN_ALLOC_UNBOUND));
        assertEquals(PortState.FREE, channels(b).portState(first), "nothing changes in the remote table");
    }

    @Test
    void shouldAllocateForCallerWhenRemoteIsSelf()
    {
        final int port = ops(a).allocUnbound(DomainId.SELF);

        assertEquals(new EventChannelStatus(PortState.UNBOUND, a.id(), 0, 0), ops(a).status(port));
    }

    @Test
    void shouldRejectAllocUnboundWhenRemoteDomainMissing()
    {
        final HypercallException ex = assertThrows(HypercallException.class, () -> ops(a).allocUnbound(77));

        assertEquals(Errno.ESRCH, ex.errno());
        assertEquals("ESRCH: alloc_unbound: domain 1 named no live domain 77", ex.getMessage());
    }

    @Test
    void shouldConnectBothEndsAndSetNewPortPendingWhenBindInterdomain()
    {
        final int bPort = ops(b).allocUnbound(a.id());
        final int aPort = ops(a).bindInterdomain(b.id(), bPort);

        assertEquals(new EventChannelStatus(PortState.INTERDOMAIN, b.id(), bPort, 0), ops(a).status(aPort));
        assertEquals(new EventChannelStatus(PortState.INTERDOMAIN, a.id(), aPort, 0), ops(b).status(bPort));
        assertTrue(channels(a).isPending(aPort), "Xen sets the binding end pending");
        assertFalse(channels(b).isPending(bPort));
        assertEquals(1, a.counters().get(HypercallKind.EVTCHN_BIND_INTERDOMAIN));
    }

    @Test
    void shouldRejectBindWhenRemotePortUnboundForAnotherDomain()
    {
        final int bPort = ops(b).allocUnbound(fixture.dom0.id());

        final HypercallException ex = assertThrows(
            HypercallException.class, () -> ops(a).bindInterdomain(b.id(), bPort));

        assertEquals(Errno.EINVAL, ex.errno());
        assertEquals("EINVAL: bind_interdomain: domain 2 port 1 is unbound for domain 0 (expected: unbound for " +
            "domain 1)", ex.getMessage());
        assertEquals(PortState.FREE, channels(a).portState(1), "no port allocated on failure");
    }

    @Test
    void shouldRejectBindWhenRemotePortAlreadyBound()
    {
        final int[] ports = connect(a, b);

        final HypercallException ex = assertThrows(
            HypercallException.class, () -> ops(a).bindInterdomain(b.id(), ports[1]));

        assertEquals(Errno.EINVAL, ex.errno());
        assertEquals("EINVAL: bind_interdomain: domain 2 port 1 is interdomain with domain 1 port 1 (expected: " +
            "unbound for domain 1)", ex.getMessage());
    }

    @Test
    void shouldRejectBindWhenRemotePortFree()
    {
        final HypercallException ex = assertThrows(HypercallException.class, () -> ops(a).bindInterdomain(b.id(), 9));

        assertEquals("EINVAL: bind_interdomain: domain 2 port 9 is free (expected: unbound for domain 1)",
            ex.getMessage());
    }

    @Test
    void shouldRejectBindWhenRemoteDomainMissing()
    {
        final HypercallException ex = assertThrows(HypercallException.class, () -> ops(a).bindInterdomain(77, 1));

        assertEquals(Errno.ESRCH, ex.errno());
        assertEquals("ESRCH: bind_interdomain: domain 1 named no live domain 77", ex.getMessage());
    }

    @ParameterizedTest
    @ValueSource(ints = {Integer.MIN_VALUE, -1, 0, 4096, Integer.MAX_VALUE})
    void shouldRejectBindWhenRemotePortOutOfRange(final int remotePort)
    {
        final HypercallException ex = assertThrows(
            HypercallException.class, () -> ops(a).bindInterdomain(b.id(), remotePort));

        assertEquals(Errno.EINVAL, ex.errno());
        assertEquals("EINVAL: bind_interdomain: domain 2 port " + remotePort + " out of range (expected: 0 < port " +
            "< 4096)", ex.getMessage());
    }

    @ParameterizedTest
    @ValueSource(ints = {Integer.MIN_VALUE, -1, 0, 4096, Integer.MAX_VALUE})
    void shouldRejectEveryPortOperationWhenPortOutOfRange(final int port)
    {
        final EventChannelOps ops = ops(a);

        assertOutOfRange("send", port, assertThrows(HypercallException.class, () -> ops.send(port)));
        assertOutOfRange("close", port, assertThrows(HypercallException.class, () -> ops.close(port)));
        assertOutOfRange("unmask", port, assertThrows(HypercallException.class, () -> ops.unmask(port)));
        assertOutOfRange("status", port, assertThrows(HypercallException.class, () -> ops.status(port)));
    }

    @ParameterizedTest
    @ValueSource(ints = {Integer.MIN_VALUE, -1, 0, 4096})
    void shouldRejectGuestSideCallsWhenPortOutOfRange(final int port)
    {
        final EventChannels channels = channels(a);
        final String message = "domain 1 port out of range: port=" + port + " (expected: 0 < port < 4096)";

        assertEquals(message, assertThrows(IllegalArgumentException.class, () -> channels.mask(port)).getMessage());
        assertEquals(message, assertThrows(
            IllegalArgumentException.class, () -> channels.isMasked(port)).getMessage());
        assertEquals(message, assertThrows(
            IllegalArgumentException.class, () -> channels.isPending(port)).getMessage());
        assertEquals(message, assertThrows(
            IllegalArgumentException.class, () -> channels.bindHandler(port, (p) -> { })).getMessage());
    }

    @Test
    void shouldRejectSendAndCloseWhenPortFree()
    {
        final HypercallException send = assertThrows(HypercallException.class, () -> ops(a).send(5));
        final HypercallException close = assertThrows(HypercallException.class, () -> ops(a).close(5));

        assertEquals(Errno.EINVAL, send.errno());
        assertEquals("EINVAL: send: domain 1 port 5 is free", send.getMessage());
        assertEquals(Errno.EINVAL, close.errno());
        assertEquals("EINVAL: close: domain 1 port 5 is free", close.getMessage());
    }

    @Test
    void shouldReportFreePortAsClosedWhenStatus()
    {
        final EventChannelStatus status = ops(a).status(7);

        assertEquals(new EventChannelStatus(PortState.FREE, DomainId.INVALID, 0, 0), status);
        assertEquals(0, status.state().xenStatus());
        assertEquals(1, PortState.UNBOUND.xenStatus());
        assertEquals(2, PortState.INTERDOMAIN.xenStatus());
    }

    @Test
    void shouldDropSendWhenPortUnbound()
    {
        final int port = ops(a).allocUnbound(b.id());

        ops(a).send(port);

        assertFalse(channels(a).isPending(port));
        assertEquals(1, a.counters().get(HypercallKind.EVTCHN_SEND));
    }

    @Test
    void shouldSetRemoteEndPendingWhenSend()
    {
        final int[] ports = connect(a, b);

        ops(a).send(ports[0]);

        assertTrue(channels(b).isPending(ports[1]));
        assertFalse(channels(b).isPending(ports[1] + 1), "no other port of the receiver");
    }

    @Test
    void shouldSendBothWaysWhenConnected()
    {
        final int[] ports = connect(a, b);
        channels(a).bindHandler(ports[0], (p) -> { });
        assertEquals(1, channels(a).eventLoop().doWork(), "the bind event");
        assertFalse(channels(a).isPending(ports[0]));

        ops(b).send(ports[1]);

        assertTrue(channels(a).isPending(ports[0]));
        assertFalse(channels(b).isPending(ports[1]));
    }

    @Test
    void shouldReturnPeerToUnboundAndLetItRebindWhenClose()
    {
        final int[] ports = connect(a, b);

        ops(a).close(ports[0]);

        assertEquals(PortState.FREE, ops(a).status(ports[0]).state());
        assertEquals(new EventChannelStatus(PortState.UNBOUND, a.id(), 0, 0), ops(b).status(ports[1]));
        ops(b).send(ports[1]);
        assertFalse(channels(a).isPending(ports[0]), "a send on the now unbound peer is dropped");

        final int rebound = ops(a).bindInterdomain(b.id(), ports[1]);
        assertEquals(ports[0], rebound, "the lowest free port again");
        assertEquals(new EventChannelStatus(PortState.INTERDOMAIN, a.id(), rebound, 0), ops(b).status(ports[1]));
    }

    @Test
    void shouldDropUndeliveredEventAndMaskWhenPortClosedAndReallocated()
    {
        final int[] ports = connect(a, b);
        ops(a).send(ports[0]);
        channels(b).mask(ports[1]);

        ops(b).close(ports[1]);
        assertFalse(channels(b).isPending(ports[1]));

        final int again = ops(b).allocUnbound(a.id());
        assertEquals(ports[1], again);
        assertFalse(channels(b).isMasked(again), "a new port starts unmasked");
        assertEquals(PortState.UNBOUND, ops(a).status(ports[0]).state());
    }

    @Test
    void shouldFailWithEnospcWhenTableFull()
    {
        final EventChannelOps ops = ops(a);
        for (int port = 1; port < EventChannels.MAX_PORTS; port++)
        {
            assertEquals(port, ops.allocUnbound(b.id()));
        }

        final HypercallException ex = assertThrows(HypercallException.class, () -> ops.allocUnbound(b.id()));
        assertEquals(Errno.ENOSPC, ex.errno());
        assertEquals("ENOSPC: alloc_unbound: domain 1 has no free port (all 4095 in use)", ex.getMessage());
        final int bPort = ops(b).allocUnbound(a.id());
        assertEquals(Errno.ENOSPC, assertThrows(
            HypercallException.class, () -> ops.bindInterdomain(b.id(), bPort)).errno());
        assertEquals(PortState.UNBOUND, ops(b).status(bPort).state(), "failed bind leaves the remote port alone");

        ops.close(1234);
        assertEquals(1234, ops.allocUnbound(b.id()));
    }

    @Test
    void shouldNotReachAnotherDomainsPortWhenUsingSameNumber()
    {
        final int[] ports = connect(a, b);
        final Domain c = fixture.dom0;

        assertEquals("EINVAL: send: domain 0 port 1 is free",
            assertThrows(HypercallException.class, () -> ops(c).send(ports[0])).getMessage());
        assertEquals("EINVAL: close: domain 0 port 1 is free",
            assertThrows(HypercallException.class, () -> ops(c).close(ports[1])).getMessage());
        assertThrows(HypercallException.class, () -> ops(c).bindInterdomain(b.id(), ports[1]));
        ops(c).unmask(ports[1]);

        assertEquals(PortState.INTERDOMAIN, ops(a).status(ports[0]).state());
        assertEquals(PortState.INTERDOMAIN, ops(b).status(ports[1]).state());
        assertFalse(channels(b).isPending(ports[1]));
    }

    @Test
    void shouldRejectBindOfUnboundPortByDomainItWasNotAllocatedFor()
    {
        final int aPort = ops(a).allocUnbound(b.id());

        final HypercallException ex = assertThrows(
            HypercallException.class, () -> ops(fixture.dom0).bindInterdomain(a.id(), aPort));

        assertEquals("EINVAL: bind_interdomain: domain 1 port 1 is unbound for domain 2 (expected: unbound for " +
            "domain 0)", ex.getMessage());
    }

    @Test
    void shouldConnectLoopbackWhenRemoteIsSelf()
    {
        final int unbound = ops(a).allocUnbound(DomainId.SELF);
        final int bound = ops(a).bindInterdomain(DomainId.SELF, unbound);
        channels(a).eventLoop().doWork();
        final int[] calls = new int[EventChannels.MAX_PORTS];
        channels(a).bindHandler(unbound, (port) -> calls[port]++);
        channels(a).bindHandler(bound, (port) -> calls[port]++);

        ops(a).send(bound);
        channels(a).eventLoop().doWork();

        assertEquals(new EventChannelStatus(PortState.INTERDOMAIN, a.id(), unbound, 0), ops(a).status(bound));
        assertEquals(1, calls[unbound]);
        assertEquals(1, calls[bound], "the bind event, delivered once its handler came");

        ops(a).close(unbound);
        assertEquals(new EventChannelStatus(PortState.UNBOUND, a.id(), 0, 0), ops(a).status(bound));
    }

    @Test
    void shouldMaskByGuestWriteAndUnmaskByHypercall()
    {
        final int[] ports = connect(a, b);

        channels(b).mask(ports[1]);
        assertTrue(channels(b).isMasked(ports[1]));
        channels(b).mask(ports[1]);
        assertTrue(channels(b).isMasked(ports[1]), "masking is idempotent");

        ops(b).unmask(ports[1]);
        assertFalse(channels(b).isMasked(ports[1]));
        assertEquals(1, b.counters().get(HypercallKind.EVTCHN_UNMASK));
    }

    @Test
    void shouldKeepOtherBitsOfWordWhenMaskingOnePort()
    {
        final EventChannels channels = channels(a);

        channels.mask(64);
        channels.mask(127);
        ops(a).unmask(64);

        assertFalse(channels.isMasked(64));
        assertTrue(channels.isMasked(127));
        assertFalse(channels.isMasked(65));
    }

    @Test
    void shouldRejectHandlerWhenPortFreeOrAlreadyHandled()
    {
        final int port = ops(a).allocUnbound(b.id());
        final EventHandler handler = (p) -> { };

        assertEquals("domain 1 port 2 is free", assertThrows(
            IllegalStateException.class, () -> channels(a).bindHandler(port + 1, handler)).getMessage());
        channels(a).bindHandler(port, handler);
        assertSame(handler, channels(a).handler(port));
        assertEquals("domain 1 port 1 already has a handler", assertThrows(
            IllegalStateException.class, () -> channels(a).bindHandler(port, handler)).getMessage());
        assertThrows(NullPointerException.class, () -> channels(a).bindHandler(port, null));
    }

    @Test
    void shouldDropHandlerWhenPortClosed()
    {
        final int port = ops(a).allocUnbound(b.id());
        channels(a).bindHandler(port, (p) -> { });

        ops(a).close(port);

        assertNull(channels(a).handler(port));
    }

    @Test
    void shouldReturnPeersToUnboundAndDropTheirSendsWhenDomainDestroyed()
    {
        final int[] ports = connect(a, b);
        final int[] loopback = connect(b, b);
        final int waiting = ops(b).allocUnbound(a.id());
        channels(b).bindHandler(ports[1], (p) -> { });
        final DomainEventLoop loop = channels(b).eventLoop();

        fixture.dom0.hypercalls().destroyDomain(b.id());

        assertEquals(DomainState.DEAD, b.state());
        assertEquals(new EventChannelStatus(PortState.UNBOUND, b.id(), 0, 0), ops(a).status(ports[0]));
        ops(a).send(ports[0]);
        for (final int port : new int[] {ports[1], loopback[0], loopback[1], waiting})
        {
            assertEquals(PortState.FREE, channels(b).portState(port), "port " + port);
            assertNull(channels(b).handler(port), "port " + port);
        }
        assertFalse(channels(b).isPending(ports[1]), "the peer's send after death went nowhere");
        assertFalse(loop.isRunning());
        assertEquals(Errno.ESRCH, assertThrows(HypercallException.class, () -> ops(b).send(ports[1])).errno());
        assertEquals(Errno.ESRCH, assertThrows(
            HypercallException.class, () -> ops(a).bindInterdomain(b.id(), waiting)).errno());
        channels(b).closeAll();
    }

    @Test
    void shouldRefuseBindToDomainWhosePortsAreClosed()
    {
        final int bPort = ops(b).allocUnbound(a.id());

        channels(b).closeAll();

        final HypercallException ex = assertThrows(
            HypercallException.class, () -> ops(a).bindInterdomain(b.id(), bPort));
        assertEquals("ESRCH: bind_interdomain: domain 1 named no live domain 2", ex.getMessage());
        assertEquals("ESRCH: alloc_unbound: domain 2 is dying",
            assertThrows(HypercallException.class, () -> ops(b).allocUnbound(a.id())).getMessage());
    }

    @Test
    void shouldCountEveryCallIncludingFailedOnes()
    {
        final int[] ports = connect(a, b);
        ops(a).send(ports[0]);
        ops(a).send(ports[0]);
        assertThrows(HypercallException.class, () -> ops(a).send(0));
        ops(a).status(ports[0]);
        ops(a).unmask(ports[0]);
        ops(a).close(ports[0]);

        assertEquals(3, a.counters().get(HypercallKind.EVTCHN_SEND));
        assertEquals(1, a.counters().get(HypercallKind.EVTCHN_STATUS));
        assertEquals(1, a.counters().get(HypercallKind.EVTCHN_UNMASK));
        assertEquals(1, a.counters().get(HypercallKind.EVTCHN_CLOSE));
        assertEquals(1, a.counters().get(HypercallKind.EVTCHN_BIND_INTERDOMAIN));
        assertEquals(1, b.counters().get(HypercallKind.EVTCHN_ALLOC_UNBOUND));
        assertNotEquals(0, a.counters().total());
    }

    @Test
    void shouldCountHypervisorRaisesAndNotPeerSendsWhenRaisedFromHypervisor()
    {
        final int[] ports = connect(a, b);
        ops(a).send(ports[0]);
        channels(b).raiseFromHypervisor(ports[1]);
        channels(b).raiseFromHypervisor(ports[1]);
        assertThrows(HypercallException.class, () -> channels(b).raiseFromHypervisor(0));

        assertEquals(2, channels(b).raisedByHypervisor(), "both raises, the second coalesced, and not the send");
        assertEquals(0, channels(a).raisedByHypervisor());
        assertEquals(0, b.counters().get(HypercallKind.EVTCHN_SEND), "a raise is no hypercall of the owner");
        assertTrue(channels(b).isPending(ports[1]));
    }

    private static void assertOutOfRange(final String call, final int port, final HypercallException ex)
    {
        assertEquals(Errno.EINVAL, ex.errno());
        assertEquals("EINVAL: " + call + ": domain 1 port " + port + " out of range (expected: 0 < port < 4096)",
            ex.getMessage());
    }
}
