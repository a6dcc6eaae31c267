/**
 * The simulated machine: the hardware that every other pvio layer runs on, and the bottom of the dependency stack
 * (this module depends on no other pvio module).
 * <p>
 * This is the place for machine memory (off-heap 4 KiB frames indexed by machine frame number), the MMU with its
 * page-table walks and TLB, and CPUs with privilege levels and traps. It is also where the virtualization modes of
 * memory and CPU belong:
 * <ul>
 *     <li>memory: native (guest tables map VPN to MPN), full (shadow paging: the hypervisor keeps PPN to MPN and
 *     shadow tables VPN to MPN, and guest page-table writes, CR3 loads and INVLPG trap) and para (direct paging:
 *     guest tables hold MPNs and are updated through a validating, batched {@code mmu_update});</li>
 *     <li>CPU: privileged operations that execute (native), trap and are emulated (full), or are replaced by
 *     hypercalls batched as multicalls (para).</li>
 * </ul>
 * Costs that real hardware would charge, such as a VM exit, a TLB-miss walk or a shadow-page fill, are counted here
 * so that a cost model can price them; reports keep such modeled cycles apart from measured time.
 */
package io.pvio.machine;
