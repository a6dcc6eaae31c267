/**
 * The guest's unmodified driver for an emulated AHCI disk ({@link io.pvio.frontend.ahci.AhciDisk}): register
 * programs over MMIO that exit to the device model in full mode and reach the hardware natively.
 */
package io.pvio.frontend.ahci;
