/**
 * Device models for full-mode guests: an AHCI SATA controller with one disk ({@link io.pvio.backend.ahci.AhciDevice})
 * that a guest's unmodified driver programs register by register, and the DMA it does into guest memory through the
 * P2M ({@link io.pvio.backend.ahci.GuestDma}).
 */
package io.pvio.backend.ahci;
