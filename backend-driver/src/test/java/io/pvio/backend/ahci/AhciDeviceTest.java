package io.pvio.backend.ahci;

import io.pvio.backend.block.MemoryBlockStore;
import io.pvio.hypervisor.Domain;
import io.pvio.hypervisor.Hypervisor;
import io.pvio.machine.device.Ahci;
import io.pvio.machine.memory.MachineMemory;
import io.pvio.machine.vm.PagingMode;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.Random;
import java.util.zip.CRC32;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The AHCI device model driven register by register from the test thread, as a driver would: NCQ and non-queued
 * commands move the image's data through guest memory, completions set the documented status and raise one MSI,
 * and every kind of hostile input gets its error status without touching anything outside the guest.
 */
class AhciDeviceTest
{
    private static final long ABAR = 0xFEBF_0000L;
    private static final long CLB_GFN = 1;
    private static final long TABLE_GFN = 2;
    private static final long DATA_GFN = 8;
    private static final int DISK_SECTORS = 4096;

    private Hypervisor hypervisor;
    private Domain guest;
    private MemoryBlockStore store;
    private AhciDevice device;
    private int interrupts;
    private int issued;

    @BeforeEach
    void start()
    {
        hypervisor = new Hypervisor(new MachineMemory(1024L * MachineMemory.FRAME_SIZE), 128, 1);
        guest = hypervisor.dom0().hypercalls().createDomain("hvm", 64, 1, PagingMode.FULL);
        store = new MemoryBlockStore((long)DISK_SECTORS * Ahci.SECTOR);
        device = newDevice(store);
    }

    @AfterEach
    void stop()
    {
        device.close();
        store.close();
        hypervisor.close();
    }

    @Test
    void ncqWriteThenReadMovesTheImagesDataAndRaisesOneInterruptEach()
    {
        bringUp();
        final UnsafeBuffer data = new UnsafeBuffer(new byte[8192]);
        new Random(7).nextBytes(data.byteArray());
        fillGuest(DATA_GFN, data, 8192);

        ncq(3, Ahci.ATA_WRITE_FPDMA_QUEUED, 64, 16, DATA_GFN, 2);
        issue(3, true);
        assertEquals(1, issued, "the PxCI write asked for processing");
        assertEquals(1, device.process(32));
        assertEquals(1, interrupts);
        assertEquals(0, reg(Ahci.PX_CI));
        assertEquals(0, reg(Ahci.PX_SACT));
        assertEquals(Ahci.PX_IS_SDBS, reg(Ahci.PX_IS));
        assertEquals(1, reg(Ahci.IS));
        assertEquals(8192, guestInt(CLB_GFN, 3 * Ahci.HEADER_LENGTH + Ahci.HEADER_PRDBC), "PRDBC");
        final UnsafeBuffer image = new UnsafeBuffer(new byte[8192]);
        store.read(64, image, 0, 8192);
        assertEquals(data, image, "the image holds what the guest wrote");

        acknowledge();
        clearGuest(DATA_GFN + 4, 2);
        ncq(5, Ahci.ATA_READ_FPDMA_QUEUED, 64, 16, DATA_GFN + 4, 2);
        issue(5, true);
        assertEquals(1, device.process(32));
        assertEquals(2, interrupts);
        assertEquals(data, readGuest(DATA_GFN + 4, 8192), "the guest reads back what the image holds");
        assertEquals(2, device.completed());
        assertEquals(0, device.errors());
    }

    @Test
    void nonQueuedCommandsCompleteWithADeviceToHostFisAndIdentifyReportsTheDisk()
    {
        bringUp();
        command(0, Ahci.ATA_IDENTIFY_DEVICE, 0, 0, false, TABLE_GFN + 8, 1, Ahci.IDENTIFY_LENGTH);
        issue(0, false);
        device.process(1);
        assertEquals(Ahci.PX_IS_DHRS, reg(Ahci.PX_IS));
        final UnsafeBuffer id = readGuest(TABLE_GFN + 8, Ahci.IDENTIFY_LENGTH);
        assertEquals(DISK_SECTORS, id.getLong(Ahci.IDENTIFY_LBA48_CAPACITY));
        assertEquals(Ahci.SLOTS - 1, id.getShort(Ahci.IDENTIFY_QUEUE_DEPTH) & 0x1F);
        assertTrue(0 != (id.getShort(Ahci.IDENTIFY_SATA_CAPS) & Ahci.IDENTIFY_SATA_NCQ));
        assertEquals('P', (char)id.getByte(27 * 2 + 1), "model string, high byte first");

        acknowledge();
        command(1, Ahci.ATA_WRITE_DMA_EXT, 8, 8, true, DATA_GFN, 1, 4096);
        issue(1, false);
        device.process(1);
        assertEquals(Ahci.PX_IS_DHRS, reg(Ahci.PX_IS));
        acknowledge();
        command(2, Ahci.ATA_FLUSH_CACHE_EXT, 0, 0, false, DATA_GFN, 1, 0);
        issue(2, false);
        device.process(1);
        assertEquals(3, device.completed());
        assertEquals(0, reg(Ahci.PX_CI));
    }

    @Test
    void aDmaAddressOutsideTheGuestIsAHostBusFatalErrorAndTheRestartRecovers()
    {
        bringUp();
        final long dom0Crc = crcOfDom0();
        ncq(0, Ahci.ATA_READ_FPDMA_QUEUED, 0, 8, 1L << 40 >>> 12, 1); // far past the guest's 64 frames
        ncq(1, Ahci.ATA_READ_FPDMA_QUEUED, 8, 8, DATA_GFN, 1);
        issue(0, true);
        issue(1, true);
        assertEquals(1, device.process(32), "the port stops at the error");
        assertEquals(Ahci.PX_IS_HBFS, reg(Ahci.PX_IS) & Ahci.PX_IS_HBFS);
        assertEquals(0, (reg(Ahci.PX_CMD) >>> Ahci.PX_CMD_CCS_SHIFT) & 0x1F, "CCS names the failed slot");
        assertEquals(0b11, reg(Ahci.PX_CI), "nothing completes while stopped");
        assertEquals(1, device.errors());
        assertTrue(device.lastError().contains("not guest memory"), device.lastError());
        assertEquals(dom0Crc, crcOfDom0(), "no other domain's memory was touched");

        // the driver's recovery: stop (drops both), clear, start, re-issue the good one
        write(Ahci.PX_CMD, Ahci.PX_CMD_FRE);
        assertEquals(0, reg(Ahci.PX_CI));
        write(Ahci.PX_IS, -1);
        write(Ahci.IS, -1);
        write(Ahci.PX_CMD, Ahci.PX_CMD_FRE | Ahci.PX_CMD_ST);
        issue(1, true);
        assertEquals(1, device.process(32));
        assertEquals(Ahci.PX_IS_SDBS, reg(Ahci.PX_IS));
        assertEquals(1, device.completed());
    }

    @Test
    void malformedCommandsAreAbortedAndOutOfRangeLbasAreNotFound()
    {
        bringUp();
        expectError(() -> command(0, 0x99, 0, 8, false, DATA_GFN, 1, 4096), Ahci.TFD_ERROR_ABRT, "unsupported");
        expectError(() -> command(0, Ahci.ATA_READ_DMA_EXT, 0, 8, false, DATA_GFN, 1, 2048), Ahci.TFD_ERROR_ABRT,
            "PRDs describe 2048");
        expectError(() -> command(0, Ahci.ATA_READ_DMA_EXT, DISK_SECTORS - 4, 8, false, DATA_GFN, 1, 4096),
            Ahci.TFD_ERROR_IDNF, "past the disk");
        expectError(() -> command(0, Ahci.ATA_READ_DMA_EXT, 0, 8, true, DATA_GFN, 1, 4096), Ahci.TFD_ERROR_ABRT,
            "W bit");
        expectError(() -> command(0, Ahci.ATA_READ_DMA_EXT, 0, 0, false, DATA_GFN, 1, 4096), Ahci.TFD_ERROR_ABRT,
            "sectors in one command");
        expectError(() -> command(0, Ahci.ATA_READ_DMA_EXT, 0, 8, false, DATA_GFN, 0, 4096), Ahci.TFD_ERROR_ABRT,
            "PRD entries");
        expectError(() ->
        {
            ncq(0, Ahci.ATA_READ_FPDMA_QUEUED, 0, 8, DATA_GFN, 1);
            putGuestByte(TABLE_GFN, Ahci.FIS_COUNT, 7 << 3); // tag 7 in slot 0
        }, Ahci.TFD_ERROR_ABRT, "NCQ tag");
        expectError(() ->
        {
            command(0, Ahci.ATA_READ_DMA_EXT, 0, 8, false, DATA_GFN, 1, 4096);
            putGuestByte(TABLE_GFN, 0, 0x34); // a device-to-host FIS type
        }, Ahci.TFD_ERROR_ABRT, "not a host-to-device command");
        assertEquals(0, device.completed());
    }

    @Test
    void aReadOnlyOrFourKibImageRefusesWhatItCannotDo()
    {
        device.close();
        final MemoryBlockStore readOnly = new MemoryBlockStore(1 << 20, 4096, true);
        try
        {
            device = newDevice(readOnly);
            bringUp();
            expectError(() -> command(0, Ahci.ATA_WRITE_DMA_EXT, 0, 8, true, DATA_GFN, 1, 4096),
                Ahci.TFD_ERROR_ABRT, "read-only");
            expectError(() -> command(0, Ahci.ATA_READ_DMA_EXT, 4, 8, false, DATA_GFN, 1, 4096),
                Ahci.TFD_ERROR_ABRT, "physical sector");
            bringUp();
            command(0, Ahci.ATA_READ_DMA_EXT, 8, 8, false, DATA_GFN, 1, 4096);
            issue(0, false);
            device.process(1);
            assertEquals(1, device.completed(), "an aligned read works");
        }
        finally
        {
            device.close();
            readOnly.close();
        }
    }

    @Test
    void accessesOutsideTheWindowOrOfTheWrongSizeReadAllOnes()
    {
        assertEquals(0xFFFF_FFFFL, device.read(true, ABAR + Ahci.ABAR_LENGTH, 4));
        assertEquals(0xFFL, device.read(true, ABAR + Ahci.CAP, 1));
        assertEquals(0xFFFF_FFFFL, device.read(true, ABAR + 2, 4));
        assertEquals(0xFFFF_FFFFL, device.read(false, ABAR, 4));
        assertEquals(-1L, device.read(true, ABAR - 8, 8));
        device.write(true, ABAR - 4, 4, 0);
        assertEquals(6, device.badAccesses());
        assertEquals(0, device.accesses());
        final long cap = device.read(true, ABAR + Ahci.CAP, 4);
        assertEquals(Ahci.SLOTS - 1, (cap >>> Ahci.CAP_NCS_SHIFT) & 0x1F);
        assertTrue(0 != (cap & Ahci.CAP_SNCQ));
        assertEquals(1, device.accesses());
    }

    @Test
    void clearingIsWhileThePortStillHasStatusRaisesAnotherMessage()
    {
        bringUp();
        ncq(0, Ahci.ATA_READ_FPDMA_QUEUED, 0, 8, DATA_GFN, 1);
        ncq(1, Ahci.ATA_READ_FPDMA_QUEUED, 8, 8, DATA_GFN + 1, 1);
        issue(0, true);
        issue(1, true);
        // the driver's handler: read IS, read PxIS, clear PxIS, read SACT ... a completion lands here ... clear IS
        assertEquals(1, device.process(1));
        assertEquals(1, interrupts);
        final int pxis = reg(Ahci.PX_IS);
        write(Ahci.PX_IS, pxis);
        assertEquals(0b10, reg(Ahci.PX_SACT));
        assertEquals(1, device.process(1));
        assertEquals(1, interrupts, "IS still set: no new message yet");
        write(Ahci.IS, 1);
        assertEquals(2, interrupts, "the completion after the SACT read is not lost");
        assertEquals(1, reg(Ahci.IS));
    }

    @Test
    void stoppingThePortDropsIssuedCommandsAndResetClearsEverything()
    {
        bringUp();
        ncq(0, Ahci.ATA_READ_FPDMA_QUEUED, 0, 8, DATA_GFN, 1);
        issue(0, true);
        write(Ahci.PX_CMD, Ahci.PX_CMD_FRE);
        assertEquals(0, device.process(32));
        assertFalse(device.hasWork());
        assertEquals(0, device.completed());
        write(Ahci.GHC, Ahci.GHC_HR);
        assertEquals(0, reg(Ahci.PX_CLB));
        assertEquals(0, reg(Ahci.PX_CMD) & Ahci.PX_CMD_ST);
        write(Ahci.PX_CI, 1);
        assertFalse(device.hasWork(), "PxCI is ignored while the port is stopped");
    }

    @Test
    void randomRegisterWritesAndCommandTablesNeverThrowNorTouchAnotherDomain()
    {
        final long dom0Crc = crcOfDom0();
        final Random random = new Random(11);
        final int[] offsets = {Ahci.GHC, Ahci.IS, Ahci.PX_CLB, Ahci.PX_CLBU, Ahci.PX_FB, Ahci.PX_IS, Ahci.PX_IE,
            Ahci.PX_CMD, Ahci.PX_SERR, Ahci.PX_SACT, Ahci.PX_CI};
        final UnsafeBuffer noise = new UnsafeBuffer(new byte[4096]);
        for (int round = 0; round < 2_000; round++)
        {
            if (0 == round % 50)
            {
                bringUp();
            }
            if (random.nextBoolean())
            {
                random.nextBytes(noise.byteArray());
                fillGuest(random.nextBoolean() ? CLB_GFN : TABLE_GFN, noise, 4096);
            }
            final int offset = offsets[random.nextInt(offsets.length)];
            final int value = random.nextInt(4) == 0 ? random.nextInt() : 1 << random.nextInt(32);
            write(offset, Ahci.PX_CLB == offset ? (int)(CLB_GFN << 12) : value);
            device.process(4);
            if (device.errors() > 0 && random.nextInt(8) == 0)
            {
                write(Ahci.PX_CMD, 0);
                write(Ahci.PX_CMD, Ahci.PX_CMD_ST | Ahci.PX_CMD_FRE);
            }
        }
        assertTrue(device.errors() > 0, "the noise produced errors");
        assertEquals(dom0Crc, crcOfDom0(), "no other domain's memory was touched");
        // and the device still works for an honest driver
        bringUp();
        ncq(2, Ahci.ATA_READ_FPDMA_QUEUED, 16, 8, DATA_GFN, 1);
        issue(2, true);
        final long before = device.completed();
        device.process(32);
        assertEquals(before + 1, device.completed());
    }

    // ------------------------------------------------------------------------------------------------ the "driver"

    private AhciDevice newDevice(final io.pvio.backend.block.BlockStore image)
    {
        return new AhciDevice(image, new GuestDma(hypervisor.memory(), guest), ABAR, new AhciDevice.Host()
        {
            @Override
            public void interrupt()
            {
                interrupts++;
            }

            @Override
            public void commandsIssued()
            {
                issued++;
            }
        });
    }

    private void bringUp()
    {
        write(Ahci.GHC, Ahci.GHC_HR);
        write(Ahci.PX_CLB, (int)(CLB_GFN << 12));
        write(Ahci.PX_CLBU, 0);
        write(Ahci.PX_FB, (int)(CLB_GFN << 12) + Ahci.COMMAND_LIST_LENGTH);
        write(Ahci.PX_IE, Ahci.PX_IS_SDBS | Ahci.PX_IS_DHRS | Ahci.PX_IS_TFES | Ahci.PX_IS_HBFS);
        write(Ahci.GHC, Ahci.GHC_AE | Ahci.GHC_IE);
        write(Ahci.PX_CMD, Ahci.PX_CMD_FRE | Ahci.PX_CMD_ST);
        interrupts = 0;
        issued = 0;
    }

    private void acknowledge()
    {
        write(Ahci.PX_IS, reg(Ahci.PX_IS));
        write(Ahci.IS, 1);
    }

    private void issue(final int slot, final boolean ncq)
    {
        if (ncq)
        {
            write(Ahci.PX_SACT, 1 << slot);
        }
        write(Ahci.PX_CI, 1 << slot);
    }

    private void ncq(
        final int slot, final int command, final long lba, final int sectors, final long dataGfn, final int pages)
    {
        buildCommand(slot, command, lba, sectors, Ahci.ATA_WRITE_FPDMA_QUEUED == command, dataGfn, pages,
            sectors * Ahci.SECTOR / Math.max(1, pages), true);
    }

    private void command(
        final int slot, final int command, final long lba, final int sectors, final boolean writeBit,
        final long dataGfn, final int prds, final int bytesPerPrd)
    {
        buildCommand(slot, command, lba, sectors, writeBit, dataGfn, prds, bytesPerPrd, false);
    }

    /** Slot {@code s}'s command table is at TABLE_GFN + s (page-sized tables); PRD i covers one page of data. */
    private void buildCommand(
        final int slot, final int command, final long lba, final int sectors, final boolean writeBit,
        final long dataGfn, final int prds, final int bytesPerPrd, final boolean ncq)
    {
        final long tableGfn = TABLE_GFN + slot;
        final UnsafeBuffer table = guest.guestFrame(tableGfn);
        table.setMemory(0, 4096, (byte)0);
        table.putByte(0, (byte)Ahci.FIS_TYPE_REG_H2D);
        table.putByte(1, (byte)Ahci.FIS_C);
        table.putByte(Ahci.FIS_COMMAND, (byte)command);
        table.putByte(Ahci.FIS_LBA_LOW, (byte)lba);
        table.putByte(Ahci.FIS_LBA_LOW + 1, (byte)(lba >>> 8));
        table.putByte(Ahci.FIS_LBA_LOW + 2, (byte)(lba >>> 16));
        table.putByte(Ahci.FIS_DEVICE, (byte)Ahci.DEVICE_LBA);
        table.putByte(Ahci.FIS_LBA_HIGH, (byte)(lba >>> 24));
        if (ncq)
        {
            table.putByte(Ahci.FIS_FEATURES, (byte)sectors);
            table.putByte(Ahci.FIS_FEATURES_EXP, (byte)(sectors >>> 8));
            table.putByte(Ahci.FIS_COUNT, (byte)(slot << 3));
        }
        else
        {
            table.putByte(Ahci.FIS_COUNT, (byte)sectors);
            table.putByte(Ahci.FIS_COUNT_EXP, (byte)(sectors >>> 8));
        }
        for (int i = 0; i < prds; i++)
        {
            final long address = (dataGfn + i) << 12;
            final int entry = Ahci.TABLE_PRDT + i * Ahci.PRD_LENGTH;
            table.putInt(entry, (int)address);
            table.putInt(entry + 4, (int)(address >>> 32));
            table.putInt(entry + Ahci.PRD_DBC, Math.max(bytesPerPrd, 2) - 1);
        }
        final UnsafeBuffer list = guest.guestFrame(CLB_GFN);
        final int header = slot * Ahci.HEADER_LENGTH;
        list.putInt(header, Ahci.FIS_REG_H2D_DWORDS | (writeBit ? Ahci.HEADER_WRITE : 0) |
            prds << Ahci.HEADER_PRDTL_SHIFT);
        list.putInt(header + Ahci.HEADER_PRDBC, 0);
        list.putInt(header + Ahci.HEADER_CTBA, (int)(tableGfn << 12));
        list.putInt(header + Ahci.HEADER_CTBAU, 0);
    }

    private void expectError(final Runnable build, final int error, final String message)
    {
        bringUp();
        build.run();
        issue(0, Ahci.ATA_READ_FPDMA_QUEUED == (guest.guestFrame(TABLE_GFN).getByte(Ahci.FIS_COMMAND) & 0xFF));
        final long errors = device.errors();
        device.process(1);
        assertEquals(errors + 1, device.errors(), message);
        assertEquals(Ahci.PX_IS_TFES, reg(Ahci.PX_IS) & Ahci.PX_IS_TFES, message);
        final int tfd = reg(Ahci.PX_TFD);
        assertEquals(Ahci.TFD_ERR, tfd & Ahci.TFD_ERR, message);
        assertEquals(error, (tfd >>> 8) & 0xFF, message);
        assertTrue(device.lastError().contains(message), device.lastError());
        assertEquals(1, interrupts, "an error raises the interrupt");
        assertNotEquals(0, reg(Ahci.PX_CI), "the failed command stays issued until the port stops");
    }

    private int reg(final int offset)
    {
        return (int)device.read(true, ABAR + offset, 4);
    }

    private void write(final int offset, final int value)
    {
        device.write(true, ABAR + offset, 4, value & 0xFFFF_FFFFL);
    }

    private void fillGuest(final long gfn, final UnsafeBuffer src, final int length)
    {
        for (int done = 0; done < length; done += 4096)
        {
            guest.guestFrame(gfn + done / 4096).putBytes(0, src, done, Math.min(4096, length - done));
        }
    }

    private void clearGuest(final long gfn, final int pages)
    {
        for (int i = 0; i < pages; i++)
        {
            guest.guestFrame(gfn + i).setMemory(0, 4096, (byte)0);
        }
    }

    private UnsafeBuffer readGuest(final long gfn, final int length)
    {
        final UnsafeBuffer copy = new UnsafeBuffer(new byte[length]);
        for (int done = 0; done < length; done += 4096)
        {
            copy.putBytes(done, guest.guestFrame(gfn + done / 4096), 0, Math.min(4096, length - done));
        }
        return copy;
    }

    private int guestInt(final long gfn, final int offset)
    {
        return guest.guestFrame(gfn).getInt(offset);
    }

    private void putGuestByte(final long gfn, final int offset, final int value)
    {
        guest.guestFrame(gfn).putByte(offset, (byte)value);
    }

    private long crcOfDom0()
    {
        final CRC32 crc = new CRC32();
        final Domain dom0 = hypervisor.dom0();
        final byte[] page = new byte[4096];
        for (long gfn = 0; gfn < 128; gfn++)
        {
            dom0.guestFrame(gfn).getBytes(0, page);
            crc.update(page);
        }
        return crc.getValue();
    }
}
