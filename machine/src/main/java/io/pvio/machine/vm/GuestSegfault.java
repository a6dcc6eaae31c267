package io.pvio.machine.vm;

/**
 * A guest access its own kernel could not resolve: no mapping and no demand region, or a write to a read-only page.
 */
public final class GuestSegfault extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    private final long address;

    GuestSegfault(final int domain, final long address, final boolean write)
    {
        super("domain " + domain + ": segmentation fault on " + (write ? "write" : "read") + " of 0x" +
            Long.toHexString(address));
        this.address = address;
    }

    /**
     * The faulting address.
     *
     * @return the virtual address.
     */
    public long address()
    {
        return address;
    }
}
