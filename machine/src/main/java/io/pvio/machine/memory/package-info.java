/**
 * Machine memory: a fixed set of 4 KiB machine frames in off-heap memory, numbered by machine frame number (MFN),
 * each owned by at most one domain, handed out by a frame allocator and scrubbed when freed. A frame that another
 * domain still maps is held ({@linkplain io.pvio.machine.memory.MachineMemory#retain(long) retained}) until the last
 * mapping goes, never given to anyone else while in use.
 */
package io.pvio.machine.memory;
