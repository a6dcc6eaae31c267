package io.pvio.hypervisor.grant;

import io.pvio.hypervisor.DomainId;

/**
 * A reusable batch of {@code GNTTABOP_copy} operations, Xen's array of {@code struct gnttab_copy}, held in parallel
 * primitive arrays so that filling and running a batch allocates nothing.
 * <p>
 * Each operation copies {@code length} bytes from a source to a destination. Each side is either a grant reference
 * of some domain (flag {@link #SOURCE_GREF} or {@link #DEST_GREF} set; the side's {@code domid} names the granter, or
 * {@link DomainId#SELF}) or a frame of the caller itself (flag clear; the side's value is the caller's GFN and its
 * {@code domid} must be {@link DomainId#SELF}). Offsets and lengths must keep the copy inside each 4 KiB frame.
 * <p>
 * The values are stored as given and checked by {@link GrantTableOps#copy(GrantCopyBatch)}, which writes one status
 * per operation. A batch belongs to one thread at a time.
 */
public final class GrantCopyBatch
{
    /** {@code GNTCOPY_source_gref}: the source is a grant reference, not the caller's GFN. */
    public static final int SOURCE_GREF = 1;

    /** {@code GNTCOPY_dest_gref}: the destination is a grant reference, not the caller's GFN. */
    public static final int DEST_GREF = 1 << 1;

    /** Status of an operation that has not run yet. */
    public static final short NOT_RUN = Short.MIN_VALUE;

    private final int capacity;
    final int[] flags;
    final long[] sources;
    final int[] sourceDomids;
    final int[] sourceOffsets;
    final long[] dests;
    final int[] destDomids;
    final int[] destOffsets;
    final int[] lengths;
    final short[] statuses;
    int count;

    /**
     * Creates an empty batch.
     *
     * @param capacity the most operations it can hold, 1 or more.
     * @throws IllegalArgumentException if {@code capacity < 1}.
     */
    public GrantCopyBatch(final int capacity)
    {
        if (capacity < 1)
        {
            throw new IllegalArgumentException("capacity must be at least 1: capacity=" + capacity);
        }
        this.capacity = capacity;
        flags = new int[capacity];
        sources = new long[capacity];
        sourceDomids = new int[capacity];
        sourceOffsets = new int[capacity];
        dests = new long[capacity];
        destDomids = new int[capacity];
        destOffsets = new int[capacity];
        lengths = new int[capacity];
        statuses = new short[capacity];
    }

    /**
     * The most operations the batch holds.
     *
     * @return the capacity.
     */
    public int capacity()
    {
        return capacity;
    }

    /**
     * Operations added since the last {@link #clear()}.
     *
     * @return the count.
     */
    public int count()
    {
        return count;
    }

    /**
     * Empties the batch for reuse.
     *
     * @return this batch.
     */
    public GrantCopyBatch clear()
    {
        count = 0;
        return this;
    }

    /**
     * Appends one operation with every field given, as Xen's {@code struct gnttab_copy} holds them.
     *
     * @param flags        {@link #SOURCE_GREF} and/or {@link #DEST_GREF}.
     * @param source       the source grant reference (with {@link #SOURCE_GREF}) or the caller's source GFN.
     * @param sourceDomid  the source granter's id or {@link DomainId#SELF}.
     * @param sourceOffset byte offset in the source frame.
     * @param dest         the destination grant reference (with {@link #DEST_GREF}) or the caller's destination GFN.
     * @param destDomid    the destination granter's id or {@link DomainId#SELF}.
     * @param destOffset   byte offset in the destination frame.
     * @param length       bytes to copy.
     * @return the operation's index in the batch.
     * @throws IllegalStateException if the batch is full.
     */
    public int add(
        final int flags,
        final long source,
        final int sourceDomid,
        final int sourceOffset,
        final long dest,
        final int destDomid,
        final int destOffset,
        final int length)
    {
        final int index = count;
        if (index >= capacity)
        {
            throw new IllegalStateException("copy batch is full: capacity=" + capacity);
        }
        this.flags[index] = flags;
        sources[index] = source;
        sourceDomids[index] = sourceDomid;
        sourceOffsets[index] = sourceOffset;
        dests[index] = dest;
        destDomids[index] = destDomid;
        destOffsets[index] = destOffset;
        lengths[index] = length;
        statuses[index] = NOT_RUN;
        count = index + 1;
        return index;
    }

    /**
     * Appends a copy out of a grant into one of the caller's own frames (a back end reading a request's data).
     *
     * @param granterDomid the domain that granted {@code ref}.
     * @param ref          the grant reference.
     * @param sourceOffset byte offset in the granted frame.
     * @param localGfn     the caller's destination frame.
     * @param destOffset   byte offset in the caller's frame.
     * @param length       bytes to copy.
     * @return the operation's index in the batch.
     * @throws IllegalStateException if the batch is full.
     */
    public int addFromGrant(
        final int granterDomid,
        final int ref,
        final int sourceOffset,
        final long localGfn,
        final int destOffset,
        final int length)
    {
        return add(
            SOURCE_GREF, ref & 0xFFFF_FFFFL, granterDomid, sourceOffset, localGfn, DomainId.SELF, destOffset, length);
    }

    /**
     * Appends a copy from one of the caller's own frames into a grant (a back end filling a guest's buffer).
     *
     * @param localGfn     the caller's source frame.
     * @param sourceOffset byte offset in the caller's frame.
     * @param granterDomid the domain that granted {@code ref}, which must allow writing.
     * @param ref          the grant reference.
     * @param destOffset   byte offset in the granted frame.
     * @param length       bytes to copy.
     * @return the operation's index in the batch.
     * @throws IllegalStateException if the batch is full.
     */
    public int addToGrant(
        final long localGfn,
        final int sourceOffset,
        final int granterDomid,
        final int ref,
        final int destOffset,
        final int length)
    {
        return add(
            DEST_GREF, localGfn, DomainId.SELF, sourceOffset, ref & 0xFFFF_FFFFL, granterDomid, destOffset, length);
    }

    /**
     * Appends a copy from one grant into another (a bridge moving a packet between two guests).
     *
     * @param sourceDomid  the domain that granted {@code sourceRef}.
     * @param sourceRef    the source grant reference.
     * @param sourceOffset byte offset in the source frame.
     * @param destDomid    the domain that granted {@code destRef}, which must allow writing.
     * @param destRef      the destination grant reference.
     * @param destOffset   byte offset in the destination frame.
     * @param length       bytes to copy.
     * @return the operation's index in the batch.
     * @throws IllegalStateException if the batch is full.
     */
    public int addGrantToGrant(
        final int sourceDomid,
        final int sourceRef,
        final int sourceOffset,
        final int destDomid,
        final int destRef,
        final int destOffset,
        final int length)
    {
        return add(
            SOURCE_GREF | DEST_GREF,
            sourceRef & 0xFFFF_FFFFL, sourceDomid, sourceOffset,
            destRef & 0xFFFF_FFFFL, destDomid, destOffset,
            length);
    }

    /**
     * Flags of an operation.
     *
     * @param index the operation, {@code 0 <= index < count()}.
     * @return {@link #SOURCE_GREF} and/or {@link #DEST_GREF}, as added.
     */
    public int flags(final int index)
    {
        return flags[checkIndex(index)];
    }

    /**
     * Source grant reference or GFN of an operation.
     *
     * @param index the operation.
     * @return the value as added.
     */
    public long source(final int index)
    {
        return sources[checkIndex(index)];
    }

    /**
     * Source domain of an operation.
     *
     * @param index the operation.
     * @return the value as added.
     */
    public int sourceDomid(final int index)
    {
        return sourceDomids[checkIndex(index)];
    }

    /**
     * Source offset of an operation.
     *
     * @param index the operation.
     * @return the value as added.
     */
    public int sourceOffset(final int index)
    {
        return sourceOffsets[checkIndex(index)];
    }

    /**
     * Destination grant reference or GFN of an operation.
     *
     * @param index the operation.
     * @return the value as added.
     */
    public long dest(final int index)
    {
        return dests[checkIndex(index)];
    }

    /**
     * Destination domain of an operation.
     *
     * @param index the operation.
     * @return the value as added.
     */
    public int destDomid(final int index)
    {
        return destDomids[checkIndex(index)];
    }

    /**
     * Destination offset of an operation.
     *
     * @param index the operation.
     * @return the value as added.
     */
    public int destOffset(final int index)
    {
        return destOffsets[checkIndex(index)];
    }

    /**
     * Length of an operation.
     *
     * @param index the operation.
     * @return the value as added.
     */
    public int length(final int index)
    {
        return lengths[checkIndex(index)];
    }

    /**
     * Result of an operation after {@link GrantTableOps#copy(GrantCopyBatch)}.
     *
     * @param index the operation.
     * @return a {@link GrantStatus} code, or {@link #NOT_RUN}.
     */
    public short status(final int index)
    {
        return statuses[checkIndex(index)];
    }

    void status(final int index, final int status)
    {
        statuses[index] = (short)status;
    }

    private int checkIndex(final int index)
    {
        if (index < 0 || index >= count)
        {
            throw new IndexOutOfBoundsException("no such copy operation: index=" + index + " (expected: 0 <= index < " +
                count + ")");
        }
        return index;
    }
}
