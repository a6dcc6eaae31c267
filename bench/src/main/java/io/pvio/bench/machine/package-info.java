/**
 * A whole PV machine assembled in one object: hypervisor, XenStore, the driver domain (dom0) and guests, each domain's
 * event loop on a thread of its own, and block devices wired front to back through the toolstack's XenStore
 * directories. The scenario runner, the end-to-end tests and the block benchmarks build on it.
 */
package io.pvio.bench.machine;
