package io.pvio.hypervisor.xenstore;

/**
 * A registered watch: which connection, the resolved path (absolute, or special), the path as the client gave it
 * and the token.
 */
final class XsWatch
{
    final XenStoreConnection connection;
    final String path;
    final String requestedPath;
    final String token;
    final boolean relative;

    XsWatch(final XenStoreConnection connection, final String path, final String requestedPath, final String token)
    {
        this.connection = connection;
        this.path = path;
        this.requestedPath = requestedPath;
        this.token = token;
        this.relative = requestedPath.charAt(0) != '/' && !XenStorePath.isSpecial(requestedPath);
    }

    /**
     * The path an event about {@code absolutePath} carries for this watch: relative to the domain path if the
     * watch was set with a relative path, as {@code xenstored} reports it.
     */
    String eventPath(final String absolutePath)
    {
        if (relative)
        {
            return absolutePath.substring(connection.domainPath().length() + 1);
        }
        return absolutePath;
    }
}
