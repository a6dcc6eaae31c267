package io.pvio.hypervisor.memory;

/**
 * How the {@link MemoryScheduler} divides an overcommitted host's memory.
 */
public enum AllocationPolicy
{
    /** Proportional shares with min-funding revocation: reclaim from the lowest shares per page, idleness ignored. */
    SHARES,

    /** Each domain gets its estimated working set plus headroom; what is left goes by shares. */
    WORKING_SET,

    /** ESX's idle-adjusted shares: shares per page with idle pages taxed, k = 1 / (1 - tau). */
    IDLE_TAX
}
