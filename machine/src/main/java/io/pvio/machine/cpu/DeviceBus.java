package io.pvio.machine.cpu;

/**
 * The devices behind a vCPU's port and MMIO accesses: the hardware natively, the hypervisor's emulation or a device
 * model otherwise. Called on the vCPU's thread.
 */
public interface DeviceBus
{
    /** A bus with nothing on it: reads return all ones, writes are dropped (an empty ISA/PCI slot). */
    DeviceBus NONE = new DeviceBus()
    {
        @Override
        public long read(final boolean mmio, final long address, final int size)
        {
            return size >= Long.BYTES ? -1L : (1L << (size * Byte.SIZE)) - 1;
        }

        @Override
        public void write(final boolean mmio, final long address, final int size, final long value)
        {
        }
    };

    /**
     * A read.
     *
     * @param mmio    true for memory-mapped I/O, false for a port.
     * @param address the port or guest-physical address.
     * @param size    bytes.
     * @return the value read.
     */
    long read(boolean mmio, long address, int size);

    /**
     * A write.
     *
     * @param mmio    true for memory-mapped I/O, false for a port.
     * @param address the port or guest-physical address.
     * @param size    bytes.
     * @param value   the value.
     */
    void write(boolean mmio, long address, int size, long value);
}
