package io.pvio.machine.device;

/**
 * The register map and in-memory structures of an AHCI SATA host bus adapter (Serial ATA AHCI 1.3.1, sections 3 and
 * 4) with one port, and the SATA frame and ATA command codes its driver uses (ATA8-ACS, SATA 3.x section 10.3): the
 * contract between the device model and the guest's driver. All fields are little endian.
 * <pre>
 * ABAR (MMIO, 4 KiB)            port 0 at ABAR + 0x100
 * 0x00 CAP  capabilities        +0x00 PxCLB  command list base (1 KiB aligned)   +0x20 PxTFD  task file data
 * 0x04 GHC  global control      +0x04 PxCLBU upper 32 bits                        +0x24 PxSIG  signature
 * 0x08 IS   interrupt status    +0x08 PxFB   received-FIS base (256 B aligned)    +0x28 PxSSTS SATA status
 * 0x0C PI   ports implemented   +0x0C PxFBU  upper 32 bits                        +0x2C PxSCTL SATA control
 * 0x10 VS   version             +0x10 PxIS   interrupt status (write 1 to clear)  +0x30 PxSERR SATA error
 *                               +0x14 PxIE   interrupt enable                     +0x34 PxSACT NCQ tags active
 *                               +0x18 PxCMD  command and status                   +0x38 PxCI   commands issued
 *
 * command list: 32 headers of 32 bytes       command table (128-byte aligned)
 *  0 DW0 [4:0] CFL (FIS dwords) [6] W        0x00 CFIS, the command FIS (64 bytes)
 *        [31:16] PRDTL (PRD entries)         0x40 ACMD, ATAPI command (16 bytes)
 *  4 DW1 PRDBC, bytes moved (the HBA writes) 0x50 reserved (48 bytes)
 *  8 DW2 CTBA, command table base            0x80 PRDT: PRDTL entries of 16 bytes
 * 12 DW3 CTBAU                                     0 DBA data base (bit 0 zero) 4 DBAU
 * 16..31 reserved                                  8 reserved   12 [21:0] DBC = bytes - 1 (odd) [31] I
 *
 * register host-to-device FIS (20 bytes)
 *  0 type 0x27   1 [7] C (command)  2 command  3 features 7:0
 *  4 LBA 7:0     5 LBA 15:8         6 LBA 23:16  7 device ([6] LBA mode)
 *  8 LBA 31:24   9 LBA 39:32       10 LBA 47:40 11 features 15:8
 * 12 count 7:0  13 count 15:8      14 ICC       15 control    16..19 reserved
 * </pre>
 * For the NCQ commands (READ/WRITE FPDMA QUEUED) the sector count is in the features fields and the tag in bits 7:3
 * of count 7:0; for READ/WRITE DMA EXT it is in the count fields.
 * <p>
 * <b>Register accesses per I/O</b> by the driver, as Linux's {@code libahci} does them for an NCQ command:
 * issue, {@link #ISSUE_ACCESSES} = write PxSACT (the tag's bit) and write PxCI; completion interrupt,
 * {@link #INTERRUPT_ACCESSES} = read IS, read PxIS, write PxIS (clear), read PxSACT (which tags are still active),
 * write IS (clear). An I/O that completes alone in its interrupt therefore costs {@link #ACCESSES_PER_LONE_IO} = 7
 * MMIO accesses, each a VM exit in full mode, whatever its size; with several I/Os completing in one interrupt the
 * five completion accesses are shared among them. Sources: AHCI 1.3.1 section 5.6.4 (command issue) and section 5.6.2
 * / 10.7 (interrupt handling); Linux {@code drivers/ata/libahci.c}, {@code ahci_qc_issue} and
 * {@code ahci_single_level_irq_intr} / {@code ahci_port_intr} / {@code ahci_handle_port_interrupt}.
 */
public final class Ahci
{
    /** Bytes of the HBA's register window (ABAR). */
    public static final int ABAR_LENGTH = 4096;

    /** HBA capabilities. */
    public static final int CAP = 0x00;
    /** Global HBA control. */
    public static final int GHC = 0x04;
    /** Interrupt status, one bit per port; write 1 to clear. */
    public static final int IS = 0x08;
    /** Ports implemented. */
    public static final int PI = 0x0C;
    /** AHCI version. */
    public static final int VS = 0x10;

    /** Offset of port 0's registers. */
    public static final int PORT0 = 0x100;
    /** Command list base address, low 32 bits. */
    public static final int PX_CLB = PORT0;
    /** Command list base address, high 32 bits. */
    public static final int PX_CLBU = PORT0 + 0x04;
    /** Received-FIS base address, low 32 bits. */
    public static final int PX_FB = PORT0 + 0x08;
    /** Received-FIS base address, high 32 bits. */
    public static final int PX_FBU = PORT0 + 0x0C;
    /** Port interrupt status; write 1 to clear. */
    public static final int PX_IS = PORT0 + 0x10;
    /** Port interrupt enable. */
    public static final int PX_IE = PORT0 + 0x14;
    /** Port command and status. */
    public static final int PX_CMD = PORT0 + 0x18;
    /** Task file data: status 7:0, error 15:8. */
    public static final int PX_TFD = PORT0 + 0x20;
    /** Device signature. */
    public static final int PX_SIG = PORT0 + 0x24;
    /** SATA status (SStatus). */
    public static final int PX_SSTS = PORT0 + 0x28;
    /** SATA control (SControl). */
    public static final int PX_SCTL = PORT0 + 0x2C;
    /** SATA error (SError); write 1 to clear. */
    public static final int PX_SERR = PORT0 + 0x30;
    /** SATA active: NCQ tags issued and not yet completed. */
    public static final int PX_SACT = PORT0 + 0x34;
    /** Commands issued and not yet completed. */
    public static final int PX_CI = PORT0 + 0x38;

    /** CAP: 64-bit addressing. */
    public static final int CAP_S64A = 1 << 31;
    /** CAP: native command queuing. */
    public static final int CAP_SNCQ = 1 << 30;
    /** CAP: shift of the number-of-command-slots field (slots - 1, 5 bits). */
    public static final int CAP_NCS_SHIFT = 8;
    /** GHC: HBA reset. */
    public static final int GHC_HR = 1;
    /** GHC: interrupt enable. */
    public static final int GHC_IE = 1 << 1;
    /** GHC: AHCI enable. */
    public static final int GHC_AE = 1 << 31;
    /** AHCI 1.3.1. */
    public static final int VERSION_1_3_1 = 0x0001_0301;

    /** PxIS/PxIE: device-to-host register FIS received (a non-queued command completed). */
    public static final int PX_IS_DHRS = 1;
    /** PxIS/PxIE: set-device-bits FIS received (NCQ commands completed). */
    public static final int PX_IS_SDBS = 1 << 3;
    /** PxIS/PxIE: host bus fatal error (a DMA address the HBA could not reach). */
    public static final int PX_IS_HBFS = 1 << 29;
    /** PxIS/PxIE: task file error (the device reported an error). */
    public static final int PX_IS_TFES = 1 << 30;
    /** PxCMD: start (process the command list). */
    public static final int PX_CMD_ST = 1;
    /** PxCMD: FIS receive enable. */
    public static final int PX_CMD_FRE = 1 << 4;
    /** PxCMD: FIS receive running. */
    public static final int PX_CMD_FR = 1 << 14;
    /** PxCMD: command list running. */
    public static final int PX_CMD_CR = 1 << 15;
    /** PxTFD status: error. */
    public static final int TFD_ERR = 1;
    /** PxTFD status: device ready. */
    public static final int TFD_DRDY = 1 << 6;
    /** PxTFD status: busy. */
    public static final int TFD_BSY = 1 << 7;
    /** PxTFD error register: command aborted. */
    public static final int TFD_ERROR_ABRT = 1 << 2;
    /** PxTFD error register: address not found (LBA out of range). */
    public static final int TFD_ERROR_IDNF = 1 << 4;
    /** PxSIG of an ATA disk. */
    public static final int SIG_ATA = 0x0000_0101;
    /** PxSSTS: device present, communication established, Gen3 speed, interface active. */
    public static final int SSTS_UP = 0x133;

    /** Command slots the HBA offers (and NCQ tags). */
    public static final int SLOTS = 32;
    /** Bytes of one command header. */
    public static final int HEADER_LENGTH = 32;
    /** Bytes of the command list. */
    public static final int COMMAND_LIST_LENGTH = SLOTS * HEADER_LENGTH;
    /** Alignment of the command list. */
    public static final int COMMAND_LIST_ALIGN = 1024;
    /** Bytes of the received-FIS area. */
    public static final int RECEIVED_FIS_LENGTH = 256;
    /** Header DW0: mask of the command FIS length in dwords. */
    public static final int HEADER_CFL_MASK = 0x1F;
    /** Header DW0: the command writes to the device. */
    public static final int HEADER_WRITE = 1 << 6;
    /** Header DW0: shift of the PRD table length. */
    public static final int HEADER_PRDTL_SHIFT = 16;
    /** Header: offset of PRDBC. */
    public static final int HEADER_PRDBC = 4;
    /** Header: offset of CTBA. */
    public static final int HEADER_CTBA = 8;
    /** Header: offset of CTBAU. */
    public static final int HEADER_CTBAU = 12;
    /** Alignment of a command table. */
    public static final int TABLE_ALIGN = 128;
    /** Command table: offset of the PRD table. */
    public static final int TABLE_PRDT = 0x80;
    /** Bytes of one PRD entry. */
    public static final int PRD_LENGTH = 16;
    /** PRD: offset of DBC and the interrupt bit. */
    public static final int PRD_DBC = 12;
    /** PRD: mask of DBC (bytes - 1). */
    public static final int PRD_DBC_MASK = 0x3F_FFFF;
    /** PRD entries this HBA accepts per command. */
    public static final int MAX_PRDS = 256;

    /** FIS type of a register host-to-device FIS. */
    public static final int FIS_TYPE_REG_H2D = 0x27;
    /** Dwords of a register host-to-device FIS. */
    public static final int FIS_REG_H2D_DWORDS = 5;
    /** FIS byte 1: this FIS carries a command. */
    public static final int FIS_C = 0x80;
    /** FIS offset of the command byte. */
    public static final int FIS_COMMAND = 2;
    /** FIS offset of features 7:0. */
    public static final int FIS_FEATURES = 3;
    /** FIS offset of LBA 7:0 (bytes 4 to 6 hold LBA 23:0). */
    public static final int FIS_LBA_LOW = 4;
    /** FIS offset of the device register. */
    public static final int FIS_DEVICE = 7;
    /** FIS offset of LBA 31:24 (bytes 8 to 10 hold LBA 47:24). */
    public static final int FIS_LBA_HIGH = 8;
    /** FIS offset of features 15:8. */
    public static final int FIS_FEATURES_EXP = 11;
    /** FIS offset of count 7:0. */
    public static final int FIS_COUNT = 12;
    /** FIS offset of count 15:8. */
    public static final int FIS_COUNT_EXP = 13;
    /** Device register: LBA addressing. */
    public static final int DEVICE_LBA = 1 << 6;

    /** ATA READ DMA EXT. */
    public static final int ATA_READ_DMA_EXT = 0x25;
    /** ATA WRITE DMA EXT. */
    public static final int ATA_WRITE_DMA_EXT = 0x35;
    /** ATA READ FPDMA QUEUED (NCQ). */
    public static final int ATA_READ_FPDMA_QUEUED = 0x60;
    /** ATA WRITE FPDMA QUEUED (NCQ). */
    public static final int ATA_WRITE_FPDMA_QUEUED = 0x61;
    /** ATA FLUSH CACHE EXT. */
    public static final int ATA_FLUSH_CACHE_EXT = 0xEA;
    /** ATA IDENTIFY DEVICE: one 512-byte data block describing the device (PIO data-in; here through the PRDs). */
    public static final int ATA_IDENTIFY_DEVICE = 0xEC;
    /** IDENTIFY data: byte offset of words 100 to 103, the LBA48 capacity in sectors (64-bit little endian). */
    public static final int IDENTIFY_LBA48_CAPACITY = 200;
    /** IDENTIFY data: byte offset of word 75, the queue depth minus one (bits 4:0). */
    public static final int IDENTIFY_QUEUE_DEPTH = 150;
    /** IDENTIFY data: byte offset of word 76, SATA capabilities ([8] NCQ supported). */
    public static final int IDENTIFY_SATA_CAPS = 152;
    /** IDENTIFY word 76: NCQ supported. */
    public static final int IDENTIFY_SATA_NCQ = 1 << 8;
    /** IDENTIFY data: byte offset of word 106, physical/logical sector size ([13] several logical per physical). */
    public static final int IDENTIFY_SECTOR_INFO = 212;
    /** IDENTIFY word 106: the word is valid (bit 14 set, bit 15 clear). */
    public static final int IDENTIFY_SECTOR_INFO_VALID = 1 << 14;
    /** IDENTIFY word 106: several logical sectors per physical sector; bits 3:0 hold log2 of how many. */
    public static final int IDENTIFY_SECTOR_INFO_MULTIPLE = 1 << 13;
    /** Bytes of the IDENTIFY DEVICE data block. */
    public static final int IDENTIFY_LENGTH = 512;
    /** PxCMD: shift of the current command slot field (CCS, bits 12:8), the slot the HBA last worked on. */
    public static final int PX_CMD_CCS_SHIFT = 8;
    /** Bytes per ATA sector. */
    public static final int SECTOR = 512;
    /** Sectors one command may move here (the HBA's bounce buffer): 128 KiB. */
    public static final int MAX_SECTORS = 256;

    /** Driver MMIO accesses to issue one NCQ command: write PxSACT, write PxCI. */
    public static final int ISSUE_ACCESSES = 2;
    /** Driver MMIO accesses per completion interrupt: read IS, read PxIS, write PxIS, read PxSACT, write IS. */
    public static final int INTERRUPT_ACCESSES = 5;
    /** MMIO accesses of an I/O whose interrupt completes only it. */
    public static final int ACCESSES_PER_LONE_IO = ISSUE_ACCESSES + INTERRUPT_ACCESSES;

    private Ahci()
    {
    }
}
