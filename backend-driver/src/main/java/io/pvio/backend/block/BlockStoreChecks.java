package io.pvio.backend.block;

import static io.pvio.backend.block.BlockStore.MAX_SECTOR_SIZE;
import static io.pvio.backend.block.BlockStore.SECTOR_SHIFT;
import static io.pvio.backend.block.BlockStore.SECTOR_SIZE;

/**
 * The checks every {@link BlockStore} makes before it touches the disk, in the order the interface documents. Each
 * refusal counts in {@link BlockStoreCounters#rejected()} and throws a {@link BlockStoreException} whose message names
 * the operation and the range; the accepting paths allocate nothing.
 */
final class BlockStoreChecks
{
    private BlockStoreChecks()
    {
    }

    /**
     * Checks a logical block size given to a factory or constructor.
     *
     * @param sectorSize bytes per logical block.
     * @return {@code sectorSize}.
     * @throws IllegalArgumentException unless it is a power of two from 512 to 4096.
     */
    static int checkSectorSize(final int sectorSize)
    {
        if (sectorSize < SECTOR_SIZE || sectorSize > MAX_SECTOR_SIZE || Integer.bitCount(sectorSize) != 1)
        {
            throw new IllegalArgumentException("unsupported sector size: sectorSize=" + sectorSize +
                " (expected: a power of two from " + SECTOR_SIZE + " to " + MAX_SECTOR_SIZE + ")");
        }
        return sectorSize;
    }

    /**
     * Refuses a write or discard on a read-only store.
     *
     * @param operation what was attempted.
     * @param sector    its first sector.
     * @param count     its sector count.
     * @param counters  counts the refusal.
     * @return the exception to throw.
     */
    static BlockStoreException readOnly(
        final String operation, final long sector, final long count, final BlockStoreCounters counters)
    {
        counters.onRejected();
        return new BlockStoreException(BlockStoreException.Reason.READ_ONLY,
            operation + " on a read-only store: sector=" + Long.toUnsignedString(sector) +
            " count=" + Long.toUnsignedString(count));
    }

    /**
     * Refuses any operation on a closed store.
     *
     * @param operation what was attempted.
     * @param store     the store, for the message.
     * @param counters  counts the refusal.
     * @return the exception to throw.
     */
    static BlockStoreException closed(final String operation, final Object store, final BlockStoreCounters counters)
    {
        counters.onRejected();
        return new BlockStoreException(BlockStoreException.Reason.CLOSED, operation + " on a closed store: " + store);
    }

    /**
     * Checks a read or write of {@code length} bytes from {@code sector}.
     *
     * @param operation     "read" or "write", for the message.
     * @param sector        first 512-byte sector, unsigned.
     * @param length        bytes.
     * @param sectorSize    logical block size of the store.
     * @param deviceSectors size of the store in 512-byte sectors.
     * @param counters      counts a refusal.
     * @throws BlockStoreException if the length is not a non-negative whole number of logical blocks, the start is
     *                             misaligned, or the range leaves the device.
     */
    static void checkIo(
        final String operation,
        final long sector,
        final int length,
        final int sectorSize,
        final long deviceSectors,
        final BlockStoreCounters counters)
    {
        if (length < 0 || 0 != (length & (sectorSize - 1)))
        {
            counters.onRejected();
            throw new BlockStoreException(BlockStoreException.Reason.BAD_LENGTH, operation +
                " length is not a whole number of logical blocks: sector=" + Long.toUnsignedString(sector) +
                " length=" + length + " sectorSize=" + sectorSize +
                " (expected: length >= 0 and length % sectorSize == 0)");
        }
        checkRange(operation, sector, length >>> SECTOR_SHIFT, sectorSize, deviceSectors, counters);
    }

    /**
     * Checks a discard of {@code count} sectors from {@code sector}.
     *
     * @param sector        first 512-byte sector, unsigned.
     * @param count         512-byte sectors, unsigned.
     * @param sectorSize    logical block size of the store.
     * @param deviceSectors size of the store in 512-byte sectors.
     * @param counters      counts a refusal.
     * @throws BlockStoreException if the count is not a whole number of logical blocks, the start is misaligned, or
     *                             the range leaves the device.
     */
    static void checkDiscard(
        final long sector,
        final long count,
        final int sectorSize,
        final long deviceSectors,
        final BlockStoreCounters counters)
    {
        final long blockSectors = sectorSize >>> SECTOR_SHIFT;
        if (0 != (count & (blockSectors - 1)))
        {
            counters.onRejected();
            throw new BlockStoreException(BlockStoreException.Reason.BAD_LENGTH,
                "discard count is not a whole number of logical blocks: sector=" + Long.toUnsignedString(sector) +
                " count=" + Long.toUnsignedString(count) + " sectorSize=" + sectorSize +
                " (expected: count % " + blockSectors + " == 0)");
        }
        checkRange("discard", sector, count, sectorSize, deviceSectors, counters);
    }

    /**
     * Size of a device in 512-byte sectors: {@code bytes} rounded down to whole logical blocks.
     *
     * @param bytes      size of the backing image or memory.
     * @param sectorSize logical block size.
     * @return 512-byte sectors.
     */
    static long deviceSectors(final long bytes, final int sectorSize)
    {
        return (bytes & -(long)sectorSize) >>> SECTOR_SHIFT;
    }

    private static void checkRange(
        final String operation,
        final long sector,
        final long count,
        final int sectorSize,
        final long deviceSectors,
        final BlockStoreCounters counters)
    {
        final long blockSectors = sectorSize >>> SECTOR_SHIFT;
        if (0 != (sector & (blockSectors - 1)))
        {
            counters.onRejected();
            throw new BlockStoreException(BlockStoreException.Reason.MISALIGNED, operation +
                " does not start on a logical block boundary: sector=" + Long.toUnsignedString(sector) +
                " count=" + Long.toUnsignedString(count) + " sectorSize=" + sectorSize +
                " (expected: sector % " + blockSectors + " == 0)");
        }
        // deviceSectors >= 0, so once count <= deviceSectors the room left cannot underflow: no u64 wrap is possible
        if (Long.compareUnsigned(count, deviceSectors) > 0 || Long.compareUnsigned(sector, deviceSectors - count) > 0)
        {
            counters.onRejected();
            throw new BlockStoreException(BlockStoreException.Reason.OUT_OF_RANGE, operation +
                " reaches past the end of the device: sector=" + Long.toUnsignedString(sector) +
                " count=" + Long.toUnsignedString(count) + " deviceSectors=" + deviceSectors +
                " (expected: sector + count <= deviceSectors)");
        }
    }
}
