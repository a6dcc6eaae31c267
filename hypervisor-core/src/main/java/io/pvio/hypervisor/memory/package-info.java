/**
 * How the hypervisor hands machine memory between domains: reservations for balloon drivers, hypervisor swapping,
 * content-based page sharing, working-set sampling and the allocation policies (shares, working set, idle memory tax).
 */
package io.pvio.hypervisor.memory;
