package io.pvio.backend.block;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * The disk behind blkback: a fixed-size array of sectors with positional reads and writes, flush and discard.
 * <p>
 * <b>Units.</b> Sector numbers and counts are always 512-byte units ({@link #SECTOR_SIZE}), the unit blkif uses for
 * {@code sector_number}, {@code first_sect}/{@code last_sect}, {@code nr_sectors} and the back end's
 * {@code sectors} node, whatever the device's {@linkplain #sectorSize() logical block size}. On a store whose sector
 * size is 4096, every start sector must be a multiple of 8 and every length a multiple of 4096 bytes.
 * <p>
 * <b>Checks, in order.</b> Every data operation checks, before it touches the disk: the store is open
 * ({@link BlockStoreException.Reason#CLOSED}); writes and discards need a writable store
 * ({@link BlockStoreException.Reason#READ_ONLY}); the length is a non-negative whole number of logical blocks
 * ({@link BlockStoreException.Reason#BAD_LENGTH}); the start sector is on a logical block boundary
 * ({@link BlockStoreException.Reason#MISALIGNED}); {@code sector + count <= sectors()} as unsigned 64-bit values that
 * cannot overflow ({@link BlockStoreException.Reason#OUT_OF_RANGE}); and finally the caller's buffer holds
 * {@code [offset, offset + length)} ({@link IndexOutOfBoundsException}, a bug in the caller rather than the guest).
 * A refused operation changes nothing.
 * <p>
 * <b>Threading.</b> The stores in this package may be used by any number of threads at once, so the agents of a
 * multi-queue device can share one store. Writes to overlapping ranges from different threads land in an undefined
 * order, as on a real disk. {@link #close()} waits for the operations in progress and then releases the store; every
 * later operation fails with {@link BlockStoreException.Reason#CLOSED}.
 * <p>
 * <b>Allocation.</b> Once warmed up, reads, writes, flushes and discards allocate nothing; refusals allocate their
 * exception.
 */
public interface BlockStore extends AutoCloseable
{
    /** log2 of {@link #SECTOR_SIZE}. */
    int SECTOR_SHIFT = 9;

    /** The blkif sector: the unit of every sector number and count, in bytes. */
    int SECTOR_SIZE = 1 << SECTOR_SHIFT;

    /** Largest logical block size a store may have, in bytes. */
    int MAX_SECTOR_SIZE = 4096;

    /**
     * Logical block size in bytes: {@link #SECTOR_SIZE} by default, up to {@link #MAX_SECTOR_SIZE}. The smallest unit
     * the device reads or writes; blkback publishes it as {@code sector-size}.
     *
     * @return a power of two from 512 to 4096.
     */
    int sectorSize();

    /**
     * Size of the device in 512-byte sectors, the value of the back end's {@code sectors} node. A whole number of
     * logical blocks.
     *
     * @return the number of 512-byte sectors, 1 or more.
     */
    long sectors();

    /**
     * Whether the store refuses writes and discards (blkback's {@code mode=r}).
     *
     * @return true if read-only.
     */
    boolean isReadOnly();

    /**
     * Whether {@link #close()} has been called.
     *
     * @return true once closed.
     */
    boolean isClosed();

    /**
     * Reads {@code length} bytes from the device, starting at {@code sector}, into {@code dst}. Parts of the device
     * never written read as zeros.
     *
     * @param sector    first 512-byte sector, treated as unsigned.
     * @param dst       receives the data.
     * @param dstOffset where in {@code dst} the data goes.
     * @param length    bytes to read, a whole number of logical blocks.
     * @throws BlockStoreException       if the store is closed, the length or range is invalid, or the read failed
     *                                   (then the contents of the destination range are unspecified).
     * @throws IndexOutOfBoundsException if {@code dst} does not hold {@code [dstOffset, dstOffset + length)}.
     */
    void read(long sector, MutableDirectBuffer dst, int dstOffset, int length);

    /**
     * Writes {@code length} bytes from {@code src} to the device, starting at {@code sector}. Returns once the data is
     * in the store; it is durable only after a later {@link #flush()}.
     *
     * @param sector    first 512-byte sector, treated as unsigned.
     * @param src       holds the data.
     * @param srcOffset where in {@code src} the data starts.
     * @param length    bytes to write, a whole number of logical blocks.
     * @throws BlockStoreException       if the store is closed or read-only, the length or range is invalid, or the
     *                                   write failed (then the contents of the device range are unspecified).
     * @throws IndexOutOfBoundsException if {@code src} does not hold {@code [srcOffset, srcOffset + length)}.
     */
    void write(long sector, DirectBuffer src, int srcOffset, int length);

    /**
     * Forces every completed write and discard to stable storage before returning ({@code BLKIF_OP_FLUSH_DISKCACHE}).
     * On a read-only store nothing can be pending, so a flush returns at once (and counts). A flush that carries data
     * (a write with a pre-flush or FUA) is a write, and a read-only store refuses it as one.
     *
     * @throws BlockStoreException if the store is closed or the device failed to flush.
     */
    void flush();

    /**
     * Discards {@code count} sectors from {@code sector} ({@code BLKIF_OP_DISCARD}): afterwards the range reads as
     * zeros. Implementations either write zeros or give the space back; the neighbouring sectors are untouched.
     *
     * @param sector first 512-byte sector, treated as unsigned.
     * @param count  512-byte sectors to discard, treated as unsigned, a whole number of logical blocks.
     * @throws BlockStoreException if the store is closed or read-only, the count or range is invalid, or the device
     *                             failed (then the contents of the range are unspecified).
     */
    void discard(long sector, long count);

    /**
     * The store's counters, live.
     *
     * @return the counters, still readable after {@link #close()}.
     */
    BlockStoreCounters counters();

    /**
     * Waits for the operations in progress, then releases the store's resources (its file or its off-heap memory).
     * Idempotent.
     *
     * @throws BlockStoreException if the underlying file failed to close; the store is closed anyway.
     */
    @Override
    void close();
}
