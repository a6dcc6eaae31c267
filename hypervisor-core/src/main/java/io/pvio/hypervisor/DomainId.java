package io.pvio.hypervisor;

/**
 * Domain identifiers, Xen's {@code domid_t} (16 bits). Domain 0 is the privileged driver domain.
 */
public final class DomainId
{
    /** The privileged control and driver domain. */
    public static final int DOM0 = 0;

    /** Largest id a real domain can have; ids above are reserved ({@code DOMID_FIRST_RESERVED} is 0x7FF0). */
    public static final int MAX_DOMAIN_ID = 0x7FEF;

    /** {@code DOMID_SELF}: "the calling domain" in a hypercall argument. */
    public static final int SELF = 0x7FF0;

    /** {@code DOMID_COW}: the owner of frames shared copy-on-write between domains. */
    public static final int COW = 0x7FF2;

    /** {@code DOMID_INVALID}. */
    public static final int INVALID = 0x7FF4;

    private DomainId()
    {
    }

    /**
     * Whether {@code id} can name a real domain.
     *
     * @param id a domain id from anywhere, trusted or not.
     * @return true if {@code 0 <= id <= MAX_DOMAIN_ID}.
     */
    public static boolean isValid(final int id)
    {
        return id >= 0 && id <= MAX_DOMAIN_ID;
    }
}
