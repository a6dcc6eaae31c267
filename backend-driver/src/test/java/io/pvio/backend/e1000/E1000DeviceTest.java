package io.pvio.backend.e1000;

import io.pvio.backend.net.Bridge;
import io.pvio.hypervisor.Domain;
import io.pvio.hypervisor.Hypervisor;
import io.pvio.machine.device.E1000;
import io.pvio.machine.memory.MachineMemory;
import io.pvio.machine.vm.PagingMode;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The e1000 device model driven register by register from the test thread, as a driver would, with a second bridge
 * port standing for another guest: chained transmit descriptors make one frame with DD written back, received
 * frames fill the free descriptors and the rest are missed and counted, ICR clears on read and the interrupt is one
 * message per cause until then, and the address filter takes only this NIC's frames.
 */
class E1000DeviceTest
{
    private static final long BAR = 0xFEB8_0000L;
    private static final long MAC = 0x00163E000001L;
    private static final long PEER_MAC = 0x00163E000002L;
    private static final long RX_RING_GFN = 1;
    private static final long TX_RING_GFN = 2;
    private static final long BUFFER_GFN = 8;
    private static final int DESCRIPTORS = 8;

    private Hypervisor hypervisor;
    private Domain guest;
    private Bridge bridge;
    private E1000Device device;
    private int peerPort;
    private final List<byte[]> atPeer = new ArrayList<>();
    private int interrupts;

    @BeforeEach
    void start()
    {
        hypervisor = new Hypervisor(new MachineMemory(1024L * MachineMemory.FRAME_SIZE), 128, 1);
        guest = hypervisor.dom0().hypercalls().createDomain("hvm", 64, 1, PagingMode.FULL);
        bridge = new Bridge();
        peerPort = bridge.addPort("peer", (frame, offset, length) ->
        {
            final byte[] copy = new byte[length];
            frame.getBytes(offset, copy);
            atPeer.add(copy);
        });
        device = new E1000Device(hypervisor.memory(), guest, BAR, MAC, bridge, "e1000", () -> interrupts++);
    }

    @AfterEach
    void stop()
    {
        device.close();
        hypervisor.close();
    }

    @Test
    void afterResetTheMacIsInTheReceiveAddressAndTheLinkIsUp()
    {
        write(E1000.CTRL, E1000.CTRL_RST);
        assertEquals(0x3E1600, reg(E1000.RAL0) & 0xFFFFFF, "bytes 0..2 of 00:16:3e:00:00:01, first lowest");
        assertEquals(E1000.RAH_AV | 0x0100, reg(E1000.RAH0));
        assertTrue(0 != (reg(E1000.STATUS) & E1000.STATUS_LU));
    }

    @Test
    void chainedTransmitDescriptorsMakeOneFrameWithDdWrittenBack()
    {
        bringUp();
        final byte[] frame = frame(new Random(1), 60, MAC, PEER_MAC);
        final UnsafeBuffer buffers = guest.guestFrame(BUFFER_GFN);
        buffers.putBytes(0, frame, 0, 30);
        buffers.putBytes(2048, frame, 30, 30);
        descriptor(0, BUFFER_GFN << 12, 30, E1000.TXD_CMD_IFCS);
        descriptor(1, (BUFFER_GFN << 12) + 2048, 30, E1000.TXD_CMD_EOP | E1000.TXD_CMD_IFCS | E1000.TXD_CMD_RS);

        write(E1000.TDT, 1); // the chain's end is not the device's yet: it waits
        assertEquals(0, atPeer.size());
        assertEquals(0, reg(E1000.TDH));
        write(E1000.TDT, 2);
        assertEquals(1, atPeer.size());
        assertArrayEquals(frame, atPeer.get(0), "one frame of both buffers");
        assertEquals(2, reg(E1000.TDH));
        final UnsafeBuffer ring = guest.guestFrame(TX_RING_GFN);
        assertEquals(E1000.STA_DD, ring.getByte(E1000.DESCRIPTOR_BYTES + E1000.TXD_STATUS) & 0xFF, "DD");
        assertEquals(1, interrupts);
        assertEquals(E1000.ICR_TXDW, reg(E1000.ICR));
        assertEquals(0, reg(E1000.ICR), "ICR clears on read");
        assertEquals(0, device.errors());
    }

    @Test
    void aChainGivenOneTailWriteAtATimeIsFetchedOnceAndSentWhole()
    {
        bringUp();
        final byte[] frame = frame(new Random(4), 400, MAC, PEER_MAC);
        final UnsafeBuffer buffers = guest.guestFrame(BUFFER_GFN);
        for (int i = 0; i < 4; i++)
        {
            buffers.putBytes(i * 1024, frame, i * 100, 100);
            descriptor(i, (BUFFER_GFN << 12) + i * 1024, 100,
                3 == i ? E1000.TXD_CMD_EOP | E1000.TXD_CMD_RS : E1000.TXD_CMD_IFCS);
        }
        write(E1000.TDT, 1);
        // the controller has fetched descriptor 0 and its buffer: the guest reusing that buffer now is too late
        buffers.setMemory(0, 100, (byte)0);
        write(E1000.TDT, 2);
        write(E1000.TDT, 3);
        assertEquals(0, atPeer.size(), "no EOP yet");
        assertEquals(0, reg(E1000.TDH), "TDH moves only past a whole frame");
        write(E1000.TDT, 4);
        assertEquals(1, atPeer.size());
        assertArrayEquals(frame, atPeer.get(0), "each descriptor fetched once, in order, and the frame sent whole");
        assertEquals(4, reg(E1000.TDH));
        assertEquals(0, device.errors());
    }

    @Test
    void aReceiveDescriptorOutsideGuestMemoryStopsReceiveAndCountsTheFrameMissed()
    {
        bringUp();
        guest.guestFrame(RX_RING_GFN).putLong(0, 1L << 44);
        write(E1000.RDT, 2);
        final byte[] frame = frame(new Random(5), 60, PEER_MAC, MAC);
        bridge.receive(peerPort, new UnsafeBuffer(frame), 0, frame.length, 0);
        assertEquals(0, device.framesReceived());
        assertEquals(1, device.rxMissed());
        assertEquals(1, reg(E1000.MPC), "a lost frame is a missed packet, whatever lost it");
        assertEquals(1, device.errors());
        assertEquals(0, interrupts);
    }

    @Test
    void framesFillTheFreeDescriptorsAndTheRestAreMissedAndCounted()
    {
        bringUp();
        write(E1000.RDT, 3); // descriptors 0, 1 and 2 are the device's
        final Random random = new Random(2);
        final byte[][] sent = new byte[4][];
        for (int i = 0; i < 4; i++)
        {
            sent[i] = frame(random, 0 == i ? 1514 : 60 + i, PEER_MAC, MAC);
            bridge.receive(peerPort, new UnsafeBuffer(sent[i]), 0, sent[i].length, 0);
        }
        assertEquals(3, device.framesReceived());
        assertEquals(1, device.rxMissed());
        assertEquals(1, reg(E1000.MPC));
        assertEquals(0, reg(E1000.MPC), "MPC clears on read");
        assertEquals(3, reg(E1000.RDH));
        final UnsafeBuffer ring = guest.guestFrame(RX_RING_GFN);
        for (int i = 0; i < 3; i++)
        {
            final int d = i * E1000.DESCRIPTOR_BYTES;
            assertEquals(sent[i].length, ring.getShort(d + E1000.DESC_LENGTH) & 0xFFFF);
            assertEquals(E1000.STA_DD | E1000.RXD_STA_EOP, ring.getByte(d + E1000.RXD_STATUS) & 0xFF);
            final byte[] got = new byte[sent[i].length];
            guest.guestFrame(BUFFER_GFN + 4 + i / 2).getBytes((i % 2) * 2048, got);
            assertArrayEquals(sent[i], got, "frame " + i);
        }
        assertEquals(1, interrupts, "one message until ICR is read");
        assertEquals(E1000.ICR_RXT0, reg(E1000.ICR));
        write(E1000.RDT, 5);
        bridge.receive(peerPort, new UnsafeBuffer(sent[3]), 0, sent[3].length, 0);
        assertEquals(2, interrupts, "a new cause after the read is a new message");
    }

    @Test
    void theFilterTakesOnlyThisNicsUnicastAndBroadcastAndMaskedCausesWaitForTheMask()
    {
        bringUp();
        write(E1000.IMC, -1);
        write(E1000.RDT, 4);
        final Random random = new Random(3);
        final byte[] other = frame(random, 60, PEER_MAC, 0x00163E000009L);
        device.deliver(new UnsafeBuffer(other), 0, 60);
        assertEquals(1, device.rxFiltered());
        final byte[] broadcast = frame(random, 60, PEER_MAC, 0xFFFF_FFFF_FFFFL);
        device.deliver(new UnsafeBuffer(broadcast), 0, 60);
        final byte[] tooLong = frame(random, 1600, PEER_MAC, MAC);
        device.deliver(new UnsafeBuffer(tooLong), 0, 1600);
        assertEquals(1, device.rxTooLong());
        assertEquals(1, device.framesReceived());
        assertEquals(0, interrupts, "masked");
        write(E1000.IMS, E1000.ICR_RXT0);
        assertEquals(1, interrupts, "unmasking a pending cause raises it");
    }

    private void bringUp()
    {
        write(E1000.CTRL, E1000.CTRL_RST);
        final UnsafeBuffer rxRing = guest.guestFrame(RX_RING_GFN);
        for (int i = 0; i < DESCRIPTORS; i++)
        {
            rxRing.putLong(i * E1000.DESCRIPTOR_BYTES, ((BUFFER_GFN + 4 + i / 2) << 12) + (i % 2) * 2048L);
        }
        write(E1000.RDBAL, (int)(RX_RING_GFN << 12));
        write(E1000.RDLEN, DESCRIPTORS * E1000.DESCRIPTOR_BYTES);
        write(E1000.RCTL, E1000.CTL_EN | E1000.RCTL_BAM);
        write(E1000.TDBAL, (int)(TX_RING_GFN << 12));
        write(E1000.TDLEN, DESCRIPTORS * E1000.DESCRIPTOR_BYTES);
        write(E1000.TCTL, E1000.CTL_EN);
        write(E1000.IMS, E1000.ICR_TXDW | E1000.ICR_RXT0);
    }

    private void descriptor(final int index, final long address, final int length, final int cmd)
    {
        final UnsafeBuffer ring = guest.guestFrame(TX_RING_GFN);
        ring.putLong(index * E1000.DESCRIPTOR_BYTES, address);
        ring.putInt(index * E1000.DESCRIPTOR_BYTES + E1000.DESC_LENGTH, length | cmd << 24);
        ring.putInt(index * E1000.DESCRIPTOR_BYTES + E1000.TXD_STATUS, 0);
    }

    private static byte[] frame(final Random random, final int size, final long from, final long to)
    {
        final byte[] frame = new byte[size];
        random.nextBytes(frame);
        for (int i = 0; i < 6; i++)
        {
            frame[i] = (byte)(to >>> (40 - 8 * i));
            frame[6 + i] = (byte)(from >>> (40 - 8 * i));
        }
        return frame;
    }

    private int reg(final int offset)
    {
        return (int)device.read(true, BAR + offset, 4);
    }

    private void write(final int offset, final int value)
    {
        device.write(true, BAR + offset, 4, value & 0xFFFF_FFFFL);
    }
}
