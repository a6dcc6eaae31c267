package io.pvio.backend.ahci;

import io.pvio.backend.block.BlockStore;
import io.pvio.backend.block.BlockStoreException;
import io.pvio.machine.cpu.DeviceBus;
import io.pvio.machine.device.Ahci;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * The device model of an AHCI SATA host bus adapter with one port and one disk on a {@link BlockStore}, the image
 * blkback would serve: the registers of {@link Ahci} at a guest-physical base (ABAR), the command list, command
 * tables and PRDs read from guest memory through {@link GuestDma}, NCQ and non-queued commands, and an edge-triggered
 * MSI on completion. The same model stands for the hardware under a native kernel and for QEMU's emulation in dom0
 * under a full-mode guest; only who calls it differs.
 * <p>
 * <b>Threads.</b> Register accesses ({@link #read}, {@link #write}) come from one thread at a time (the guest's vCPU,
 * or the device-model domain's vCPU answering ioreqs); {@link #process(int)}, which executes issued commands, runs
 * on one thread at a time (the HBA's engine, or the device model's task), possibly another. Register state is
 * guarded by this object's lock; a command is claimed under it, executed outside it (DMA and image I/O), and
 * completed under it only if the port was not stopped or reset meanwhile (the generation check), so a command the
 * driver aborted never completes.
 * <p>
 * <b>Hostile guests.</b> Everything in guest memory is read once into private copies before it is checked. A
 * header, table or PRD address the guest does not own is a host bus fatal error ({@code PxIS.HBFS}); a malformed FIS,
 * an unknown command, a PRD table whose byte count disagrees with the sector count, more than {@link Ahci#MAX_PRDS}
 * PRDs or {@link Ahci#MAX_SECTORS} sectors, a write to a read-only image or I/O not aligned to the image's sector
 * is an aborted command ({@code TFES}, error {@code ABRT}); an LBA range past the disk's end is {@code IDNF}. After
 * an error the port stops taking commands, with {@code PxCMD.CCS} naming the failed slot, until the driver clears
 * {@code PxCMD.ST} (which drops every command still issued) and sets it again, as AHCI 1.3.1 section 6.2.2 has it.
 * Accesses outside the ABAR or not 32-bit aligned read all ones and are counted. Nothing a guest writes can make the
 * model touch memory outside that guest or throw.
 * <p>
 * <b>Identity.</b> The disk reports 512-byte logical sectors; over an image of 4096-byte sectors it reports 4096-byte
 * physical sectors (512e) and aborts I/O not aligned to them (this model does no read-modify-write).
 */
public final class AhciDevice implements DeviceBus, AutoCloseable
{
    /** What the device needs of its surroundings. */
    public interface Host
    {
        /** The HBA raises its MSI: post the vector to the guest (natively) or inject it ({@code dm_op}). */
        void interrupt();

        /** The driver issued commands (a write to PxCI): let {@link #process(int)} run soon. */
        void commandsIssued();
    }

    private static final int OK = 0;
    private static final int ERR_ABRT = 1;
    private static final int ERR_IDNF = 2;
    private static final int ERR_HBFS = 3;
    private static final int PX_IE_SUPPORTED =
        Ahci.PX_IS_DHRS | Ahci.PX_IS_SDBS | Ahci.PX_IS_HBFS | Ahci.PX_IS_TFES;
    private static final int PX_IS_ERRORS = Ahci.PX_IS_HBFS | Ahci.PX_IS_TFES;
    private static final int MAX_BYTES = Ahci.MAX_SECTORS * Ahci.SECTOR;
    private static final String MODEL = "PVIO AHCI EMULATED DISK";

    private final BlockStore store;
    private final GuestDma dma;
    private final long abar;
    private final Host host;
    private final ByteBuffer bounceMemory;
    private final UnsafeBuffer bounce;
    private final int alignSectors;

    // ---- registers and port state, under this object's lock ----
    private int ghc = Ahci.GHC_AE;
    private int is;
    private int clb;
    private int clbu;
    private int fb;
    private int fbu;
    private int pxis;
    private int pxie;
    private int pxcmd;
    private int tfd = Ahci.TFD_DRDY;
    private int serr;
    private int sact;
    private int ci;
    private int claimed;
    private int generation;
    private int currentSlot;
    private boolean stopped;
    private boolean closed;
    private long accesses;
    private long badAccesses;
    private long completed;
    private long errors;
    private long interrupts;
    private String lastError = "none";

    // ---- owned by the processing thread: private copies of one command's PRDs ----
    private final long[] prdAddress = new long[Ahci.MAX_PRDS];
    private final int[] prdBytes = new int[Ahci.MAX_PRDS];
    private int transferred;
    private String failure;

    /**
     * A controller at {@code abar} in the guest's physical address space, with a disk on {@code store}.
     *
     * @param store the image; the caller keeps ownership.
     * @param dma   DMA into the guest's memory.
     * @param abar  the register window's guest-physical base, 4 KiB aligned.
     * @param host  interrupt delivery and the processing wake-up.
     * @throws IllegalArgumentException if {@code abar} is not 4 KiB aligned.
     */
    public AhciDevice(final BlockStore store, final GuestDma dma, final long abar, final Host host)
    {
        this.store = Objects.requireNonNull(store, "store");
        this.dma = Objects.requireNonNull(dma, "dma");
        this.host = Objects.requireNonNull(host, "host");
        if (abar < 0 || 0 != (abar & (Ahci.ABAR_LENGTH - 1)))
        {
            throw new IllegalArgumentException("ABAR must be 4 KiB aligned: 0x" + Long.toHexString(abar));
        }
        this.abar = abar;
        this.alignSectors = store.sectorSize() / Ahci.SECTOR;
        this.bounceMemory = ByteBuffer.allocateDirect(MAX_BYTES);
        this.bounce = new UnsafeBuffer(bounceMemory);
    }

    /**
     * The register window's base.
     *
     * @return the guest-physical ABAR.
     */
    public long abar()
    {
        return abar;
    }

    /**
     * The image.
     *
     * @return the store.
     */
    public BlockStore store()
    {
        return store;
    }

    @Override
    public long read(final boolean mmio, final long address, final int size)
    {
        final long offset = address - abar;
        if (!mmio || Integer.BYTES != size || offset < 0 || offset >= Ahci.ABAR_LENGTH || 0 != (offset & 3))
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
        final long offset = address - abar;
        if (!mmio || Integer.BYTES != size || offset < 0 || offset >= Ahci.ABAR_LENGTH || 0 != (offset & 3))
        {
            synchronized (this)
            {
                badAccesses++;
            }
            return;
        }
        final int v = (int)value;
        boolean raise = false;
        boolean issued = false;
        synchronized (this)
        {
            accesses++;
            switch ((int)offset)
            {
                case Ahci.GHC:
                    if (0 != (v & Ahci.GHC_HR))
                    {
                        reset();
                    }
                    else
                    {
                        ghc = Ahci.GHC_AE | (v & Ahci.GHC_IE);
                        raise = pendingInterrupt();
                    }
                    break;
                case Ahci.IS:
                    is &= ~v;
                    // the port still has enabled status the driver has not cleared: a new message, or it is lost
                    raise = pendingInterrupt();
                    break;
                case Ahci.PX_CLB:
                    clb = v & ~(Ahci.COMMAND_LIST_ALIGN - 1);
                    break;
                case Ahci.PX_CLBU:
                    clbu = v;
                    break;
                case Ahci.PX_FB:
                    fb = v & ~(Ahci.RECEIVED_FIS_LENGTH - 1);
                    break;
                case Ahci.PX_FBU:
                    fbu = v;
                    break;
                case Ahci.PX_IS:
                    pxis &= ~v;
                    break;
                case Ahci.PX_IE:
                    pxie = v & PX_IE_SUPPORTED;
                    raise = pendingInterrupt();
                    break;
                case Ahci.PX_CMD:
                    portCommand(v);
                    break;
                case Ahci.PX_SERR:
                    serr &= ~v;
                    break;
                case Ahci.PX_SACT:
                    if (running())
                    {
                        sact |= v;
                    }
                    break;
                case Ahci.PX_CI:
                    if (0 != (pxcmd & Ahci.PX_CMD_ST))
                    {
                        ci |= v;
                        issued = running() && 0 != v;
                    }
                    break;
                default:
                    break; // read-only or reserved: ignored, as the hardware does
            }
        }
        if (raise)
        {
            host.interrupt();
        }
        if (issued)
        {
            host.commandsIssued();
        }
    }

    /**
     * Executes issued commands, lowest slot first, at most {@code budget} of them: reads each command from guest
     * memory, checks it, moves its data between the image and the guest, completes it and raises the interrupt.
     * One thread at a time; allocates nothing on success.
     *
     * @param budget most commands to execute.
     * @return commands executed (completed, failed or dropped because the port stopped).
     */
    public int process(final int budget)
    {
        int done = 0;
        while (done < budget)
        {
            final int slot;
            final int claimGeneration;
            final long commandList;
            synchronized (this)
            {
                final int pending = ci & ~claimed;
                if (closed || !running() || 0 == pending)
                {
                    break;
                }
                slot = Integer.numberOfTrailingZeros(pending);
                claimed |= 1 << slot;
                claimGeneration = generation;
                commandList = ((clbu & 0xFFFF_FFFFL) << 32) | (clb & 0xFFFF_FFFFL);
                currentSlot = slot;
            }
            final int status = execute(slot, commandList);
            boolean raise = false;
            synchronized (this)
            {
                if (claimGeneration == generation)
                {
                    claimed &= ~(1 << slot);
                    raise = complete(slot, status);
                }
            }
            if (raise)
            {
                host.interrupt();
            }
            done++;
        }
        return done;
    }

    /**
     * Whether issued commands wait for {@link #process(int)}.
     *
     * @return true if there is work.
     */
    public synchronized boolean hasWork()
    {
        return !closed && running() && 0 != (ci & ~claimed);
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
     * Commands completed successfully.
     *
     * @return the count.
     */
    public synchronized long completed()
    {
        return completed;
    }

    /**
     * Commands failed with an error status (aborted, address not found, host bus fatal).
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
     * Why the last command failed.
     *
     * @return the message, {@code none} if none has.
     */
    public synchronized String lastError()
    {
        return lastError;
    }

    /**
     * The port's state in words, for a stall's message.
     *
     * @return one line.
     */
    public synchronized String state()
    {
        return String.format("PxCMD=0x%x PxCI=0x%x PxSACT=0x%x PxIS=0x%x IS=0x%x PxTFD=0x%x claimed=0x%x%s", portCmd(),
            ci, sact, pxis, is, tfd, claimed, stopped ? " stopped by an error" : "");
    }

    /**
     * Releases the bounce buffer. Stop whatever runs {@link #process(int)} first. Idempotent.
     */
    @Override
    public void close()
    {
        synchronized (this)
        {
            if (closed)
            {
                return;
            }
            closed = true;
        }
        BufferUtil.free(bounceMemory);
    }

    @Override
    public String toString()
    {
        return "AhciDevice{abar=0x" + Long.toHexString(abar) + ", " + state() + '}';
    }

    // ------------------------------------------------------------------------------------------------ registers

    private int register(final int offset)
    {
        switch (offset)
        {
            case Ahci.CAP:
                return Ahci.CAP_S64A | Ahci.CAP_SNCQ | (Ahci.SLOTS - 1) << Ahci.CAP_NCS_SHIFT;
            case Ahci.GHC:
                return ghc;
            case Ahci.IS:
                return is;
            case Ahci.PI:
                return 1;
            case Ahci.VS:
                return Ahci.VERSION_1_3_1;
            case Ahci.PX_CLB:
                return clb;
            case Ahci.PX_CLBU:
                return clbu;
            case Ahci.PX_FB:
                return fb;
            case Ahci.PX_FBU:
                return fbu;
            case Ahci.PX_IS:
                return pxis;
            case Ahci.PX_IE:
                return pxie;
            case Ahci.PX_CMD:
                return portCmd();
            case Ahci.PX_TFD:
                return tfd;
            case Ahci.PX_SIG:
                return Ahci.SIG_ATA;
            case Ahci.PX_SSTS:
                return Ahci.SSTS_UP;
            case Ahci.PX_SERR:
                return serr;
            case Ahci.PX_SACT:
                return sact;
            case Ahci.PX_CI:
                return ci;
            default:
                return 0;
        }
    }

    private int portCmd()
    {
        int value = pxcmd | currentSlot << Ahci.PX_CMD_CCS_SHIFT;
        if (0 != (pxcmd & Ahci.PX_CMD_ST))
        {
            value |= Ahci.PX_CMD_CR;
        }
        if (0 != (pxcmd & Ahci.PX_CMD_FRE))
        {
            value |= Ahci.PX_CMD_FR;
        }
        return value;
    }

    private void portCommand(final int value)
    {
        final boolean wasStarted = 0 != (pxcmd & Ahci.PX_CMD_ST);
        final boolean start = 0 != (value & Ahci.PX_CMD_ST);
        if (wasStarted && !start)
        {
            // the command list stops: every issued command is dropped, those in flight never complete
            ci = 0;
            sact = 0;
            claimed = 0;
            generation++;
            stopped = false;
            tfd = Ahci.TFD_DRDY;
        }
        pxcmd = value & (Ahci.PX_CMD_ST | Ahci.PX_CMD_FRE);
    }

    private boolean running()
    {
        return 0 != (pxcmd & Ahci.PX_CMD_ST) && !stopped;
    }

    private void reset()
    {
        ghc = Ahci.GHC_AE;
        is = 0;
        clb = 0;
        clbu = 0;
        fb = 0;
        fbu = 0;
        pxis = 0;
        pxie = 0;
        pxcmd = 0;
        tfd = Ahci.TFD_DRDY;
        serr = 0;
        sact = 0;
        ci = 0;
        claimed = 0;
        currentSlot = 0;
        stopped = false;
        generation++;
    }

    /** Sets IS for the port if it has enabled status; true if that is a new interrupt message to send. */
    private boolean pendingInterrupt()
    {
        if (0 == (pxis & pxie) || 0 != (is & 1))
        {
            return false;
        }
        is |= 1;
        if (0 == (ghc & Ahci.GHC_IE))
        {
            return false;
        }
        interrupts++;
        return true;
    }

    private boolean complete(final int slot, final int status)
    {
        final int bit = 1 << slot;
        if (OK == status)
        {
            completed++;
            tfd = Ahci.TFD_DRDY;
            ci &= ~bit;
            if (0 != (sact & bit))
            {
                sact &= ~bit;
                pxis |= Ahci.PX_IS_SDBS;
            }
            else
            {
                pxis |= Ahci.PX_IS_DHRS;
            }
        }
        else
        {
            errors++;
            lastError = "slot " + slot + ": " + failure;
            stopped = true;
            currentSlot = slot;
            if (ERR_HBFS == status)
            {
                pxis |= Ahci.PX_IS_HBFS;
                tfd = Ahci.TFD_DRDY | Ahci.TFD_ERR | Ahci.TFD_ERROR_ABRT << 8;
            }
            else
            {
                pxis |= Ahci.PX_IS_TFES;
                final int error = ERR_IDNF == status ? Ahci.TFD_ERROR_IDNF : Ahci.TFD_ERROR_ABRT;
                tfd = Ahci.TFD_DRDY | Ahci.TFD_ERR | error << 8;
            }
        }
        return pendingInterrupt();
    }

    // ------------------------------------------------------------------------------------------------ commands

    private int execute(final int slot, final long commandList)
    {
        try
        {
            return executeChecked(slot, commandList);
        }
        catch (final GuestDma.DmaFault fault)
        {
            failure = fault.getMessage();
            return ERR_HBFS;
        }
        catch (final BlockStoreException ex)
        {
            failure = "image: " + ex.getMessage();
            return ERR_ABRT;
        }
    }

    private int executeChecked(final int slot, final long commandList)
    {
        final long header = commandList + (long)slot * Ahci.HEADER_LENGTH;
        // private copies: the guest may rewrite any of this while we look at it
        final int dw0 = dma.readInt(header);
        final long table = (((dma.readInt(header + Ahci.HEADER_CTBAU) & 0xFFFF_FFFFL) << 32) |
            (dma.readInt(header + Ahci.HEADER_CTBA) & 0xFFFF_FFFFL)) & ~(long)(Ahci.TABLE_ALIGN - 1);
        final int cfl = dw0 & Ahci.HEADER_CFL_MASK;
        final int prdtl = dw0 >>> Ahci.HEADER_PRDTL_SHIFT;
        final boolean headerWrite = 0 != (dw0 & Ahci.HEADER_WRITE);
        if (cfl < Ahci.FIS_REG_H2D_DWORDS)
        {
            return abort("command FIS of " + cfl + " dwords, a register FIS needs " + Ahci.FIS_REG_H2D_DWORDS);
        }
        final int fis0 = dma.readInt(table);
        final int fis1 = dma.readInt(table + 4);
        final int fis2 = dma.readInt(table + 8);
        final int fis3 = dma.readInt(table + 12);
        if (Ahci.FIS_TYPE_REG_H2D != (fis0 & 0xFF) || 0 == ((fis0 >>> 8) & Ahci.FIS_C))
        {
            return abort(String.format("FIS type 0x%x flags 0x%x is not a host-to-device command", fis0 & 0xFF,
                (fis0 >>> 8) & 0xFF));
        }
        final int command = (fis0 >>> 16) & 0xFF;
        final long lba = (fis1 & 0xFF_FFFFL) | (fis2 & 0xFF_FFFFL) << 24;
        final int features = (fis0 >>> 24) | ((fis2 >>> 24) & 0xFF) << 8;
        final int count = fis3 & 0xFFFF;
        final boolean write;
        final int sectors;
        switch (command)
        {
            case Ahci.ATA_READ_FPDMA_QUEUED:
            case Ahci.ATA_WRITE_FPDMA_QUEUED:
                if (((count & 0xFF) >>> 3) != slot)
                {
                    return abort("NCQ tag " + ((count & 0xFF) >>> 3) + " in slot " + slot);
                }
                write = Ahci.ATA_WRITE_FPDMA_QUEUED == command;
                sectors = 0 == features ? 65_536 : features;
                break;
            case Ahci.ATA_READ_DMA_EXT:
            case Ahci.ATA_WRITE_DMA_EXT:
                write = Ahci.ATA_WRITE_DMA_EXT == command;
                sectors = 0 == count ? 65_536 : count;
                break;
            case Ahci.ATA_FLUSH_CACHE_EXT:
                store.flush();
                dma.writeInt(header + Ahci.HEADER_PRDBC, 0);
                return OK;
            case Ahci.ATA_IDENTIFY_DEVICE:
                if (!readPrds(table, prdtl) || transferred != Ahci.IDENTIFY_LENGTH)
                {
                    return abort("IDENTIFY DEVICE needs PRDs of " + Ahci.IDENTIFY_LENGTH + " bytes");
                }
                identify();
                scatter(Ahci.IDENTIFY_LENGTH);
                dma.writeInt(header + Ahci.HEADER_PRDBC, Ahci.IDENTIFY_LENGTH);
                return OK;
            default:
                return abort(String.format("unsupported command 0x%02x", command));
        }
        if (write != headerWrite)
        {
            return abort("command header's W bit disagrees with the " + (write ? "write" : "read") + " command");
        }
        if (sectors > Ahci.MAX_SECTORS)
        {
            return abort(sectors + " sectors in one command, at most " + Ahci.MAX_SECTORS);
        }
        if (!readPrds(table, prdtl))
        {
            return ERR_ABRT;
        }
        final int bytes = sectors * Ahci.SECTOR;
        if (transferred != bytes)
        {
            return abort("PRDs describe " + transferred + " bytes for " + sectors + " sectors");
        }
        if (lba + sectors > store.sectors())
        {
            failure = "LBA " + lba + " + " + sectors + " is past the disk's " + store.sectors() + " sectors";
            return ERR_IDNF;
        }
        if (0 != lba % alignSectors || 0 != sectors % alignSectors)
        {
            return abort("LBA " + lba + " + " + sectors + " is not aligned to the " + store.sectorSize() +
                "-byte physical sector");
        }
        if (write)
        {
            if (store.isReadOnly())
            {
                return abort("write to a read-only disk");
            }
            gather(bytes);
            store.write(lba, bounce, 0, bytes);
        }
        else
        {
            store.read(lba, bounce, 0, bytes);
            scatter(bytes);
        }
        dma.writeInt(header + Ahci.HEADER_PRDBC, bytes);
        return OK;
    }

    private boolean readPrds(final long table, final int prdtl)
    {
        if (prdtl < 1 || prdtl > Ahci.MAX_PRDS)
        {
            abort(prdtl + " PRD entries, expected 1 to " + Ahci.MAX_PRDS);
            return false;
        }
        long total = 0;
        for (int i = 0; i < prdtl; i++)
        {
            final long entry = table + Ahci.TABLE_PRDT + (long)i * Ahci.PRD_LENGTH;
            final long address = ((dma.readInt(entry + 4) & 0xFFFF_FFFFL) << 32) | (dma.readInt(entry) & 0xFFFF_FFFFL);
            final int dbc = dma.readInt(entry + Ahci.PRD_DBC) & Ahci.PRD_DBC_MASK;
            if (0 != (address & 1) || 0 == (dbc & 1))
            {
                abort(String.format("PRD %d: address 0x%x / count %d not word aligned", i, address, dbc + 1));
                return false;
            }
            prdAddress[i] = address;
            prdBytes[i] = dbc + 1;
            total += dbc + 1;
            if (total > MAX_BYTES)
            {
                abort("PRDs describe more than " + MAX_BYTES + " bytes");
                return false;
            }
        }
        if (prdtl < Ahci.MAX_PRDS)
        {
            prdBytes[prdtl] = 0;
        }
        transferred = (int)total;
        return true;
    }

    private void scatter(final int bytes)
    {
        int done = 0;
        for (int i = 0; done < bytes; i++)
        {
            final int chunk = Math.min(prdBytes[i], bytes - done);
            dma.writeToGuest(prdAddress[i], bounce, done, chunk);
            done += chunk;
        }
    }

    private void gather(final int bytes)
    {
        int done = 0;
        for (int i = 0; done < bytes; i++)
        {
            final int chunk = Math.min(prdBytes[i], bytes - done);
            dma.readFromGuest(prdAddress[i], bounce, done, chunk);
            done += chunk;
        }
    }

    private void identify()
    {
        bounce.setMemory(0, Ahci.IDENTIFY_LENGTH, (byte)0);
        final long capacity = store.sectors();
        putWord(0, 0x0040); // fixed device
        for (int i = 0; i < 40; i++) // words 27 to 46: model, two characters per word, first in the high byte
        {
            final char c = i < MODEL.length() ? MODEL.charAt(i) : ' ';
            bounce.putByte(27 * 2 + (i ^ 1), (byte)c);
        }
        putWord(49, 1 << 9 | 1 << 8); // LBA and DMA supported
        putWord(60, (int)Math.min(capacity, 0x0FFF_FFFFL) & 0xFFFF);
        putWord(61, (int)(Math.min(capacity, 0x0FFF_FFFFL) >>> 16));
        putWord(Ahci.IDENTIFY_QUEUE_DEPTH / 2, Ahci.SLOTS - 1);
        putWord(Ahci.IDENTIFY_SATA_CAPS / 2, Ahci.IDENTIFY_SATA_NCQ | 1 << 3 | 1 << 2 | 1 << 1);
        putWord(83, 1 << 14 | 1 << 10); // LBA48 supported
        putWord(86, 1 << 10); // LBA48 enabled
        bounce.putLong(Ahci.IDENTIFY_LBA48_CAPACITY, capacity);
        final int exponent = Integer.numberOfTrailingZeros(alignSectors);
        putWord(Ahci.IDENTIFY_SECTOR_INFO / 2,
            Ahci.IDENTIFY_SECTOR_INFO_VALID | (0 == exponent ? 0 : Ahci.IDENTIFY_SECTOR_INFO_MULTIPLE | exponent));
    }

    private void putWord(final int word, final int value)
    {
        bounce.putShort(word * 2, (short)value);
    }

    private int abort(final String why)
    {
        failure = why;
        return ERR_ABRT;
    }
}
