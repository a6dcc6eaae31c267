/**
 * The simulated MMU's translation rate: TLB hits and full page walks.
 */
package io.pvio.bench.mmu;
