package io.pvio.hypervisor.xenstore;

/**
 * XenStore path rules, as {@code xenstored} applies them to every path a client sends.
 * <ul>
 *   <li>An absolute path starts with {@code /} and is at most {@value #MAX_ABSOLUTE_LENGTH} bytes
 *       ({@code XENSTORE_ABS_PATH_MAX}).</li>
 *   <li>A relative path is at most {@value #MAX_RELATIVE_LENGTH} bytes ({@code XENSTORE_REL_PATH_MAX}) and resolves
 *       under the caller's {@linkplain #domainPath(int) domain path} {@code /local/domain/<domid>}.</li>
 *   <li>Characters are ASCII letters and digits and {@code - / _ @}; no component is empty ({@code //}), and no
 *       path ends with {@code /} except the root {@code /} itself.</li>
 *   <li>Only a watch may name one of the special paths {@value #INTRODUCE_DOMAIN} and {@value #RELEASE_DOMAIN};
 *       elsewhere a path starting with {@code @} is an ordinary relative path.</li>
 * </ul>
 * Every violation is {@link XsError#EINVAL}. Resolved paths are canonical: equal strings name equal nodes.
 */
public final class XenStorePath
{
    /** Longest absolute path in bytes, {@code XENSTORE_ABS_PATH_MAX}. */
    public static final int MAX_ABSOLUTE_LENGTH = 3072;

    /** Longest relative path in bytes, {@code XENSTORE_REL_PATH_MAX}. */
    public static final int MAX_RELATIVE_LENGTH = 2048;

    /** The root of the tree. */
    public static final String ROOT = "/";

    /** Special watch path fired when a domain is introduced to the store. */
    public static final String INTRODUCE_DOMAIN = "@introduceDomain";

    /** Special watch path fired when a domain is released from the store. */
    public static final String RELEASE_DOMAIN = "@releaseDomain";

    /** Prefix of every domain path. */
    public static final String DOMAIN_PATH_PREFIX = "/local/domain/";

    private static final int MAX_QUOTED = 96;

    private XenStorePath()
    {
    }

    /**
     * The home directory of a domain, under which its relative paths resolve.
     *
     * @param domainId the domain.
     * @return {@code /local/domain/<domainId>}.
     */
    public static String domainPath(final int domainId)
    {
        return DOMAIN_PATH_PREFIX + domainId;
    }

    /**
     * Validates a node path and makes it absolute.
     *
     * @param domainId the caller, whose domain path anchors a relative path.
     * @param path     the path as the caller gave it.
     * @return the canonical absolute path.
     * @throws XenStoreException with {@link XsError#EINVAL} if the path breaks a rule.
     */
    public static String resolve(final int domainId, final String path)
    {
        if (null == path || path.isEmpty())
        {
            throw invalid("path is empty", path, domainId);
        }
        if (path.charAt(0) == '/')
        {
            if (path.length() > MAX_ABSOLUTE_LENGTH)
            {
                throw invalid("absolute path longer than " + MAX_ABSOLUTE_LENGTH + " bytes: length=" + path.length(),
                    path, domainId);
            }
            checkSyntax(path, domainId);
            return path;
        }
        if (path.length() > MAX_RELATIVE_LENGTH)
        {
            throw invalid("relative path longer than " + MAX_RELATIVE_LENGTH + " bytes: length=" + path.length(),
                path, domainId);
        }
        checkSyntax(path, domainId);
        return domainPath(domainId) + '/' + path;
    }

    /**
     * Validates a watch path: a node path, or one of the special paths {@value #INTRODUCE_DOMAIN} and
     * {@value #RELEASE_DOMAIN}.
     *
     * @param domainId the caller.
     * @param path     the path as the caller gave it.
     * @return the special path unchanged, or the canonical absolute node path.
     * @throws XenStoreException with {@link XsError#EINVAL} if the path breaks a rule.
     */
    public static String resolveWatch(final int domainId, final String path)
    {
        if (null != path && !path.isEmpty() && path.charAt(0) == '@')
        {
            if (isSpecial(path))
            {
                return path;
            }
            throw invalid("unknown special watch path (expected: " + INTRODUCE_DOMAIN + " or " + RELEASE_DOMAIN + ")",
                path, domainId);
        }
        return resolve(domainId, path);
    }

    /**
     * Whether a path is one of the special watch paths.
     *
     * @param path any string.
     * @return true for {@value #INTRODUCE_DOMAIN} and {@value #RELEASE_DOMAIN}.
     */
    public static boolean isSpecial(final String path)
    {
        return INTRODUCE_DOMAIN.equals(path) || RELEASE_DOMAIN.equals(path);
    }

    /**
     * The parent of a canonical absolute path.
     *
     * @param absolutePath a resolved path.
     * @return the parent, or null for the root.
     */
    public static String parent(final String absolutePath)
    {
        if (ROOT.equals(absolutePath))
        {
            return null;
        }
        final int slash = absolutePath.lastIndexOf('/');
        return 0 == slash ? ROOT : absolutePath.substring(0, slash);
    }

    /**
     * The components of a canonical absolute path.
     *
     * @param absolutePath a resolved path.
     * @return the names from the root down; empty for the root.
     */
    public static String[] components(final String absolutePath)
    {
        if (ROOT.equals(absolutePath))
        {
            return new String[0];
        }
        return absolutePath.substring(1).split("/", -1);
    }

    /**
     * Joins a canonical absolute path and a child name.
     *
     * @param absolutePath a resolved path.
     * @param name         a child name.
     * @return the child's path.
     */
    public static String child(final String absolutePath, final String name)
    {
        return ROOT.equals(absolutePath) ? ROOT + name : absolutePath + '/' + name;
    }

    /**
     * Whether {@code path} is {@code ancestor} or lies below it; both are canonical absolute paths.
     *
     * @param path     the candidate descendant.
     * @param ancestor the candidate ancestor.
     * @return true if {@code path} is at or below {@code ancestor}.
     */
    public static boolean isAtOrBelow(final String path, final String ancestor)
    {
        if (ROOT.equals(ancestor))
        {
            return path.charAt(0) == '/';
        }
        return path.startsWith(ancestor) &&
            (path.length() == ancestor.length() || path.charAt(ancestor.length()) == '/');
    }

    /**
     * A path shortened for an error message, so a 3 KiB path does not flood a log.
     *
     * @param path any path, possibly null.
     * @return the path, or its first characters followed by its length.
     */
    static String quote(final String path)
    {
        if (null == path)
        {
            return "null";
        }
        if (path.length() <= MAX_QUOTED)
        {
            return path;
        }
        return path.substring(0, MAX_QUOTED) + "...(length=" + path.length() + ")";
    }

    private static void checkSyntax(final String path, final int domainId)
    {
        final int length = path.length();
        if (length > 1 && path.charAt(length - 1) == '/')
        {
            throw invalid("trailing slash", path, domainId);
        }
        char previous = 0;
        for (int i = 0; i < length; i++)
        {
            final char c = path.charAt(i);
            if (!isPathChar(c))
            {
                throw invalid("character not allowed at index " + i + ": code=" + (int)c +
                    " (expected: letters, digits and -/_@)", path, domainId);
            }
            if (c == '/' && previous == '/')
            {
                throw invalid("empty component at index " + i, path, domainId);
            }
            previous = c;
        }
    }

    private static boolean isPathChar(final char c)
    {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '/' || c == '_' || c == '@';
    }

    private static XenStoreException invalid(final String reason, final String path, final int domainId)
    {
        return new XenStoreException(XsError.EINVAL,
            "invalid path: " + reason + ", path=" + quote(path) + ", domain=" + domainId);
    }
}
