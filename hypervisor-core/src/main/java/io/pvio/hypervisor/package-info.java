/**
 * The hypervisor: what Xen adds on top of the simulated {@code machine}, which is the only pvio module it depends on.
 * <p>
 * This is the place for domains and their lifecycle, the P2M (pseudo-physical to machine frame map), hypercall
 * dispatch, grant tables (grant, map, copy and end access), event channels (pending and mask bits, notifications that
 * wake the remote domain's thread), XenStore with its watches and transactions, xenbus device states, the vCPU
 * scheduler, and memory management (ballooning, page sharing, allocation policy).
 * <p>
 * Trust boundary: the hypervisor trusts no domain. Every grant reference, frame number and port that a domain hands
 * in is range-checked against that domain's own tables before anything is mapped, copied or signalled.
 */
package io.pvio.hypervisor;
