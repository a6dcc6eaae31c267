/**
 * Xen's ioreq servers: an HVM guest's trapped port and MMIO accesses, handed one at a time per vCPU through the shared
 * ioreq page to a device model in another domain (dom0), which answers and notifies; the vCPU waits inside the
 * instruction until then. {@link io.pvio.hypervisor.ioreq.IoreqLayout} is the wire format,
 * {@link io.pvio.hypervisor.ioreq.IoreqServer} both ends of the protocol.
 */
package io.pvio.hypervisor.ioreq;
