package io.pvio.hypervisor.xenstore;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * The permissions of one node, Xen's list of {@code <c><domid>} entries such as {@code ["n5", "r0", "b7"]}.
 * <p>
 * The first entry names the owner and gives the access of every domain not listed after it. Access is decided as
 * {@code xenstored} decides it:
 * <ol>
 *   <li>domain 0 may do everything;</li>
 *   <li>the owner may do everything, whatever letter its entry carries;</li>
 *   <li>otherwise the first later entry naming the domain gives its access;</li>
 *   <li>otherwise the owner entry's letter is the default.</li>
 * </ol>
 * Instances are immutable. Domain ids are the 16-bit {@code domid_t} range, 0 to {@value #MAX_DOMAIN_ID}.
 */
public final class XsPermissions
{
    /** Largest domain id a permission entry may name, the top of the 16-bit {@code domid_t} range. */
    public static final int MAX_DOMAIN_ID = 0xFFFF;

    /** Domain 0, which every permission check lets through. */
    public static final int DOM0 = 0;

    private final int[] domains;
    private final XsAccess[] accesses;

    private XsPermissions(final int[] domains, final XsAccess[] accesses)
    {
        this.domains = domains;
        this.accesses = accesses;
    }

    /**
     * Permissions with just an owner entry.
     *
     * @param owner         the owning domain.
     * @param defaultAccess the access of every other domain except domain 0.
     * @return the permissions.
     * @throws IllegalArgumentException if the owner is out of range.
     */
    public static XsPermissions of(final int owner, final XsAccess defaultAccess)
    {
        checkDomain(owner);
        return new XsPermissions(new int[] { owner }, new XsAccess[] { defaultAccess });
    }

    /**
     * Parses permission strings, each a letter {@code n r w b} followed by a decimal domain id with no sign and no
     * leading zero.
     *
     * @param entries the strings; the first names the owner.
     * @return the permissions.
     * @throws XenStoreException with {@link XsError#EINVAL} if the list is empty or an entry is malformed.
     */
    public static XsPermissions parse(final List<String> entries)
    {
        if (entries.isEmpty())
        {
            throw new XenStoreException(XsError.EINVAL, "permission list is empty (expected: owner entry first)");
        }
        final int count = entries.size();
        final int[] domains = new int[count];
        final XsAccess[] accesses = new XsAccess[count];
        for (int i = 0; i < count; i++)
        {
            final String entry = entries.get(i);
            final XsAccess access = entry.isEmpty() ? null : XsAccess.fromLetter(entry.charAt(0));
            final int domain = null == access ? -1 : parseDomain(entry, 1);
            if (domain < 0)
            {
                throw new XenStoreException(XsError.EINVAL,
                    "malformed permission entry: index=" + i + ", entry=" + XenStorePath.quote(entry) +
                    " (expected: one of n r w b then a domain id 0.." + MAX_DOMAIN_ID + ")");
            }
            domains[i] = domain;
            accesses[i] = access;
        }
        return new XsPermissions(domains, accesses);
    }

    /**
     * Parses permission strings.
     *
     * @param entries the strings; the first names the owner.
     * @return the permissions.
     * @throws XenStoreException with {@link XsError#EINVAL} if the list is empty or an entry is malformed.
     * @see #parse(List)
     */
    public static XsPermissions parse(final String... entries)
    {
        return parse(Arrays.asList(entries));
    }

    /**
     * Parses a decimal domain id strictly: digits only, no sign, no leading zero, at most {@value #MAX_DOMAIN_ID}.
     *
     * @param text  the characters.
     * @param start index of the first digit.
     * @return the domain id, or -1 if the text from {@code start} is not a valid domain id.
     */
    static int parseDomain(final String text, final int start)
    {
        final int length = text.length();
        if (start >= length || length - start > 5 || (text.charAt(start) == '0' && length - start > 1))
        {
            return -1;
        }
        int value = 0;
        for (int i = start; i < length; i++)
        {
            final char c = text.charAt(i);
            if (c < '0' || c > '9')
            {
                return -1;
            }
            value = value * 10 + (c - '0');
        }
        return value <= MAX_DOMAIN_ID ? value : -1;
    }

    /**
     * The owning domain, named by the first entry.
     *
     * @return the owner's domain id.
     */
    public int owner()
    {
        return domains[0];
    }

    /**
     * The access of domains that are neither domain 0, the owner, nor listed: the first entry's letter.
     *
     * @return the default access.
     */
    public XsAccess defaultAccess()
    {
        return accesses[0];
    }

    /**
     * Number of entries, the owner entry included.
     *
     * @return at least 1.
     */
    public int size()
    {
        return domains.length;
    }

    /**
     * The domain an entry names.
     *
     * @param index entry index; 0 is the owner entry.
     * @return the domain id.
     */
    public int domain(final int index)
    {
        return domains[index];
    }

    /**
     * The access an entry grants.
     *
     * @param index entry index; 0 is the owner entry, whose access is the default.
     * @return the access.
     */
    public XsAccess access(final int index)
    {
        return accesses[index];
    }

    /**
     * The access a domain has under these permissions.
     *
     * @param domainId the domain asking.
     * @return {@link XsAccess#BOTH} for domain 0 and the owner, otherwise its entry's or the default access.
     */
    public XsAccess accessFor(final int domainId)
    {
        final int[] domains = this.domains;
        if (DOM0 == domainId || domains[0] == domainId)
        {
            return XsAccess.BOTH;
        }
        for (int i = 1; i < domains.length; i++)
        {
            if (domains[i] == domainId)
            {
                return accesses[i];
            }
        }
        return accesses[0];
    }

    /**
     * Whether a domain may read the node.
     *
     * @param domainId the domain asking.
     * @return true if its access includes read.
     */
    public boolean canRead(final int domainId)
    {
        return accessFor(domainId).canRead();
    }

    /**
     * Whether a domain may write the node.
     *
     * @param domainId the domain asking.
     * @return true if its access includes write.
     */
    public boolean canWrite(final int domainId)
    {
        return accessFor(domainId).canWrite();
    }

    /**
     * These permissions with a different owner and the same default and entries, as {@code xenstored} gives a node a
     * guest creates.
     *
     * @param owner the new owner.
     * @return the permissions, this instance if the owner is unchanged.
     * @throws IllegalArgumentException if the owner is out of range.
     */
    public XsPermissions withOwner(final int owner)
    {
        checkDomain(owner);
        if (owner == domains[0])
        {
            return this;
        }
        final int[] newDomains = domains.clone();
        newDomains[0] = owner;
        return new XsPermissions(newDomains, accesses);
    }

    /**
     * These permissions with an entry for a domain set to {@code access}: an existing entry is replaced, otherwise
     * one is appended.
     *
     * @param domainId the domain the entry names.
     * @param access   what it may do.
     * @return the new permissions.
     * @throws IllegalArgumentException if the domain is out of range.
     */
    public XsPermissions with(final int domainId, final XsAccess access)
    {
        checkDomain(domainId);
        for (int i = 1; i < domains.length; i++)
        {
            if (domains[i] == domainId)
            {
                final XsAccess[] newAccesses = accesses.clone();
                newAccesses[i] = access;
                return new XsPermissions(domains, newAccesses);
            }
        }
        final int[] newDomains = Arrays.copyOf(domains, domains.length + 1);
        final XsAccess[] newAccesses = Arrays.copyOf(accesses, accesses.length + 1);
        newDomains[domains.length] = domainId;
        newAccesses[accesses.length] = access;
        return new XsPermissions(newDomains, newAccesses);
    }

    /**
     * The permission strings, as {@code GET_PERMS} returns them.
     *
     * @return an unmodifiable list such as {@code ["n5", "r0"]}.
     */
    public List<String> toStrings()
    {
        final List<String> strings = new ArrayList<>(domains.length);
        for (int i = 0; i < domains.length; i++)
        {
            strings.add(String.valueOf(accesses[i].letter()) + domains[i]);
        }
        return Collections.unmodifiableList(strings);
    }

    /**
     * Bytes of the permission strings on the wire, each followed by a NUL.
     *
     * @return the encoded length.
     */
    public int encodedLength()
    {
        int length = 0;
        for (final int domain : domains)
        {
            length += 2 + Integer.toString(domain).length();
        }
        return length;
    }

    /**
     * {@inheritDoc}
     */
    @Override
    public boolean equals(final Object other)
    {
        if (this == other)
        {
            return true;
        }
        if (!(other instanceof XsPermissions))
        {
            return false;
        }
        final XsPermissions that = (XsPermissions)other;
        return Arrays.equals(domains, that.domains) && Arrays.equals(accesses, that.accesses);
    }

    /**
     * {@inheritDoc}
     */
    @Override
    public int hashCode()
    {
        return 31 * Arrays.hashCode(domains) + Arrays.hashCode(accesses);
    }

    /**
     * The entries separated by commas, for example {@code n5,r0}.
     *
     * @return the text form.
     */
    @Override
    public String toString()
    {
        return String.join(",", toStrings());
    }

    private static void checkDomain(final int domainId)
    {
        if (domainId < 0 || domainId > MAX_DOMAIN_ID)
        {
            throw new IllegalArgumentException(
                "domain id out of range: domainId=" + domainId + " (expected: 0 <= domainId <= " + MAX_DOMAIN_ID + ")");
        }
    }
}
