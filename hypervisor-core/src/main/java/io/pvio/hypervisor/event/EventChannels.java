package io.pvio.hypervisor.event;

import io.pvio.hypervisor.Domain;
import io.pvio.hypervisor.Hypervisor;

/**
 * A domain's event channel ports. Placeholder for the event-channel work: it holds no ports yet.
 */
public final class EventChannels
{
    private final Hypervisor hypervisor;
    private final Domain owner;

    /**
     * Creates the (empty) port table of {@code owner}.
     *
     * @param hypervisor the hypervisor.
     * @param owner      the domain whose ports these are.
     */
    public EventChannels(final Hypervisor hypervisor, final Domain owner)
    {
        this.hypervisor = hypervisor;
        this.owner = owner;
    }

    /**
     * Closes every port of the owner; interdomain peers go back to unbound. Called while the owner is dying.
     */
    public void closeAll()
    {
        if (null == hypervisor || null == owner)
        {
            throw new IllegalStateException("unbound event channels");
        }
    }
}
