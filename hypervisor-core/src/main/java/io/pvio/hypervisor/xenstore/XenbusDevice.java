package io.pvio.hypervisor.xenstore;

import java.util.Map;

/**
 * The toolstack's part of a split device: the two XenStore directories that front and back end find each other by.
 * <pre>
 * /local/domain/&lt;be&gt;/backend/&lt;type&gt;/&lt;fe&gt;/&lt;devid&gt;/   owner be, fe may read
 *     state=1 frontend=&lt;front path&gt; frontend-id=&lt;fe&gt; online=1 + the back end's configuration nodes
 * /local/domain/&lt;fe&gt;/device/&lt;type&gt;/&lt;devid&gt;/          owner fe, be may read
 *     state=1 backend=&lt;back path&gt; backend-id=&lt;be&gt; + the front end's configuration nodes
 * </pre>
 * Both directories are written in one transaction by a privileged connection, so neither driver ever sees one
 * without the other. {@link #remove(XenStoreConnection)} deletes both, which the drivers see as their peer's
 * {@code state} going missing ({@link XenbusState#UNKNOWN}).
 */
public final class XenbusDevice
{
    /** Transactions tried before giving up on conflicts. */
    public static final int TRANSACTION_ATTEMPTS = 16;

    private final String type;
    private final int frontendDomid;
    private final int backendDomid;
    private final int devid;
    private final String frontendPath;
    private final String backendPath;

    private XenbusDevice(final String type, final int frontendDomid, final int backendDomid, final int devid)
    {
        this.type = type;
        this.frontendDomid = frontendDomid;
        this.backendDomid = backendDomid;
        this.devid = devid;
        this.frontendPath = frontendPath(frontendDomid, type, devid);
        this.backendPath = backendPath(backendDomid, type, frontendDomid, devid);
    }

    /**
     * Creates both directories of a device with {@code state=1} (Initialising), the peer links, and the given extra
     * nodes, in one transaction.
     *
     * @param toolstack     a connection of domain 0.
     * @param type          device type, for example {@code vbd}.
     * @param frontendDomid the guest.
     * @param backendDomid  the driver domain.
     * @param devid         the virtual device number.
     * @param backendNodes  extra nodes of the back directory (name to value), for example {@code mode}.
     * @param frontendNodes extra nodes of the front directory, for example {@code virtual-device}.
     * @return the device.
     * @throws XenStoreException if the store refuses (quota, permissions) or the transaction keeps conflicting.
     * @throws IllegalArgumentException if an id is out of range or the type is not a plain name.
     */
    public static XenbusDevice create(
        final XenStoreConnection toolstack,
        final String type,
        final int frontendDomid,
        final int backendDomid,
        final int devid,
        final Map<String, String> backendNodes,
        final Map<String, String> frontendNodes)
    {
        checkArguments(type, frontendDomid, backendDomid, devid);
        final XenbusDevice device = new XenbusDevice(type, frontendDomid, backendDomid, devid);
        toolstack.transaction(TRANSACTION_ATTEMPTS, (tx) ->
        {
            device.writeDirectory(toolstack, tx, device.backendPath,
                XsPermissions.of(backendDomid, XsAccess.NONE).with(frontendDomid, XsAccess.READ), backendNodes);
            toolstack.write(tx, device.backendPath + "/frontend", device.frontendPath);
            toolstack.write(tx, device.backendPath + "/frontend-id", Integer.toString(frontendDomid));
            toolstack.write(tx, device.backendPath + "/online", "1");
            device.writeDirectory(toolstack, tx, device.frontendPath,
                XsPermissions.of(frontendDomid, XsAccess.NONE).with(backendDomid, XsAccess.READ), frontendNodes);
            toolstack.write(tx, device.frontendPath + "/backend", device.backendPath);
            toolstack.write(tx, device.frontendPath + "/backend-id", Integer.toString(backendDomid));
            return null;
        });
        return device;
    }

    /**
     * The front end's directory: {@code /local/domain/<fe>/device/<type>/<devid>}.
     *
     * @param frontendDomid the guest.
     * @param type          the device type.
     * @param devid         the virtual device number.
     * @return the absolute path.
     */
    public static String frontendPath(final int frontendDomid, final String type, final int devid)
    {
        return "/local/domain/" + frontendDomid + "/device/" + type + '/' + devid;
    }

    /**
     * The back end's directory: {@code /local/domain/<be>/backend/<type>/<fe>/<devid>}.
     *
     * @param backendDomid  the driver domain.
     * @param type          the device type.
     * @param frontendDomid the guest.
     * @param devid         the virtual device number.
     * @return the absolute path.
     */
    public static String backendPath(final int backendDomid, final String type, final int frontendDomid, final int devid)
    {
        return "/local/domain/" + backendDomid + "/backend/" + type + '/' + frontendDomid + '/' + devid;
    }

    /**
     * Deletes both directories (back first), as the toolstack does when a device is unplugged or its guest is gone.
     * Missing directories are ignored.
     *
     * @param toolstack a connection of domain 0.
     */
    public void remove(final XenStoreConnection toolstack)
    {
        removeQuietly(toolstack, backendPath);
        removeQuietly(toolstack, frontendPath);
    }

    /**
     * Deletes the front end's directory only, as when the guest has been destroyed.
     *
     * @param toolstack a connection of domain 0.
     */
    public void removeFrontend(final XenStoreConnection toolstack)
    {
        removeQuietly(toolstack, frontendPath);
    }

    /**
     * The device type.
     *
     * @return for example {@code vbd}.
     */
    public String type()
    {
        return type;
    }

    /**
     * The guest's domain id.
     *
     * @return the front end's domain.
     */
    public int frontendDomid()
    {
        return frontendDomid;
    }

    /**
     * The driver domain's id.
     *
     * @return the back end's domain.
     */
    public int backendDomid()
    {
        return backendDomid;
    }

    /**
     * The virtual device number.
     *
     * @return the devid.
     */
    public int devid()
    {
        return devid;
    }

    /**
     * The front end's directory.
     *
     * @return an absolute path.
     */
    public String frontendPath()
    {
        return frontendPath;
    }

    /**
     * The back end's directory.
     *
     * @return an absolute path.
     */
    public String backendPath()
    {
        return backendPath;
    }

    @Override
    public String toString()
    {
        return "XenbusDevice{" + type + ", fe=" + frontendDomid + ", be=" + backendDomid + ", devid=" + devid + '}';
    }

    private void writeDirectory(
        final XenStoreConnection toolstack,
        final int tx,
        final String path,
        final XsPermissions permissions,
        final Map<String, String> nodes)
    {
        toolstack.mkdir(tx, path);
        toolstack.setPermissions(tx, path, permissions);
        toolstack.write(tx, path + '/' + XenbusStateWatcher.STATE_NODE, XenbusState.INITIALISING.toBytes());
        for (final Map.Entry<String, String> node : nodes.entrySet())
        {
            toolstack.write(tx, path + '/' + node.getKey(), node.getValue());
        }
    }

    private static void removeQuietly(final XenStoreConnection toolstack, final String path)
    {
        try
        {
            toolstack.rm(path);
        }
        catch (final XenStoreException ex)
        {
            if (ex.error() != XsError.ENOENT)
            {
                throw ex;
            }
        }
    }

    private static void checkArguments(
        final String type, final int frontendDomid, final int backendDomid, final int devid)
    {
        if (type.isEmpty() || type.indexOf('/') >= 0)
        {
            throw new IllegalArgumentException("type must be a plain node name: " + type);
        }
        if (frontendDomid < 0 || frontendDomid > XenStore.MAX_DOMAIN_ID)
        {
            throw new IllegalArgumentException("frontendDomid out of range: " + frontendDomid);
        }
        if (backendDomid < 0 || backendDomid > XenStore.MAX_DOMAIN_ID)
        {
            throw new IllegalArgumentException("backendDomid out of range: " + backendDomid);
        }
        if (devid < 0)
        {
            throw new IllegalArgumentException("devid must not be negative: " + devid);
        }
    }
}
