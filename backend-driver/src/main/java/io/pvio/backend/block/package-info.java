/**
 * blkback, the block back end, and the disk behind it.
 * <p>
 * {@link io.pvio.backend.block.BlockStore} is the disk: positional reads and writes in 512-byte sector units (the
 * unit of blkif), flush and discard, with its range checks and its
 * {@link io.pvio.backend.block.BlockStoreCounters counters}. {@link io.pvio.backend.block.FileBlockStore} keeps it in
 * a raw image file, moving data between the file and grant-mapped guest frames with no copy and no allocation;
 * {@link io.pvio.backend.block.MemoryBlockStore} keeps it in off-heap memory for tests and benchmarks. Every refusal
 * or failure is a {@link io.pvio.backend.block.BlockStoreException} whose reason and message name the range.
 */
package io.pvio.backend.block;
