/**
 * Paging hardware of the simulated machine: x86-64-style 4-level page tables stored as real bytes in machine frames
 * ({@link io.pvio.machine.paging.PageTableEntry}), a {@link io.pvio.machine.paging.Tlb}, and an
 * {@link io.pvio.machine.paging.Mmu} that walks the tables the way hardware does (setting accessed and dirty bits,
 * raising page faults) with counters for hits, misses and memory references per walk. The virtualization modes
 * decide whose tables the MMU walks: the guest's own (native, para), the hypervisor's shadow tables (full).
 */
package io.pvio.machine.paging;
