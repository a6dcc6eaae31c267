package io.pvio.backend.ahci;

import io.pvio.hypervisor.Domain;
import io.pvio.hypervisor.P2M;
import io.pvio.machine.memory.MachineMemory;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.Objects;

/**
 * A device's DMA into one guest's memory: guest-physical addresses translated through the guest's P2M frame by frame,
 * as an IOMMU-less device model maps guest memory ({@code xen_map_cache}). Every address comes from the guest, so
 * every access is checked: an address outside the guest's memory, or a frame it does not have, is a {@link DmaFault}
 * and nothing is touched, never another domain's frame. Not thread-safe: one user at a time (the device's
 * processing thread, or its register thread for the few reads it makes); allocates nothing.
 */
public final class GuestDma
{
    private static final int FRAME_SHIFT = 12;
    private static final int FRAME_MASK = MachineMemory.FRAME_SIZE - 1;

    private final MachineMemory memory;
    private final Domain guest;
    private final UnsafeBuffer view = new UnsafeBuffer(0, 0);
    private long bytesRead;
    private long bytesWritten;

    /**
     * DMA into {@code guest}'s memory.
     *
     * @param memory the machine's memory.
     * @param guest  the guest whose memory the device reaches.
     */
    public GuestDma(final MachineMemory memory, final Domain guest)
    {
        this.memory = Objects.requireNonNull(memory, "memory");
        this.guest = Objects.requireNonNull(guest, "guest");
    }

    /**
     * The guest.
     *
     * @return the domain whose memory this reaches.
     */
    public Domain guest()
    {
        return guest;
    }

    /**
     * Reads a little-endian 32-bit value, which must not cross a frame.
     *
     * @param gpa guest-physical address.
     * @return the value.
     * @throws DmaFault if the guest has no memory there or the value crosses a frame.
     */
    public int readInt(final long gpa)
    {
        if ((gpa & FRAME_MASK) > MachineMemory.FRAME_SIZE - Integer.BYTES)
        {
            throw new DmaFault(gpa, Integer.BYTES, "a 4-byte read crosses a frame");
        }
        frame(gpa, Integer.BYTES, false);
        bytesRead += Integer.BYTES;
        return view.getInt((int)(gpa & FRAME_MASK));
    }

    /**
     * Writes a little-endian 32-bit value, which must not cross a frame.
     *
     * @param gpa   guest-physical address.
     * @param value the value.
     * @throws DmaFault if the guest has no memory there or the value crosses a frame.
     */
    public void writeInt(final long gpa, final int value)
    {
        if ((gpa & FRAME_MASK) > MachineMemory.FRAME_SIZE - Integer.BYTES)
        {
            throw new DmaFault(gpa, Integer.BYTES, "a 4-byte write crosses a frame");
        }
        frame(gpa, Integer.BYTES, true);
        bytesWritten += Integer.BYTES;
        view.putInt((int)(gpa & FRAME_MASK), value);
    }

    /**
     * Copies guest memory {@code [gpa, gpa + length)} into {@code dst}, frame by frame. Every frame is checked before
     * any byte is copied, so a fault leaves {@code dst} untouched.
     *
     * @param gpa       guest-physical address.
     * @param dst       the destination.
     * @param dstOffset where in {@code dst}.
     * @param length    bytes.
     * @throws DmaFault if any byte of the range is outside the guest's memory.
     */
    public void readFromGuest(final long gpa, final MutableDirectBuffer dst, final int dstOffset, final int length)
    {
        check(gpa, length, false);
        long address = gpa;
        int done = 0;
        while (done < length)
        {
            final int inFrame = (int)(address & FRAME_MASK);
            final int chunk = Math.min(length - done, MachineMemory.FRAME_SIZE - inFrame);
            frame(address, chunk, false);
            dst.putBytes(dstOffset + done, view, inFrame, chunk);
            done += chunk;
            address += chunk;
        }
        bytesRead += length;
    }

    /**
     * Copies {@code src} into guest memory {@code [gpa, gpa + length)}, frame by frame. Every frame is checked before
     * any byte is written, so a fault leaves the guest's memory untouched.
     *
     * @param gpa       guest-physical address.
     * @param src       the source.
     * @param srcOffset where in {@code src}.
     * @param length    bytes.
     * @throws DmaFault if any byte of the range is outside the guest's memory.
     */
    public void writeToGuest(final long gpa, final DirectBuffer src, final int srcOffset, final int length)
    {
        check(gpa, length, true);
        long address = gpa;
        int done = 0;
        while (done < length)
        {
            final int inFrame = (int)(address & FRAME_MASK);
            final int chunk = Math.min(length - done, MachineMemory.FRAME_SIZE - inFrame);
            frame(address, chunk, true);
            view.putBytes(inFrame, src, srcOffset + done, chunk);
            done += chunk;
            address += chunk;
        }
        bytesWritten += length;
    }

    /**
     * Bytes the device has read from the guest.
     *
     * @return the count.
     */
    public long bytesRead()
    {
        return bytesRead;
    }

    /**
     * Bytes the device has written into the guest.
     *
     * @return the count.
     */
    public long bytesWritten()
    {
        return bytesWritten;
    }

    private void check(final long gpa, final int length, final boolean write)
    {
        if (length < 0 || gpa < 0 || gpa + length < gpa)
        {
            throw new DmaFault(gpa, length, "negative address or length");
        }
        final long first = gpa >>> FRAME_SHIFT;
        final long last = 0 == length ? first : (gpa + length - 1) >>> FRAME_SHIFT;
        for (long gfn = first; gfn <= last; gfn++)
        {
            if (P2M.INVALID_MFN == guest.resolveFrame(gfn, write))
            {
                throw new DmaFault(gpa, length, "gfn " + gfn + " is not guest memory");
            }
        }
    }

    private void frame(final long gpa, final int length, final boolean write)
    {
        if (gpa < 0)
        {
            throw new DmaFault(gpa, length, "negative address");
        }
        final long gfn = gpa >>> FRAME_SHIFT;
        final long mfn = guest.resolveFrame(gfn, write);
        if (P2M.INVALID_MFN == mfn)
        {
            throw new DmaFault(gpa, length, "gfn " + gfn + " is not guest memory");
        }
        memory.wrapFrame(mfn, view);
    }

    /**
     * A DMA address the guest gave that reaches outside its memory.
     */
    public static final class DmaFault extends RuntimeException
    {
        private static final long serialVersionUID = 1L;

        private final long address;

        DmaFault(final long address, final int length, final String why)
        {
            super("DMA to 0x" + Long.toHexString(address) + '/' + length + ": " + why, null, false, false);
            this.address = address;
        }

        /**
         * The guest-physical address that faulted.
         *
         * @return the address.
         */
        public long address()
        {
            return address;
        }
    }
}
