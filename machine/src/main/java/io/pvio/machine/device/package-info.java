/**
 * Register-level hardware the machine offers to guests that use emulated devices: the register maps and in-memory
 * structures that a device model and the guest's unmodified driver for it share.
 */
package io.pvio.machine.device;
