package io.pvio.bench.machine;

import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.agrona.concurrent.UnsafeBuffer;

import io.pvio.backend.net.Bridge;
import io.pvio.backend.net.NetBack;
import io.pvio.hypervisor.Domain;
import io.pvio.hypervisor.xenstore.XenStoreConnection;
import io.pvio.hypervisor.xenstore.XenbusDevice;
import io.pvio.hypervisor.xenstore.XenbusState;
import io.pvio.ring.FrontRing;
import io.pvio.ring.RingGeometry;
import io.pvio.ring.SharedRingDescriptor;
import io.pvio.ring.netif.NetifDescriptor;
import io.pvio.ring.netif.NetifDescriptor.TxRequest;
import io.pvio.ring.netif.NetifXenbusKeys;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * A netfront played by hand against a real {@link NetBack}, so that it can send anything: it runs the handshake
 * through raw XenStore writes, owns both rings and their grants, and writes whatever a test puts into a transmit
 * request. It posts no receive buffer.
 */
final class RawNetFront implements AutoCloseable
{
    final PvMachine machine;
    final Domain guest;
    final XenbusDevice device;
    final NetBack back;
    final XenStoreConnection xs;
    final FrontRing tx;
    final UnsafeBuffer txBuffer;
    final FrontRing rx;
    final int port;

    RawNetFront(final PvMachine machine, final PvGuest guest, final Bridge bridge)
    {
        this.machine = machine;
        this.guest = guest.domain();
        this.device = XenbusDevice.create(machine.toolstack(), NetifXenbusKeys.DEVICE_TYPE, guest.domain().id(),
            machine.dom0().id(), 0, Map.of(NetifXenbusKeys.MAC, "00:16:3e:00:01:00"), Map.of());
        this.back = NetBack.start(machine.dom0(), machine.xenStore(), device.backendPath(), bridge);
        this.xs = machine.xenStore().connect(guest.domain().id());
        awaitBack(XenbusState.INIT_WAIT);
        final RingGeometry txGeometry = NetifDescriptor.txRing(1);
        final long txGfn = this.guest.pageAllocator().allocate();
        txBuffer = new UnsafeBuffer(this.guest.guestFrame(txGfn).addressOffset(), txGeometry.ringBytes());
        tx = FrontRing.init(txBuffer, txGeometry);
        final RingGeometry rxGeometry = NetifDescriptor.rxRing(1);
        final long rxGfn = this.guest.pageAllocator().allocate();
        final UnsafeBuffer rxBuffer = new UnsafeBuffer(this.guest.guestFrame(rxGfn).addressOffset(),
            rxGeometry.ringBytes());
        rx = FrontRing.init(rxBuffer, rxGeometry);
        port = this.guest.hypercalls().eventChannelOp().allocUnbound(machine.dom0().id());
        final String dir = device.frontendPath() + '/';
        xs.write(dir + NetifXenbusKeys.TX_RING_REF, Integer.toString(grant(txGfn, false)));
        xs.write(dir + NetifXenbusKeys.RX_RING_REF, Integer.toString(grant(rxGfn, false)));
        xs.write(dir + NetifXenbusKeys.EVENT_CHANNEL, Integer.toString(port));
        xs.write(dir + NetifXenbusKeys.REQUEST_RX_COPY, "1");
        xs.write(dir + NetifXenbusKeys.FEATURE_SG, "1");
        xs.write(dir + "state", XenbusState.CONNECTED.toBytes());
        awaitBack(XenbusState.CONNECTED);
    }

    void awaitBack(final XenbusState wanted)
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (back.state() != wanted)
        {
            if (System.nanoTime() - deadline > 0)
            {
                fail("back end is " + back.state() + ", expected " + wanted + " (" + back.disconnectReason() + ")");
            }
            Thread.onSpinWait();
        }
    }

    /** Grants a page of the guest to dom0 and returns the reference. */
    int grant(final long gfn, final boolean readOnly)
    {
        return guest.grantTable().grantAccess(machine.dom0().id(), gfn, readOnly);
    }

    /** A page holding a frame header to {@code destination} and junk after it, granted read-only. */
    int framePage(final long destination)
    {
        final long gfn = guest.pageAllocator().allocate();
        final UnsafeBuffer page = guest.guestFrame(gfn);
        final byte[] frame = NetRig.frame(destination, 0x00163E000100L, 4096, 5);
        page.putBytes(0, frame);
        return grant(gfn, true);
    }

    /** Writes one transmit request (not pushed). */
    void request(final int gref, final int offset, final int flags, final int id, final int size)
    {
        final int slot = tx.claimRequest();
        txBuffer.putInt(slot + TxRequest.GREF_OFFSET, gref);
        txBuffer.putShort(slot + TxRequest.OFFSET_OFFSET, (short)offset);
        txBuffer.putShort(slot + TxRequest.FLAGS_OFFSET, (short)flags);
        txBuffer.putShort(slot + TxRequest.ID_OFFSET, (short)id);
        txBuffer.putShort(slot + TxRequest.SIZE_OFFSET, (short)size);
    }

    /** Writes 12 raw bytes as a request (not pushed). */
    void raw(final byte[] bytes)
    {
        txBuffer.putBytes(tx.claimRequest(), bytes, 0, TxRequest.LENGTH);
    }

    /** Pushes what was written and notifies. */
    void push()
    {
        tx.pushRequests();
        guest.hypercalls().eventChannelOp().send(port);
    }

    /** Overwrites the shared {@code req_prod}, as a hostile front end may. */
    void forceRequestProducer(final int value)
    {
        txBuffer.putIntVolatile(SharedRingDescriptor.REQ_PROD_OFFSET, value);
        guest.hypercalls().eventChannelOp().send(port);
    }

    /** Posts one receive buffer request (id, gref) and pushes it. */
    void postRx(final int id, final int gref)
    {
        final int slot = rx.claimRequest();
        final UnsafeBuffer buffer = (UnsafeBuffer)rx.buffer();
        buffer.putShort(slot + NetifDescriptor.RxRequest.ID_OFFSET, (short)id);
        buffer.putInt(slot + NetifDescriptor.RxRequest.GREF_OFFSET, gref);
        rx.pushRequests();
    }

    /** Overwrites the receive ring's shared {@code req_prod}. */
    void forceRxRequestProducer(final int value)
    {
        rx.buffer().putIntVolatile(SharedRingDescriptor.REQ_PROD_OFFSET, value);
    }

    /** Responses the back end published that this end has not consumed; consumes them. */
    int drainResponses()
    {
        return tx.discardResponses(Integer.MAX_VALUE);
    }

    @Override
    public void close()
    {
        back.close();
        xs.close();
        device.remove(machine.toolstack());
    }
}
