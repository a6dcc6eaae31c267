package io.pvio.bench.machine;

import io.pvio.backend.net.Bridge;
import io.pvio.frontend.e1000.E1000Nic;
import io.pvio.frontend.net.NetFrontOptions;
import io.pvio.frontend.net.NetReceiver;
import io.pvio.hypervisor.sched.Vcpu;
import io.pvio.hypervisor.sched.VcpuTask;
import io.pvio.machine.cpu.ExitReason;
import io.pvio.machine.device.E1000;
import io.pvio.machine.vm.PagingMode;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Random;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The emulated e1000 NIC end to end on a machine with physical CPUs: the guest's unmodified driver on its vCPU, the
 * device model on the hardware (native) or in dom0 behind an ioreq server (full), both ports of dom0's bridge;
 * frames checked byte for byte between two emulated guests and between an emulated guest and a PV guest's vif, the
 * documented register count as exits in full mode and none natively, and a hostile guest's register and descriptor
 * values answered with stopped queues and error reports while the other guests carry on.
 */
class EmulatedNicTest
{
    private static final long TIMEOUT_SECONDS = 30;
    private static final int ETHERTYPE = 0x88B5;
    private static final long MAC_A = 0x00163E0000A1L;
    private static final long MAC_B = 0x00163E0000B2L;
    private static final long MAC_C = 0x00163E0000C3L;
    private static final int[] SIZES = {60, 1514};

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = PagingMode.class, names = {"NATIVE", "FULL"})
    void twoEmulatedGuestsExchangeSixtyAndFifteenFourteenByteFrames(final PagingMode mode) throws Exception
    {
        try (PvMachine machine = PvMachine.start(16_384, 2048, new MachineOptions()))
        {
            final Bridge bridge = new Bridge();
            final PvGuest a = machine.createGuest("a", 4096, new GuestOptions().mode(mode));
            final PvGuest b = machine.createGuest("b", 4096, new GuestOptions().mode(mode));
            final int pagesBefore = a.pages().inUse();
            final Frames toA = new Frames();
            final Frames toB = new Frames();
            final EmulatedNic nicA = machine.attachEmulatedNic(a, bridge, MAC_A, toA);
            final EmulatedNic nicB = machine.attachEmulatedNic(b, bridge, MAC_B, toB);
            assertEquals(PagingMode.FULL == mode, nicA.isEmulated());
            final Random random = new Random(12);
            int frames = 0;
            for (int round = 0; round < 20; round++)
            {
                for (final int size : SIZES)
                {
                    exchange(random, size, MAC_A, MAC_B, nicA::transmitFrame, toB);
                    exchange(random, size, MAC_B, MAC_A, nicB::transmitFrame, toA);
                    frames++;
                }
            }
            awaitCount(() -> nicA.driver().framesSent(), frames, "a's transmissions reaped");
            awaitCount(() -> nicB.driver().framesSent(), frames, "b's transmissions reaped");
            assertEquals(frames, nicA.driver().framesReceived());
            assertEquals(frames, nicB.driver().framesReceived());
            assertEquals(frames, nicA.driver().copies(), "one copy per frame sent, none per frame received");
            assertEquals(frames, nicB.driver().copies());
            assertEquals(0, nicA.device().errors() + nicB.device().errors());
            assertEquals(0, nicA.device().rxMissed() + nicB.device().rxMissed());
            assertTrue(nicB.interrupts() > 0, "frames came by interrupt");
            if (PagingMode.FULL == mode)
            {
                awaitCount(nicA::registerAccesses, nicA.exits(), "the last access returned");
                assertEquals(nicA.registerAccesses(), nicA.exits(), "every register access exits");
                assertEquals(nicA.registerAccesses(), nicA.ioreqs(), "and goes to dom0's model");
                assertTrue(a.domain().vcpu(0).cpu().counters().injected() >= nicA.interrupts());
            }
            else
            {
                assertEquals(0, a.domain().vcpu(0).cpu().counters().exits(), "natively nothing exits");
                assertEquals(0, nicA.ioreqs());
            }
            nicA.close();
            assertEquals(pagesBefore, a.pages().inUse(), "the driver gave its rings and buffers back");
        }
    }

    @Test
    void aLonePacketCostsTheDocumentedTwoExitsOnEachSideInFullMode() throws Exception
    {
        try (PvMachine machine = PvMachine.start(16_384, 2048, new MachineOptions()))
        {
            final Bridge bridge = new Bridge();
            final PvGuest a = machine.createGuest("a", 4096, new GuestOptions().mode(PagingMode.FULL));
            final PvGuest b = machine.createGuest("b", 4096, new GuestOptions().mode(PagingMode.FULL));
            final Frames toA = new Frames();
            final Frames toB = new Frames();
            final EmulatedNic nicA = machine.attachEmulatedNic(a, bridge, MAC_A, toA);
            final EmulatedNic nicB = machine.attachEmulatedNic(b, bridge, MAC_B, toB);
            final Random random = new Random(7);
            final int n = 100;
            for (int i = 0; i < n; i++)
            {
                exchange(random, SIZES[i & 1], MAC_A, MAC_B, nicA::transmitFrame, toB);
                // the next frame only once the sender has handled its transmit interrupt and the receiver its refill
                final int sent = i + 1;
                awaitCount(() -> nicA.driver().framesSent(), sent, "a's transmit interrupt");
                awaitCount(nicB::registerAccesses, (long)E1000.ACCESSES_PER_LONE_PACKET * sent, "b's refill");
            }
            // the last ICR read's exit is counted before the access returns to the driver: let it return
            awaitCount(nicA::registerAccesses, (long)E1000.ACCESSES_PER_LONE_PACKET * n, "a's last ICR read");
            assertEquals((long)E1000.ACCESSES_PER_LONE_PACKET * n, nicA.exits(), "sender: TDT write + ICR read");
            assertEquals((long)E1000.ACCESSES_PER_LONE_PACKET * n, nicA.ioreqs());
            assertEquals((long)E1000.ACCESSES_PER_LONE_PACKET * n, nicA.registerAccesses());
            assertEquals((long)E1000.ACCESSES_PER_LONE_PACKET * n, nicB.exits(), "receiver: ICR read + RDT write");
            assertEquals((long)E1000.ACCESSES_PER_LONE_PACKET * n, nicB.registerAccesses());
            assertEquals(n, nicA.interrupts(), "one transmit interrupt per lone packet");
            assertEquals(n, nicB.interrupts(), "one receive interrupt per lone packet");
            assertEquals(E1000.ACCESSES_PER_LONE_PACKET, nicA.exitsPerPacket(), 1e-9);
            assertEquals(1.0, nicB.interruptsPerPacket(), 1e-9);
        }
    }

    @Test
    void anEmulatedGuestAndAPvGuestsVifExchangeFramesOnOneBridge() throws Exception
    {
        try (PvMachine machine = PvMachine.start(16_384, 2048, new MachineOptions()))
        {
            final Bridge bridge = new Bridge();
            final PvGuest hvm = machine.createGuest("hvm", 4096, new GuestOptions().mode(PagingMode.FULL));
            final PvGuest pv = machine.createGuest("pv", 2048, new GuestOptions().mode(PagingMode.PARA));
            final Frames toHvm = new Frames();
            final Frames toPv = new Frames();
            final EmulatedNic nic = machine.attachEmulatedNic(hvm, bridge, MAC_A, toHvm);
            final PvVif vif = machine.attachVif(pv, bridge, 0, "00:16:3e:00:00:b2", new NetFrontOptions(), toPv);
            final Random random = new Random(3);
            for (int round = 0; round < 10; round++)
            {
                for (final int size : SIZES)
                {
                    exchange(random, size, MAC_A, MAC_B, nic::transmitFrame, toPv);
                    exchange(random, size, MAC_B, MAC_A, (f, l) -> vif.front().transmit(f, 0, l), toHvm);
                }
            }
            assertEquals(0, nic.device().errors());
            assertEquals(20, nic.driver().framesReceived());
        }
    }

    @Test
    void hostileRegisterAndDescriptorValuesStopTheQueueWithAnErrorAndTheOthersCarryOn() throws Exception
    {
        try (PvMachine machine = PvMachine.start(32_768, 2048, new MachineOptions()))
        {
            final Bridge bridge = new Bridge();
            final PvGuest a = machine.createGuest("a", 4096, new GuestOptions().mode(PagingMode.FULL));
            final PvGuest b = machine.createGuest("b", 4096, new GuestOptions().mode(PagingMode.FULL));
            final PvGuest bad = machine.createGuest("bad", 4096, new GuestOptions().mode(PagingMode.FULL));
            final Frames toA = new Frames();
            final Frames toB = new Frames();
            final Frames toBad = new Frames();
            final EmulatedNic nicA = machine.attachEmulatedNic(a, bridge, MAC_A, toA);
            final EmulatedNic nicB = machine.attachEmulatedNic(b, bridge, MAC_B, toB);
            final EmulatedNic nicBad = machine.attachEmulatedNic(bad, bridge, MAC_C, toBad);
            final Random random = new Random(9);
            exchange(random, 60, MAC_A, MAC_B, nicA::transmitFrame, toB);
            exchange(random, 60, MAC_B, MAC_A, nicB::transmitFrame, toA);

            // the hostile kernel's register writes, as dom0's model receives them from the trapped accesses
            final Hostile h = new Hostile(nicBad, bad);
            final long txRing = h.read(E1000.TDBAL) & 0xFFFF_FFFFL;
            final long rxRing = h.read(E1000.RDBAL) & 0xFFFF_FFFFL;
            h.tx(E1000.TDBAL, (int)txRing + 8, "not 16-byte aligned");
            h.tx(E1000.TDLEN, 100, "not a positive multiple of 128");
            h.tx(E1000.TDLEN, 0, "not a positive multiple of 128");
            h.tx(E1000.TDLEN, -128, "not a positive multiple of 128");
            h.tx(E1000.TDH, 5000, "past the ring");
            h.tx(E1000.TDBAL, 0xF000_0000, "not guest memory");
            h.tx(E1000.TDBAH, 0x7FFF, "not guest memory");
            // descriptors in the guest's own ring: a buffer outside its memory, an over-long buffer, a long chain
            h.descriptor(txRing, 0, 0x7FFF_0000_0000L, 60, E1000.TXD_CMD_EOP | E1000.TXD_CMD_RS);
            h.tx(E1000.TDT, 1, "not guest memory");
            h.descriptor(txRing, 0, txRing, 0xFFFF, E1000.TXD_CMD_EOP | E1000.TXD_CMD_RS);
            h.tx(E1000.TDT, 1, "at most 16384");
            for (int i = 0; i < 3; i++)
            {
                h.descriptor(txRing, i, txRing, 8000, 2 == i ? E1000.TXD_CMD_EOP : 0);
            }
            h.tx(E1000.TDT, 3, "at most 16384");
            h.txTailPastTheRing();
            // the receive queue: a tail past the ring, a bad length, a buffer outside the guest
            h.rx(E1000.RDT, 64, "past the ring", false);
            h.rx(E1000.RDLEN, 1000, "not a positive multiple of 128", true);
            h.rx(E1000.RDBAL, 0xF000_0000, "not guest memory", true);
            h.rxDescriptor(rxRing, 0x7FFF_0000_0000L);
            // accesses the window does not take are refused and counted
            final long refusedBefore = nicBad.device().badAccesses();
            assertEquals(0xFFFF_FFFFL, nicBad.device().read(true, EmulatedNic.BAR + 2, 4));
            assertEquals(-1L, nicBad.device().read(true, EmulatedNic.BAR, 8));
            assertEquals(0xFFFF_FFFFL, nicBad.device().read(true, EmulatedNic.BAR + E1000.BAR_LENGTH, 4));
            nicBad.device().write(false, EmulatedNic.BAR + E1000.TDT, 4, 7);
            assertEquals(refusedBefore + 4, nicBad.device().badAccesses());
            // the trapped path: the hostile guest's own vCPU writes a tail past the ring, which exits to dom0
            final long exitsBefore = bad.domain().vcpu(0).cpu().counters().exits(ExitReason.EPT_VIOLATION);
            final long errorsBefore = nicBad.device().errors();
            final AtomicBoolean done = new AtomicBoolean();
            final Vcpu vcpu = bad.domain().vcpu(0);
            vcpu.addTask(new VcpuTask()
            {
                @Override
                public int doWork()
                {
                    if (done.get())
                    {
                        return 0;
                    }
                    // may stop for the device model: the retry issues this same write
                    vcpu.cpu().mmioWrite(EmulatedNic.BAR + E1000.TDT, 4, 64);
                    done.set(true);
                    return 1;
                }

                @Override
                public String roleName()
                {
                    return "hostile-kernel";
                }
            });
            awaitCount(nicBad.device()::errors, errorsBefore + 1, "the trapped TDT write's error");
            assertTrue(nicBad.device().lastError().contains("past the ring"), nicBad.device().lastError());
            assertTrue(vcpu.cpu().counters().exits(ExitReason.EPT_VIOLATION) > exitsBefore, "the write trapped");

            // the good guests never noticed
            for (int i = 0; i < 20; i++)
            {
                exchange(random, SIZES[i & 1], MAC_A, MAC_B, nicA::transmitFrame, toB);
                exchange(random, SIZES[i & 1], MAC_B, MAC_A, nicB::transmitFrame, toA);
            }
            assertEquals(0, nicA.device().errors() + nicB.device().errors());
            assertTrue(toBad.queue.isEmpty(), "nothing reached the hostile guest");
        }
    }

    @Test
    void transmitReturnsFalseWhenEveryDescriptorIsInFlightAndTheFramesGoOnceTheQueueRuns() throws Exception
    {
        try (PvMachine machine = PvMachine.start(16_384, 2048, new MachineOptions()))
        {
            final Bridge bridge = new Bridge();
            final PvGuest a = machine.createGuest("a", 4096, new GuestOptions().mode(PagingMode.FULL));
            final PvGuest b = machine.createGuest("b", 4096, new GuestOptions().mode(PagingMode.FULL));
            final Frames toB = new Frames();
            final EmulatedNic nicA = machine.attachEmulatedNic(a, bridge, MAC_A, (f, o, l) -> { });
            final EmulatedNic nicB = machine.attachEmulatedNic(b, bridge, MAC_B, toB);
            // the transmitter is off (as the device's own register path would have it): nothing completes
            nicA.device().write(true, EmulatedNic.BAR + E1000.TCTL, 4, 0);
            final Random random = new Random(4);
            final UnsafeBuffer[] frames = new UnsafeBuffer[E1000Nic.RING_DESCRIPTORS - 1];
            for (int i = 0; i < frames.length; i++)
            {
                frames[i] = frame(random, 60 + i, MAC_A, MAC_B);
                assertTrue(nicA.transmitFrame(frames[i], 60 + i), "descriptor " + i);
            }
            assertFalse(nicA.transmitFrame(frames[0], 60), "every descriptor but the ring's spare is in flight");
            assertEquals(1, nicA.driver().transmitRefusals());
            nicA.device().write(true, EmulatedNic.BAR + E1000.TCTL, 4, E1000.CTL_EN);
            for (int i = 0; i < frames.length; i++)
            {
                final byte[] got = toB.queue.poll(TIMEOUT_SECONDS, TimeUnit.SECONDS);
                assertNotNull(got, "frame " + i);
                assertArrayEquals(frames[i].byteArray(), got, "frame " + i);
            }
            awaitCount(() -> nicA.driver().framesSent(), frames.length, "all reaped");
            // the 63 frames filled b's receive ring: b's driver hands each up before it gives the descriptors back, so
            // a frame sent before that would be dropped (missed), as a real e1000 drops one with no free descriptor
            awaitCount(() -> freeReceiveDescriptors(nicB) > 0 ? 1 : 0, 1, "b's receive ring refilled");
            exchange(random, 1514, MAC_A, MAC_B, nicA::transmitFrame, toB);
            assertEquals(0, nicB.device().rxMissed());
        }
    }

    @Test
    void paraGuestsHaveNoEmulatedNic()
    {
        try (PvMachine machine = PvMachine.start(16_384, 2048, new MachineOptions()))
        {
            final PvGuest para = machine.createGuest("pv", 2048, new GuestOptions().mode(PagingMode.PARA));
            final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
                () -> machine.attachEmulatedNic(para, new Bridge(), MAC_A, (f, o, l) -> { }));
            assertTrue(ex.getMessage().contains("para guest"), ex.getMessage());
        }
    }

    // ------------------------------------------------------------------------------------------------ helpers

    /** Sends one random frame and checks it arrives intact. */
    private static void exchange(
        final Random random, final int size, final long from, final long to, final Sender sender, final Frames at)
        throws InterruptedException
    {
        final UnsafeBuffer sent = frame(random, size, from, to);
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS);
        while (!sender.send(sent, size))
        {
            assertTrue(System.nanoTime() < deadline, "the ring stayed full");
            Thread.sleep(1);
        }
        final byte[] got = at.queue.poll(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        assertNotNull(got, "a frame of " + size + " bytes did not arrive");
        assertArrayEquals(sent.byteArray(), got, "frame of " + size + " bytes");
    }

    private static UnsafeBuffer frame(final Random random, final int size, final long from, final long to)
    {
        final UnsafeBuffer frame = new UnsafeBuffer(new byte[size]);
        random.nextBytes(frame.byteArray());
        for (int i = 0; i < 6; i++)
        {
            frame.putByte(i, (byte)(to >>> (40 - 8 * i)));
            frame.putByte(6 + i, (byte)(from >>> (40 - 8 * i)));
        }
        frame.putByte(12, (byte)(ETHERTYPE >>> 8));
        frame.putByte(13, (byte)ETHERTYPE);
        return frame;
    }

    /** Descriptors from RDH up to RDT, which the device may fill. */
    private static long freeReceiveDescriptors(final EmulatedNic nic)
    {
        final long head = nic.device().read(true, EmulatedNic.BAR + E1000.RDH, 4);
        final long tail = nic.device().read(true, EmulatedNic.BAR + E1000.RDT, 4);
        return Math.floorMod(tail - head, E1000Nic.RING_DESCRIPTORS);
    }

    private static void awaitCount(final LongSupplier count, final long expected, final String what)
        throws InterruptedException
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS);
        while (count.getAsLong() < expected)
        {
            assertTrue(System.nanoTime() < deadline, what + ": " + count.getAsLong() + " of " + expected);
            Thread.sleep(1);
        }
        assertEquals(expected, count.getAsLong(), what);
    }

    /** One way of sending a whole frame from offset 0. */
    @FunctionalInterface
    private interface Sender
    {
        boolean send(DirectBuffer frame, int length);
    }

    /** The frames a guest received, copied. */
    private static final class Frames implements NetReceiver
    {
        final BlockingQueue<byte[]> queue = new ArrayBlockingQueue<>(1024);

        @Override
        public void onFrame(final DirectBuffer frame, final int offset, final int length)
        {
            final byte[] copy = new byte[length];
            frame.getBytes(offset, copy);
            queue.add(copy);
        }
    }

    /** A hostile kernel's register values and descriptors, each case started from a freshly enabled queue. */
    private static final class Hostile
    {
        private final EmulatedNic nic;
        private final PvGuest guest;
        private final int[] saved = new int[0x6000];

        Hostile(final EmulatedNic nic, final PvGuest guest)
        {
            this.nic = nic;
            this.guest = guest;
            for (final int offset : new int[] {E1000.TDBAL, E1000.TDBAH, E1000.TDLEN, E1000.RDBAL, E1000.RDBAH,
                E1000.RDLEN, E1000.RDT})
            {
                saved[offset] = read(offset);
            }
        }

        int read(final int offset)
        {
            return (int)nic.device().read(true, EmulatedNic.BAR + offset, 4);
        }

        void write(final int offset, final int value)
        {
            nic.device().write(true, EmulatedNic.BAR + offset, 4, value & 0xFFFF_FFFFL);
        }

        /** Restores the transmit queue's sane values, sets one hostile register and kicks the queue. */
        void tx(final int offset, final int value, final String expected)
        {
            write(E1000.TCTL, 0);
            write(E1000.TDBAL, saved[E1000.TDBAL]);
            write(E1000.TDBAH, saved[E1000.TDBAH]);
            write(E1000.TDLEN, saved[E1000.TDLEN]);
            write(E1000.TDH, 0);
            write(E1000.TDT, 0);
            write(E1000.TCTL, E1000.CTL_EN);
            final long errors = nic.device().errors();
            write(offset, value);
            if (E1000.TDT != offset)
            {
                write(E1000.TDT, 1);
            }
            check(errors, expected, true, E1000.TCTL);
        }

        void txTailPastTheRing()
        {
            tx(E1000.TDT, 64, "past the ring");
            // the stopped queue takes nothing until enabled again, even a sane tail
            final long errors = nic.device().errors();
            write(E1000.TDT, 0);
            assertEquals(errors, nic.device().errors());
            assertTrue(nic.device().stopped(true));
            // enabling it again restarts it, with sane values
            write(E1000.TCTL, 0);
            write(E1000.TDT, 0);
            write(E1000.TCTL, E1000.CTL_EN);
            assertFalse(nic.device().stopped(true));
        }

        void rx(final int offset, final int value, final String expected, final boolean deliver)
        {
            write(E1000.RCTL, 0);
            write(E1000.RDBAL, saved[E1000.RDBAL]);
            write(E1000.RDBAH, saved[E1000.RDBAH]);
            write(E1000.RDLEN, saved[E1000.RDLEN]);
            write(E1000.RDH, 0);
            write(E1000.RDT, saved[E1000.RDT]);
            write(E1000.RCTL, E1000.CTL_EN);
            final long errors = nic.device().errors();
            write(offset, value);
            if (deliver)
            {
                deliverOne();
            }
            check(errors, expected, false, E1000.RCTL);
        }

        void rxDescriptor(final long ring, final long address)
        {
            rx(E1000.RDH, 0, null, false);
            guest.domain().guestFrame(ring >>> 12).putLong((int)(ring & 0xFFF), address);
            final long errors = nic.device().errors();
            final long missed = nic.device().rxMissed();
            deliverOne();
            check(errors, "not guest memory", false, E1000.RCTL);
            assertEquals(missed + 1, nic.device().rxMissed(), "the frame was dropped");
        }

        private void deliverOne()
        {
            final UnsafeBuffer frame = frame(new Random(1), 60, MAC_A, MAC_C);
            nic.device().deliver(frame, 0, 60);
        }

        void descriptor(final long ring, final int index, final long address, final int length, final int cmd)
        {
            final UnsafeBuffer page = guest.domain().guestFrame(ring >>> 12);
            final int at = (int)(ring & 0xFFF) + index * E1000.DESCRIPTOR_BYTES;
            page.putLong(at, address);
            page.putInt(at + E1000.DESC_LENGTH, length | cmd << 24);
            page.putInt(at + E1000.TXD_STATUS, 0);
        }

        private void check(final long errorsBefore, final String expected, final boolean transmit, final int ctl)
        {
            if (null == expected)
            {
                assertEquals(errorsBefore, nic.device().errors(), nic.device().lastError());
                return;
            }
            assertEquals(errorsBefore + 1, nic.device().errors(), "an error for: " + expected);
            assertTrue(nic.device().lastError().contains(expected), nic.device().lastError());
            assertTrue(nic.device().stopped(transmit), "the queue stopped");
            assertEquals(0, read(ctl) & E1000.CTL_EN, "EN reads back clear");
        }
    }
}
