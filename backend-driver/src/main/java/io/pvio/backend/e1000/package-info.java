/**
 * The device model of an emulated Intel 8254x (e1000) Ethernet controller, a port of dom0's bridge: what QEMU
 * provides a full-mode guest, and what the hardware is under a native kernel.
 */
package io.pvio.backend.e1000;
