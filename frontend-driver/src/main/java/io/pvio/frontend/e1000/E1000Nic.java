package io.pvio.frontend.e1000;

import io.pvio.frontend.net.NetReceiver;
import io.pvio.hypervisor.Domain;
import io.pvio.hypervisor.PageAllocator;
import io.pvio.hypervisor.sched.Vcpu;
import io.pvio.hypervisor.sched.VcpuTask;
import io.pvio.machine.cpu.GuestCpu;
import io.pvio.machine.device.E1000;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.Objects;

/**
 * The guest's unmodified driver for an e1000 Ethernet controller ({@link E1000}): it knows nothing of hypervisors and
 * reaches the device only by MMIO at BAR 0, through its vCPU's {@link GuestCpu}. Natively the accesses reach the
 * hardware; in a full-mode guest every one of them traps and is answered by the device model in dom0.
 * <p>
 * It runs as a task on the vCPU that takes the controller's interrupt (vCPU 0), as a register program: each step is
 * one register access and advances only after the access returned, so a step stopped for a device model
 * ({@link io.pvio.machine.cpu.IoPending}) is simply run again. The interrupt handler only notes the interrupt; the
 * program handles it.
 * <ul>
 *   <li><b>Initialization</b>: reset (CTRL.RST), link up, read STATUS, mask everything and clear ICR, program the
 *       MAC into RAL0/RAH0, the receive ring (RDBAL, RDBAH, RDLEN, RDH, RDT), enable the receiver, give it every
 *       buffer but one (RDT), the transmit ring, enable the transmitter, unmask TXDW and RXT0.</li>
 *   <li><b>Transmit</b>, per frame: {@link #transmit} (any thread) copies the frame into its descriptor's buffer
 *       and fills the descriptor (EOP, IFCS, RS); the program writes TDT once for all frames filled since:
 *       {@link E1000#TX_ACCESSES}.</li>
 *   <li><b>Interrupt</b>: read ICR ({@link E1000#INTERRUPT_ACCESSES}), reap transmit descriptors whose DD is set,
 *       hand each received frame (DD set) to the receiver, then give the buffers back with one write of RDT
 *       ({@link E1000#RX_REFILL_ACCESSES}) if any frame came.</li>
 * </ul>
 * Rings of {@link #RING_DESCRIPTORS} descriptors, one page each, and one {@link E1000#RX_BUFFER_BYTES} buffer per
 * descriptor, two to a page, all in the guest's own memory. Allocates nothing per frame.
 */
public final class E1000Nic implements VcpuTask, AutoCloseable
{
    /** The MSI vector the driver asks for unless told otherwise (the AHCI disk's is 0x40). */
    public static final int DEFAULT_VECTOR = 0x41;
    /** Descriptors per ring. */
    public static final int RING_DESCRIPTORS = 64;
    /** Longest frame {@link #transmit} takes: a buffer. */
    public static final int MAX_FRAME_BYTES = E1000.RX_BUFFER_BYTES;
    /** Shortest frame: an Ethernet header. */
    public static final int MIN_FRAME_BYTES = 14;

    private static final int PAGE = 4096;
    private static final int BUFFERS_PER_PAGE = PAGE / E1000.RX_BUFFER_BYTES;
    private static final int BUFFER_PAGES = RING_DESCRIPTORS / BUFFERS_PER_PAGE;
    private static final int CAUSES = E1000.ICR_TXDW | E1000.ICR_RXT0;

    // program counters
    private static final int INIT = 0;
    private static final int INIT_STATUS = 1;
    private static final int INIT_WRITES = 2;
    private static final int READY = 3;
    private static final int TX_TAIL = 4;
    private static final int IRQ_ICR = 5;
    private static final int IRQ_RDT = 6;
    private static final int FAILED = 7;
    private static final int CLOSED = 8;

    private final Vcpu vcpu;
    private final GuestCpu cpu;
    private final Domain domain;
    private final long base;
    private final int vector;
    private final long mac;
    private final NetReceiver receiver;
    private final PageAllocator pages;
    private final long rxRingGfn;
    private final long txRingGfn;
    private final long[] rxBufferGfn = new long[BUFFER_PAGES];
    private final long[] txBufferGfn = new long[BUFFER_PAGES];
    private final int[] initOffsets;
    private final int[] initValues;
    private final UnsafeBuffer rxView = new UnsafeBuffer(0, 0);
    private final UnsafeBuffer rxRing = new UnsafeBuffer(0, 0);
    /** Under txLock. */
    private final UnsafeBuffer txRingView = new UnsafeBuffer(0, 0);
    private final UnsafeBuffer txView = new UnsafeBuffer(0, 0);
    private final UnsafeBuffer txRingReap = new UnsafeBuffer(0, 0);
    private final Object txLock = new Object();
    private final Object readyLock = new Object();

    // ---- owned by the vCPU's thread ----
    private int pc = INIT;
    private int initStep;
    private boolean irqPending;
    private int rxNext;
    private int rxTail;
    private int txClean;
    private long tailWritten;
    private long tailPending;

    // ---- under txLock ----
    private long txFilled;

    // ---- shared ----
    private volatile long txPublished;
    private volatile long txReaped;
    private volatile boolean ready;
    private volatile boolean closed;
    private volatile String failure;
    private volatile long accesses;
    private volatile long initAccesses = -1;
    private volatile long interrupts;
    private volatile long handlerRuns;
    private volatile long framesSent;
    private volatile long framesReceived;
    private volatile long txFull;
    private volatile long txCopies;

    private E1000Nic(
        final Vcpu vcpu, final long base, final int vector, final long mac, final NetReceiver receiver)
    {
        this.vcpu = vcpu;
        this.cpu = vcpu.cpu();
        this.domain = vcpu.domain();
        this.base = base;
        this.vector = vector;
        this.mac = mac;
        this.receiver = receiver;
        this.pages = domain.pageAllocator();
        long rxRingPage = -1;
        long txRingPage = -1;
        int rxPages = 0;
        int txPages = 0;
        try
        {
            rxRingPage = pages.allocate();
            txRingPage = pages.allocate();
            for (; rxPages < BUFFER_PAGES; rxPages++)
            {
                rxBufferGfn[rxPages] = pages.allocate();
            }
            for (; txPages < BUFFER_PAGES; txPages++)
            {
                txBufferGfn[txPages] = pages.allocate();
            }
        }
        catch (final RuntimeException ex)
        {
            freePages(rxRingPage, txRingPage, rxPages, txPages);
            throw ex;
        }
        this.rxRingGfn = rxRingPage;
        this.txRingGfn = txRingPage;
        domain.wrapGuestFrame(rxRingGfn, rxRing).setMemory(0, PAGE, (byte)0);
        domain.wrapGuestFrame(txRingGfn, txRingView).setMemory(0, PAGE, (byte)0);
        for (int i = 0; i < RING_DESCRIPTORS; i++)
        {
            rxRing.putLong(i * E1000.DESCRIPTOR_BYTES + E1000.DESC_ADDRESS, bufferAddress(rxBufferGfn, i));
        }
        final long rxRingAddress = rxRingGfn << 12;
        final long txRingAddress = txRingGfn << 12;
        final int ringBytes = RING_DESCRIPTORS * E1000.DESCRIPTOR_BYTES;
        int ral = 0;
        for (int i = 0; i < 4; i++)
        {
            ral |= (int)((mac >>> (40 - 8 * i)) & 0xFF) << (8 * i);
        }
        final int rah = E1000.RAH_AV | (int)((mac >>> 8) & 0xFF) | (int)(mac & 0xFF) << 8;
        this.initOffsets = new int[] {E1000.IMC, E1000.ICR, E1000.RAL0, E1000.RAH0, E1000.RDBAL, E1000.RDBAH,
            E1000.RDLEN, E1000.RDH, E1000.RDT, E1000.RCTL, E1000.RDT, E1000.TDBAL, E1000.TDBAH, E1000.TDLEN,
            E1000.TDH, E1000.TDT, E1000.TCTL, E1000.IMS};
        this.initValues = new int[] {-1, -1, ral, rah, (int)rxRingAddress, (int)(rxRingAddress >>> 32), ringBytes,
            0, 0, E1000.CTL_EN | E1000.RCTL_BAM | E1000.RCTL_SECRC, RING_DESCRIPTORS - 1, (int)txRingAddress,
            (int)(txRingAddress >>> 32), ringBytes, 0, 0, E1000.CTL_EN | E1000.TCTL_PSP, CAUSES};
        this.rxTail = RING_DESCRIPTORS - 1;
    }

    /**
     * Starts the driver: allocates its rings and buffers, installs its interrupt handler and adds itself to
     * {@code vcpu}, where it resets and initializes the controller.
     *
     * @param vcpu     the vCPU that takes the controller's interrupt (vCPU 0).
     * @param base     the controller's BAR 0, 128 KiB aligned.
     * @param vector   the interrupt vector, 32 to 239, not the timer's or the event callback's.
     * @param mac      the address to program (48 bits, first byte most significant), unicast.
     * @param receiver told of each frame received, on the vCPU.
     * @return the driver; see {@link #awaitReady(long)}.
     * @throws IllegalArgumentException if an argument is out of range.
     * @throws IllegalStateException    if the guest has too few free pages.
     */
    public static E1000Nic start(
        final Vcpu vcpu, final long base, final int vector, final long mac, final NetReceiver receiver)
    {
        Objects.requireNonNull(vcpu, "vcpu");
        Objects.requireNonNull(receiver, "receiver");
        if (base < 0 || 0 != (base & (E1000.BAR_LENGTH - 1)))
        {
            throw new IllegalArgumentException("BAR 0 must be 128 KiB aligned: 0x" + Long.toHexString(base));
        }
        if (vector < 32 || vector > 239)
        {
            throw new IllegalArgumentException("interrupt vector " + vector + " is not 32 to 239");
        }
        if (0 != (mac >>> 48) || 0 != (mac & (1L << 40)))
        {
            throw new IllegalArgumentException("not a unicast MAC: 0x" + Long.toHexString(mac));
        }
        final E1000Nic nic = new E1000Nic(vcpu, base, vector, mac, receiver);
        vcpu.addTask(nic);
        return nic;
    }

    /**
     * Waits until the controller is initialized.
     *
     * @param timeoutMillis how long to wait.
     * @return this.
     * @throws IllegalStateException if initialization failed or did not finish in time.
     * @throws InterruptedException  if interrupted.
     */
    public E1000Nic awaitReady(final long timeoutMillis) throws InterruptedException
    {
        final long deadline = System.currentTimeMillis() + timeoutMillis;
        synchronized (readyLock)
        {
            while (!ready && null == failure)
            {
                final long left = deadline - System.currentTimeMillis();
                if (left <= 0)
                {
                    throw new IllegalStateException("e1000 not ready after " + timeoutMillis + " ms: " + state());
                }
                readyLock.wait(left);
            }
        }
        if (null != failure)
        {
            throw new IllegalStateException("e1000 failed to start: " + failure);
        }
        return this;
    }

    /**
     * Transmits one frame: copies it into the next descriptor's buffer and has the program write TDT. Any thread;
     * never blocks; allocates nothing.
     *
     * @param frame  the buffer holding the frame, Ethernet header first.
     * @param offset where it starts.
     * @param length its bytes, {@value #MIN_FRAME_BYTES} to {@value #MAX_FRAME_BYTES}.
     * @return true if queued; false if every descriptor is in flight (try again after the transmit interrupt) or
     *         the driver is not ready, failed or closed.
     * @throws IllegalArgumentException if the length is out of range.
     */
    public boolean transmit(final DirectBuffer frame, final int offset, final int length)
    {
        if (length < MIN_FRAME_BYTES || length > MAX_FRAME_BYTES)
        {
            throw new IllegalArgumentException("frame of " + length + " bytes, expected " + MIN_FRAME_BYTES + " to " +
                MAX_FRAME_BYTES);
        }
        synchronized (txLock)
        {
            if (closed || !ready || null != failure || txFilled - txReaped >= RING_DESCRIPTORS - 1)
            {
                txFull++;
                return false;
            }
            final int index = (int)(txFilled % RING_DESCRIPTORS);
            domain.wrapGuestFrame(txBufferGfn[index / BUFFERS_PER_PAGE], txView)
                .putBytes((index % BUFFERS_PER_PAGE) * E1000.RX_BUFFER_BYTES, frame, offset, length);
            final UnsafeBuffer ring = domain.wrapGuestFrame(txRingGfn, txRingView);
            final int descriptor = index * E1000.DESCRIPTOR_BYTES;
            ring.putLong(descriptor + E1000.DESC_ADDRESS, bufferAddress(txBufferGfn, index));
            ring.putInt(descriptor + E1000.DESC_LENGTH,
                length | (E1000.TXD_CMD_EOP | E1000.TXD_CMD_IFCS | E1000.TXD_CMD_RS) << 24);
            ring.putInt(descriptor + E1000.TXD_STATUS, 0);
            txFilled++;
            txPublished = txFilled;
            txCopies++;
        }
        vcpu.wake();
        return true;
    }

    /**
     * The address the driver programmed.
     *
     * @return the MAC, 48 bits, first byte most significant.
     */
    public long mac()
    {
        return mac;
    }

    /**
     * Register accesses since the controller was initialized (transmit, interrupt and refill).
     *
     * @return the count.
     */
    public long packetAccesses()
    {
        final long init = initAccesses;
        return init < 0 ? 0 : accesses - init;
    }

    /**
     * Register accesses made to initialize the controller.
     *
     * @return the count.
     */
    public long initAccesses()
    {
        final long init = initAccesses;
        return init < 0 ? accesses : init;
    }

    /**
     * Interrupts taken since ready.
     *
     * @return the count.
     */
    public long interrupts()
    {
        return interrupts;
    }

    /**
     * Runs of the interrupt-handling program since ready (interrupts that arrived while one was pending share one).
     *
     * @return the count.
     */
    public long handlerRuns()
    {
        return handlerRuns;
    }

    /**
     * Frames whose transmission the controller reported done (DD written back).
     *
     * @return the count.
     */
    public long framesSent()
    {
        return framesSent;
    }

    /**
     * Frames received and handed to the receiver.
     *
     * @return the count.
     */
    public long framesReceived()
    {
        return framesReceived;
    }

    /**
     * Frames {@link #transmit} refused because the ring was full or the driver not ready.
     *
     * @return the count.
     */
    public long transmitRefusals()
    {
        return txFull;
    }

    /**
     * Memory copies the driver made: each frame {@link #transmit} queued, copied into its descriptor's buffer. A
     * received frame is handed to the receiver in its buffer, without a copy.
     *
     * @return the count.
     */
    public long copies()
    {
        return txCopies;
    }

    /**
     * Why the driver failed.
     *
     * @return the message, or null if it has not.
     */
    public String failure()
    {
        return failure;
    }

    /**
     * What the driver is doing, in words, for a stall's message.
     *
     * @return one line.
     */
    public String state()
    {
        return "E1000Nic{pc=" + pc + ", txPublished=" + txPublished + ", tailWritten=" + tailWritten + ", txReaped=" +
            txReaped + ", rxNext=" + rxNext + ", sent=" + framesSent + ", received=" + framesReceived +
            ", interrupts=" + interrupts + (null == failure ? "" : ", failure=" + failure) + '}';
    }

    @Override
    public String roleName()
    {
        return "e1000-d" + domain.id();
    }

    @Override
    public boolean prepareToBlock()
    {
        return irqPending || (READY == pc && txPublished != tailWritten);
    }

    @Override
    public int doWork()
    {
        int work = 0;
        while (step())
        {
            work++;
        }
        return work;
    }

    /**
     * Stops the driver: removes it from its vCPU and frees its rings and buffers. Call it with the controller's
     * queues stopped or its model gone, since the pages go back to the guest's allocator. Any thread; idempotent.
     */
    @Override
    public void close()
    {
        synchronized (txLock)
        {
            if (closed)
            {
                return;
            }
            closed = true;
        }
        vcpu.removeTask(this);
        pc = CLOSED;
        freePages(rxRingGfn, txRingGfn, BUFFER_PAGES, BUFFER_PAGES);
        synchronized (readyLock)
        {
            readyLock.notifyAll();
        }
    }

    @Override
    public String toString()
    {
        return state();
    }

    // ------------------------------------------------------------------------------------------------ the program

    /** One step; true if it made progress. May throw IoPending from an access, leaving the step to run again. */
    private boolean step()
    {
        switch (pc)
        {
            case INIT:
                cpu.setHandler(vector, (c, v, e) -> onInterrupt());
                write(E1000.CTRL, E1000.CTRL_RST);
                pc = INIT_STATUS;
                return true;
            case INIT_STATUS:
            {
                final int status = read(E1000.STATUS);
                if (0 == (status & E1000.STATUS_LU))
                {
                    return fail(String.format("no link: STATUS=0x%x", status));
                }
                pc = INIT_WRITES;
                return true;
            }
            case INIT_WRITES:
                write(initOffsets[initStep], initValues[initStep]);
                initStep++;
                if (initStep == initOffsets.length)
                {
                    pc = READY;
                    becomeReady();
                }
                return true;
            case READY:
                return dispatch();
            case TX_TAIL:
                write(E1000.TDT, (int)(tailPending % RING_DESCRIPTORS));
                tailWritten = tailPending;
                pc = READY;
                return true;
            case IRQ_ICR:
            {
                final int causes = read(E1000.ICR);
                if (0 != (causes & E1000.ICR_TXDW))
                {
                    reapTransmitted();
                }
                // frames are taken whatever the cause: one may have landed after the cause was read
                final int received = receive();
                pc = 0 == received ? READY : IRQ_RDT;
                return true;
            }
            case IRQ_RDT:
                write(E1000.RDT, rxTail);
                pc = READY;
                return true;
            default:
                return false; // FAILED or CLOSED
        }
    }

    private boolean dispatch()
    {
        if (irqPending)
        {
            irqPending = false;
            handlerRuns++;
            pc = IRQ_ICR;
            return true;
        }
        final long published = txPublished;
        if (published != tailWritten)
        {
            tailPending = published;
            pc = TX_TAIL;
            return true;
        }
        return false;
    }

    private void reapTransmitted()
    {
        final UnsafeBuffer ring = domain.wrapGuestFrame(txRingGfn, txRingReap); // txRingView is transmit's
        long reaped = txReaped;
        final long end = tailWritten;
        while (reaped != end)
        {
            final int descriptor = txClean * E1000.DESCRIPTOR_BYTES;
            if (0 == (ring.getByteVolatile(descriptor + E1000.TXD_STATUS) & E1000.STA_DD))
            {
                break;
            }
            txClean = txClean + 1 == RING_DESCRIPTORS ? 0 : txClean + 1;
            reaped++;
            framesSent++;
        }
        txReaped = reaped;
    }

    /** Hands every received frame to the receiver and gives its buffer back; how many there were. */
    private int receive()
    {
        int received = 0;
        final UnsafeBuffer ring = domain.wrapGuestFrame(rxRingGfn, rxRing);
        while (true)
        {
            final int descriptor = rxNext * E1000.DESCRIPTOR_BYTES;
            final int status = ring.getByteVolatile(descriptor + E1000.RXD_STATUS) & 0xFF;
            if (0 == (status & E1000.STA_DD))
            {
                break;
            }
            final int length = ring.getShort(descriptor + E1000.DESC_LENGTH) & 0xFFFF;
            ring.putInt(descriptor + E1000.RXD_STATUS, 0);
            if (0 != (status & E1000.RXD_STA_EOP) && length >= MIN_FRAME_BYTES && length <= E1000.RX_BUFFER_BYTES)
            {
                domain.wrapGuestFrame(rxBufferGfn[rxNext / BUFFERS_PER_PAGE], rxView);
                framesReceived++;
                receiver.onFrame(rxView, (rxNext % BUFFERS_PER_PAGE) * E1000.RX_BUFFER_BYTES, length);
            }
            rxTail = rxNext;
            rxNext = rxNext + 1 == RING_DESCRIPTORS ? 0 : rxNext + 1;
            received++;
        }
        return received;
    }

    private void becomeReady()
    {
        initAccesses = accesses;
        synchronized (readyLock)
        {
            ready = true;
            readyLock.notifyAll();
        }
    }

    private void onInterrupt()
    {
        irqPending = true;
        if (ready)
        {
            interrupts++;
        }
    }

    private boolean fail(final String why)
    {
        failure = why;
        pc = FAILED;
        synchronized (readyLock)
        {
            readyLock.notifyAll();
        }
        return false;
    }

    private int read(final int offset)
    {
        final int value = (int)cpu.mmioRead(base + offset, Integer.BYTES);
        accesses++;
        return value;
    }

    private void write(final int offset, final int value)
    {
        cpu.mmioWrite(base + offset, Integer.BYTES, value & 0xFFFF_FFFFL);
        accesses++;
    }

    private static long bufferAddress(final long[] gfns, final int index)
    {
        return (gfns[index / BUFFERS_PER_PAGE] << 12) + (long)(index % BUFFERS_PER_PAGE) * E1000.RX_BUFFER_BYTES;
    }

    private void freePages(final long rxRingPage, final long txRingPage, final int rxPages, final int txPages)
    {
        if (rxRingPage >= 0)
        {
            pages.free(rxRingPage);
        }
        if (txRingPage >= 0)
        {
            pages.free(txRingPage);
        }
        for (int i = 0; i < rxPages; i++)
        {
            pages.free(rxBufferGfn[i]);
        }
        for (int i = 0; i < txPages; i++)
        {
            pages.free(txBufferGfn[i]);
        }
    }
}
