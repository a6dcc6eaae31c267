package io.pvio.hypervisor.memory;

import java.util.BitSet;

/**
 * The memory manager's per-domain state and counters. Read through {@link MemoryManager#stats}.
 */
final class DomainMemory
{
    final int domainId;
    final int maxPages;
    final BitSet sampled;
    final WorkingSetEstimator estimator = new WorkingSetEstimator();
    int populated;
    int swapped;
    int hostLimit = Integer.MAX_VALUE;
    long decreased;
    long increased;
    long hostSwapOuts;
    long hostSwapIns;
    long sharedBreaks;
    long sampleFaults;

    DomainMemory(final int domainId, final int maxPages, final int populated)
    {
        this.domainId = domainId;
        this.maxPages = maxPages;
        this.populated = populated;
        this.sampled = new BitSet(maxPages);
    }
}
