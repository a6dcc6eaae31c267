package io.pvio.frontend.ahci;

import io.pvio.frontend.block.BlockFrontException;
import io.pvio.frontend.block.BlockIo;
import io.pvio.frontend.block.BlockIoCallback;
import io.pvio.hypervisor.Domain;
import io.pvio.hypervisor.PageAllocator;
import io.pvio.hypervisor.sched.Vcpu;
import io.pvio.hypervisor.sched.VcpuTask;
import io.pvio.machine.cpu.GuestCpu;
import io.pvio.machine.device.Ahci;
import io.pvio.ring.blkif.BlkifOp;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.ManyToOneConcurrentArrayQueue;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.Objects;

/**
 * The guest's unmodified driver for an AHCI controller ({@link Ahci}): it knows nothing of hypervisors and reaches
 * the device only by MMIO at the controller's ABAR, through its vCPU's {@link GuestCpu}. Natively the accesses reach
 * the hardware; in a full-mode guest every one of them traps and is answered by the device model in dom0.
 * <p>
 * It runs as a task on the vCPU that takes the controller's interrupt (vCPU 0), as a register program: each step is
 * one register access and the program advances only after the access returned, so a step stopped for a device
 * model ({@link io.pvio.machine.cpu.IoPending}) is simply run again (the retry contract). The interrupt handler only
 * notes the interrupt; the program handles it (a threaded handler), because an interrupt handler must not stop for
 * a device.
 * <ul>
 *   <li><b>Issue</b>, per NCQ read or write: the command table and header are written in guest memory (the data
 *       copied into the slot's DMA pages for a write), then write PxSACT and write PxCI: {@link Ahci#ISSUE_ACCESSES}.
 *       A flush is a non-queued command, issued once no NCQ command is outstanding (ATA does not mix them).</li>
 *   <li><b>Interrupt</b>: read IS, read PxIS, write PxIS, read PxSACT (PxCI for non-queued commands), write IS:
 *       {@link Ahci#INTERRUPT_ACCESSES}, shared by every command that completed by then; their callbacks run after the
 *       last of these, so an I/O's accesses are all made when it is reported complete.</li>
 *   <li><b>Error</b> (PxIS.TFES or HBFS): read PxCMD (CCS names the failed slot), read PxTFD, stop the port, clear
 *       PxSERR and PxIS, start it; the failed I/O completes with an error and the others still outstanding are
 *       issued again.</li>
 * </ul>
 * DMA memory is the guest's own: one page for the command list and received FISes, one page per slot for its
 * command table, and per slot enough pages for the largest I/O, with one PRD per page. {@link #submit} may be called
 * from any thread; completions run on the vCPU. Allocates nothing per I/O.
 */
public final class AhciDisk implements VcpuTask, AutoCloseable
{
    /** The MSI vector the driver asks for unless told otherwise. */
    public static final int DEFAULT_VECTOR = 0x40;
    /** Largest I/O in bytes: what one command moves ({@link Ahci#MAX_SECTORS} sectors). */
    public static final int MAX_IO_BYTES = Ahci.MAX_SECTORS * Ahci.SECTOR;

    private static final int PAGE = 4096;
    private static final int PAGES_PER_SLOT = MAX_IO_BYTES / PAGE;
    private static final int QUEUE_CAPACITY = 4096;
    private static final int PORT_ERRORS = Ahci.PX_IS_TFES | Ahci.PX_IS_HBFS;
    private static final int ENABLED_STATUS = Ahci.PX_IS_SDBS | Ahci.PX_IS_DHRS | PORT_ERRORS;

    // program counters
    private static final int INIT = 0;
    private static final int INIT_WAIT_RESET = 1;
    private static final int INIT_ENABLE = 2;
    private static final int INIT_CAP = 3;
    private static final int INIT_STOP = 4;
    private static final int INIT_CLB = 5;
    private static final int INIT_CLBU = 6;
    private static final int INIT_FB = 7;
    private static final int INIT_FBU = 8;
    private static final int INIT_SERR = 9;
    private static final int INIT_PXIS = 10;
    private static final int INIT_IS = 11;
    private static final int INIT_IE = 12;
    private static final int INIT_GHC = 13;
    private static final int INIT_START = 14;
    private static final int INIT_SSTS = 15;
    private static final int INIT_IDENTIFY = 16;
    private static final int READY = 17;
    private static final int ISSUE_SACT = 20;
    private static final int ISSUE_CI = 21;
    private static final int IRQ_IS = 30;
    private static final int IRQ_PXIS = 31;
    private static final int IRQ_CLEAR_PXIS = 32;
    private static final int IRQ_ACTIVE = 33;
    private static final int IRQ_CLEAR_IS = 34;
    private static final int ERR_CMD = 40;
    private static final int ERR_TFD = 41;
    private static final int ERR_STOP = 42;
    private static final int ERR_SERR = 43;
    private static final int ERR_PXIS = 44;
    private static final int ERR_START = 45;
    private static final int FAILED = 50;
    private static final int CLOSED = 51;

    private final Vcpu vcpu;
    private final GuestCpu cpu;
    private final Domain domain;
    private final long abar;
    private final int vector;
    private final int slots;
    private final PageAllocator pages;
    private final long listGfn;
    private final long[] tableGfn;
    private final long[] dataGfn;
    private final BlockIo[] slotIo;
    private final UnsafeBuffer view = new UnsafeBuffer(0, 0);
    private final ManyToOneConcurrentArrayQueue<BlockIo> queue = new ManyToOneConcurrentArrayQueue<>(QUEUE_CAPACITY);
    private final Object readyLock = new Object();

    // ---- owned by the vCPU's thread ----
    private int pc = INIT;
    private int returnPc = READY;
    private boolean irqPending;
    private BlockIo held;
    private int issuingSlot = -1;
    private boolean issuingNcq;
    private int outstanding;
    private int ncqOutstanding;
    private int reissue;
    private int doneSlots;
    private int irqIs;
    private int irqPxis;
    private int failedSlot;
    private int failedTfd;
    private int alignSectors = 1;
    private boolean identifying;
    private boolean justIdentified;
    private long identifiedCapacity;

    // ---- written on the vCPU's thread, read anywhere (approximate, recent values) ----
    private volatile long capacitySectors;
    private volatile int queueDepth;
    private volatile String failure;
    private volatile boolean closed;
    private volatile long accesses;
    private volatile long initAccesses = -1;
    private volatile long interrupts;
    private volatile long interruptPrograms;
    private volatile long completed;
    private volatile long failed;
    private volatile long portRestarts;

    private AhciDisk(final Vcpu vcpu, final long abar, final int vector, final int slots)
    {
        this.vcpu = vcpu;
        this.cpu = vcpu.cpu();
        this.domain = vcpu.domain();
        this.abar = abar;
        this.vector = vector;
        this.slots = slots;
        this.pages = domain.pageAllocator();
        this.tableGfn = new long[slots];
        this.dataGfn = new long[slots * PAGES_PER_SLOT];
        this.slotIo = new BlockIo[slots];
        long list = -1;
        int tables = 0;
        int data = 0;
        try
        {
            list = pages.allocate();
            for (; tables < slots; tables++)
            {
                tableGfn[tables] = pages.allocate();
            }
            for (; data < dataGfn.length; data++)
            {
                dataGfn[data] = pages.allocate();
            }
        }
        catch (final RuntimeException ex)
        {
            freePages(list, tables, data);
            throw ex;
        }
        this.listGfn = list;
        domain.wrapGuestFrame(listGfn, view).setMemory(0, PAGE, (byte)0);
    }

    /**
     * Starts the driver with {@link #DEFAULT_VECTOR} and 32 command slots.
     *
     * @param vcpu the vCPU that takes the controller's interrupt (vCPU 0).
     * @param abar the controller's register window.
     * @return the driver, initializing the controller on its vCPU; see {@link #awaitReady(long)}.
     */
    public static AhciDisk start(final Vcpu vcpu, final long abar)
    {
        return start(vcpu, abar, DEFAULT_VECTOR, Ahci.SLOTS);
    }

    /**
     * Starts the driver: allocates its DMA pages, installs its interrupt handler and adds itself to {@code vcpu},
     * where it resets and initializes the controller and identifies the disk.
     *
     * @param vcpu   the vCPU that takes the controller's interrupt (vCPU 0).
     * @param abar   the controller's register window, 4 KiB aligned.
     * @param vector the interrupt vector, 32 to 239, not the timer's or the event callback's.
     * @param slots  command slots to use, 1 to 32: the most I/Os in flight.
     * @return the driver.
     * @throws IllegalArgumentException if an argument is out of range.
     * @throws IllegalStateException    if the guest has too few free pages.
     */
    public static AhciDisk start(final Vcpu vcpu, final long abar, final int vector, final int slots)
    {
        Objects.requireNonNull(vcpu, "vcpu");
        if (abar < 0 || 0 != (abar & (Ahci.ABAR_LENGTH - 1)))
        {
            throw new IllegalArgumentException("ABAR must be 4 KiB aligned: 0x" + Long.toHexString(abar));
        }
        if (vector < 32 || vector > 239)
        {
            throw new IllegalArgumentException("interrupt vector " + vector + " is not 32 to 239");
        }
        if (slots < 1 || slots > Ahci.SLOTS)
        {
            throw new IllegalArgumentException("slots " + slots + " is not 1 to " + Ahci.SLOTS);
        }
        final AhciDisk disk = new AhciDisk(vcpu, abar, vector, slots);
        vcpu.addTask(disk);
        return disk;
    }

    /**
     * Waits until the controller is initialized and the disk identified.
     *
     * @param timeoutMillis how long to wait.
     * @return this.
     * @throws IllegalStateException if initialization failed or did not finish in time.
     * @throws InterruptedException  if interrupted.
     */
    public AhciDisk awaitReady(final long timeoutMillis) throws InterruptedException
    {
        final long deadline = System.currentTimeMillis() + timeoutMillis;
        synchronized (readyLock)
        {
            while (0 == capacitySectors && null == failure)
            {
                final long left = deadline - System.currentTimeMillis();
                if (left <= 0)
                {
                    throw new IllegalStateException("AHCI disk not ready after " + timeoutMillis + " ms: " + state());
                }
                readyLock.wait(left);
            }
        }
        if (null != failure)
        {
            throw new IllegalStateException("AHCI disk failed to start: " + failure);
        }
        return this;
    }

    /**
     * Submits an I/O: a read or write of whole 512-byte sectors (aligned to the disk's physical sector) of at most
     * {@link #MAX_IO_BYTES}, or a flush; discard is not offered and completes with
     * {@link BlockFrontException.Reason#NOT_SUPPORTED}. Any thread; completes through the I/O's callback on the vCPU,
     * or at once on this thread if refused.
     *
     * @param io the I/O, owned by the driver until its callback.
     */
    public void submit(final BlockIo io)
    {
        if (closed || null != failure)
        {
            refuse(io, BlockFrontException.Reason.CLOSED, "the AHCI disk is " + (closed ? "closed" : "failed: " +
                failure));
            return;
        }
        if (!queue.offer(io))
        {
            refuse(io, BlockFrontException.Reason.IO_ERROR, "the AHCI disk's queue is full (" + QUEUE_CAPACITY + ')');
            return;
        }
        vcpu.wake();
    }

    /**
     * The disk's size as IDENTIFY DEVICE reported it.
     *
     * @return 512-byte sectors, 0 until ready.
     */
    public long capacitySectors()
    {
        return capacitySectors;
    }

    /**
     * The disk's NCQ queue depth as IDENTIFY DEVICE reported it.
     *
     * @return commands, 0 until ready.
     */
    public int queueDepth()
    {
        return queueDepth;
    }

    /**
     * Register accesses made for I/O since the driver was ready (issue, interrupt and error handling).
     *
     * @return the count.
     */
    public long ioAccesses()
    {
        final long init = initAccesses;
        return init < 0 ? 0 : accesses - init;
    }

    /**
     * Register accesses made to initialize the controller and identify the disk.
     *
     * @return the count.
     */
    public long initAccesses()
    {
        final long init = initAccesses;
        return init < 0 ? accesses : init;
    }

    /**
     * Interrupts taken.
     *
     * @return the count.
     */
    public long interrupts()
    {
        return interrupts;
    }

    /**
     * Runs of the interrupt-handling program since ready: interrupts that arrived while one was pending are handled
     * by the same run.
     *
     * @return the count.
     */
    public long handlerRuns()
    {
        return interruptPrograms;
    }

    /**
     * I/Os completed successfully.
     *
     * @return the count.
     */
    public long completed()
    {
        return completed;
    }

    /**
     * I/Os completed with an error (refused ones included).
     *
     * @return the count.
     */
    public long failed()
    {
        return failed;
    }

    /**
     * Times the port was stopped and started again after an error.
     *
     * @return the count.
     */
    public long portRestarts()
    {
        return portRestarts;
    }

    /**
     * Commands completed per interrupt handled, since ready.
     *
     * @return the ratio, 0 before any interrupt.
     */
    public double completionsPerInterrupt()
    {
        final long handled = interruptPrograms;
        return 0 == handled ? 0 : (double)(completed + failed) / handled;
    }

    /**
     * Register accesses per completed I/O, since ready.
     *
     * @return the ratio, 0 before any completion.
     */
    public double accessesPerIo()
    {
        final long ios = completed + failed;
        return 0 == ios ? 0 : (double)ioAccesses() / ios;
    }

    /**
     * What the driver is doing, in words, for a stall's message.
     *
     * @return one line.
     */
    public String state()
    {
        return "AhciDisk{pc=" + pc + ", outstanding=0x" + Integer.toHexString(outstanding) + ", queued=" +
            queue.size() + ", completed=" + completed + ", failed=" + failed + ", interrupts=" + interrupts +
            (null == failure ? "" : ", failure=" + failure) + '}';
    }

    @Override
    public String roleName()
    {
        return "ahci-disk-d" + domain.id();
    }

    @Override
    public boolean prepareToBlock()
    {
        return irqPending || (READY == pc && !identifying &&
            (0 != reissue || (null == held ? !queue.isEmpty() : canIssue(held))));
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
     * Stops the driver: removes it from its vCPU, fails the I/Os it still holds and frees its DMA pages. Call it
     * with the controller stopped or gone (the device model closed, or the guest paused), since the pages go back to
     * the guest's allocator. Any thread; idempotent.
     */
    @Override
    public void close()
    {
        if (closed)
        {
            return;
        }
        closed = true;
        vcpu.removeTask(this);
        pc = CLOSED;
        for (int slot = 0; slot < slots; slot++)
        {
            final BlockIo io = slotIo[slot];
            slotIo[slot] = null;
            if (null != io)
            {
                refuse(io, BlockFrontException.Reason.CLOSED, "the AHCI disk closed with the I/O in flight");
            }
        }
        if (null != held)
        {
            refuse(held, BlockFrontException.Reason.CLOSED, "the AHCI disk closed");
            held = null;
        }
        BlockIo io;
        while (null != (io = queue.poll()))
        {
            refuse(io, BlockFrontException.Reason.CLOSED, "the AHCI disk closed");
        }
        freePages(listGfn, slots, dataGfn.length);
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
                write(Ahci.GHC, Ahci.GHC_HR);
                pc = INIT_WAIT_RESET;
                return true;
            case INIT_WAIT_RESET:
                if (0 != (read(Ahci.GHC) & Ahci.GHC_HR))
                {
                    return false; // the reset is still in progress: look again next time
                }
                pc = INIT_ENABLE;
                return true;
            case INIT_ENABLE:
                write(Ahci.GHC, Ahci.GHC_AE);
                pc = INIT_CAP;
                return true;
            case INIT_CAP:
            {
                final int cap = read(Ahci.CAP);
                final int hbaSlots = ((cap >>> Ahci.CAP_NCS_SHIFT) & 0x1F) + 1;
                if (0 == (cap & Ahci.CAP_SNCQ) || hbaSlots < slots)
                {
                    return fail(String.format("the controller offers %d slots, NCQ %s; the driver needs %d with NCQ",
                        hbaSlots, 0 != (cap & Ahci.CAP_SNCQ), slots));
                }
                pc = INIT_STOP;
                return true;
            }
            case INIT_STOP:
                write(Ahci.PX_CMD, 0);
                pc = INIT_CLB;
                return true;
            case INIT_CLB:
                write(Ahci.PX_CLB, (int)(listGfn << 12));
                pc = INIT_CLBU;
                return true;
            case INIT_CLBU:
                write(Ahci.PX_CLBU, (int)(listGfn >>> 20));
                pc = INIT_FB;
                return true;
            case INIT_FB:
                write(Ahci.PX_FB, (int)(listGfn << 12) + Ahci.COMMAND_LIST_LENGTH);
                pc = INIT_FBU;
                return true;
            case INIT_FBU:
                write(Ahci.PX_FBU, (int)(listGfn >>> 20));
                pc = INIT_SERR;
                return true;
            case INIT_SERR:
                write(Ahci.PX_SERR, -1);
                pc = INIT_PXIS;
                return true;
            case INIT_PXIS:
                write(Ahci.PX_IS, -1);
                pc = INIT_IS;
                return true;
            case INIT_IS:
                write(Ahci.IS, -1);
                pc = INIT_IE;
                return true;
            case INIT_IE:
                write(Ahci.PX_IE, ENABLED_STATUS);
                pc = INIT_GHC;
                return true;
            case INIT_GHC:
                write(Ahci.GHC, Ahci.GHC_AE | Ahci.GHC_IE);
                pc = INIT_START;
                return true;
            case INIT_START:
                write(Ahci.PX_CMD, Ahci.PX_CMD_FRE | Ahci.PX_CMD_ST);
                pc = INIT_SSTS;
                return true;
            case INIT_SSTS:
                if ((read(Ahci.PX_SSTS) & 0xF) != 3)
                {
                    return fail("no device on port 0 (PxSSTS.DET is not 3)");
                }
                prepareIdentify();
                pc = INIT_IDENTIFY;
                return true;
            case INIT_IDENTIFY:
                write(Ahci.PX_CI, 1);
                pc = READY;
                outstanding = 1;
                identifying = true;
                return true;
            case READY:
                return dispatch();
            case ISSUE_SACT:
                write(Ahci.PX_SACT, 1 << issuingSlot);
                pc = ISSUE_CI;
                return true;
            case ISSUE_CI:
                write(Ahci.PX_CI, 1 << issuingSlot);
                outstanding |= 1 << issuingSlot;
                if (issuingNcq)
                {
                    ncqOutstanding |= 1 << issuingSlot;
                }
                issuingSlot = -1;
                pc = READY;
                return true;
            case IRQ_IS:
                irqIs = read(Ahci.IS);
                pc = IRQ_PXIS;
                return true;
            case IRQ_PXIS:
                irqPxis = read(Ahci.PX_IS);
                pc = IRQ_CLEAR_PXIS;
                return true;
            case IRQ_CLEAR_PXIS:
                write(Ahci.PX_IS, irqPxis);
                pc = IRQ_ACTIVE;
                return true;
            case IRQ_ACTIVE:
            {
                final int active = read(0 != ncqOutstanding ? Ahci.PX_SACT : Ahci.PX_CI);
                pc = 0 != (irqPxis & PORT_ERRORS) ? ERR_CMD : IRQ_CLEAR_IS;
                // retired now (an error stop must not re-issue them), told after the handler's last access
                doneSlots = outstanding & ~active;
                outstanding &= active;
                ncqOutstanding &= active;
                return true;
            }
            case IRQ_CLEAR_IS:
                write(Ahci.IS, irqIs);
                pc = returnPc;
                completeDone(doneSlots);
                doneSlots = 0;
                if (justIdentified)
                {
                    ready();
                }
                return true;
            case ERR_CMD:
                failedSlot = (read(Ahci.PX_CMD) >>> Ahci.PX_CMD_CCS_SHIFT) & 0x1F;
                pc = ERR_TFD;
                return true;
            case ERR_TFD:
                failedTfd = read(Ahci.PX_TFD);
                pc = ERR_STOP;
                return true;
            case ERR_STOP:
                write(Ahci.PX_CMD, Ahci.PX_CMD_FRE);
                pc = ERR_SERR;
                abandonAfterError();
                return true;
            case ERR_SERR:
                write(Ahci.PX_SERR, -1);
                pc = ERR_PXIS;
                return true;
            case ERR_PXIS:
                write(Ahci.PX_IS, -1);
                pc = ERR_START;
                return true;
            case ERR_START:
                write(Ahci.PX_CMD, Ahci.PX_CMD_FRE | Ahci.PX_CMD_ST);
                portRestarts++;
                pc = IRQ_CLEAR_IS;
                return true;
            default:
                return false; // FAILED or CLOSED
        }
    }

    /** Ready: take an interrupt first, then re-issue what an error dropped, then issue new I/O. */
    private boolean dispatch()
    {
        if (irqPending)
        {
            irqPending = false;
            interruptPrograms++;
            returnPc = READY;
            pc = IRQ_IS;
            return true;
        }
        if (identifying)
        {
            return false;
        }
        if (0 != reissue)
        {
            final int slot = Integer.numberOfTrailingZeros(reissue);
            reissue &= ~(1 << slot);
            beginIssue(slot, BlkifOp.FLUSH_DISKCACHE != slotIo[slot].operation());
            return true;
        }
        if (null == held)
        {
            held = queue.poll();
            if (null == held)
            {
                return false;
            }
        }
        final BlockIo io = held;
        final String invalid = check(io);
        if (null != invalid)
        {
            held = null;
            refuse(io, BlkifOp.DISCARD == io.operation() ? BlockFrontException.Reason.NOT_SUPPORTED :
                BlockFrontException.Reason.INVALID_REQUEST, invalid);
            return true;
        }
        if (!canIssue(io))
        {
            return false; // a flush waits for the queue to drain, or every slot is busy
        }
        held = null;
        final int slot = Integer.numberOfTrailingZeros(~outstanding);
        slotIo[slot] = io;
        final boolean ncq = BlkifOp.FLUSH_DISKCACHE != io.operation();
        prepare(slot, io, ncq);
        beginIssue(slot, ncq);
        return true;
    }

    private boolean canIssue(final BlockIo io)
    {
        if (null == io || Integer.bitCount(outstanding | reissue) >= slots)
        {
            return false;
        }
        return BlkifOp.FLUSH_DISKCACHE != io.operation() ? outstanding == ncqOutstanding : 0 == outstanding;
    }

    private void beginIssue(final int slot, final boolean ncq)
    {
        issuingSlot = slot;
        issuingNcq = ncq;
        pc = ncq ? ISSUE_SACT : ISSUE_CI;
    }

    private String check(final BlockIo io)
    {
        final BlkifOp op = io.operation();
        if (BlkifOp.FLUSH_DISKCACHE == op)
        {
            return null;
        }
        if (BlkifOp.DISCARD == op)
        {
            return "the AHCI disk does not offer discard";
        }
        final int length = io.length();
        final long sector = io.sector();
        if (length <= 0 || length > MAX_IO_BYTES || 0 != length % (alignSectors * Ahci.SECTOR))
        {
            return "length " + length + " is not a multiple of " + alignSectors * Ahci.SECTOR + " from " +
                alignSectors * Ahci.SECTOR + " to " + MAX_IO_BYTES;
        }
        if (sector < 0 || 0 != sector % alignSectors || sector + length / Ahci.SECTOR > capacitySectors)
        {
            return "sector " + sector + " + " + length / Ahci.SECTOR + " is unaligned or past the disk's " +
                capacitySectors + " sectors";
        }
        return null;
    }

    /** Writes slot's command table and header (and copies a write's data): idempotent, guest memory only. */
    private void prepare(final int slot, final BlockIo io, final boolean ncq)
    {
        final BlkifOp op = io.operation();
        final int length = io.length();
        final int sectors = length / Ahci.SECTOR;
        final int prds = ncq ? (length + PAGE - 1) / PAGE : 0;
        final boolean write = BlkifOp.WRITE == op;
        if (write)
        {
            for (int i = 0; i < prds; i++)
            {
                final int chunk = Math.min(PAGE, length - i * PAGE);
                domain.wrapGuestFrame(dataGfn[slot * PAGES_PER_SLOT + i], view)
                    .putBytes(0, io.buffer(), io.offset() + i * PAGE, chunk);
            }
        }
        final int command = !ncq ? Ahci.ATA_FLUSH_CACHE_EXT :
            write ? Ahci.ATA_WRITE_FPDMA_QUEUED : Ahci.ATA_READ_FPDMA_QUEUED;
        writeTable(slot, command, io.sector(), ncq ? sectors : 0, slot << 3, prds, length);
        writeHeader(slot, write, prds);
    }

    private void prepareIdentify()
    {
        writeTable(0, Ahci.ATA_IDENTIFY_DEVICE, 0, 0, 0, 1, Ahci.IDENTIFY_LENGTH);
        writeHeader(0, false, 1);
    }

    private void writeTable(
        final int slot, final int command, final long lba, final int features, final int count, final int prds,
        final int length)
    {
        final UnsafeBuffer table = domain.wrapGuestFrame(tableGfn[slot], view);
        table.putInt(0, Ahci.FIS_TYPE_REG_H2D | Ahci.FIS_C << 8 | command << 16 | (features & 0xFF) << 24);
        table.putInt(4, (int)(lba & 0xFF_FFFF) | Ahci.DEVICE_LBA << 24);
        table.putInt(8, (int)((lba >>> 24) & 0xFF_FFFF) | ((features >>> 8) & 0xFF) << 24);
        table.putInt(12, count);
        table.putInt(16, 0);
        for (int i = 0; i < prds; i++)
        {
            final long address = dataGfn[slot * PAGES_PER_SLOT + i] << 12;
            final int entry = Ahci.TABLE_PRDT + i * Ahci.PRD_LENGTH;
            table.putInt(entry, (int)address);
            table.putInt(entry + 4, (int)(address >>> 32));
            table.putInt(entry + 8, 0);
            table.putInt(entry + Ahci.PRD_DBC, Math.min(PAGE, length - i * PAGE) - 1);
        }
    }

    private void writeHeader(final int slot, final boolean write, final int prds)
    {
        final UnsafeBuffer list = domain.wrapGuestFrame(listGfn, view);
        final int header = slot * Ahci.HEADER_LENGTH;
        final long table = tableGfn[slot] << 12;
        list.putInt(header, Ahci.FIS_REG_H2D_DWORDS | (write ? Ahci.HEADER_WRITE : 0) | prds << Ahci.HEADER_PRDTL_SHIFT);
        list.putInt(header + Ahci.HEADER_PRDBC, 0);
        list.putInt(header + Ahci.HEADER_CTBA, (int)table);
        list.putInt(header + Ahci.HEADER_CTBAU, (int)(table >>> 32));
    }

    private void completeDone(final int done)
    {
        int remaining = done;
        while (0 != remaining)
        {
            final int slot = Integer.numberOfTrailingZeros(remaining);
            remaining &= ~(1 << slot);
            if (identifying && 0 == slot)
            {
                identified();
                continue;
            }
            final BlockIo io = slotIo[slot];
            slotIo[slot] = null;
            if (BlkifOp.READ == io.operation())
            {
                final MutableDirectBuffer dst = (MutableDirectBuffer)io.buffer();
                final int length = io.length();
                for (int i = 0, done2 = 0; done2 < length; i++, done2 += PAGE)
                {
                    dst.putBytes(io.offset() + done2, domain.wrapGuestFrame(dataGfn[slot * PAGES_PER_SLOT + i], view),
                        0, Math.min(PAGE, length - done2));
                }
            }
            completed++;
            completeIo(io, null);
        }
    }

    private void identified()
    {
        identifying = false;
        final UnsafeBuffer id = domain.wrapGuestFrame(dataGfn[0], view);
        final long capacity = id.getLong(Ahci.IDENTIFY_LBA48_CAPACITY);
        final int depth = (id.getShort(Ahci.IDENTIFY_QUEUE_DEPTH) & 0x1F) + 1;
        final boolean ncq = 0 != (id.getShort(Ahci.IDENTIFY_SATA_CAPS) & Ahci.IDENTIFY_SATA_NCQ);
        final int info = id.getShort(Ahci.IDENTIFY_SECTOR_INFO) & 0xFFFF;
        if (!ncq || capacity <= 0)
        {
            fail("IDENTIFY DEVICE: NCQ " + ncq + ", capacity " + capacity);
            return;
        }
        if ((info & 0xC000) == Ahci.IDENTIFY_SECTOR_INFO_VALID && 0 != (info & Ahci.IDENTIFY_SECTOR_INFO_MULTIPLE))
        {
            alignSectors = 1 << (info & 0xF);
        }
        queueDepth = depth;
        identifiedCapacity = capacity;
        justIdentified = true;
    }

    /** The interrupt that completed IDENTIFY is handled: the counters start from here, for I/O only. */
    private void ready()
    {
        justIdentified = false;
        initAccesses = accesses;
        interrupts = 0;
        interruptPrograms = 0;
        synchronized (readyLock)
        {
            capacitySectors = identifiedCapacity;
            readyLock.notifyAll();
        }
    }

    /** After an error: the failed command completes with its status; the others are issued again after restart. */
    private void abandonAfterError()
    {
        final int bit = 1 << failedSlot;
        if (identifying)
        {
            fail(String.format("IDENTIFY DEVICE failed: PxTFD=0x%x", failedTfd));
            return;
        }
        if (0 != (outstanding & bit) && null != slotIo[failedSlot])
        {
            final BlockIo io = slotIo[failedSlot];
            slotIo[failedSlot] = null;
            outstanding &= ~bit;
            ncqOutstanding &= ~bit;
            failed++;
            completeIo(io, new BlockFrontException(BlockFrontException.Reason.IO_ERROR, String.format(
                "%s: the controller reported PxIS=0x%x PxTFD=0x%x (status 0x%x, error 0x%x)", io, irqPxis,
                failedTfd, failedTfd & 0xFF, (failedTfd >>> 8) & 0xFF)));
        }
        // the stop drops every command still issued: they go again, from their prepared slots
        reissue |= outstanding;
        outstanding = 0;
        ncqOutstanding = 0;
    }

    private void onInterrupt()
    {
        irqPending = true;
        interrupts++;
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

    private void refuse(final BlockIo io, final BlockFrontException.Reason reason, final String why)
    {
        failed++;
        completeIo(io, new BlockFrontException(reason, io + ": " + why));
    }

    private static void completeIo(final BlockIo io, final BlockFrontException error)
    {
        final BlockIoCallback callback = io.callback();
        if (null != callback)
        {
            callback.onComplete(io, error);
        }
    }

    private int read(final int offset)
    {
        final int value = (int)cpu.mmioRead(abar + offset, Integer.BYTES);
        accesses++;
        return value;
    }

    private void write(final int offset, final int value)
    {
        cpu.mmioWrite(abar + offset, Integer.BYTES, value & 0xFFFF_FFFFL);
        accesses++;
    }

    private void freePages(final long list, final int tables, final int data)
    {
        if (list >= 0)
        {
            pages.free(list);
        }
        for (int i = 0; i < tables; i++)
        {
            pages.free(tableGfn[i]);
        }
        for (int i = 0; i < data; i++)
        {
            pages.free(dataGfn[i]);
        }
    }
}
