package io.pvio.hypervisor.xenstore;

/**
 * The access one permission entry grants, written as the entry's first character ({@code XS_PERM_*} in Xen).
 */
public enum XsAccess
{
    /** {@code n}: no access. */
    NONE('n', false, false),

    /** {@code r}: read only. */
    READ('r', true, false),

    /** {@code w}: write only. */
    WRITE('w', false, true),

    /** {@code b}: read and write. */
    BOTH('b', true, true);

    private final char letter;
    private final boolean read;
    private final boolean write;

    XsAccess(final char letter, final boolean read, final boolean write)
    {
        this.letter = letter;
        this.read = read;
        this.write = write;
    }

    /**
     * The character that stands for this access in a permission string.
     *
     * @return one of {@code n r w b}.
     */
    public char letter()
    {
        return letter;
    }

    /**
     * Whether this access lets a domain read the node (value, children, permissions).
     *
     * @return true for {@link #READ} and {@link #BOTH}.
     */
    public boolean canRead()
    {
        return read;
    }

    /**
     * Whether this access lets a domain write the node (value, children, removal).
     *
     * @return true for {@link #WRITE} and {@link #BOTH}.
     */
    public boolean canWrite()
    {
        return write;
    }

    /**
     * The access a permission letter stands for.
     *
     * @param letter the first character of a permission string.
     * @return the access, or null if the letter is not one of {@code n r w b}.
     */
    public static XsAccess fromLetter(final char letter)
    {
        switch (letter)
        {
            case 'n':
                return NONE;
            case 'r':
                return READ;
            case 'w':
                return WRITE;
            case 'b':
                return BOTH;
            default:
                return null;
        }
    }
}
