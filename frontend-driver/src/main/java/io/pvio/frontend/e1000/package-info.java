/**
 * The guest's unmodified driver for an e1000 Ethernet controller: MMIO register accesses on its vCPU, descriptor
 * rings and buffers in its own memory.
 */
package io.pvio.frontend.e1000;
