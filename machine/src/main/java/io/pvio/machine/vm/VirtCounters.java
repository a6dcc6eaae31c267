package io.pvio.machine.vm;

/**
 * What virtualizing one domain's memory and CPU cost, counted per domain: hypervisor entries by reason, page-table
 * updates, translation work, and the cycles the {@link io.pvio.machine.CostModel} prices them at (modeled, not
 * measured). A value object: {@link GuestKernel#counters()} returns a fresh snapshot, {@link #minus} gives the cost of
 * what ran between two snapshots.
 */
public final class VirtCounters
{
    long pteWrites;
    long pteWriteTraps;
    long cr3Loads;
    long cr3Traps;
    long invlpgs;
    long invlpgTraps;
    long hiddenFaults;
    long guestPageFaults;
    long faultReflections;
    long faultBounces;
    long hostFaults;
    long syscalls;
    long syscallTraps;
    long hypercalls;
    long validatedEntries;
    long tlbHits;
    long tlbMisses;
    long walkReferences;
    long walkCacheHits;
    long modeledCycles;

    VirtCounters()
    {
    }

    VirtCounters copy()
    {
        final VirtCounters c = new VirtCounters();
        c.add(this, 1);
        return c;
    }

    private void add(final VirtCounters o, final int sign)
    {
        pteWrites += sign * o.pteWrites;
        pteWriteTraps += sign * o.pteWriteTraps;
        cr3Loads += sign * o.cr3Loads;
        cr3Traps += sign * o.cr3Traps;
        invlpgs += sign * o.invlpgs;
        invlpgTraps += sign * o.invlpgTraps;
        hiddenFaults += sign * o.hiddenFaults;
        guestPageFaults += sign * o.guestPageFaults;
        faultReflections += sign * o.faultReflections;
        faultBounces += sign * o.faultBounces;
        hostFaults += sign * o.hostFaults;
        syscalls += sign * o.syscalls;
        syscallTraps += sign * o.syscallTraps;
        hypercalls += sign * o.hypercalls;
        validatedEntries += sign * o.validatedEntries;
        tlbHits += sign * o.tlbHits;
        tlbMisses += sign * o.tlbMisses;
        walkReferences += sign * o.walkReferences;
        walkCacheHits += sign * o.walkCacheHits;
        modeledCycles += sign * o.modeledCycles;
    }

    /**
     * The difference {@code this - earlier}: what happened between two snapshots.
     *
     * @param earlier an earlier snapshot of the same domain.
     * @return a new object.
     */
    public VirtCounters minus(final VirtCounters earlier)
    {
        final VirtCounters c = copy();
        c.add(earlier, -1);
        return c;
    }

    /**
     * Page-table entries the guest kernel wrote or asked to write.
     *
     * @return the count.
     */
    public long pteWrites()
    {
        return pteWrites;
    }

    /**
     * PTE writes that trapped to the hypervisor (full mode: write-protected guest tables).
     *
     * @return the count.
     */
    public long pteWriteTraps()
    {
        return pteWriteTraps;
    }

    /**
     * CR3 loads (address-space switches) the guest made.
     *
     * @return the count.
     */
    public long cr3Loads()
    {
        return cr3Loads;
    }

    /**
     * CR3 loads that trapped (full mode).
     *
     * @return the count.
     */
    public long cr3Traps()
    {
        return cr3Traps;
    }

    /**
     * INVLPGs the guest issued.
     *
     * @return the count.
     */
    public long invlpgs()
    {
        return invlpgs;
    }

    /**
     * INVLPGs that trapped (full mode).
     *
     * @return the count.
     */
    public long invlpgTraps()
    {
        return invlpgTraps;
    }

    /**
     * Hidden page faults: faults the guest never sees, taken to fill a shadow entry (full mode only).
     *
     * @return the count.
     */
    public long hiddenFaults()
    {
        return hiddenFaults;
    }

    /**
     * Page faults the guest kernel handled (demand paging, copy on write).
     *
     * @return the count.
     */
    public long guestPageFaults()
    {
        return guestPageFaults;
    }

    /**
     * Guest page faults that exited to the hypervisor first and were reflected into the guest (full mode).
     *
     * @return the count.
     */
    public long faultReflections()
    {
        return faultReflections;
    }

    /**
     * Guest page faults bounced through the hypervisor, which alone can read CR2 (para mode).
     *
     * @return the count.
     */
    public long faultBounces()
    {
        return faultBounces;
    }

    /**
     * Nested-paging violations: guest frames the host tables did not map.
     *
     * @return the count.
     */
    public long hostFaults()
    {
        return hostFaults;
    }

    /**
     * System calls the guest made.
     *
     * @return the count.
     */
    public long syscalls()
    {
        return syscalls;
    }

    /**
     * System calls that entered the monitor (full mode).
     *
     * @return the count.
     */
    public long syscallTraps()
    {
        return syscallTraps;
    }

    /**
     * Hypercalls (para mode: {@code mmu_update}, {@code mmuext_op}, multicalls counted once).
     *
     * @return the count.
     */
    public long hypercalls()
    {
        return hypercalls;
    }

    /**
     * Page-table entries the hypervisor validated for the guest (para mode).
     *
     * @return the count.
     */
    public long validatedEntries()
    {
        return validatedEntries;
    }

    /**
     * Every entry into the hypervisor: traps of any reason, hidden faults, reflected or bounced faults, host faults and
     * hypercalls.
     *
     * @return the count.
     */
    public long hypervisorEntries()
    {
        return pteWriteTraps + cr3Traps + invlpgTraps + hiddenFaults + faultReflections + faultBounces + hostFaults +
            syscallTraps + hypercalls;
    }

    /**
     * Translations served by the TLB.
     *
     * @return the count.
     */
    public long tlbHits()
    {
        return tlbHits;
    }

    /**
     * TLB misses (page walks).
     *
     * @return the count.
     */
    public long tlbMisses()
    {
        return tlbMisses;
    }

    /**
     * Page-table entries read by walks (guest and host tables in nested mode).
     *
     * @return the count.
     */
    public long walkReferences()
    {
        return walkReferences;
    }

    /**
     * Walks shortened by the paging-structure cache.
     *
     * @return the count.
     */
    public long walkCacheHits()
    {
        return walkCacheHits;
    }

    /**
     * Walk references per TLB miss.
     *
     * @return the ratio, 0 without misses.
     */
    public double referencesPerMiss()
    {
        return 0 == tlbMisses ? 0 : (double)walkReferences / tlbMisses;
    }

    /**
     * Modeled cycles of everything counted here, priced by the cost model.
     *
     * @return cycles.
     */
    public long modeledCycles()
    {
        return modeledCycles;
    }

    @Override
    public String toString()
    {
        return "VirtCounters{pteWrites=" + pteWrites + ", pteWriteTraps=" + pteWriteTraps + ", cr3Loads=" + cr3Loads +
            ", cr3Traps=" + cr3Traps + ", invlpgs=" + invlpgs + ", invlpgTraps=" + invlpgTraps + ", hiddenFaults=" +
            hiddenFaults + ", guestPageFaults=" + guestPageFaults + ", faultReflections=" + faultReflections +
            ", faultBounces=" + faultBounces + ", hostFaults=" + hostFaults + ", syscalls=" + syscalls +
            ", syscallTraps=" + syscallTraps + ", hypercalls=" + hypercalls + ", validatedEntries=" +
            validatedEntries + ", tlbHits=" + tlbHits + ", tlbMisses=" + tlbMisses + ", walkReferences=" +
            walkReferences + ", walkCacheHits=" + walkCacheHits + ", modeledCycles=" + modeledCycles + '}';
    }
}
