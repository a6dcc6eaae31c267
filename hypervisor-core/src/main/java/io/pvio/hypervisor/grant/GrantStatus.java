package io.pvio.hypervisor.grant;

/**
 * The status codes of {@code grant_table_op}, Xen's {@code GNTST_*} values from {@code public/grant_table.h}. Every
 * error is negative; {@link #OKAY} is 0. Grant operations return these as plain {@code int}s (and store them as
 * {@code int16} in a {@link GrantCopyBatch}), so a hot path never allocates or throws to report a refusal.
 */
public final class GrantStatus
{
    /** {@code GNTST_okay}: done. */
    public static final int OKAY = 0;

    /** {@code GNTST_general_error}: refused for a reason no other code names (table limit, unstable entry). */
    public static final int GENERAL_ERROR = -1;

    /** {@code GNTST_bad_domain}: no live domain has that id. */
    public static final int BAD_DOMAIN = -2;

    /** {@code GNTST_bad_gntref}: the reference is outside the granter's table or its entry grants nothing. */
    public static final int BAD_GNTREF = -3;

    /** {@code GNTST_bad_handle}: no mapping of the caller has that handle. */
    public static final int BAD_HANDLE = -4;

    /** {@code GNTST_bad_virt_addr}: bad host address for a map (no host addresses in pvio; never returned). */
    public static final int BAD_VIRT_ADDR = -5;

    /** {@code GNTST_bad_dev_addr}: bad device address for an unmap (never returned by pvio). */
    public static final int BAD_DEV_ADDR = -6;

    /** {@code GNTST_no_device_space}: no I/O MMU slot (never returned by pvio). */
    public static final int NO_DEVICE_SPACE = -7;

    /** {@code GNTST_permission_denied}: the entry is for another domain, or read-only and write access was asked. */
    public static final int PERMISSION_DENIED = -8;

    /** {@code GNTST_bad_page}: the granted frame is not populated in the granter's memory. */
    public static final int BAD_PAGE = -9;

    /** {@code GNTST_bad_copy_arg}: a copy's offset or length is negative or leaves the 4 KiB frame. */
    public static final int BAD_COPY_ARG = -10;

    /** {@code GNTST_address_too_big}: transfer frame address too large (no transfers in pvio; never returned). */
    public static final int ADDRESS_TOO_BIG = -11;

    /** {@code GNTST_eagain}: not done, try again (never returned by pvio). */
    public static final int EAGAIN = -12;

    /** {@code GNTST_no_space}: out of maptrack handles, or out of grant references. */
    public static final int NO_SPACE = -13;

    private static final String[] NAMES =
    {
        "GNTST_okay",
        "GNTST_general_error",
        "GNTST_bad_domain",
        "GNTST_bad_gntref",
        "GNTST_bad_handle",
        "GNTST_bad_virt_addr",
        "GNTST_bad_dev_addr",
        "GNTST_no_device_space",
        "GNTST_permission_denied",
        "GNTST_bad_page",
        "GNTST_bad_copy_arg",
        "GNTST_address_too_big",
        "GNTST_eagain",
        "GNTST_no_space",
    };

    private static final String[] MESSAGES =
    {
        "done",
        "unspecified error",
        "no such live domain",
        "grant reference out of range or not granting access",
        "no mapping with this handle",
        "bad host virtual address",
        "bad device address",
        "no I/O MMU space left",
        "grant is for another domain or read-only",
        "granted frame is not populated",
        "copy offset or length leaves the 4 KiB frame",
        "transfer frame address too large",
        "not done, try again",
        "out of handles or grant references",
    };

    private GrantStatus()
    {
    }

    /**
     * Xen's name of a status, for logs and test messages.
     *
     * @param status a status code.
     * @return {@code "GNTST_okay"} and so on, or {@code "GNTST_unknown(<status>)"}.
     */
    public static String name(final int status)
    {
        final int index = -status;
        return index >= 0 && index < NAMES.length ? NAMES[index] : "GNTST_unknown(" + status + ")";
    }

    /**
     * A one-line description of a status.
     *
     * @param status a status code.
     * @return the message, or {@code "unknown status <status>"}.
     */
    public static String message(final int status)
    {
        final int index = -status;
        return index >= 0 && index < MESSAGES.length ? MESSAGES[index] : "unknown status " + status;
    }
}
