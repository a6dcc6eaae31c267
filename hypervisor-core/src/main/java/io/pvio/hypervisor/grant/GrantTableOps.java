package io.pvio.hypervisor.grant;

import io.pvio.hypervisor.Domain;
import io.pvio.hypervisor.Hypervisor;

/**
 * {@code grant_table_op} bound to one calling domain. Placeholder for the grant-table work.
 */
public final class GrantTableOps
{
    private final Hypervisor hypervisor;
    private final Domain caller;

    /**
     * Binds the operations to a caller.
     *
     * @param hypervisor the hypervisor.
     * @param caller     the domain making the calls.
     */
    public GrantTableOps(final Hypervisor hypervisor, final Domain caller)
    {
        this.hypervisor = hypervisor;
        this.caller = caller;
    }

    /**
     * The calling domain.
     *
     * @return the caller.
     */
    public Domain caller()
    {
        return null == hypervisor ? null : caller;
    }
}
