package io.pvio.bench.machine;

import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.stream.Stream;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import io.pvio.frontend.net.NetFront;
import io.pvio.frontend.net.NetFrontOptions;
import io.pvio.frontend.net.NetFrontState;
import io.pvio.hypervisor.grant.GrantTableOps;
import io.pvio.hypervisor.xenstore.XenStoreConnection;
import io.pvio.hypervisor.xenstore.XenbusDevice;
import io.pvio.hypervisor.xenstore.XenbusState;
import io.pvio.ring.BackRing;
import io.pvio.ring.SharedRingDescriptor;
import io.pvio.ring.netif.NetifDescriptor;
import io.pvio.ring.netif.NetifDescriptor.RxResponse;
import io.pvio.ring.netif.NetifDescriptor.TxResponse;
import io.pvio.ring.netif.NetifXenbusKeys;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * netfront against a back end played by hand (Xen protocol notes, section 7.4): the raw back end maps both rings
 * and answers what it likes; every impossible answer makes the interface {@link NetFrontState#BROKEN} naming it.
 */
class NetFrontHostileBackTest
{
    static Stream<Arguments> badAnswers()
    {
        return Stream.of(
            bad("tx response id not outstanding", "tx response id 200 is not outstanding",
                (back, rx) -> back.txResponse(200, NetifDescriptor.RSP_OKAY)),
            bad("tx response with an unknown status", "has status 7", (back, rx) -> back.txResponse(-1, (short)7)),
            bad("rx response id never posted", "rx response id 300 is not a posted buffer",
                (back, rx) -> back.rxResponse(300, 0, 0, 60)),
            bad("rx offset+status beyond the page", "offset 4000 + status 200 is beyond the page",
                (back, rx) -> back.rxResponse(rx, 4000, 0, 200)),
            bad("rx extra info never asked for", "flags extra info",
                (back, rx) -> back.rxResponse(rx, 0, RxResponse.FLAG_EXTRA_INFO, 60)),
            bad("rsp_prod beyond req_prod", "RESPONSE_PRODUCER_OVERFLOW", (back, rx) -> back.forceRxResponses(9000)));
    }

    private static Arguments bad(final String name, final String fault, final BiConsumer<RawNetBack, Integer> f)
    {
        return Arguments.of(name, fault, f);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badAnswers")
    void anImpossibleAnswerBreaksTheInterface(
        final String name, final String fault, final BiConsumer<RawNetBack, Integer> answer) throws Exception
    {
        try (PvMachine machine = PvMachine.start(8192, 2048))
        {
            final PvGuest guest = machine.createGuest("victim", 1024);
            final XenbusDevice device = XenbusDevice.create(machine.toolstack(), NetifXenbusKeys.DEVICE_TYPE,
                guest.domain().id(), machine.dom0().id(), 0, Map.of(), Map.of(NetifXenbusKeys.MAC,
                    "00:16:3e:00:00:09"));
            final RawNetBack back = new RawNetBack(machine, device);
            try
            {
                final NetFront front = NetFront.start(guest.domain(), machine.xenStore(), device.frontendPath(),
                    new NetFrontOptions().rxBuffers(8), (f, o, l) -> { });
                back.connect();
                assertTrue(front.awaitConnected(30, TimeUnit.SECONDS), front.state() + " " + front.brokenReason());
                // one real frame first, so a tx id is outstanding and the good path is seen to work
                final UnsafeBuffer frame = new UnsafeBuffer(NetRig.frame(-1L >>> 16, NetRig.mac(9), 60, 1));
                assertTrue(front.transmit(frame, 0, 60));
                final int firstRxId = back.firstPostedRxId();
                answer.accept(back, firstRxId);
                back.notifyFront();
                final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (NetFrontState.BROKEN != front.state())
                {
                    if (System.nanoTime() - deadline > 0)
                    {
                        fail(name + ": still " + front.state());
                    }
                    Thread.sleep(1);
                }
                assertTrue(front.brokenReason().contains(fault), name + ": " + front.brokenReason());
                assertEquals(1, front.counters().txFrames());
                back.close();
                front.close();
                assertEquals(NetFrontState.BROKEN, front.state());
            }
            finally
            {
                back.close();
            }
        }
    }

    /** A back end that maps the front end's rings and writes whatever the test asks. */
    static final class RawNetBack implements AutoCloseable
    {
        final PvMachine machine;
        final XenbusDevice device;
        final XenStoreConnection xs;
        final int[] handles = new int[2];
        BackRing tx;
        UnsafeBuffer txBuffer;
        BackRing rx;
        UnsafeBuffer rxBuffer;
        int port;
        private boolean closed;

        RawNetBack(final PvMachine machine, final XenbusDevice device)
        {
            this.machine = machine;
            this.device = device;
            this.xs = machine.xenStore().connect(machine.dom0().id());
            final String dir = device.backendPath() + '/';
            xs.write(dir + NetifXenbusKeys.FEATURE_RX_COPY, "1");
            xs.write(dir + NetifXenbusKeys.FEATURE_SG, "1");
            xs.write(dir + "state", XenbusState.INIT_WAIT.toBytes());
        }

        void connect()
        {
            final String front = device.frontendPath() + '/';
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!"4".equals(read(front + "state")))
            {
                assertTrue(System.nanoTime() - deadline < 0, "front end never connected");
                Thread.onSpinWait();
            }
            final int frontId = device.frontendDomid();
            final GrantTableOps grants = machine.dom0().hypercalls().grantTableOp();
            final UnsafeBuffer view = new UnsafeBuffer(0, 0);
            handles[0] = grants.map(frontId, Integer.parseInt(read(front + "tx-ring-ref")), false, view);
            txBuffer = new UnsafeBuffer(view.addressOffset(), 4096);
            tx = BackRing.attach(txBuffer, NetifDescriptor.txRing(1));
            handles[1] = grants.map(frontId, Integer.parseInt(read(front + "rx-ring-ref")), false, view);
            rxBuffer = new UnsafeBuffer(view.addressOffset(), 4096);
            rx = BackRing.attach(rxBuffer, NetifDescriptor.rxRing(1));
            port = machine.dom0().hypercalls().eventChannelOp().bindInterdomain(frontId,
                Integer.parseInt(read(front + "event-channel")));
            xs.write(device.backendPath() + "/state", XenbusState.CONNECTED.toBytes());
        }

        int firstPostedRxId()
        {
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (0 == rx.unconsumedRequests())
            {
                assertTrue(System.nanoTime() - deadline < 0, "no receive buffer posted");
                Thread.onSpinWait();
            }
            return rxBuffer.getShort(rx.entryOffset(rx.requestConsumerIndex()) +
                NetifDescriptor.RxRequest.ID_OFFSET) & 0xFFFF;
        }

        void txResponse(final int id, final short status)
        {
            final UnsafeBuffer copy = new UnsafeBuffer(new byte[12]);
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!tx.copyNextRequest(copy, 0))
            {
                assertTrue(System.nanoTime() - deadline < 0, "no transmit request");
                Thread.onSpinWait();
            }
            final int slot = tx.claimResponse();
            txBuffer.putShort(slot + TxResponse.ID_OFFSET,
                (short)(id < 0 ? copy.getShort(NetifDescriptor.TxRequest.ID_OFFSET) : id));
            txBuffer.putShort(slot + TxResponse.STATUS_OFFSET, status);
            tx.pushResponses();
        }

        void rxResponse(final int id, final int offset, final int flags, final int status)
        {
            final UnsafeBuffer copy = new UnsafeBuffer(new byte[8]);
            assertTrue(rx.copyNextRequest(copy, 0));
            final int slot = rx.claimResponse();
            rxBuffer.putShort(slot + RxResponse.ID_OFFSET, (short)id);
            rxBuffer.putShort(slot + RxResponse.OFFSET_OFFSET, (short)offset);
            rxBuffer.putShort(slot + RxResponse.FLAGS_OFFSET, (short)flags);
            rxBuffer.putShort(slot + RxResponse.STATUS_OFFSET, (short)status);
            rx.pushResponses();
        }

        void forceRxResponses(final int value)
        {
            rxBuffer.putIntVolatile(SharedRingDescriptor.RSP_PROD_OFFSET, value);
        }

        void notifyFront()
        {
            machine.dom0().hypercalls().eventChannelOp().send(port);
        }

        private String read(final String path)
        {
            try
            {
                return xs.readString(path);
            }
            catch (final RuntimeException ex)
            {
                return null;
            }
        }

        @Override
        public void close()
        {
            if (closed)
            {
                return;
            }
            closed = true;
            final GrantTableOps grants = machine.dom0().hypercalls().grantTableOp();
            if (null != tx)
            {
                grants.unmap(handles[0]);
                grants.unmap(handles[1]);
                machine.dom0().hypercalls().eventChannelOp().close(port);
            }
            xs.write(device.backendPath() + "/state", XenbusState.CLOSED.toBytes());
            xs.close();
        }
    }
}
