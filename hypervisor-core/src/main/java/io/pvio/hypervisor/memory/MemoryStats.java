package io.pvio.hypervisor.memory;

/**
 * A snapshot of one domain's memory as the hypervisor manages it.
 *
 * @param maxPages     guest frames the domain can address.
 * @param populated    guest frames backed by a machine frame (private or shared).
 * @param swapped      guest frames in the hypervisor's swap store.
 * @param hostLimit    machine frames the hypervisor lets it hold ({@link Integer#MAX_VALUE}: no limit).
 * @param decreased    frames given back by decrease_reservation (balloon inflation).
 * @param increased    frames populated again by populate_physmap (balloon deflation).
 * @param hostSwapOuts pages the hypervisor swapped out.
 * @param hostSwapIns  pages the hypervisor swapped back in on a touch.
 * @param sharedBreaks writes that broke a shared page (copy on write).
 * @param sampleFaults touches of working-set sample pages (induced minor faults).
 * @param sharedPages  guest frames now mapped to a shared frame.
 */
public record MemoryStats(
    int maxPages,
    int populated,
    int swapped,
    int hostLimit,
    long decreased,
    long increased,
    long hostSwapOuts,
    long hostSwapIns,
    long sharedBreaks,
    long sampleFaults,
    int sharedPages)
{
}
