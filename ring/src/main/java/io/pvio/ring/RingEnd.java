package io.pvio.ring;

import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;

abstract class RingEndLhsPadding
{
    byte p000, p001, p002, p003, p004, p005, p006, p007, p008, p009, p010, p011, p012, p013, p014, p015;
    byte p016, p017, p018, p019, p020, p021, p022, p023, p024, p025, p026, p027, p028, p029, p030, p031;
    byte p032, p033, p034, p035, p036, p037, p038, p039, p040, p041, p042, p043, p044, p045, p046, p047;
    byte p048, p049, p050, p051, p052, p053, p054, p055, p056, p057, p058, p059, p060, p061, p062, p063;
    byte p064, p065, p066, p067, p068, p069, p070, p071, p072, p073, p074, p075, p076, p077, p078, p079;
    byte p080, p081, p082, p083, p084, p085, p086, p087, p088, p089, p090, p091, p092, p093, p094, p095;
    byte p096, p097, p098, p099, p100, p101, p102, p103, p104, p105, p106, p107, p108, p109, p110, p111;
    byte p112, p113, p114, p115, p116, p117, p118, p119, p120, p121, p122, p123, p124, p125, p126, p127;
}

abstract class RingEndFields extends RingEndLhsPadding
{
    final AtomicBuffer buffer;
    final RingGeometry geometry;
    final int mask;
    final int entryBytes;

    /** Where this end publishes: {@code req_prod} on the front, {@code rsp_prod} on the back. */
    final int producerOffset;

    /** Where the peer asks for events from this end: {@code req_event} on the front, {@code rsp_event} on the back. */
    final int peerEventOffset;

    /** Where the peer publishes: {@code rsp_prod} on the front, {@code req_prod} on the back. */
    final int peerProducerOffset;

    /** Where this end asks for events: {@code rsp_event} on the front, {@code req_event} on the back. */
    final int eventOffset;

    /** Private producer index: {@code req_prod_pvt} on the front, {@code rsp_prod_pvt} on the back. */
    int producerPvt;

    /** Private consumer index: {@code rsp_cons} on the front, {@code req_cons} on the back. */
    int consumer;

    /** Last value this end stored into its shared producer index. */
    int published;

    /** Last value of the peer's shared producer index that passed validation. */
    int peerProducer;

    /** Set once the peer breaks the protocol; every later consume rethrows it. */
    RingProtocolException broken;

    RingEndFields(final AtomicBuffer buffer, final RingGeometry geometry, final boolean front)
    {
        this.buffer = buffer;
        this.geometry = geometry;
        this.mask = geometry.size() - 1;
        this.entryBytes = geometry.entryBytes();
        this.producerOffset = front ? SharedRingDescriptor.REQ_PROD_OFFSET : SharedRingDescriptor.RSP_PROD_OFFSET;
        this.peerEventOffset = front ? SharedRingDescriptor.REQ_EVENT_OFFSET : SharedRingDescriptor.RSP_EVENT_OFFSET;
        this.peerProducerOffset = front ? SharedRingDescriptor.RSP_PROD_OFFSET : SharedRingDescriptor.REQ_PROD_OFFSET;
        this.eventOffset = front ? SharedRingDescriptor.RSP_EVENT_OFFSET : SharedRingDescriptor.REQ_EVENT_OFFSET;
    }
}

abstract class RingEndRhsPadding extends RingEndFields
{
    byte q000, q001, q002, q003, q004, q005, q006, q007, q008, q009, q010, q011, q012, q013, q014, q015;
    byte q016, q017, q018, q019, q020, q021, q022, q023, q024, q025, q026, q027, q028, q029, q030, q031;
    byte q032, q033, q034, q035, q036, q037, q038, q039, q040, q041, q042, q043, q044, q045, q046, q047;
    byte q048, q049, q050, q051, q052, q053, q054, q055, q056, q057, q058, q059, q060, q061, q062, q063;
    byte q064, q065, q066, q067, q068, q069, q070, q071, q072, q073, q074, q075, q076, q077, q078, q079;
    byte q080, q081, q082, q083, q084, q085, q086, q087, q088, q089, q090, q091, q092, q093, q094, q095;
    byte q096, q097, q098, q099, q100, q101, q102, q103, q104, q105, q106, q107, q108, q109, q110, q111;
    byte q112, q113, q114, q115, q116, q117, q118, q119, q120, q121, q122, q123, q124, q125, q126, q127;

    RingEndRhsPadding(final AtomicBuffer buffer, final RingGeometry geometry, final boolean front)
    {
        super(buffer, geometry, front);
    }
}

/**
 * What the two ends of a ring share: the buffer, the geometry, the private indexes padded away from any other
 * object's fields so the front and back threads never write to one cache line through them, and the protocol both
 * ends run in mirror image (publish, check-notify, consume, final check), each end naming its own shared indexes.
 */
public abstract class RingEnd extends RingEndRhsPadding
{
    /** Returned by a claim when the ring has no free slot; nothing was claimed. */
    public static final int RING_FULL = -1;

    RingEnd(final AtomicBuffer buffer, final RingGeometry geometry, final boolean front)
    {
        super(checkBuffer(buffer, geometry), geometry, front);
    }

    private static AtomicBuffer checkBuffer(final AtomicBuffer buffer, final RingGeometry geometry)
    {
        SharedRingDescriptor.checkNativeOrder();
        if (null == buffer || null == geometry)
        {
            throw new NullPointerException("buffer and geometry are required");
        }
        if (buffer.capacity() < geometry.ringBytes())
        {
            throw new IllegalArgumentException(
                "buffer smaller than the ring: capacity=" + buffer.capacity() + ", ringBytes=" + geometry.ringBytes());
        }
        if ((buffer.addressOffset() & 7) != 0)
        {
            throw new IllegalArgumentException(
                "ring buffer must be 8-byte aligned: addressOffset=" + buffer.addressOffset());
        }
        return buffer;
    }

    /**
     * The shared area.
     *
     * @return the buffer the ring lives in.
     */
    public final AtomicBuffer buffer()
    {
        return buffer;
    }

    /**
     * The ring's shape.
     *
     * @return the geometry.
     */
    public final RingGeometry geometry()
    {
        return geometry;
    }

    /**
     * Number of entries, {@code RING_SIZE}.
     *
     * @return entry count.
     */
    public final int size()
    {
        return mask + 1;
    }

    /**
     * Offset of the entry a free-running index selects, {@code RING_GET_REQUEST}/{@code RING_GET_RESPONSE}.
     *
     * @param index ring index.
     * @return byte offset of the entry in {@link #buffer()}.
     */
    public final int entryOffset(final int index)
    {
        return SharedRingDescriptor.HEADER_LENGTH + (index & mask) * entryBytes;
    }

    /**
     * Whether the peer broke the protocol. A broken ring never reads another entry.
     *
     * @return true once a {@link RingProtocolException} has been raised.
     */
    public final boolean isBroken()
    {
        return null != broken;
    }

    /**
     * The protocol violation that broke this ring.
     *
     * @return the exception, or null if the ring is healthy.
     */
    public final RingProtocolException brokenBy()
    {
        return broken;
    }

    /**
     * The highest value the peer's producer index may take now: it may not publish entries this end cannot have
     * given it.
     *
     * @return the bound, as an unsigned 32-bit index.
     */
    abstract int peerProducerLimit();

    /**
     * Describes and records a peer producer index outside {@code [last, peerProducerLimit()]}.
     *
     * @param value the index the peer published.
     * @param last  the last index that passed validation.
     * @return the exception to throw, already recorded by {@link #breakRing}.
     */
    abstract RingProtocolException peerProducerViolation(int value, int last);

    final void push()
    {
        final int producerPvt = this.producerPvt;
        buffer.putIntRelease(producerOffset, producerPvt); // wmb: the peer sees the entries before the index
        published = producerPvt;
    }

    final boolean pushAndCheckNotify()
    {
        final int oldIndex = published;
        final int newIndex = producerPvt;
        if (oldIndex == newIndex)
        {
            return false;
        }
        // wmb + mb: entries are visible before the index, and the index is visible before the peer's event is read
        buffer.putIntVolatile(producerOffset, newIndex);
        published = newIndex;
        // volatile: pairs with the peer's volatile event-index store in its final check
        return EventIndex.needsNotify(newIndex, oldIndex, buffer.getIntVolatile(peerEventOffset));
    }

    final int unconsumed()
    {
        return refreshPeerProducer() - consumer;
    }

    final int readInPlace(final EntryHandler handler, final int limit)
    {
        checkLimit(limit);
        final int consumer = this.consumer;
        final int count = Math.min(available(consumer), limit);
        final AtomicBuffer buffer = this.buffer;
        for (int i = 0; i < count; i++)
        {
            final int offset = entryOffset(consumer + i);
            this.consumer = consumer + i + 1; // consumed before the handler runs: it may answer or throw
            handler.onEntry(buffer, offset);
        }
        return count;
    }

    final int readCopies(final UnsafeBuffer copy, final EntryHandler handler, final int limit)
    {
        checkLimit(limit);
        final int consumer = this.consumer;
        final int count = Math.min(available(consumer), limit);
        final AtomicBuffer buffer = this.buffer;
        final int bytes = copy.capacity();
        for (int i = 0; i < count; i++)
        {
            copy.putBytes(0, buffer, entryOffset(consumer + i), bytes);
            this.consumer = consumer + i + 1; // consumed before the handler runs: it may answer or throw
            handler.onEntry(copy, 0);
        }
        return count;
    }

    final boolean copyNext(final MutableDirectBuffer dst, final int dstOffset, final int bytes)
    {
        final int consumer = this.consumer;
        if (available(consumer) == 0)
        {
            return false;
        }
        dst.putBytes(dstOffset, buffer, entryOffset(consumer), bytes);
        this.consumer = consumer + 1;
        return true;
    }

    final int discard(final int limit)
    {
        checkLimit(limit);
        final int consumer = this.consumer;
        final int count = Math.min(available(consumer), limit);
        this.consumer = consumer + count;
        return count;
    }

    final boolean finalCheck()
    {
        final int consumer = this.consumer;
        if (available(consumer) != 0)
        {
            return true;
        }
        // mb: our event index is visible before the peer's producer index is re-read; pairs with its check-notify
        buffer.putIntVolatile(eventOffset, consumer + 1);
        final int peerProducer = buffer.getIntVolatile(peerProducerOffset);
        return acceptPeerProducer(peerProducer) != consumer;
    }

    final int available(final int consumer)
    {
        final int cached = peerProducer - consumer;
        return 0 != cached ? cached : refreshPeerProducer() - consumer;
    }

    final int refreshPeerProducer()
    {
        // rmb: the peer's producer index is read before the entries it covers
        return acceptPeerProducer(buffer.getIntAcquire(peerProducerOffset));
    }

    final int acceptPeerProducer(final int value)
    {
        final int last = peerProducer;
        if (null != broken || Integer.compareUnsigned(value - last, peerProducerLimit() - last) > 0)
        {
            throw rejectPeerProducer(value, last); // cold: kept out of line so the hot path stays small to inline
        }
        peerProducer = value;
        return value;
    }

    private RingProtocolException rejectPeerProducer(final int value, final int last)
    {
        final RingProtocolException broken = this.broken;
        return null != broken ? broken : peerProducerViolation(value, last);
    }

    final RingProtocolException breakRing(final RingProtocolException.Reason reason, final String message)
    {
        final RingProtocolException ex = new RingProtocolException(reason, message);
        broken = ex;
        return ex;
    }

    /**
     * Reads the live {@code req_prod} and {@code rsp_prod} of a ring being attached to and checks them.
     *
     * @return {@code req_prod} in the high 32 bits, {@code rsp_prod} in the low 32 bits.
     * @throws RingProtocolException if {@code req_prod - rsp_prod} exceeds the ring size.
     */
    static long attachIndexes(final AtomicBuffer buffer, final RingGeometry geometry)
    {
        final int rspProd = buffer.getIntVolatile(SharedRingDescriptor.RSP_PROD_OFFSET);
        final int reqProd = buffer.getIntVolatile(SharedRingDescriptor.REQ_PROD_OFFSET);
        if (Integer.compareUnsigned(reqProd - rspProd, geometry.size()) > 0)
        {
            throw new RingProtocolException(
                RingProtocolException.Reason.ATTACH_INCONSISTENT,
                "req_prod=" + Integer.toUnsignedString(reqProd) + " rsp_prod=" + Integer.toUnsignedString(rspProd) +
                " size=" + geometry.size() + " (expected: req_prod - rsp_prod <= size)");
        }
        return ((long)reqProd << 32) | (rspProd & 0xFFFF_FFFFL);
    }

    static void checkLimit(final int limit)
    {
        if (limit < 0)
        {
            throw new IllegalArgumentException("limit must not be negative: limit=" + limit);
        }
    }
}
