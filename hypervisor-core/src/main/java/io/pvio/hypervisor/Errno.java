package io.pvio.hypervisor;

/**
 * The errno values hypercalls return, with Xen's (Linux) numbers.
 */
public enum Errno
{
    /** Operation not permitted: the caller lacks the privilege. */
    EPERM(1),
    /** No such domain. */
    ESRCH(3),
    /** Out of memory. */
    ENOMEM(12),
    /** Resource busy. */
    EBUSY(16),
    /** Already exists. */
    EEXIST(17),
    /** Invalid argument. */
    EINVAL(22),
    /** No space left (a table is full). */
    ENOSPC(28),
    /** Not implemented. */
    ENOSYS(38);

    private final int number;

    Errno(final int number)
    {
        this.number = number;
    }

    /**
     * The value a hypercall returns, {@code -errno}.
     *
     * @return the negative errno.
     */
    public int returnValue()
    {
        return -number;
    }
}
