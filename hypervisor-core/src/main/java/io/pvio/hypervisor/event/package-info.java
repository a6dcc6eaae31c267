/**
 * Event channels: per-domain ports with 2-level pending and mask bits; a send sets the remote port pending and wakes
 * the remote domain's thread, where the handler runs.
 */
package io.pvio.hypervisor.event;
