package io.pvio.bench.machine;

import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import org.agrona.concurrent.UnsafeBuffer;

import io.pvio.backend.block.BlockBack;
import io.pvio.backend.block.BlockBackOptions;
import io.pvio.backend.block.BlockStore;
import io.pvio.hypervisor.Domain;
import io.pvio.hypervisor.xenstore.XenStoreConnection;
import io.pvio.hypervisor.xenstore.XenbusDevice;
import io.pvio.hypervisor.xenstore.XenbusState;
import io.pvio.ring.FrontRing;
import io.pvio.ring.RingGeometry;
import io.pvio.ring.SharedRingDescriptor;
import io.pvio.ring.blkif.BlkifRequestDescriptor;
import io.pvio.ring.blkif.BlkifRequestFlyweight;
import io.pvio.ring.blkif.BlkifResponseDescriptor;
import io.pvio.ring.blkif.BlkifXenbusKeys;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A front end played by hand against a real {@link BlockBack}, so that it can send anything: it runs the handshake
 * through raw XenStore writes, owns the ring and its grants, and pushes whatever bytes a test puts into a request.
 * Responses are polled from the ring, not taken through events.
 */
final class RawFront implements AutoCloseable
{
    final PvMachine machine;
    final Domain guest;
    final XenbusDevice device;
    final BlockBack back;
    final XenStoreConnection xs;
    final FrontRing ring;
    final UnsafeBuffer ringBuffer;
    final int port;
    final long ringGfn;
    private final BlkifRequestFlyweight request = new BlkifRequestFlyweight();
    private final UnsafeBuffer response = new UnsafeBuffer(new byte[BlkifResponseDescriptor.RESPONSE_LENGTH]);

    RawFront(final PvMachine machine, final PvGuest guest, final int devid, final BlockStore store,
        final BlockBackOptions options)
    {
        this.machine = machine;
        this.guest = guest.domain();
        this.device = XenbusDevice.create(machine.toolstack(), BlkifXenbusKeys.DEVICE_TYPE, guest.domain().id(),
            machine.dom0().id(), devid, Map.of(BlkifXenbusKeys.MODE, store.isReadOnly() ? "r" : "w"), Map.of());
        this.back = BlockBack.start(machine.dom0(), machine.xenStore(), device.backendPath(), store, options);
        this.xs = machine.xenStore().connect(guest.domain().id());
        awaitBack(XenbusState.INIT_WAIT);
        final RingGeometry geometry = BlkifRequestDescriptor.blkifRing(1);
        ringGfn = this.guest.pageAllocator().allocate();
        ringBuffer = new UnsafeBuffer(this.guest.guestFrame(ringGfn).addressOffset(), geometry.ringBytes());
        ring = FrontRing.init(ringBuffer, geometry);
        final int ref = this.guest.grantTable().grantAccess(machine.dom0().id(), ringGfn, false);
        port = this.guest.hypercalls().eventChannelOp().allocUnbound(machine.dom0().id());
        xs.write(device.frontendPath() + "/ring-ref", Integer.toString(ref));
        xs.write(device.frontendPath() + "/event-channel", Integer.toString(port));
        xs.write(device.frontendPath() + "/protocol", "x86_64-abi");
        xs.write(device.frontendPath() + "/state", XenbusState.INITIALISED.toBytes());
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

    /** Fills one request (zeroed first) and pushes it, notifying the back end. */
    void push(final Consumer<BlkifRequestFlyweight> fill)
    {
        final int offset = ring.claimRequest();
        fill.accept(request.wrap(ringBuffer, offset).clear());
        ring.pushRequests();
        guest.hypercalls().eventChannelOp().send(port);
    }

    /** Pushes 112 raw bytes as a request. */
    void pushRaw(final byte[] bytes)
    {
        final int offset = ring.claimRequest();
        ringBuffer.putBytes(offset, bytes);
        ring.pushRequests();
        guest.hypercalls().eventChannelOp().send(port);
    }

    /** Overwrites the shared {@code req_prod}, as a hostile front end may. */
    void forceRequestProducer(final int value)
    {
        ringBuffer.putIntVolatile(SharedRingDescriptor.REQ_PROD_OFFSET, value);
        guest.hypercalls().eventChannelOp().send(port);
    }

    /** Waits for the next response: {id, operation, status}. */
    long[] awaitResponse()
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!ring.copyNextResponse(response, 0))
        {
            assertTrue(System.nanoTime() - deadline < 0, "no response in 30 s");
            Thread.onSpinWait();
        }
        return new long[] {
            response.getLong(BlkifResponseDescriptor.ID_OFFSET),
            response.getByte(BlkifResponseDescriptor.OPERATION_OFFSET) & 0xFF,
            response.getShort(BlkifResponseDescriptor.STATUS_OFFSET)};
    }

    @Override
    public void close()
    {
        back.close();
        xs.close();
        device.remove(machine.toolstack());
    }
}
