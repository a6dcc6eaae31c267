package io.pvio.machine.device;

/**
 * The register map and descriptor layouts of an Intel 8254x (e1000) Ethernet controller, the subset a driver needs
 * for one receive and one transmit queue with legacy descriptors: the contract between the device model and the
 * guest's driver. All fields are little endian. Source: Intel PCI/PCI-X Family of Gigabit Ethernet Controllers
 * Software Developer's Manual (8254x), sections 3.2.3 (receive descriptor), 3.3.3 (legacy transmit descriptor),
 * 3.4 (transmit descriptor ring) and 13 (registers).
 * <pre>
 * BAR 0 (MMIO, 128 KiB), 32-bit registers
 * 0x0000 CTRL   device control ([26] RST)        0x2800 RDBAL  rx ring base, low (16-byte aligned)
 * 0x0008 STATUS device status ([1] LU link up)   0x2804 RDBAH  rx ring base, high
 * 0x00C0 ICR    interrupt cause (read clears)    0x2808 RDLEN  rx ring bytes (multiple of 128)
 * 0x00D0 IMS    interrupt mask set               0x2810 RDH    rx head (the device's)
 * 0x00D8 IMC    interrupt mask clear             0x2818 RDT    rx tail (the driver's)
 * 0x0100 RCTL   rx control ([1] EN)              0x3800 TDBAL .. 0x3818 TDT, the same for tx
 * 0x0400 TCTL   tx control ([1] EN)              0x4010 MPC    missed packets (read clears)
 * 0x5400 RAL0   receive address, MAC bytes 0..3  0x5404 RAH0   MAC bytes 4..5, [31] AV address valid
 *
 * transmit descriptor, legacy (16 bytes)         receive descriptor (16 bytes)
 *  0 buffer address (8)                           0 buffer address (8)
 *  8 length (2)                                   8 length (2), written by the device
 * 10 CSO (1)   11 CMD (1) [0] EOP [1] IFCS [3] RS 10 packet checksum (2)
 * 12 STA (1) [0] DD        13 CSS (1)            12 status (1) [0] DD [1] EOP    13 errors (1)
 * 14 special (2)                                 14 special (2)
 * </pre>
 * A ring holds RDLEN / 16 descriptors; the device owns those from head to tail - 1, the driver the others, so the
 * ring is empty when head equals tail and one descriptor always stays unused.
 * <p>
 * <b>Register accesses per packet</b> by the driver, as Linux's {@code e1000} driver makes them with one frame in
 * flight: to send, {@link #TX_ACCESSES} = write TDT (the descriptor filled in memory first); the transmit-done
 * interrupt, {@link #INTERRUPT_ACCESSES} = read ICR (which acknowledges it), descriptors reaped from their DD bits
 * in memory. To receive: the receive interrupt's read of ICR, the frame taken from its descriptor in memory, then
 * {@link #RX_REFILL_ACCESSES} = write RDT to give the buffer back. A frame sent or received alone therefore costs
 * {@link #ACCESSES_PER_LONE_PACKET} = 2 MMIO accesses, each a VM exit in full mode; frames that share an interrupt
 * share its ICR read and RDT write. Sources: the manual's sections 3.2.6 and 3.4; Linux
 * {@code drivers/net/ethernet/intel/e1000/e1000_main.c}, {@code e1000_xmit_frame}, {@code e1000_intr},
 * {@code e1000_clean_tx_irq} and {@code e1000_alloc_rx_buffers}.
 */
public final class E1000
{
    /** Bytes of the register window (BAR 0). */
    public static final int BAR_LENGTH = 0x20000;

    /** Device control. */
    public static final int CTRL = 0x0000;
    /** Device status. */
    public static final int STATUS = 0x0008;
    /** Interrupt cause read; reading clears it. */
    public static final int ICR = 0x00C0;
    /** Interrupt mask set (reads the mask). */
    public static final int IMS = 0x00D0;
    /** Interrupt mask clear. */
    public static final int IMC = 0x00D8;
    /** Receive control. */
    public static final int RCTL = 0x0100;
    /** Transmit control. */
    public static final int TCTL = 0x0400;
    /** Receive descriptor ring base, low 32 bits. */
    public static final int RDBAL = 0x2800;
    /** Receive descriptor ring base, high 32 bits. */
    public static final int RDBAH = 0x2804;
    /** Receive descriptor ring length in bytes. */
    public static final int RDLEN = 0x2808;
    /** Receive descriptor head. */
    public static final int RDH = 0x2810;
    /** Receive descriptor tail. */
    public static final int RDT = 0x2818;
    /** Transmit descriptor ring base, low 32 bits. */
    public static final int TDBAL = 0x3800;
    /** Transmit descriptor ring base, high 32 bits. */
    public static final int TDBAH = 0x3804;
    /** Transmit descriptor ring length in bytes. */
    public static final int TDLEN = 0x3808;
    /** Transmit descriptor head. */
    public static final int TDH = 0x3810;
    /** Transmit descriptor tail. */
    public static final int TDT = 0x3818;
    /** Missed packets count (no free receive descriptor); reading clears it. */
    public static final int MPC = 0x4010;
    /** Receive address 0, low: MAC bytes 0 to 3. */
    public static final int RAL0 = 0x5400;
    /** Receive address 0, high: MAC bytes 4 and 5, and {@link #RAH_AV}. */
    public static final int RAH0 = 0x5404;

    /** CTRL: device reset (self-clearing). */
    public static final int CTRL_RST = 1 << 26;
    /** CTRL: set link up. */
    public static final int CTRL_SLU = 1 << 6;
    /** STATUS: full duplex. */
    public static final int STATUS_FD = 1;
    /** STATUS: link up. */
    public static final int STATUS_LU = 1 << 1;
    /** STATUS: 1000 Mb/s. */
    public static final int STATUS_SPEED_1000 = 2 << 6;
    /** ICR / IMS: transmit descriptor written back. */
    public static final int ICR_TXDW = 0x01;
    /** ICR / IMS: receive timer (a frame was received). */
    public static final int ICR_RXT0 = 0x80;
    /** RCTL / TCTL: the queue is enabled. */
    public static final int CTL_EN = 1 << 1;
    /** RCTL: unicast promiscuous. */
    public static final int RCTL_UPE = 1 << 3;
    /** RCTL: multicast promiscuous. */
    public static final int RCTL_MPE = 1 << 4;
    /** RCTL: accept broadcast. */
    public static final int RCTL_BAM = 1 << 15;
    /** RCTL: strip the Ethernet CRC (always done here: frames carry none). */
    public static final int RCTL_SECRC = 1 << 26;
    /** TCTL: pad short packets. */
    public static final int TCTL_PSP = 1 << 3;
    /** RAH: the address is valid. */
    public static final int RAH_AV = 1 << 31;

    /** Bytes of a descriptor, receive or transmit. */
    public static final int DESCRIPTOR_BYTES = 16;
    /** Ring lengths are multiples of this (8 descriptors). */
    public static final int RING_LENGTH_ALIGN = 128;
    /** Ring bases are aligned to this. */
    public static final int RING_BASE_ALIGN = 16;
    /** Descriptor: the buffer address (8 bytes). */
    public static final int DESC_ADDRESS = 0;
    /** Descriptor: the length (2 bytes). */
    public static final int DESC_LENGTH = 8;
    /** Transmit descriptor: the command byte. */
    public static final int TXD_CMD = 11;
    /** Transmit descriptor: the status byte. */
    public static final int TXD_STATUS = 12;
    /** Receive descriptor: the status byte. */
    public static final int RXD_STATUS = 12;
    /** Receive descriptor: the errors byte. */
    public static final int RXD_ERRORS = 13;
    /** Transmit command: end of packet. */
    public static final int TXD_CMD_EOP = 0x01;
    /** Transmit command: insert the FCS. */
    public static final int TXD_CMD_IFCS = 0x02;
    /** Transmit command: report status (write DD back). */
    public static final int TXD_CMD_RS = 0x08;
    /** Descriptor status: descriptor done. */
    public static final int STA_DD = 0x01;
    /** Receive status: end of packet. */
    public static final int RXD_STA_EOP = 0x02;
    /** Receive buffer size RCTL.BSIZE selects by default: 2048 bytes. */
    public static final int RX_BUFFER_BYTES = 2048;
    /** Longest frame without a CRC the receiver takes with long packets off: 1518 - 4 + a VLAN tag's 4. */
    public static final int MAX_RX_FRAME_BYTES = 1518;
    /** Most bytes the model takes in one transmit buffer or one transmitted frame: 16 KiB. */
    public static final int MAX_TX_BYTES = 16 * 1024;

    /** Most descriptors the model takes in one transmitted frame. */
    public static final int MAX_TX_DESCRIPTORS_PER_FRAME = 64;

    /** Driver accesses to send a frame: write TDT. */
    public static final int TX_ACCESSES = 1;
    /** Driver accesses per interrupt: read ICR. */
    public static final int INTERRUPT_ACCESSES = 1;
    /** Driver accesses to give received buffers back: write RDT. */
    public static final int RX_REFILL_ACCESSES = 1;
    /** Accesses of a frame sent (or received) alone: its own accesses and its interrupt's. */
    public static final int ACCESSES_PER_LONE_PACKET = 2;

    private E1000()
    {
    }
}
