package io.pvio.ring.blkif;

import org.agrona.DirectBuffer;

import static io.pvio.ring.blkif.BlkifRequestDescriptor.MAX_INDIRECT_PAGES_PER_REQUEST;
import static io.pvio.ring.blkif.BlkifRequestDescriptor.MAX_INDIRECT_SEGMENTS;
import static io.pvio.ring.blkif.BlkifRequestDescriptor.MAX_SECT;
import static io.pvio.ring.blkif.BlkifRequestDescriptor.MAX_SEGMENTS_PER_REQUEST;
import static io.pvio.ring.blkif.BlkifRequestDescriptor.SEGMENTS_PER_INDIRECT_FRAME;

/**
 * The back end's check of a blkif request from an untrusted front end, before any grant is mapped or any sector
 * touched. It reads a <em>private copy</em> of the request (as {@link io.pvio.ring.BackRing#copyRequests} hands it
 * over), so the bytes it checks are the bytes the back end then uses, and it decides in a fixed order, stopping at
 * the first failure:
 * <ol>
 *   <li>{@code operation} is a defined code other than {@code RESERVED_1}, and the device offers its feature
 *       ({@code feature-barrier}, {@code feature-flush-cache}, {@code feature-discard},
 *       {@code feature-max-indirect-segments}), else {@link Verdict#BAD_OPERATION};</li>
 *   <li>indirect only: {@code indirect_op} is READ or WRITE, else {@link Verdict#BAD_INDIRECT_OPERATION};</li>
 *   <li>segment count: 1 to 11 for read and write, 0 to 11 for flush and barrier; indirect: 1 to the advertised
 *       maximum, in at most {@code ceil(n / 512) <= 8} pages; else {@link Verdict#BAD_SEGMENTS};</li>
 *   <li>indirect only: each used {@code indirect_grefs[p]} below the grant-reference bound, else
 *       {@link Verdict#BAD_GRANT_REF}; then {@link Verdict#FETCH_INDIRECT} (see below);</li>
 *   <li>each segment in order: {@code first_sect <= last_sect <= 7}, else {@link Verdict#BAD_SEGMENTS}; its
 *       {@code gref} below the bound, else {@link Verdict#BAD_GRANT_REF};</li>
 *   <li>the sectors moved, summed in 64-bit arithmetic (discard: {@code nr_sectors}), and
 *       {@code sector_number + sectors <= device sectors} as unsigned 64-bit values that cannot overflow, else
 *       {@link Verdict#BAD_RANGE}; a flush or barrier with no segments moves nothing and its
 *       {@code sector_number} is ignored;</li>
 *   <li>anything but a read on a read-only device, else {@link Verdict#READ_ONLY}.</li>
 * </ol>
 * Units are 512-byte sectors throughout. The discard {@code flag} is not checked: Xen's header says
 * {@code BLKIF_DISCARD_SECURE} is ignored unless {@code discard-secure} is advertised. {@code handle} and {@code id}
 * are not checked either; {@code id} is echoed unchanged.
 * <p>
 * An indirect request is checked in two steps because its segments live in other granted pages. When
 * {@link #validate(DirectBuffer, int)} answers {@link Verdict#FETCH_INDIRECT}, the header is sound and the first
 * {@code ceil(nr_segments / 512)} entries of {@code indirect_grefs} may be mapped; copy the segments out of them once
 * (page after page, so segment {@code i} lands at {@code i * 8}) and call
 * {@link #validateIndirectSegments(DirectBuffer, int, DirectBuffer, int)} with the same request copy and the
 * segment copy for the final verdict.
 * <p>
 * Hostile bytes never make it throw, and it allocates nothing; {@link #describeLastFailure()} (which allocates) turns
 * the last failure into a log line with the offending values. One thread at a time.
 */
public final class BlkifRequestValidator
{
    /**
     * The outcome of a check, and the status to answer a refused request with.
     */
    public enum Verdict
    {
        /** The request is valid: serve it. */
        OK(BlkifStatus.OKAY),

        /**
         * The header of an indirect request is valid: map the indirect pages, copy the segments and call
         * {@link BlkifRequestValidator#validateIndirectSegments(DirectBuffer, int, DirectBuffer, int)}. Not a final
         * verdict: it has no {@link #status()}.
         */
        FETCH_INDIRECT(null),

        /** Unknown or reserved operation, or one whose optional feature this device does not offer. */
        BAD_OPERATION(BlkifStatus.EOPNOTSUPP),

        /** An indirect request whose {@code indirect_op} is not READ or WRITE. */
        BAD_INDIRECT_OPERATION(BlkifStatus.ERROR),

        /** Segment count out of range, or a segment whose sectors are not {@code first <= last <= 7}. */
        BAD_SEGMENTS(BlkifStatus.ERROR),

        /** A grant reference at or above the device's grant-reference bound. */
        BAD_GRANT_REF(BlkifStatus.ERROR),

        /** The sectors reach past the end of the device (or wrap around 2^64). */
        BAD_RANGE(BlkifStatus.ERROR),

        /** A write, barrier, flush or discard on a read-only device. */
        READ_ONLY(BlkifStatus.ERROR);

        private final BlkifStatus status;

        Verdict(final BlkifStatus status)
        {
            this.status = status;
        }

        /**
         * The status of the response to send: {@code OKAY} for {@link #OK}, {@code EOPNOTSUPP} for
         * {@link #BAD_OPERATION} and {@code ERROR} for every other refusal.
         *
         * @return the response status.
         * @throws IllegalStateException for {@link #FETCH_INDIRECT}, which is not a final verdict.
         */
        public BlkifStatus status()
        {
            if (null == status)
            {
                throw new IllegalStateException(
                    "not a final verdict: " + name() + " (validate the indirect segments first)");
            }
            return status;
        }

        /**
         * Whether the request is refused.
         *
         * @return true for every verdict but {@link #OK} and {@link #FETCH_INDIRECT}.
         */
        public boolean isRefusal()
        {
            return null != status && BlkifStatus.OKAY != status;
        }
    }

    /**
     * The facts about one device that decide which requests are valid. Set each, then hand the context to
     * {@link BlkifRequestValidator#BlkifRequestValidator(Context)}, which checks them all. Do not reuse instances.
     */
    public static final class Context
    {
        /** Grant-reference bound that accepts every {@code grant_ref_t}: 2^32. */
        public static final long NO_GRANT_REF_LIMIT = 1L << 32;

        private long sectors = -1;
        private boolean readOnly;
        private boolean barrier;
        private boolean flushCache;
        private boolean discard;
        private int maxIndirectSegments;
        private long grantRefLimit = NO_GRANT_REF_LIMIT;

        /**
         * Size of the device, the {@code sectors} node; must be set.
         *
         * @param sectors 512-byte sectors, 0 or more.
         * @return this for a fluent API.
         */
        public Context sectors(final long sectors)
        {
            this.sectors = sectors;
            return this;
        }

        /**
         * Size of the device.
         *
         * @return 512-byte sectors, or -1 if not set.
         */
        public long sectors()
        {
            return sectors;
        }

        /**
         * Whether the device is read-only ({@code mode=r}, {@code VDISK_READONLY}); default false.
         *
         * @param readOnly true to refuse everything but reads.
         * @return this for a fluent API.
         */
        public Context readOnly(final boolean readOnly)
        {
            this.readOnly = readOnly;
            return this;
        }

        /**
         * Whether the device is read-only.
         *
         * @return true if only reads are served.
         */
        public boolean readOnly()
        {
            return readOnly;
        }

        /**
         * Whether {@code feature-barrier=1} is advertised; default false.
         *
         * @param barrier true to accept {@link BlkifOp#WRITE_BARRIER}.
         * @return this for a fluent API.
         */
        public Context barrier(final boolean barrier)
        {
            this.barrier = barrier;
            return this;
        }

        /**
         * Whether {@code feature-barrier=1} is advertised.
         *
         * @return true if barriers are accepted.
         */
        public boolean barrier()
        {
            return barrier;
        }

        /**
         * Whether {@code feature-flush-cache=1} is advertised; default false.
         *
         * @param flushCache true to accept {@link BlkifOp#FLUSH_DISKCACHE}.
         * @return this for a fluent API.
         */
        public Context flushCache(final boolean flushCache)
        {
            this.flushCache = flushCache;
            return this;
        }

        /**
         * Whether {@code feature-flush-cache=1} is advertised.
         *
         * @return true if flushes are accepted.
         */
        public boolean flushCache()
        {
            return flushCache;
        }

        /**
         * Whether {@code feature-discard=1} is advertised; default false.
         *
         * @param discard true to accept {@link BlkifOp#DISCARD}.
         * @return this for a fluent API.
         */
        public Context discard(final boolean discard)
        {
            this.discard = discard;
            return this;
        }

        /**
         * Whether {@code feature-discard=1} is advertised.
         *
         * @return true if discards are accepted.
         */
        public boolean discard()
        {
            return discard;
        }

        /**
         * The advertised {@code feature-max-indirect-segments}, or 0 when the node is not written and
         * {@link BlkifOp#INDIRECT} is refused; default 0.
         *
         * @param maxIndirectSegments 0 to 4096 (eight full indirect pages); Linux advertises 256.
         * @return this for a fluent API.
         */
        public Context maxIndirectSegments(final int maxIndirectSegments)
        {
            this.maxIndirectSegments = maxIndirectSegments;
            return this;
        }

        /**
         * The advertised {@code feature-max-indirect-segments}.
         *
         * @return segments per indirect request, 0 if indirect requests are refused.
         */
        public int maxIndirectSegments()
        {
            return maxIndirectSegments;
        }

        /**
         * Exclusive upper bound on grant references, a sanity check before mapping: usually the number of entries
         * the front end's grant table can have. Default {@link #NO_GRANT_REF_LIMIT}.
         *
         * @param grantRefLimit 1 to 2^32; a reference {@code r} passes when {@code r < grantRefLimit}, unsigned.
         * @return this for a fluent API.
         */
        public Context grantRefLimit(final long grantRefLimit)
        {
            this.grantRefLimit = grantRefLimit;
            return this;
        }

        /**
         * Exclusive upper bound on grant references.
         *
         * @return the bound, 1 to 2^32.
         */
        public long grantRefLimit()
        {
            return grantRefLimit;
        }

        /**
         * Checks every setting.
         *
         * @throws IllegalArgumentException naming the first setting out of range.
         */
        public void conclude()
        {
            if (sectors < 0)
            {
                throw new IllegalArgumentException("sectors must be set: sectors=" + sectors + " (expected: >= 0)");
            }
            if (maxIndirectSegments < 0 || maxIndirectSegments > MAX_INDIRECT_SEGMENTS)
            {
                throw new IllegalArgumentException(
                    "maxIndirectSegments out of range: maxIndirectSegments=" + maxIndirectSegments +
                    " (expected: 0 <= maxIndirectSegments <= " + MAX_INDIRECT_SEGMENTS + ")");
            }
            if (grantRefLimit < 1 || grantRefLimit > NO_GRANT_REF_LIMIT)
            {
                throw new IllegalArgumentException(
                    "grantRefLimit out of range: grantRefLimit=" + grantRefLimit +
                    " (expected: 1 <= grantRefLimit <= " + NO_GRANT_REF_LIMIT + ")");
            }
        }
    }

    private enum Check
    {
        NONE,
        UNKNOWN_OPERATION,
        RESERVED_OPERATION,
        FEATURE_NOT_OFFERED,
        INDIRECT_OPERATION,
        SEGMENT_COUNT,
        INDIRECT_SEGMENT_COUNT,
        INDIRECT_PAGES,
        INDIRECT_PAGE_GREF,
        SEGMENT_SECTORS,
        SEGMENT_GREF,
        RANGE,
        READ_ONLY
    }

    private final long sectors;
    private final boolean readOnly;
    private final boolean barrier;
    private final boolean flushCache;
    private final boolean discard;
    private final int maxIndirectSegments;
    private final long grantRefLimit;
    private final BlkifRequestFlyweight request = new BlkifRequestFlyweight();
    private final BlkifSegmentFlyweight segments = new BlkifSegmentFlyweight();

    private Verdict lastVerdict = Verdict.OK;
    private Check lastCheck = Check.NONE;
    private long lastId;
    private int lastOperation;
    private boolean lastIndirect;
    private long lastValue;
    private long lastValue2;
    private long lastValue3;
    private long totalSectors;

    /**
     * Creates a validator for one device.
     *
     * @param context the device's facts; concluded here.
     * @throws IllegalArgumentException if a setting is out of range.
     */
    public BlkifRequestValidator(final Context context)
    {
        context.conclude();
        this.sectors = context.sectors();
        this.readOnly = context.readOnly();
        this.barrier = context.barrier();
        this.flushCache = context.flushCache();
        this.discard = context.discard();
        this.maxIndirectSegments = context.maxIndirectSegments();
        this.grantRefLimit = context.grantRefLimit();
    }

    /**
     * Checks a request: the final verdict for every operation except {@link BlkifOp#INDIRECT}, for which a sound
     * header gives {@link Verdict#FETCH_INDIRECT}.
     *
     * @param buffer private copy holding the request; 112 bytes from {@code offset} must lie inside it.
     * @param offset offset of the request's first byte.
     * @return the verdict.
     * @throws IndexOutOfBoundsException if the buffer is too short, a caller bug.
     */
    public Verdict validate(final DirectBuffer buffer, final int offset)
    {
        final BlkifRequestFlyweight request = this.request.wrap(buffer, offset);
        totalSectors = 0;
        lastIndirect = false;
        final long id = request.id();
        final int operation = request.operation();
        if (!BlkifOp.isKnown(operation))
        {
            return fail(Verdict.BAD_OPERATION, Check.UNKNOWN_OPERATION, id, operation, 0, 0, 0);
        }
        final BlkifOp op = BlkifOp.get(operation);
        switch (op)
        {
            case READ:
            case WRITE:
                return checkDirect(request, id, operation, 1);
            case WRITE_BARRIER:
                return barrier ? checkDirect(request, id, operation, 0) : notOffered(id, operation);
            case FLUSH_DISKCACHE:
                return flushCache ? checkDirect(request, id, operation, 0) : notOffered(id, operation);
            case DISCARD:
                return discard ?
                    checkRangeAndAccess(
                        id, operation, operation, true, request.sectorNumber(), request.discardNrSectors()) :
                    notOffered(id, operation);
            case INDIRECT:
                return 0 != maxIndirectSegments ? checkIndirectHeader(request, id, operation) :
                    notOffered(id, operation);
            default:
                return fail(Verdict.BAD_OPERATION, Check.RESERVED_OPERATION, id, operation, 0, 0, 0);
        }
    }

    /**
     * Completes the check of an indirect request whose header got {@link Verdict#FETCH_INDIRECT}: re-checks the
     * header, then the segments copied out of the indirect pages, the range and the access. For any other request
     * this is the same as {@link #validate(DirectBuffer, int)}.
     *
     * @param requestBuffer  private copy holding the request.
     * @param requestOffset  offset of the request's first byte.
     * @param segmentBuffer  private copy of the segments, segment {@code i} at {@code segmentOffset + i * 8}; it
     *                       must hold the request's {@code nr_segments} segments.
     * @param segmentOffset  offset of segment 0.
     * @return the final verdict, never {@link Verdict#FETCH_INDIRECT}.
     * @throws IndexOutOfBoundsException if a buffer is too short, a caller bug.
     */
    public Verdict validateIndirectSegments(
        final DirectBuffer requestBuffer, final int requestOffset, final DirectBuffer segmentBuffer,
        final int segmentOffset)
    {
        final Verdict header = validate(requestBuffer, requestOffset);
        if (Verdict.FETCH_INDIRECT != header)
        {
            return header;
        }
        final BlkifRequestFlyweight request = this.request;
        final long id = request.id();
        final int operation = request.operation();
        final int indirectOp = request.indirectOp();
        final int nrSegments = request.indirectNrSegments();
        final BlkifSegmentFlyweight segments = this.segments.wrap(segmentBuffer, segmentOffset, nrSegments);
        long total = 0;
        for (int i = 0; i < nrSegments; i++)
        {
            final int first = segments.firstSect(i);
            final int last = segments.lastSect(i);
            if (first > last || last > MAX_SECT)
            {
                return fail(Verdict.BAD_SEGMENTS, Check.SEGMENT_SECTORS, id, operation, i, first, last);
            }
            final int gref = segments.gref(i);
            if (Integer.toUnsignedLong(gref) >= grantRefLimit)
            {
                return fail(
                    Verdict.BAD_GRANT_REF, Check.SEGMENT_GREF, id, operation, i, Integer.toUnsignedLong(gref), 0);
            }
            total += last - first + 1;
        }
        return checkRangeAndAccess(id, operation, indirectOp, true, request.sectorNumber(), total);
    }

    /**
     * The verdict of the last check.
     *
     * @return the verdict; {@link Verdict#OK} before any check.
     */
    public Verdict lastVerdict()
    {
        return lastVerdict;
    }

    /**
     * Sectors the last request found {@link Verdict#OK} moves: the sum over its segments, or a discard's
     * {@code nr_sectors}; 0 after any other verdict.
     *
     * @return 512-byte sectors, 0 or more.
     */
    public long totalSectors()
    {
        return totalSectors;
    }

    /**
     * Describes the last refusal with the values that caused it, for a log line; allocates.
     *
     * @return e.g. {@code "BAD_SEGMENTS: id=7 operation=0 (READ) seg[3] first_sect=5 last_sect=2 (expected:
     *         first_sect <= last_sect <= 7)"}, or a note that the last verdict was not a refusal.
     */
    public String describeLastFailure()
    {
        if (!lastVerdict.isRefusal())
        {
            return "no failure: last verdict=" + lastVerdict;
        }
        final String prefix = lastVerdict + ": id=" + Long.toUnsignedString(lastId) + " operation=" + lastOperation +
            (BlkifOp.isKnown(lastOperation) ? " (" + BlkifOp.get(lastOperation) + ")" : "");
        final String seg = lastIndirect ? " indirect segment " + lastValue : " seg[" + lastValue + "]";
        switch (lastCheck)
        {
            case UNKNOWN_OPERATION:
                return prefix + " is not a blkif operation (expected: 0 <= operation <= 6)";
            case RESERVED_OPERATION:
                return prefix + " is reserved";
            case FEATURE_NOT_OFFERED:
                return prefix + " needs " + feature(lastOperation) + ", which this device does not offer";
            case INDIRECT_OPERATION:
                return prefix + " indirect_op=" + lastValue + " (expected: READ (0) or WRITE (1))";
            case SEGMENT_COUNT:
                return prefix + " nr_segments=" + lastValue + " (expected: " + lastValue2 + " <= nr_segments <= " +
                    MAX_SEGMENTS_PER_REQUEST + ")";
            case INDIRECT_SEGMENT_COUNT:
                return prefix + " nr_segments=" + lastValue + " (expected: 1 <= nr_segments <= " +
                    maxIndirectSegments + ", the advertised feature-max-indirect-segments)";
            case INDIRECT_PAGES:
                return prefix + " nr_segments=" + lastValue + " needs " + lastValue2 +
                    " indirect pages (expected: <= " + MAX_INDIRECT_PAGES_PER_REQUEST + ")";
            case INDIRECT_PAGE_GREF:
                return prefix + " indirect_grefs[" + lastValue + "]=" + Long.toUnsignedString(lastValue2) +
                    " (expected: gref < " + grantRefLimit + ")";
            case SEGMENT_SECTORS:
                return prefix + seg + " first_sect=" + lastValue2 + " last_sect=" + lastValue3 +
                    " (expected: first_sect <= last_sect <= " + MAX_SECT + ")";
            case SEGMENT_GREF:
                return prefix + seg + " gref=" + Long.toUnsignedString(lastValue2) + " (expected: gref < " +
                    grantRefLimit + ")";
            case RANGE:
                return prefix + " sector_number=" + Long.toUnsignedString(lastValue) + " sectors=" +
                    Long.toUnsignedString(lastValue2) + " device sectors=" + sectors +
                    " (expected: sector_number + sectors <= " + sectors + ")";
            case READ_ONLY:
                return prefix + (lastIndirect ? " indirect_op=" + lastValue : "") +
                    " on a read-only device (expected: READ only)";
            default:
                return prefix + " (" + lastCheck + ")";
        }
    }

    private Verdict checkDirect(
        final BlkifRequestFlyweight request, final long id, final int operation, final int minSegments)
    {
        final int nrSegments = request.nrSegments();
        if (nrSegments < minSegments || nrSegments > MAX_SEGMENTS_PER_REQUEST)
        {
            return fail(Verdict.BAD_SEGMENTS, Check.SEGMENT_COUNT, id, operation, nrSegments, minSegments, 0);
        }
        long total = 0;
        for (int i = 0; i < nrSegments; i++)
        {
            final int first = request.segmentFirstSect(i);
            final int last = request.segmentLastSect(i);
            if (first > last || last > MAX_SECT)
            {
                return fail(Verdict.BAD_SEGMENTS, Check.SEGMENT_SECTORS, id, operation, i, first, last);
            }
            final int gref = request.segmentGref(i);
            if (Integer.toUnsignedLong(gref) >= grantRefLimit)
            {
                return fail(
                    Verdict.BAD_GRANT_REF, Check.SEGMENT_GREF, id, operation, i, Integer.toUnsignedLong(gref), 0);
            }
            total += last - first + 1;
        }
        return checkRangeAndAccess(id, operation, operation, 0 != nrSegments, request.sectorNumber(), total);
    }

    private Verdict checkIndirectHeader(final BlkifRequestFlyweight request, final long id, final int operation)
    {
        lastIndirect = true;
        final int indirectOp = request.indirectOp();
        if (BlkifOp.READ.value() != indirectOp && BlkifOp.WRITE.value() != indirectOp)
        {
            return fail(Verdict.BAD_INDIRECT_OPERATION, Check.INDIRECT_OPERATION, id, operation, indirectOp, 0, 0);
        }
        final int nrSegments = request.indirectNrSegments();
        if (nrSegments < 1 || nrSegments > maxIndirectSegments)
        {
            return fail(Verdict.BAD_SEGMENTS, Check.INDIRECT_SEGMENT_COUNT, id, operation, nrSegments, 0, 0);
        }
        final int pages = (nrSegments + SEGMENTS_PER_INDIRECT_FRAME - 1) / SEGMENTS_PER_INDIRECT_FRAME;
        if (pages > MAX_INDIRECT_PAGES_PER_REQUEST)
        {
            return fail(Verdict.BAD_SEGMENTS, Check.INDIRECT_PAGES, id, operation, nrSegments, pages, 0);
        }
        for (int p = 0; p < pages; p++)
        {
            final int gref = request.indirectGref(p);
            if (Integer.toUnsignedLong(gref) >= grantRefLimit)
            {
                return fail(
                    Verdict.BAD_GRANT_REF, Check.INDIRECT_PAGE_GREF, id, operation, p, Integer.toUnsignedLong(gref),
                    0);
            }
        }
        lastVerdict = Verdict.FETCH_INDIRECT;
        lastCheck = Check.NONE;
        return Verdict.FETCH_INDIRECT;
    }

    /**
     * Range, then access. {@code count} is unsigned; {@code sectors} is non-negative, so once
     * {@code start <= sectors} (unsigned) the room left, {@code sectors - start}, cannot overflow.
     */
    private Verdict checkRangeAndAccess(
        final long id, final int operation, final int dataOperation, final boolean rangeApplies, final long start,
        final long count)
    {
        if (rangeApplies &&
            (Long.compareUnsigned(start, sectors) > 0 || Long.compareUnsigned(count, sectors - start) > 0))
        {
            return fail(Verdict.BAD_RANGE, Check.RANGE, id, operation, start, count, 0);
        }
        if (readOnly && BlkifOp.READ.value() != dataOperation)
        {
            return fail(Verdict.READ_ONLY, Check.READ_ONLY, id, operation, dataOperation, 0, 0);
        }
        totalSectors = count;
        lastVerdict = Verdict.OK;
        lastCheck = Check.NONE;
        return Verdict.OK;
    }

    private Verdict notOffered(final long id, final int operation)
    {
        return fail(Verdict.BAD_OPERATION, Check.FEATURE_NOT_OFFERED, id, operation, 0, 0, 0);
    }

    private Verdict fail(
        final Verdict verdict, final Check check, final long id, final int operation, final long value,
        final long value2, final long value3)
    {
        lastVerdict = verdict;
        lastCheck = check;
        lastId = id;
        lastOperation = operation;
        lastValue = value;
        lastValue2 = value2;
        lastValue3 = value3;
        totalSectors = 0;
        return verdict;
    }

    private static String feature(final int operation)
    {
        switch (BlkifOp.get(operation))
        {
            case WRITE_BARRIER:
                return "feature-barrier";
            case FLUSH_DISKCACHE:
                return "feature-flush-cache";
            case DISCARD:
                return "feature-discard";
            default:
                return "feature-max-indirect-segments";
        }
    }
}
