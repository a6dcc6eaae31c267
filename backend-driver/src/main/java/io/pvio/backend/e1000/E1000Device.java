package io.pvio.backend.e1000;

import io.pvio.backend.ahci.GuestDma;
import io.pvio.backend.net.Bridge;
import io.pvio.backend.net.BridgePort;
import io.pvio.hypervisor.Domain;
import io.pvio.machine.cpu.DeviceBus;
import io.pvio.machine.device.E1000;
import io.pvio.machine.memory.MachineMemory;
import org.agrona.BufferUtil;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * The device model of an Intel 8254x (e1000) Ethernet controller with one receive and one transmit queue of legacy
 * descriptors ({@link E1000}), a port of dom0's {@link Bridge}: the registers at a guest-physical base (BAR 0), the
 * descriptor rings and buffers read and written in guest memory through {@link GuestDma}, and an edge-triggered
 * interrupt (MSI) when a cause the driver unmasked is raised. The same model stands for the hardware under a native
 * kernel and for QEMU's emulation in dom0 under a full-mode guest; only who calls it differs.
 * <p>
 * <b>Transmit.</b> A write to TDT makes the model walk the descriptors from TDH to the new tail, as QEMU's
 * {@code start_xmit} does within the write: each frame's buffers (chained until one with EOP) are copied from guest
 * memory into a private buffer, DD is written back to its last descriptor if that has RS (the one Linux's driver
 * looks at), TDH passes the frame, and the frame enters the bridge on this port, outside this model's lock; then
 * ICR.TXDW is raised. A chain not ended by EOP
 * before the tail waits for more descriptors.
 * <p>
 * <b>Receive.</b> A frame the bridge delivers is filtered by destination (RAL0/RAH0, RCTL.BAM/MPE/UPE), then copied
 * into the buffer of the descriptor at RDH if RDH differs from RDT: length and DD|EOP are written back, RDH advances
 * and ICR.RXT0 is raised. With no free descriptor, or the receiver off, the frame is dropped and counted (MPC);
 * frames longer than {@link E1000#MAX_RX_FRAME_BYTES} are dropped as the receiver does with long packets off.
 * <p>
 * <b>Threads.</b> Register accesses come from one thread at a time (the guest's vCPU natively, the device-model
 * domain's vCPU answering ioreqs in full mode); deliveries come from the bridge, under its lock. Register and queue
 * state are guarded by this object's lock, which is never held while calling the bridge, so two NICs sending to each
 * other cannot deadlock; one thread at a time sends, and one that finds another sending leaves its frames to it.
 * Transmit and receive each have their own {@link GuestDma}.
 * <p>
 * <b>Hostile guests.</b> Every descriptor field is read once into a private copy before it is checked. A ring
 * base not 16-byte aligned, a ring length of zero or not a multiple of 128, a head or tail past the ring, a ring or
 * buffer outside the guest's memory, a transmit buffer or frame over {@link E1000#MAX_TX_BYTES} or a frame of more
 * than {@link E1000#MAX_TX_DESCRIPTORS_PER_FRAME} descriptors stops that queue:
 * its EN bit in TCTL or RCTL reads back clear, the error is counted and described ({@link #lastError()}), and the
 * queue takes nothing until the driver enables it again (or resets the device). Accesses outside the window or not
 * 32-bit aligned read all ones and are counted. Nothing a guest writes can make the model touch memory outside that
 * guest or throw. The per-packet paths allocate nothing.
 */
public final class E1000Device implements DeviceBus, BridgePort, AutoCloseable
{
    /** What the device needs of its surroundings. */
    @FunctionalInterface
    public interface Host
    {
        /** The controller raises its MSI: post the vector to the guest (natively) or inject it ({@code dm_op}). */
        void interrupt();
    }

    private static final int SUPPORTED_CAUSES = E1000.ICR_TXDW | E1000.ICR_RXT0;
    private static final int RCTL_WRITABLE = E1000.CTL_EN | E1000.RCTL_UPE | E1000.RCTL_MPE | E1000.RCTL_BAM |
        E1000.RCTL_SECRC;
    private static final int TCTL_WRITABLE = E1000.CTL_EN | E1000.TCTL_PSP;

    private final long base;
    private final Host host;
    private final Bridge bridge;
    private final int port;
    private final GuestDma txDma;
    private final GuestDma rxDma;
    private final long factoryMac;
    private final ByteBuffer txMemory;
    private final UnsafeBuffer txFrame;

    // ---- registers and queue state, under this object's lock ----
    private int ctrl;
    private int icr;
    private int ims;
    private int rctl;
    private int tctl;
    private final Queue rx = new Queue("rx");
    private final Queue tx = new Queue("tx");
    private int ral;
    private int rah;
    private int mpc;
    private boolean asserted;
    private boolean sending;
    private boolean closed;
    private long accesses;
    private long badAccesses;
    private long framesSent;
    private long framesReceived;
    private long rxMissed;
    private long rxFiltered;
    private long rxTooLong;
    private long errors;
    private long interrupts;
    private String lastError = "none";

    /**
     * A controller at {@code base} in {@code guest}'s physical address space, a new port of {@code bridge}.
     *
     * @param memory     the machine's memory.
     * @param guest      the guest whose memory the device reaches.
     * @param base       the register window's guest-physical base, 128 KiB aligned.
     * @param mac        the address in the controller's EEPROM (48 bits, first byte most significant), which
     *                   RAL0/RAH0 hold after reset.
     * @param bridge     where frames go and come from.
     * @param portName   the bridge port's name.
     * @param host       interrupt delivery.
     * @throws IllegalArgumentException if {@code base} is not aligned or {@code mac} is not a unicast address.
     */
    public E1000Device(
        final MachineMemory memory, final Domain guest, final long base, final long mac, final Bridge bridge,
        final String portName, final Host host)
    {
        Objects.requireNonNull(memory, "memory");
        Objects.requireNonNull(guest, "guest");
        this.bridge = Objects.requireNonNull(bridge, "bridge");
        this.host = Objects.requireNonNull(host, "host");
        if (base < 0 || 0 != (base & (E1000.BAR_LENGTH - 1)))
        {
            throw new IllegalArgumentException("BAR 0 must be 128 KiB aligned: 0x" + Long.toHexString(base));
        }
        if (0 != (mac >>> 48) || 0 != (mac & (1L << 40)))
        {
            throw new IllegalArgumentException("not a unicast MAC: 0x" + Long.toHexString(mac));
        }
        this.base = base;
        this.factoryMac = mac;
        this.txDma = new GuestDma(memory, guest);
        this.rxDma = new GuestDma(memory, guest);
        this.txMemory = ByteBuffer.allocateDirect(E1000.MAX_TX_BYTES);
        this.txFrame = new UnsafeBuffer(txMemory);
        reset();
        this.port = bridge.addPort(Objects.requireNonNull(portName, "portName"), this);
    }

    /**
     * The register window's base.
     *
     * @return the guest-physical BAR 0.
     */
    public long base()
    {
        return base;
    }

    /**
     * This controller's port of the bridge.
     *
     * @return the port's id.
     */
    public int bridgePort()
    {
        return port;
    }

    @Override
    public long read(final boolean mmio, final long address, final int size)
    {
        final long offset = address - base;
        if (!mmio || Integer.BYTES != size || offset < 0 || offset >= E1000.BAR_LENGTH || 0 != (offset & 3))
        {
            synchronized (this)
            {
                badAccesses++;
            }
            return size >= Long.BYTES ? -1L : (1L << (size * Byte.SIZE)) - 1;
        }
        synchronized (this)
        {
            accesses++;
            return register((int)offset) & 0xFFFF_FFFFL;
        }
    }

    @Override
    public void write(final boolean mmio, final long address, final int size, final long value)
    {
        final long offset = address - base;
        if (!mmio || Integer.BYTES != size || offset < 0 || offset >= E1000.BAR_LENGTH || 0 != (offset & 3))
        {
            synchronized (this)
            {
                badAccesses++;
            }
            return;
        }
        final int v = (int)value;
        boolean raise = false;
        boolean transmit = false;
        synchronized (this)
        {
            accesses++;
            switch ((int)offset)
            {
                case E1000.CTRL:
                    if (0 != (v & E1000.CTRL_RST))
                    {
                        reset();
                    }
                    else
                    {
                        ctrl = v;
                    }
                    break;
                case E1000.ICR:
                    icr &= ~v; // writing ones clears causes as well
                    asserted = 0 != (icr & ims);
                    break;
                case E1000.IMS:
                    ims |= v & SUPPORTED_CAUSES;
                    raise = pendingInterrupt(0);
                    break;
                case E1000.IMC:
                    ims &= ~v;
                    asserted = 0 != (icr & ims);
                    break;
                case E1000.RCTL:
                    rctl = v & RCTL_WRITABLE;
                    rx.enable(0 != (v & E1000.CTL_EN));
                    break;
                case E1000.TCTL:
                    tctl = v & TCTL_WRITABLE;
                    tx.enable(0 != (v & E1000.CTL_EN));
                    tx.forgetGather();
                    transmit = tx.ready();
                    break;
                case E1000.RDBAL:
                    rx.baseLow = v;
                    break;
                case E1000.RDBAH:
                    rx.baseHigh = v;
                    break;
                case E1000.RDLEN:
                    rx.length = v;
                    break;
                case E1000.RDH:
                    rx.head = v;
                    break;
                case E1000.RDT:
                    rx.tail = v;
                    if (rx.enabled && !rx.stopped)
                    {
                        validate(rx);
                    }
                    break;
                case E1000.TDBAL:
                    tx.baseLow = v;
                    tx.forgetGather();
                    break;
                case E1000.TDBAH:
                    tx.baseHigh = v;
                    tx.forgetGather();
                    break;
                case E1000.TDLEN:
                    tx.length = v;
                    tx.forgetGather();
                    break;
                case E1000.TDH:
                    tx.head = v;
                    tx.forgetGather();
                    break;
                case E1000.TDT:
                    tx.tail = v;
                    transmit = tx.ready();
                    break;
                case E1000.RAL0:
                    ral = v;
                    break;
                case E1000.RAH0:
                    rah = v & (E1000.RAH_AV | 0xFFFF);
                    break;
                default:
                    break; // read-only or not modelled: ignored
            }
        }
        if (transmit)
        {
            raise |= transmit();
        }
        if (raise)
        {
            host.interrupt();
        }
    }

    /**
     * A frame from the bridge for this controller: filtered, then received into the next free descriptor or dropped.
     * Allocates nothing.
     */
    @Override
    public void deliver(final DirectBuffer frame, final int offset, final int length)
    {
        final boolean raise;
        synchronized (this)
        {
            if (closed)
            {
                return;
            }
            if (!accepts(frame, offset))
            {
                rxFiltered++;
                return;
            }
            if (length > E1000.MAX_RX_FRAME_BYTES)
            {
                rxTooLong++;
                return;
            }
            if (!rx.ready() || !validate(rx) || rx.head == rx.tail)
            {
                rxMissed++;
                mpc++;
                return;
            }
            final long descriptor = rx.descriptor(rx.head);
            try
            {
                final long buffer = rxDma.readInt(descriptor) & 0xFFFF_FFFFL |
                    (long)rxDma.readInt(descriptor + 4) << 32;
                rxDma.writeToGuest(buffer, frame, offset, length);
                rxDma.writeInt(descriptor + E1000.DESC_LENGTH, length & 0xFFFF); // length, checksum 0
                VarHandle.releaseFence(); // the driver polls DD: the frame and length are visible before it
                rxDma.writeInt(descriptor + E1000.RXD_STATUS, E1000.STA_DD | E1000.RXD_STA_EOP); // errors 0
            }
            catch (final GuestDma.DmaFault fault)
            {
                stop(rx, "descriptor " + rx.head + ": " + fault.getMessage());
                rxMissed++;
                mpc++; // the frame is lost for want of a usable descriptor, as with none free
                return;
            }
            rx.head = rx.next(rx.head);
            framesReceived++;
            raise = pendingInterrupt(E1000.ICR_RXT0);
        }
        if (raise)
        {
            host.interrupt();
        }
    }

    /**
     * Register accesses the model answered.
     *
     * @return the count.
     */
    public synchronized long accesses()
    {
        return accesses;
    }

    /**
     * Accesses refused: outside the window, not 32-bit, or port I/O.
     *
     * @return the count.
     */
    public synchronized long badAccesses()
    {
        return badAccesses;
    }

    /**
     * Frames transmitted into the bridge.
     *
     * @return the count.
     */
    public synchronized long framesSent()
    {
        return framesSent;
    }

    /**
     * Frames received into guest memory.
     *
     * @return the count.
     */
    public synchronized long framesReceived()
    {
        return framesReceived;
    }

    /**
     * Frames dropped for want of a free receive descriptor, or with the receiver off or stopped.
     *
     * @return the count.
     */
    public synchronized long rxMissed()
    {
        return rxMissed;
    }

    /**
     * Frames the address filter did not take (another unicast destination).
     *
     * @return the count.
     */
    public synchronized long rxFiltered()
    {
        return rxFiltered;
    }

    /**
     * Frames dropped as longer than {@link E1000#MAX_RX_FRAME_BYTES}.
     *
     * @return the count.
     */
    public synchronized long rxTooLong()
    {
        return rxTooLong;
    }

    /**
     * Queues stopped by a malformed ring, descriptor or register value.
     *
     * @return the count.
     */
    public synchronized long errors()
    {
        return errors;
    }

    /**
     * Interrupt messages raised.
     *
     * @return the count.
     */
    public synchronized long interrupts()
    {
        return interrupts;
    }

    /**
     * Why a queue last stopped.
     *
     * @return the message, {@code none} if none has.
     */
    public synchronized String lastError()
    {
        return lastError;
    }

    /**
     * Whether a queue is stopped by an error.
     *
     * @param transmit the transmit queue, else the receive queue.
     * @return true if stopped.
     */
    public synchronized boolean stopped(final boolean transmit)
    {
        return (transmit ? tx : rx).stopped;
    }

    /**
     * The queues' state in words, for a stall's message.
     *
     * @return one line.
     */
    public synchronized String state()
    {
        return String.format("ICR=0x%x IMS=0x%x %s %s sent=%d received=%d missed=%d errors=%d", icr, ims, rx, tx,
            framesSent, framesReceived, rxMissed, errors);
    }

    /**
     * Leaves the bridge and releases the transmit buffer, once a frame being handed to the bridge has been. Detach
     * the register path first. Idempotent.
     */
    @Override
    public void close()
    {
        bridge.removePort(port); // once it returns, no delivery runs
        synchronized (this)
        {
            if (closed)
            {
                return;
            }
            closed = true;
            boolean interrupted = false;
            while (sending)
            {
                try
                {
                    wait();
                }
                catch (final InterruptedException ex)
                {
                    interrupted = true;
                }
            }
            if (interrupted)
            {
                Thread.currentThread().interrupt();
            }
            BufferUtil.free(txMemory);
        }
    }

    @Override
    public String toString()
    {
        return "E1000Device{base=0x" + Long.toHexString(base) + ", " + state() + '}';
    }

    // ------------------------------------------------------------------------------------------------ registers

    private int register(final int offset)
    {
        switch (offset)
        {
            case E1000.CTRL:
                return ctrl;
            case E1000.STATUS:
                return E1000.STATUS_FD | E1000.STATUS_LU | E1000.STATUS_SPEED_1000;
            case E1000.ICR:
            {
                final int causes = icr;
                icr = 0;
                asserted = false;
                return causes;
            }
            case E1000.IMS:
                return ims;
            case E1000.RCTL:
                return rctl & ~(rx.stopped ? E1000.CTL_EN : 0);
            case E1000.TCTL:
                return tctl & ~(tx.stopped ? E1000.CTL_EN : 0);
            case E1000.RDBAL:
                return rx.baseLow;
            case E1000.RDBAH:
                return rx.baseHigh;
            case E1000.RDLEN:
                return rx.length;
            case E1000.RDH:
                return rx.head;
            case E1000.RDT:
                return rx.tail;
            case E1000.TDBAL:
                return tx.baseLow;
            case E1000.TDBAH:
                return tx.baseHigh;
            case E1000.TDLEN:
                return tx.length;
            case E1000.TDH:
                return tx.head;
            case E1000.TDT:
                return tx.tail;
            case E1000.MPC:
            {
                final int missed = mpc;
                mpc = 0;
                return missed;
            }
            case E1000.RAL0:
                return ral;
            case E1000.RAH0:
                return rah;
            default:
                return 0;
        }
    }

    private void reset()
    {
        ctrl = 0;
        icr = 0;
        ims = 0;
        rctl = 0;
        tctl = 0;
        rx.clear();
        tx.clear();
        mpc = 0;
        asserted = false;
        // as loaded from the EEPROM: bytes 0..3 in RAL, 4..5 in RAH, first byte lowest
        ral = 0;
        for (int i = 0; i < 4; i++)
        {
            ral |= (int)((factoryMac >>> (40 - 8 * i)) & 0xFF) << (8 * i);
        }
        rah = E1000.RAH_AV | (int)((factoryMac >>> 8) & 0xFF) | (int)(factoryMac & 0xFF) << 8;
    }

    /**
     * Raises {@code cause} (0 after a mask change); true if a new interrupt message must be sent: an unmasked cause
     * is pending and none was since ICR was last read (the message is edge-triggered).
     */
    private boolean pendingInterrupt(final int cause)
    {
        icr |= cause;
        final boolean now = 0 != (icr & ims);
        final boolean message = now && !asserted;
        asserted = now;
        if (message)
        {
            interrupts++;
        }
        return message;
    }

    private boolean validate(final Queue queue)
    {
        final String bad = queue.check();
        if (null != bad)
        {
            stop(queue, bad);
            return false;
        }
        return true;
    }

    private void stop(final Queue queue, final String why)
    {
        queue.stopped = true;
        queue.forgetGather();
        errors++;
        lastError = queue.name + ": " + why;
    }

    // ------------------------------------------------------------------------------------------------ transmit

    /** Sends every complete frame from TDH to TDT; true if an interrupt message must be sent. */
    private boolean transmit()
    {
        boolean raise = false;
        while (true)
        {
            final int length;
            synchronized (this)
            {
                // another thread hands a frame to the bridge: it looks at the tail again after that, and sends this
                if (closed || sending || !tx.ready() || !validate(tx))
                {
                    return raise;
                }
                length = gatherFrame();
                if (length < 0)
                {
                    return raise;
                }
                framesSent++;
                sending = true;
            }
            // outside the lock: the bridge may deliver to another NIC, which may be sending to this one
            try
            {
                bridge.receive(port, txFrame, 0, length, System.nanoTime());
            }
            finally
            {
                synchronized (this)
                {
                    sending = false;
                    notifyAll(); // a close waiting to free the buffer
                }
            }
            synchronized (this)
            {
                raise |= pendingInterrupt(E1000.ICR_TXDW);
            }
        }
    }

    /**
     * Copies the frame starting at TDH into the private buffer, writes DD back to its last descriptor if that asked
     * for it (RS) and advances TDH past it; the frame's length, or -1 if there is none complete (or the queue
     * stopped). A chain not yet ended by EOP when the tail is reached is kept where it got to, as the controller's
     * descriptor prefetch does: the next TDT write goes on from there instead of fetching the chain again, so a guest
     * writing TDT once per descriptor costs dom0 linear work, not quadratic. Under the lock.
     */
    private int gatherFrame()
    {
        final boolean resume = tx.gatherNext >= 0;
        int index = resume ? tx.gatherNext : tx.head;
        int length = resume ? tx.gatherLength : 0;
        int descriptors = resume ? tx.gatherDescriptors : 0;
        tx.forgetGather();
        try
        {
            while (index != tx.tail)
            {
                final long descriptor = tx.descriptor(index);
                final long buffer = txDma.readInt(descriptor) & 0xFFFF_FFFFL |
                    (long)txDma.readInt(descriptor + 4) << 32;
                final int word = txDma.readInt(descriptor + E1000.DESC_LENGTH);
                final int bytes = word & 0xFFFF;
                final int cmd = (word >>> 24) & 0xFF;
                if (bytes > E1000.MAX_TX_BYTES || length + bytes > E1000.MAX_TX_BYTES)
                {
                    stop(tx, "descriptor " + index + ": frame of " + (length + bytes) + " bytes, at most " +
                        E1000.MAX_TX_BYTES);
                    return -1;
                }
                txDma.readFromGuest(buffer, txFrame, length, bytes);
                length += bytes;
                index = tx.next(index);
                if (0 != (cmd & E1000.TXD_CMD_EOP))
                {
                    if (0 != (cmd & E1000.TXD_CMD_RS))
                    {
                        final int upper = txDma.readInt(descriptor + E1000.TXD_STATUS); // CSS and special kept
                        VarHandle.releaseFence(); // the driver polls DD
                        txDma.writeInt(descriptor + E1000.TXD_STATUS, (upper & ~0xFF) | E1000.STA_DD);
                    }
                    tx.head = index;
                    return length;
                }
                if (++descriptors == E1000.MAX_TX_DESCRIPTORS_PER_FRAME)
                {
                    stop(tx, "descriptor " + index + ": a frame of more than " + E1000.MAX_TX_DESCRIPTORS_PER_FRAME +
                        " descriptors");
                    return -1;
                }
            }
            // no EOP before the tail yet: keep what was fetched and wait for the rest of the chain
            tx.gatherNext = index;
            tx.gatherLength = length;
            tx.gatherDescriptors = descriptors;
            return -1;
        }
        catch (final GuestDma.DmaFault fault)
        {
            stop(tx, "descriptor " + index + ": " + fault.getMessage());
            return -1;
        }
    }

    // ------------------------------------------------------------------------------------------------ receive

    private boolean accepts(final DirectBuffer frame, final int offset)
    {
        final int first = frame.getByte(offset) & 0xFF;
        if (0 != (rctl & E1000.RCTL_UPE))
        {
            return true;
        }
        if (0 != (first & 1))
        {
            final boolean broadcast = -1 == frame.getInt(offset) && -1 == frame.getShort(offset + 4);
            return broadcast ? 0 != (rctl & E1000.RCTL_BAM) : 0 != (rctl & E1000.RCTL_MPE);
        }
        return 0 != (rah & E1000.RAH_AV) && frame.getInt(offset, ByteOrder.LITTLE_ENDIAN) == ral &&
            (frame.getShort(offset + 4, ByteOrder.LITTLE_ENDIAN) & 0xFFFF) == (rah & 0xFFFF);
    }

    /** One descriptor queue's registers. */
    private static final class Queue
    {
        final String name;
        int baseLow;
        int baseHigh;
        int length;
        int head;
        int tail;
        boolean enabled;
        boolean stopped;
        /** Where an unfinished chain's fetch stopped (transmit only), -1 for none. */
        int gatherNext = -1;
        /** Bytes of that chain already in the private buffer. */
        int gatherLength;
        /** Its descriptors already fetched. */
        int gatherDescriptors;

        Queue(final String name)
        {
            this.name = name;
        }

        void clear()
        {
            baseLow = 0;
            baseHigh = 0;
            length = 0;
            head = 0;
            tail = 0;
            enabled = false;
            stopped = false;
            forgetGather();
        }

        void forgetGather()
        {
            gatherNext = -1;
            gatherLength = 0;
            gatherDescriptors = 0;
        }

        void enable(final boolean on)
        {
            if (on && !enabled)
            {
                stopped = false; // enabling again restarts a queue an error stopped
            }
            enabled = on;
        }

        boolean ready()
        {
            return enabled && !stopped;
        }

        long base()
        {
            return (baseHigh & 0xFFFF_FFFFL) << 32 | (baseLow & 0xFFFF_FFFFL);
        }

        int count()
        {
            return length / E1000.DESCRIPTOR_BYTES;
        }

        long descriptor(final int index)
        {
            return base() + (long)index * E1000.DESCRIPTOR_BYTES;
        }

        int next(final int index)
        {
            return index + 1 == count() ? 0 : index + 1;
        }

        String check()
        {
            if (0 != (baseLow & (E1000.RING_BASE_ALIGN - 1)))
            {
                return String.format("ring base 0x%x is not %d-byte aligned", base(), E1000.RING_BASE_ALIGN);
            }
            if (length <= 0 || 0 != (length & (E1000.RING_LENGTH_ALIGN - 1)))
            {
                return "ring length " + (length & 0xFFFF_FFFFL) + " is not a positive multiple of " +
                    E1000.RING_LENGTH_ALIGN;
            }
            if (base() + length < base() || base() < 0)
            {
                return String.format("ring 0x%x/%d wraps the address space", base(), length);
            }
            if (head < 0 || head >= count() || tail < 0 || tail >= count())
            {
                return "head " + (head & 0xFFFF_FFFFL) + " or tail " + (tail & 0xFFFF_FFFFL) + " is past the ring's " +
                    count() + " descriptors";
            }
            return null;
        }

        @Override
        public String toString()
        {
            return String.format("%s{base=0x%x len=%d head=%d tail=%d%s%s}", name, base(), length, head, tail,
                enabled ? " enabled" : "", stopped ? " stopped" : "");
        }
    }
}
