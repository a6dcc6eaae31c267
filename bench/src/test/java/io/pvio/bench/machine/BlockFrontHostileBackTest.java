package io.pvio.bench.machine;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import io.pvio.frontend.block.BlockFront;
import io.pvio.frontend.block.BlockFrontException;
import io.pvio.frontend.block.BlockFrontOptions;
import io.pvio.frontend.block.BlockFrontState;
import io.pvio.hypervisor.xenstore.XenStoreConnection;
import io.pvio.hypervisor.xenstore.XenbusDevice;
import io.pvio.hypervisor.xenstore.XenbusState;
import io.pvio.ring.BackRing;
import io.pvio.ring.SharedRingDescriptor;
import io.pvio.ring.blkif.BlkifRequestDescriptor;
import io.pvio.ring.blkif.BlkifResponseFlyweight;
import io.pvio.ring.blkif.BlkifXenbusKeys;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * blkfront against a back end played by hand (Xen protocol notes, section 7.4): a response with an unknown id, a
 * duplicate, the wrong operation or an impossible {@code rsp_prod} makes the device broken; the outstanding I/O fails
 * with a message naming the violation, no data is copied into the caller's buffer, and later I/O fails at once.
 */
class BlockFrontHostileBackTest
{
    private static final long SECTORS = 8192;

    @Test
    void aResponseWithAnUnknownIdBreaksTheDevice() throws Exception
    {
        assertBroken("not below ring size", (ring) -> respond(ring, 1000, 0));
    }

    @Test
    void aDuplicateResponseBreaksTheDevice() throws Exception
    {
        assertBroken("not in flight", (ring) ->
        {
            final long id = lastRequestId;
            respond(ring, id, 0);
            respond(ring, id, 0);
            return 0;
        });
    }

    @Test
    void aResponseWithTheWrongOperationBreaksTheDevice() throws Exception
    {
        assertBroken("does not match", (ring) -> respond(ring, lastRequestId, 1));
    }

    @Test
    void anImpossibleResponseProducerBreaksTheDevice() throws Exception
    {
        assertBroken("rsp_prod", (ring) ->
        {
            rawRing.putIntVolatile(SharedRingDescriptor.RSP_PROD_OFFSET, 1000);
            return 0;
        });
    }

    private static long lastRequestId;
    private static UnsafeBuffer rawRing;

    private static int respond(final BackRing ring, final long id, final int operation)
    {
        final int offset = ring.claimResponse();
        new BlkifResponseFlyweight().wrap(rawRing, offset).write(id, operation, (short)0);
        ring.pushResponses();
        return 0;
    }

    private void assertBroken(final String violation, final Hostile hostile) throws Exception
    {
        try (PvMachine machine = PvMachine.start(8192, 2048))
        {
            final PvGuest guest = machine.createGuest("victim", 1024);
            final XenbusDevice device = XenbusDevice.create(machine.toolstack(), BlkifXenbusKeys.DEVICE_TYPE,
                guest.domain().id(), 0, 51712, Map.of(), Map.of());
            final XenStoreConnection xs = machine.xenStore().connect(0);
            final String back = device.backendPath();
            xs.write(back + "/sectors", Long.toString(SECTORS));
            xs.write(back + "/sector-size", "512");
            xs.write(back + "/info", "0");
            xs.write(back + "/feature-flush-cache", "1");
            xs.write(back + "/state", XenbusState.INIT_WAIT.toBytes());
            final BlockFront front = BlockFront.start(guest.domain(), machine.xenStore(), device.frontendPath(),
                new BlockFrontOptions().persistentGrants(false).maxIndirectSegments(0));
            awaitState(xs, device.frontendPath() + "/state", XenbusState.INITIALISED);
            final int ref = Integer.parseInt(xs.readString(device.frontendPath() + "/ring-ref"));
            final int remotePort = Integer.parseInt(xs.readString(device.frontendPath() + "/event-channel"));
            final UnsafeBuffer view = new UnsafeBuffer(0, 0);
            final int handle = machine.dom0().hypercalls().grantTableOp().map(guest.domain().id(), ref, false, view);
            assertTrue(handle >= 0);
            rawRing = view;
            final BackRing ring = BackRing.attach(view, BlkifRequestDescriptor.blkifRing(1));
            final int port = machine.dom0().hypercalls().eventChannelOp().bindInterdomain(guest.domain().id(),
                remotePort);
            xs.write(back + "/state", XenbusState.CONNECTED.toBytes());
            assertTrue(front.awaitConnected(30, TimeUnit.SECONDS));

            final UnsafeBuffer target = new UnsafeBuffer(new byte[4096]);
            target.setMemory(0, 4096, (byte)0x5A);
            final CompletableFuture<Void> read = front.read(0, target, 0, 4096);
            final CompletableFuture<Void> second = front.read(8, new UnsafeBuffer(new byte[4096]), 0, 4096);
            final UnsafeBuffer request = new UnsafeBuffer(new byte[112]);
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            for (int taken = 0; taken < 2; )
            {
                if (ring.copyNextRequest(request, 0))
                {
                    if (0 == taken)
                    {
                        lastRequestId = request.getLong(BlkifRequestDescriptor.ID_OFFSET);
                    }
                    taken++;
                    continue;
                }
                assertTrue(System.nanoTime() - deadline < 0, "no request came");
                Thread.onSpinWait();
            }
            hostile.act(ring);
            machine.dom0().hypercalls().eventChannelOp().send(port);

            // the second read is never answered properly, so it always fails; the first fails too unless its own
            // (valid) response came before the violation
            final ExecutionException failure = assertThrows(ExecutionException.class,
                () -> second.get(30, TimeUnit.SECONDS));
            final BlockFrontException cause = (BlockFrontException)failure.getCause();
            final boolean firstAnswered = !read.handle((v, e) -> null != e).get(30, TimeUnit.SECONDS);
            assertEquals(BlockFrontException.Reason.BROKEN, cause.reason());
            assertTrue(cause.getMessage().contains(violation), cause.getMessage());
            assertEquals(BlockFrontState.BROKEN, front.state());
            assertNotNull(front.brokenReason());
            for (int i = 0; i < 4096 && !firstAnswered; i++)
            {
                assertEquals((byte)0x5A, target.getByte(i), "nothing was copied into the caller's buffer");
            }
            final BlockFrontException later = assertThrows(BlockFrontException.class,
                () -> front.readBlocking(0, target, 0, 512));
            assertEquals(BlockFrontException.Reason.BROKEN, later.reason());

            machine.dom0().hypercalls().grantTableOp().unmap(handle);
            front.close();
            xs.close();
        }
    }

    private static void awaitState(final XenStoreConnection xs, final String path, final XenbusState wanted)
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!wanted.equals(XenbusState.parse(xs.readString(path))))
        {
            assertTrue(System.nanoTime() - deadline < 0, path + " never became " + wanted);
            Thread.onSpinWait();
        }
    }

    /** What the hostile back end does once it has the request. */
    @FunctionalInterface
    private interface Hostile
    {
        int act(BackRing ring);
    }
}
