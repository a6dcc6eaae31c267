package io.pvio.hypervisor.ioreq;

import org.agrona.concurrent.UnsafeBuffer;

/**
 * Xen's {@code ioreq_t} ({@code xen/hvm/ioreq.h}): one trapped access of an HVM guest's vCPU, handed by the
 * hypervisor to the device model serving it, and the model's answer. One slot per vCPU in the shared ioreq page.
 * Little endian, 32 bytes, 8-byte aligned:
 * <pre>
 *  0 addr      u64  port or guest-physical address
 *  8 data      u64  the value written, or the value read (the model's answer); a guest address if data_is_ptr
 * 16 count     u32  repetitions (rep prefix); 1 here
 * 20 size      u32  bytes per access: 1, 2, 4 or 8
 * 24 vp_eport  u32  the event channel that notifies the device model of this vCPU's requests
 * 28 _pad0     u16
 * 30 bits      u8   [3:0] state, [4] data_is_ptr, [5] dir (1 read, 0 write), [6] df, [7] pad
 * 31 type      u8   IOREQ_TYPE_PIO (0) or IOREQ_TYPE_COPY (1, MMIO)
 * </pre>
 * The state runs NONE, READY (the hypervisor filled the slot), INPROCESS (the model took it), IORESP_READY (the model
 * answered), NONE again (the hypervisor took the answer). Whoever moves the state publishes the fields it wrote
 * before it with a volatile store of byte 30, and whoever reads them reads byte 30 first with a volatile load.
 */
public final class IoreqLayout
{
    /** Bytes of one slot. */
    public static final int LENGTH = 32;
    /** Offset of {@code addr}. */
    public static final int ADDR_OFFSET = 0;
    /** Offset of {@code data}. */
    public static final int DATA_OFFSET = 8;
    /** Offset of {@code count}. */
    public static final int COUNT_OFFSET = 16;
    /** Offset of {@code size}. */
    public static final int SIZE_OFFSET = 20;
    /** Offset of {@code vp_eport}. */
    public static final int VP_EPORT_OFFSET = 24;
    /** Offset of the byte holding state, data_is_ptr, dir and df. */
    public static final int BITS_OFFSET = 30;
    /** Offset of {@code type}. */
    public static final int TYPE_OFFSET = 31;

    /** {@code STATE_IOREQ_NONE}: the slot is free. */
    public static final int STATE_NONE = 0;
    /** {@code STATE_IOREQ_READY}: a request waits for the model. */
    public static final int STATE_READY = 1;
    /** {@code STATE_IOREQ_INPROCESS}: the model is working on it. */
    public static final int STATE_INPROCESS = 2;
    /** {@code STATE_IORESP_READY}: the model answered. */
    public static final int STATE_IORESP_READY = 3;

    /** {@code IOREQ_TYPE_PIO}: a port access. */
    public static final int TYPE_PIO = 0;
    /** {@code IOREQ_TYPE_COPY}: an MMIO access. */
    public static final int TYPE_COPY = 1;

    /** {@code IOREQ_READ}, the value of {@code dir} for a read. */
    public static final int DIR_READ = 1;
    /** {@code IOREQ_WRITE}. */
    public static final int DIR_WRITE = 0;

    /** Mask of the state in byte 30. */
    public static final int STATE_MASK = 0x0F;
    /** Bit of {@code data_is_ptr} in byte 30. */
    public static final int DATA_IS_PTR_BIT = 1 << 4;
    /** Shift of {@code dir} in byte 30. */
    public static final int DIR_SHIFT = 5;
    /** Bit of {@code df} in byte 30. */
    public static final int DF_BIT = 1 << 6;

    private IoreqLayout()
    {
    }

    /**
     * Byte 30 for a state and direction, with data_is_ptr and df clear.
     *
     * @param state one of the {@code STATE_*} values.
     * @param dir   {@link #DIR_READ} or {@link #DIR_WRITE}.
     * @return the byte.
     */
    public static byte bits(final int state, final int dir)
    {
        return (byte)((state & STATE_MASK) | ((dir & 1) << DIR_SHIFT));
    }

    /**
     * The state in a slot, read with a volatile load (the fields the last writer of the state wrote before it are
     * visible after this).
     *
     * @param page   the ioreq page.
     * @param offset the slot's offset.
     * @return the state.
     */
    public static int stateAcquire(final UnsafeBuffer page, final int offset)
    {
        return page.getByteVolatile(offset + BITS_OFFSET) & STATE_MASK;
    }
}
