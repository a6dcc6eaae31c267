package io.pvio.machine;

/**
 * What real hardware would charge for the events the simulated machine counts, in CPU cycles. Reports show these
 * modeled cycles beside measured time and always label which is which.
 * <p>
 * Defaults come from {@code research/virt-anchors.md} (section 3); where no published figure applies the default is
 * an assumption and its Javadoc says so. Mutable and fluent; {@link #copy()} before sharing.
 * <table>
 *   <caption>defaults</caption>
 *   <tr><th>event</th><th>cycles</th><th>source</th></tr>
 *   <tr><td>TLB hit</td><td>1</td><td>assumption: folded into the load's latency</td></tr>
 *   <tr><td>walk reference (one PTE read)</td><td>30</td><td>assumption: a PTE mostly in L2</td></tr>
 *   <tr><td>native page fault</td><td>1093</td><td>Adams &amp; Agesen 2006, pgfault, native</td></tr>
 *   <tr><td>VM exit + entry</td><td>512</td><td>Bugnion, Nieh, Tsafrir 2017, Table 4.3, Haswell page-fault exit</td></tr>
 *   <tr><td>trapped PTE write (full)</td><td>12733</td><td>Adams &amp; Agesen 2006, ptemod, VT-x without EPT</td></tr>
 *   <tr><td>shadow fill (hidden fault)</td><td>11242</td><td>Adams &amp; Agesen 2006, pgfault, VT-x</td></tr>
 *   <tr><td>hypercall entry and return</td><td>150</td><td>assumption: a ring transition like a syscall</td></tr>
 *   <tr><td>PTE validated by mmu_update</td><td>100</td><td>assumption: type and ownership checks per entry</td></tr>
 *   <tr><td>PTE written by a plain store</td><td>1</td><td>Adams &amp; Agesen 2006, ptemod, native</td></tr>
 *   <tr><td>monitor work per guest syscall (full)</td><td>2000</td><td>Adams &amp; Agesen 2006, BT syscall</td></tr>
 *   <tr><td>page copy or compare</td><td>1024</td><td>assumption: about 4 bytes per cycle</td></tr>
 *   <tr><td>swap-device page I/O</td><td>300000</td><td>assumption: 100 us of SSD at 3 GHz</td></tr>
 *   <tr><td>exception or interrupt delivered through the IDT</td><td>889</td>
 *       <td>Adams &amp; Agesen 2006, divzero, native</td></tr>
 *   <tr><td>port or MMIO access emulated in the hypervisor</td><td>600</td>
 *       <td>Sugerman et al. 2001 via virt-anchors 8: 0.78-0.91 us at 733 MHz</td></tr>
 *   <tr><td>access forwarded to a device model in the driver domain</td><td>15000</td>
 *       <td>assumption: a world switch to dom0 and back, about 5 us at 3 GHz</td></tr>
 *   <tr><td>event upcall (bounce frame to the guest's callback)</td><td>200</td>
 *       <td>assumption: a frame push like an exception bounce</td></tr>
 *   <tr><td>vCPU context switch on a pCPU</td><td>3000</td>
 *       <td>assumption: register save/restore, TLB refill, cache warm-up, about 1 us</td></tr>
 * </table>
 */
public final class CostModel
{
    private long tlbHit = 1;
    private long walkReference = 30;
    private long nativePageFault = 1093;
    private long vmExit = 512;
    private long trappedPteWrite = 12733;
    private long shadowFill = 11242;
    private long hypercall = 150;
    private long pteValidation = 100;
    private long nativePteWrite = 1;
    private long syscallEmulation = 2000;
    private long pageCopy = 1024;
    private long diskPageIo = 300000;
    private long exceptionDelivery = 889;
    private long portEmulation = 600;
    private long deviceModelAccess = 15000;
    private long upcall = 200;
    private long contextSwitch = 3000;

    /**
     * The defaults in the table above.
     */
    public CostModel()
    {
    }

    /**
     * A copy.
     *
     * @return a new model with the same costs.
     */
    public CostModel copy()
    {
        return new CostModel().tlbHit(tlbHit).walkReference(walkReference).nativePageFault(nativePageFault)
            .vmExit(vmExit).trappedPteWrite(trappedPteWrite).shadowFill(shadowFill).hypercall(hypercall)
            .pteValidation(pteValidation).nativePteWrite(nativePteWrite)
            .syscallEmulation(syscallEmulation).pageCopy(pageCopy).diskPageIo(diskPageIo)
            .exceptionDelivery(exceptionDelivery).portEmulation(portEmulation).deviceModelAccess(deviceModelAccess)
            .upcall(upcall).contextSwitch(contextSwitch);
    }

    /**
     * Cycles of a TLB hit (assumption).
     *
     * @return cycles.
     */
    public long tlbHit()
    {
        return tlbHit;
    }

    /**
     * Sets the cycles of a TLB hit.
     *
     * @param cycles 0 or more.
     * @return this.
     */
    public CostModel tlbHit(final long cycles)
    {
        tlbHit = check(cycles, "tlbHit");
        return this;
    }

    /**
     * Cycles of one page-table entry read by a walk (assumption).
     *
     * @return cycles.
     */
    public long walkReference()
    {
        return walkReference;
    }

    /**
     * Sets the cycles of one walk reference.
     *
     * @param cycles 0 or more.
     * @return this.
     */
    public CostModel walkReference(final long cycles)
    {
        walkReference = check(cycles, "walkReference");
        return this;
    }

    /**
     * Cycles of a page fault delivered natively (Adams and Agesen 2006).
     *
     * @return cycles.
     */
    public long nativePageFault()
    {
        return nativePageFault;
    }

    /**
     * Sets the cycles of a native page fault.
     *
     * @param cycles 0 or more.
     * @return this.
     */
    public CostModel nativePageFault(final long cycles)
    {
        nativePageFault = check(cycles, "nativePageFault");
        return this;
    }

    /**
     * Cycles of a VM exit and re-entry (Bugnion, Nieh and Tsafrir 2017, Haswell).
     *
     * @return cycles.
     */
    public long vmExit()
    {
        return vmExit;
    }

    /**
     * Sets the cycles of a VM exit and re-entry.
     *
     * @param cycles 0 or more.
     * @return this.
     */
    public CostModel vmExit(final long cycles)
    {
        vmExit = check(cycles, "vmExit");
        return this;
    }

    /**
     * Cycles of a guest page-table write trapped and emulated in full virtualization (Adams and Agesen 2006).
     *
     * @return cycles.
     */
    public long trappedPteWrite()
    {
        return trappedPteWrite;
    }

    /**
     * Sets the cycles of a trapped PTE write.
     *
     * @param cycles 0 or more.
     * @return this.
     */
    public CostModel trappedPteWrite(final long cycles)
    {
        trappedPteWrite = check(cycles, "trappedPteWrite");
        return this;
    }

    /**
     * Cycles of a hidden page fault that fills a shadow entry (Adams and Agesen 2006).
     *
     * @return cycles.
     */
    public long shadowFill()
    {
        return shadowFill;
    }

    /**
     * Sets the cycles of a shadow fill.
     *
     * @param cycles 0 or more.
     * @return this.
     */
    public CostModel shadowFill(final long cycles)
    {
        shadowFill = check(cycles, "shadowFill");
        return this;
    }

    /**
     * Cycles of a hypercall's entry and return (assumption).
     *
     * @return cycles.
     */
    public long hypercall()
    {
        return hypercall;
    }

    /**
     * Sets the cycles of a hypercall's entry and return.
     *
     * @param cycles 0 or more.
     * @return this.
     */
    public CostModel hypercall(final long cycles)
    {
        hypercall = check(cycles, "hypercall");
        return this;
    }

    /**
     * Cycles the hypervisor spends validating one entry of an {@code mmu_update} (assumption).
     *
     * @return cycles.
     */
    public long pteValidation()
    {
        return pteValidation;
    }

    /**
     * Sets the cycles of validating one PTE.
     *
     * @param cycles 0 or more.
     * @return this.
     */
    public CostModel pteValidation(final long cycles)
    {
        pteValidation = check(cycles, "pteValidation");
        return this;
    }

    /**
     * Cycles of a page-table entry written by a plain store: native, nested, or a table not yet in use (Adams and
     * Agesen 2006, ptemod, native: about one store).
     *
     * @return cycles.
     */
    public long nativePteWrite()
    {
        return nativePteWrite;
    }

    /**
     * Sets the cycles of a page-table entry written by a plain store.
     *
     * @param cycles 0 or more.
     * @return this.
     */
    public CostModel nativePteWrite(final long cycles)
    {
        nativePteWrite = check(cycles, "nativePteWrite");
        return this;
    }

    /**
     * Cycles of the extra work a full-virtualization monitor does per guest system call (Adams and Agesen 2006:
     * binary translation adds about 2000 cycles per syscall).
     *
     * @return cycles.
     */
    public long syscallEmulation()
    {
        return syscallEmulation;
    }

    /**
     * Sets the cycles of the extra work a full-virtualization monitor does per guest system call.
     *
     * @param cycles 0 or more.
     * @return this.
     */
    public CostModel syscallEmulation(final long cycles)
    {
        syscallEmulation = check(cycles, "syscallEmulation");
        return this;
    }

    /**
     * Cycles of copying or comparing one 4 KiB page (assumption: about 4 bytes per cycle).
     *
     * @return cycles.
     */
    public long pageCopy()
    {
        return pageCopy;
    }

    /**
     * Sets the cycles of copying or comparing one 4 KiB page.
     *
     * @param cycles 0 or more.
     * @return this.
     */
    public CostModel pageCopy(final long cycles)
    {
        pageCopy = check(cycles, "pageCopy");
        return this;
    }

    /**
     * Cycles of reading or writing one page on a swap device (assumption: 100 us of SSD at 3 GHz).
     *
     * @return cycles.
     */
    public long diskPageIo()
    {
        return diskPageIo;
    }

    /**
     * Sets the cycles of reading or writing one page on a swap device.
     *
     * @param cycles 0 or more.
     * @return this.
     */
    public CostModel diskPageIo(final long cycles)
    {
        diskPageIo = check(cycles, "diskPageIo");
        return this;
    }

    /**
     * Cycles of delivering an exception or interrupt through the IDT on bare hardware (Adams and Agesen 2006,
     * divzero, native).
     *
     * @return cycles.
     */
    public long exceptionDelivery()
    {
        return exceptionDelivery;
    }

    /**
     * Sets the cycles of an exception or interrupt delivered through the IDT.
     *
     * @param cycles 0 or more.
     * @return this.
     */
    public CostModel exceptionDelivery(final long cycles)
    {
        exceptionDelivery = check(cycles, "exceptionDelivery");
        return this;
    }

    /**
     * Cycles of a port or MMIO access the hypervisor emulates itself, on top of the exit (Sugerman et al. 2001).
     *
     * @return cycles.
     */
    public long portEmulation()
    {
        return portEmulation;
    }

    /**
     * Sets the cycles of a port or MMIO access the hypervisor emulates.
     *
     * @param cycles 0 or more.
     * @return this.
     */
    public CostModel portEmulation(final long cycles)
    {
        portEmulation = check(cycles, "portEmulation");
        return this;
    }

    /**
     * Cycles of a register access forwarded to a device model in the driver domain and answered, on top of the
     * exit (assumption: a world switch there and back, about 5 us at 3 GHz).
     *
     * @return cycles.
     */
    public long deviceModelAccess()
    {
        return deviceModelAccess;
    }

    /**
     * Sets the cycles of a register access forwarded to a device model.
     *
     * @param cycles 0 or more.
     * @return this.
     */
    public CostModel deviceModelAccess(final long cycles)
    {
        deviceModelAccess = check(cycles, "deviceModelAccess");
        return this;
    }

    /**
     * Cycles of an event upcall: the hypervisor builds a bounce frame and enters the guest's callback
     * (assumption).
     *
     * @return cycles.
     */
    public long upcall()
    {
        return upcall;
    }

    /**
     * Sets the cycles of an event upcall.
     *
     * @param cycles 0 or more.
     * @return this.
     */
    public CostModel upcall(final long cycles)
    {
        upcall = check(cycles, "upcall");
        return this;
    }

    /**
     * Cycles of switching a pCPU from one vCPU to another (assumption: about 1 us of save, restore and refill).
     *
     * @return cycles.
     */
    public long contextSwitch()
    {
        return contextSwitch;
    }

    /**
     * Sets the cycles of a vCPU context switch.
     *
     * @param cycles 0 or more.
     * @return this.
     */
    public CostModel contextSwitch(final long cycles)
    {
        contextSwitch = check(cycles, "contextSwitch");
        return this;
    }

    /**
     * Modeled cycles of translation work an MMU counted: hits, walk references and faults.
     *
     * @param hits           TLB hits.
     * @param walkReferences page-table entries read by walks.
     * @param nativeFaults   page faults delivered to the guest directly.
     * @return cycles.
     */
    public long translationCycles(final long hits, final long walkReferences, final long nativeFaults)
    {
        return hits * tlbHit + walkReferences * walkReference + nativeFaults * nativePageFault;
    }

    private static long check(final long cycles, final String name)
    {
        if (cycles < 0)
        {
            throw new IllegalArgumentException(name + " must not be negative: " + cycles);
        }
        return cycles;
    }

    @Override
    public String toString()
    {
        return "CostModel{tlbHit=" + tlbHit + ", walkReference=" + walkReference + ", nativePageFault=" +
            nativePageFault + ", vmExit=" + vmExit + ", trappedPteWrite=" + trappedPteWrite + ", shadowFill=" +
            shadowFill + ", hypercall=" + hypercall + ", pteValidation=" + pteValidation +
            ", nativePteWrite=" + nativePteWrite + ", syscallEmulation=" + syscallEmulation + ", pageCopy=" + pageCopy +
            ", diskPageIo=" + diskPageIo + ", exceptionDelivery=" + exceptionDelivery + ", portEmulation=" +
            portEmulation + ", deviceModelAccess=" + deviceModelAccess + ", upcall=" + upcall + ", contextSwitch=" +
            contextSwitch + '}';
    }
}
