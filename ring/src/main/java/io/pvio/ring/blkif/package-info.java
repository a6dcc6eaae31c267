/**
 * The blkif wire format, shared by block front and back ends: Xen's {@code io/blkif.h} requests and responses on
 * the x86_64 (and Arm) ABI, byte for byte.
 * <p>
 * {@link io.pvio.ring.blkif.BlkifRequestDescriptor} and {@link io.pvio.ring.blkif.BlkifResponseDescriptor} give the
 * offsets; {@link io.pvio.ring.blkif.BlkifRequestFlyweight}, {@link io.pvio.ring.blkif.BlkifResponseFlyweight} and
 * {@link io.pvio.ring.blkif.BlkifSegmentFlyweight} read and write entries in place, little-endian and without
 * allocating; {@link io.pvio.ring.blkif.BlkifOp} and {@link io.pvio.ring.blkif.BlkifStatus} are the codes; and
 * {@link io.pvio.ring.blkif.BlkifRequestValidator} is the back end's fixed-order check of a private copy of each
 * request. A blkif ring is {@link io.pvio.ring.blkif.BlkifRequestDescriptor#blkifRing(int)}: 112-byte entries, 32
 * per page.
 * <p>
 * Sector quantities are always 512-byte units. The x86_32 layout (request 108 bytes, response 12) is not supported;
 * a back end should refuse a front end that writes {@code protocol=x86_32-abi}.
 */
package io.pvio.ring.blkif;
