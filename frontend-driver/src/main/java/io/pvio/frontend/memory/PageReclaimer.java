package io.pvio.frontend.memory;

/**
 * The guest kernel's page reclaim, as the balloon driver calls it when the page allocator is empty: free one page
 * (paging something out to the guest's own swap if it must).
 */
@FunctionalInterface
public interface PageReclaimer
{
    /**
     * Frees one page into the guest's page allocator.
     *
     * @return false if nothing could be freed.
     */
    boolean reclaimOne();
}
