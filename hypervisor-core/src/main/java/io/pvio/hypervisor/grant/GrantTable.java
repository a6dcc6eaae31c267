package io.pvio.hypervisor.grant;

import io.pvio.hypervisor.Domain;
import io.pvio.hypervisor.Hypervisor;

/**
 * A domain's grant table. Placeholder for the grant-table work: it holds no grants yet.
 */
public final class GrantTable
{
    private final Hypervisor hypervisor;
    private final Domain owner;

    /**
     * Creates the (empty) table of {@code owner}.
     *
     * @param hypervisor the hypervisor.
     * @param owner      the domain whose table this is.
     */
    public GrantTable(final Hypervisor hypervisor, final Domain owner)
    {
        this.hypervisor = hypervisor;
        this.owner = owner;
    }

    /**
     * Releases every mapping the owner holds of other domains' grants; called while the owner is dying.
     */
    public void releaseAll()
    {
        if (null == hypervisor || null == owner)
        {
            throw new IllegalStateException("unbound grant table");
        }
    }
}
