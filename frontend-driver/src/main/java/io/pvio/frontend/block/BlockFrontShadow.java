package io.pvio.frontend.block;

import io.pvio.ring.blkif.BlkifOp;
import io.pvio.ring.blkif.BlkifRequestDescriptor;

/**
 * blkfront's shadow table: the requests in flight, keyed by the {@code id} written into each request and echoed by
 * the back end in its response (Linux {@code blkfront_ring_info.shadow}).
 * <p>
 * The table has one {@link Slot} per ring entry, so ids are the indexes {@code 0} to {@code capacity - 1} and there
 * are never more requests in flight than the ring holds. Free ids sit on an int stack; ids in flight are kept in a
 * doubly linked list in the order they were acquired, which is the order the caller submits them, so they can be
 * reissued in that order after the back end reconnects. Every slot, the stack and the list are allocated by the
 * constructor; {@link #acquire()}, {@link #complete(long, int, int)}, {@link #forEachInFlight(InFlightConsumer)} and
 * {@link #failAll(int)} allocate nothing.
 * <p>
 * Responses come from an untrusted back end. {@link #complete(long, int, int)} checks, in this order, that the id is
 * in range (as an unsigned 64-bit value), that a request with that id is in flight (so a duplicate response is
 * caught) and that the operation matches the one sent. A failed check changes nothing and returns a
 * {@link ResponseVerdict} the caller uses to mark the device broken.
 * <p>
 * Not thread safe: one thread (the blkfront agent) owns the table.
 */
public final class BlockFrontShadow
{
    /** The largest capacity: 32 entries per ring page times the 16 pages of the largest ring ({@code ring-page-order} 4). */
    public static final int MAX_CAPACITY = BlkifRequestDescriptor.RING_ENTRIES_PER_PAGE * 16;

    /**
     * Grant references a slot can hold: the segments of a direct request, or the indirect pages of an indirect one,
     * whichever is larger.
     */
    public static final int MAX_GRANT_REFS = Math.max(
        BlkifRequestDescriptor.MAX_SEGMENTS_PER_REQUEST, BlkifRequestDescriptor.MAX_INDIRECT_PAGES_PER_REQUEST);

    /** Returned by {@link #acquire()} when every id is in flight. */
    public static final int NO_ID = -1;

    private static final int NONE = -1;
    private static final int NO_OPERATION = -1;

    private final int capacity;
    private final Slot[] slots;
    private final int[] freeIds;
    private final boolean[] inFlightFlags;
    private final int[] nextInFlight;
    private final int[] previousInFlight;
    private int freeCount;
    private int headInFlight = NONE;
    private int tailInFlight = NONE;

    /**
     * Called when a request completes, with its slot still filled in. The request is already out of the in-flight
     * list, so a second response with the same id is rejected even from inside the call; the id becomes free when the
     * call returns, even if it throws. The handler must not keep the slot.
     */
    @FunctionalInterface
    public interface CompletionHandler
    {
        /**
         * One request completed.
         *
         * @param slot   the completed request; valid only during the call.
         * @param status the response {@code status} ({@code BLKIF_RSP_*}), or the status given to
         *               {@link BlockFrontShadow#failAll(int)}.
         */
        void onComplete(Slot slot, int status);
    }

    /** Visits the requests in flight, see {@link BlockFrontShadow#forEachInFlight(InFlightConsumer)}. */
    @FunctionalInterface
    public interface InFlightConsumer
    {
        /**
         * One request in flight.
         *
         * @param slot the request; it may be read but the table must not be changed during the call.
         */
        void accept(Slot slot);
    }

    /**
     * One request in flight: what was sent, what it is for, and who to tell when it completes. Filled in by the
     * caller after {@link BlockFrontShadow#acquire()}; cleared on every acquire.
     */
    public static final class Slot
    {
        private final int id;
        private final int[] grantRefs = new int[MAX_GRANT_REFS];
        private int operation;
        private int indirectOperation;
        private long sectorNumber;
        private int segmentCount;
        private int grantRefCount;
        private long cookie;
        private CompletionHandler completion;

        Slot(final int id)
        {
            this.id = id;
            clear();
        }

        void clear()
        {
            operation = NO_OPERATION;
            indirectOperation = NO_OPERATION;
            sectorNumber = 0;
            segmentCount = 0;
            grantRefCount = 0;
            cookie = 0;
            completion = null;
        }

        /**
         * The request id, the index of this slot.
         *
         * @return the id written into the request's {@code id} field.
         */
        public int id()
        {
            return id;
        }

        /**
         * The {@code operation} byte sent, {@link BlkifOp#INDIRECT} for an indirect request.
         *
         * @return the operation, 0 to 255, or -1 if not set yet.
         */
        public int operation()
        {
            return operation;
        }

        /**
         * Set the {@code operation} byte sent. For an indirect request use {@link #indirect(BlkifOp)} instead.
         *
         * @param operation the operation.
         * @return this slot.
         */
        public Slot operation(final BlkifOp operation)
        {
            this.operation = operation.value();
            this.indirectOperation = NO_OPERATION;
            return this;
        }

        /**
         * Mark the request indirect: the {@code operation} byte sent is {@link BlkifOp#INDIRECT} and
         * {@code indirect_op} is {@code indirectOperation}. The grant references are then the indirect pages.
         *
         * @param indirectOperation {@link BlkifOp#READ} or {@link BlkifOp#WRITE}.
         * @return this slot.
         * @throws IllegalArgumentException if {@code indirectOperation} is neither read nor write.
         */
        public Slot indirect(final BlkifOp indirectOperation)
        {
            if (indirectOperation != BlkifOp.READ && indirectOperation != BlkifOp.WRITE)
            {
                throw new IllegalArgumentException("indirect operation must be READ or WRITE: " + indirectOperation);
            }
            this.operation = BlkifOp.INDIRECT.value();
            this.indirectOperation = indirectOperation.value();
            return this;
        }

        /**
         * Whether the request was sent with the indirect layout.
         *
         * @return true if {@link #indirect(BlkifOp)} was called.
         */
        public boolean isIndirect()
        {
            return indirectOperation != NO_OPERATION;
        }

        /**
         * The {@code indirect_op} of an indirect request.
         *
         * @return the operation code, or -1 if the request is not indirect.
         */
        public int indirectOperation()
        {
            return indirectOperation;
        }

        /**
         * The first sector of the request.
         *
         * @return the {@code sector_number}, in 512-byte sectors.
         */
        public long sectorNumber()
        {
            return sectorNumber;
        }

        /**
         * Set the first sector of the request.
         *
         * @param sectorNumber the {@code sector_number}, in 512-byte sectors.
         * @return this slot.
         */
        public Slot sectorNumber(final long sectorNumber)
        {
            this.sectorNumber = sectorNumber;
            return this;
        }

        /**
         * The number of data segments of the request.
         *
         * @return the {@code nr_segments}.
         */
        public int segmentCount()
        {
            return segmentCount;
        }

        /**
         * Set the number of data segments of the request.
         *
         * @param segmentCount the {@code nr_segments}, 0 to
         *                     {@link BlkifRequestDescriptor#MAX_INDIRECT_SEGMENTS}.
         * @return this slot.
         * @throws IllegalArgumentException if {@code segmentCount} is out of range.
         */
        public Slot segmentCount(final int segmentCount)
        {
            if (segmentCount < 0 || segmentCount > BlkifRequestDescriptor.MAX_INDIRECT_SEGMENTS)
            {
                throw new IllegalArgumentException("segmentCount out of range: " + segmentCount);
            }
            this.segmentCount = segmentCount;
            return this;
        }

        /**
         * Append a grant reference the request uses: a data segment's page for a direct request, an indirect page
         * for an indirect one. They are revoked when the request completes.
         *
         * @param grantRef the grant reference.
         * @return this slot.
         * @throws IllegalStateException if the slot already holds {@link #MAX_GRANT_REFS} references.
         */
        public Slot addGrantRef(final int grantRef)
        {
            if (grantRefCount == MAX_GRANT_REFS)
            {
                throw new IllegalStateException("slot " + id + " already holds " + MAX_GRANT_REFS + " grant refs");
            }
            grantRefs[grantRefCount++] = grantRef;
            return this;
        }

        /**
         * The number of grant references added.
         *
         * @return 0 to {@link #MAX_GRANT_REFS}.
         */
        public int grantRefCount()
        {
            return grantRefCount;
        }

        /**
         * One grant reference the request uses.
         *
         * @param index 0 to {@link #grantRefCount()} - 1.
         * @return the grant reference.
         * @throws IndexOutOfBoundsException if {@code index} is out of range.
         */
        public int grantRef(final int index)
        {
            if (index < 0 || index >= grantRefCount)
            {
                throw new IndexOutOfBoundsException("grant ref index " + index + " of " + grantRefCount);
            }
            return grantRefs[index];
        }

        /**
         * The caller's value, e.g. the index of the I/O the request belongs to.
         *
         * @return the cookie, 0 unless set.
         */
        public long cookie()
        {
            return cookie;
        }

        /**
         * Set the caller's value.
         *
         * @param cookie any value.
         * @return this slot.
         */
        public Slot cookie(final long cookie)
        {
            this.cookie = cookie;
            return this;
        }

        /**
         * The handler told when the request completes.
         *
         * @return the handler, or null if none.
         */
        public CompletionHandler completion()
        {
            return completion;
        }

        /**
         * Set the handler told when the request completes; use a preallocated one.
         *
         * @param completion the handler, or null for none.
         * @return this slot.
         */
        public Slot completion(final CompletionHandler completion)
        {
            this.completion = completion;
            return this;
        }

        boolean matches(final int responseOperation)
        {
            return responseOperation == operation ||
                (indirectOperation != NO_OPERATION && responseOperation == indirectOperation);
        }
    }

    /**
     * A table for a ring of {@code capacity} entries, all ids free.
     *
     * @param capacity the number of ring entries, 1 to {@link #MAX_CAPACITY} (32 for a one-page ring).
     * @throws IllegalArgumentException if {@code capacity} is out of range.
     */
    public BlockFrontShadow(final int capacity)
    {
        if (capacity < 1 || capacity > MAX_CAPACITY)
        {
            throw new IllegalArgumentException("capacity must be 1 to " + MAX_CAPACITY + ": " + capacity);
        }
        this.capacity = capacity;
        slots = new Slot[capacity];
        freeIds = new int[capacity];
        inFlightFlags = new boolean[capacity];
        nextInFlight = new int[capacity];
        previousInFlight = new int[capacity];
        for (int i = 0; i < capacity; i++)
        {
            slots[i] = new Slot(i);
            freeIds[i] = capacity - 1 - i;
            nextInFlight[i] = NONE;
            previousInFlight[i] = NONE;
        }
        freeCount = capacity;
    }

    /**
     * The number of ids, the ring size.
     *
     * @return the capacity given to the constructor.
     */
    public int capacity()
    {
        return capacity;
    }

    /**
     * The number of requests in flight.
     *
     * @return 0 to {@link #capacity()}.
     */
    public int inFlight()
    {
        return capacity - freeCount;
    }

    /**
     * Whether a request with the given id is in flight.
     *
     * @param id any value.
     * @return true if {@code id} is in range and in flight.
     */
    public boolean isInFlight(final long id)
    {
        return Long.compareUnsigned(id, capacity) < 0 && inFlightFlags[(int)id];
    }

    /**
     * Take a free id and put it at the end of the in-flight order. The slot is cleared; fill it in through
     * {@link #slot(int)} before the request is published.
     *
     * @return the id, or {@link #NO_ID} if every id is in flight.
     */
    public int acquire()
    {
        if (freeCount == 0)
        {
            return NO_ID;
        }
        final int id = freeIds[--freeCount];
        slots[id].clear();
        inFlightFlags[id] = true;
        previousInFlight[id] = tailInFlight;
        nextInFlight[id] = NONE;
        if (tailInFlight == NONE)
        {
            headInFlight = id;
        }
        else
        {
            nextInFlight[tailInFlight] = id;
        }
        tailInFlight = id;
        return id;
    }

    /**
     * The slot of a request in flight.
     *
     * @param id an id returned by {@link #acquire()} and not yet completed.
     * @return the slot.
     * @throws IllegalArgumentException if no request with that id is in flight.
     */
    public Slot slot(final int id)
    {
        if (!isInFlight(id))
        {
            throw new IllegalArgumentException("id not in flight: " + id);
        }
        return slots[id];
    }

    /**
     * Check a response from the back end and, if it is valid, complete its request: call the slot's
     * {@link CompletionHandler}, then free the id. If it is not valid, nothing changes.
     *
     * @param responseId        the response {@code id} as read from the ring, a 64-bit value taken as unsigned.
     * @param responseOperation the response {@code operation} byte, unsigned (0 to 255).
     * @param status            the response {@code status}, passed to the handler.
     * @return {@link ResponseVerdict#OK}, or why the response was rejected.
     */
    public ResponseVerdict complete(final long responseId, final int responseOperation, final int status)
    {
        if (Long.compareUnsigned(responseId, capacity) >= 0)
        {
            return ResponseVerdict.UNKNOWN_ID;
        }
        final int id = (int)responseId;
        if (!inFlightFlags[id])
        {
            return ResponseVerdict.NOT_IN_FLIGHT;
        }
        final Slot slot = slots[id];
        if (!slot.matches(responseOperation))
        {
            return ResponseVerdict.OPERATION_MISMATCH;
        }
        finish(slot, status);
        return ResponseVerdict.OK;
    }

    /**
     * Give back an id that was acquired but whose request was never published.
     *
     * @param id an id returned by {@link #acquire()} and not yet completed.
     * @throws IllegalArgumentException if no request with that id is in flight.
     */
    public void release(final int id)
    {
        final Slot slot = slot(id);
        slot.completion(null);
        finish(slot, 0);
    }

    /**
     * Visit every request in flight, oldest first, e.g. to reissue them after the back end reconnects. The consumer
     * must not acquire or complete ids during the walk.
     *
     * @param consumer the visitor; use a preallocated one.
     * @return the number of requests visited.
     */
    public int forEachInFlight(final InFlightConsumer consumer)
    {
        int count = 0;
        for (int id = headInFlight; id != NONE; id = nextInFlight[id])
        {
            consumer.accept(slots[id]);
            count++;
        }
        return count;
    }

    /**
     * Complete every request in flight with the given status, oldest first, and free all ids; used when the device
     * is broken or closed.
     *
     * @param status the status passed to each handler, usually {@code BlkifStatus.ERROR.value()}.
     * @return the number of requests failed.
     */
    public int failAll(final int status)
    {
        int count = 0;
        while (headInFlight != NONE)
        {
            finish(slots[headInFlight], status);
            count++;
        }
        return count;
    }

    /**
     * Name the values of a rejected response for a log line. Call it before anything else changes the table, since
     * it reads the request the response claims to answer. Allocates; for the error path only.
     *
     * @param verdict           what {@link #complete(long, int, int)} returned.
     * @param responseId        the response {@code id} given to it.
     * @param responseOperation the response {@code operation} given to it.
     * @return a one-line description naming the id, the operations and the ring size.
     */
    public String describe(final ResponseVerdict verdict, final long responseId, final int responseOperation)
    {
        final String idText = Long.toUnsignedString(responseId);
        switch (verdict)
        {
            case OK:
                return "response id " + idText + " operation " + responseOperation + " accepted";

            case UNKNOWN_ID:
                return verdict.description() + ": id " + idText + " not below ring size " + capacity;

            case NOT_IN_FLIGHT:
                return verdict.description() + ": id " + idText + " operation " + responseOperation +
                    " answers no request in flight (duplicate or never sent)";

            case OPERATION_MISMATCH:
            default:
                final Slot slot = Long.compareUnsigned(responseId, capacity) < 0 ? slots[(int)responseId] : null;
                final String sent = null == slot ? "unknown" : slot.isIndirect() ?
                    slot.operation() + " (indirect_op " + slot.indirectOperation() + ")" :
                    Integer.toString(slot.operation());
                return verdict.description() + ": id " + idText + " operation " + responseOperation +
                    " but request was sent with operation " + sent;
        }
    }

    private void finish(final Slot slot, final int status)
    {
        final int id = slot.id;
        unlink(id);
        try
        {
            final CompletionHandler completion = slot.completion;
            if (null != completion)
            {
                completion.onComplete(slot, status);
            }
        }
        finally
        {
            slot.clear();
            freeIds[freeCount++] = id;
        }
    }

    private void unlink(final int id)
    {
        final int previous = previousInFlight[id];
        final int next = nextInFlight[id];
        if (previous == NONE)
        {
            headInFlight = next;
        }
        else
        {
            nextInFlight[previous] = next;
        }
        if (next == NONE)
        {
            tailInFlight = previous;
        }
        else
        {
            previousInFlight[next] = previous;
        }
        previousInFlight[id] = NONE;
        nextInFlight[id] = NONE;
        inFlightFlags[id] = false;
    }
}
