package io.pvio.frontend.block;

import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import io.pvio.hypervisor.Domain;
import io.pvio.hypervisor.grant.GrantTable;
import io.pvio.machine.memory.MachineMemory;
import io.pvio.ring.FrontRing;
import io.pvio.ring.RingGeometry;
import io.pvio.ring.RingProtocolException;
import io.pvio.ring.blkif.BlkifOp;
import io.pvio.ring.blkif.BlkifRequestDescriptor;
import io.pvio.ring.blkif.BlkifRequestFlyweight;
import io.pvio.ring.blkif.BlkifResponseDescriptor;
import io.pvio.ring.blkif.BlkifSegmentFlyweight;
import io.pvio.ring.blkif.BlkifStatus;

import static io.pvio.ring.blkif.BlkifRequestDescriptor.MAX_SEGMENTS_PER_REQUEST;
import static io.pvio.ring.blkif.BlkifRequestDescriptor.SECTOR_SHIFT;
import static io.pvio.ring.blkif.BlkifRequestDescriptor.SEGMENTS_PER_INDIRECT_FRAME;

/**
 * One ring of a blkfront device: its shared pages, event channel, shadow table and waiting I/O, all guarded by the
 * queue's monitor (Linux's per-ring lock). Submitters on any guest thread and the response handler on the guest's
 * event-loop thread take it; callbacks run after it is released. Nothing here allocates once the page pool is warm.
 */
final class FrontQueue
{
    private static final int PAGE = MachineMemory.FRAME_SIZE;

    private final BlockFront device;
    private final int index;
    private final Domain domain;
    private final GrantTable grants;
    private final int backendId;
    private final FrontPagePool pool;
    private final BlockFrontCounters counters;
    private final long ringGfn;
    private final int ringPages;
    private final int[] ringRefs;
    private final UnsafeBuffer ringBuffer;
    private final FrontRing ring;
    private final int port;
    private final int maxSegments;
    private final boolean indirect;
    private final BlockFrontShadow shadow;
    private final BlockIo[] slotIo;
    private final int[] slotIoOffset;
    private final int[] slotBytes;
    private final int[] slotPageCount;
    private final long[][] slotPages;
    private final int[][] slotRefs;
    private final int[] slotIndirectCount;
    private final long[][] slotIndirectPages;
    private final int[][] slotIndirectRefs;
    private final BlkifRequestFlyweight request = new BlkifRequestFlyweight();
    private final BlkifSegmentFlyweight segments = new BlkifSegmentFlyweight();
    private final UnsafeBuffer response = new UnsafeBuffer(new byte[BlkifResponseDescriptor.RESPONSE_LENGTH]);
    private final UnsafeBuffer pageView = new UnsafeBuffer(0, 0);
    private final BlockFrontShadow.CompletionHandler onSlotComplete = this::onSlotComplete;
    private BlockIo pendingHead;
    private BlockIo pendingTail;
    private BlockIo doneHead;
    private BlockIo doneTail;
    private BlockFrontException failing;
    private String violation;
    private boolean dead;
    private Thread delivering;
    private boolean deferredPump;

    FrontQueue(
        final BlockFront device,
        final int index,
        final Domain domain,
        final int backendId,
        final boolean persistent,
        final BlockFrontCounters counters,
        final int ringPages,
        final int maxIndirectSegments)
    {
        this.device = device;
        this.index = index;
        this.domain = domain;
        this.grants = domain.grantTable();
        this.backendId = backendId;
        this.pool = new FrontPagePool(domain, backendId, persistent, counters);
        this.counters = counters;
        this.ringPages = ringPages;
        this.indirect = maxIndirectSegments > MAX_SEGMENTS_PER_REQUEST;
        this.maxSegments = indirect ? maxIndirectSegments : MAX_SEGMENTS_PER_REQUEST;
        final RingGeometry geometry = BlkifRequestDescriptor.blkifRing(ringPages);
        this.ringGfn = domain.pageAllocator().allocateContiguous(ringPages);
        final UnsafeBuffer first = domain.guestFrame(ringGfn);
        this.ringBuffer = new UnsafeBuffer(first.addressOffset(), geometry.ringBytes());
        this.ring = FrontRing.init(ringBuffer, geometry);
        this.ringRefs = new int[ringPages];
        int granted = 0;
        try
        {
            for (int p = 0; p < ringPages; p++)
            {
                final int ref = grants.grantAccess(backendId, ringGfn + p, false);
                if (ref < 0)
                {
                    throw new IllegalStateException("no grant reference left for ring page " + p);
                }
                ringRefs[granted++] = ref;
                counters.add(BlockFrontCounters.GRANTS_ISSUED, 1);
            }
            this.port = domain.hypercalls().eventChannelOp().allocUnbound(backendId);
        }
        catch (final RuntimeException ex)
        {
            for (int p = 0; p < granted; p++)
            {
                grants.endAccess(ringRefs[p]);
            }
            for (int p = 0; p < ringPages; p++)
            {
                domain.pageAllocator().free(ringGfn + p);
            }
            throw ex;
        }
        final int size = geometry.size();
        this.shadow = new BlockFrontShadow(size);
        this.slotIo = new BlockIo[size];
        this.slotIoOffset = new int[size];
        this.slotBytes = new int[size];
        this.slotPageCount = new int[size];
        this.slotPages = new long[size][maxSegments];
        this.slotRefs = new int[size][maxSegments];
        this.slotIndirectCount = new int[size];
        final int indirectPages = indirect ? BlkifRequestDescriptor.indirectPages(maxSegments) : 0;
        this.slotIndirectPages = new long[size][indirectPages];
        this.slotIndirectRefs = new int[size][indirectPages];
    }

    void bind()
    {
        domain.eventChannels().bindHandler(port, this::onEvent);
    }

    int port()
    {
        return port;
    }

    int[] ringRefs()
    {
        return ringRefs;
    }

    /**
     * Queues an I/O and issues what fits.
     *
     * @return false if the queue is dead (the caller hands the I/O to the device).
     */
    boolean submit(final BlockIo io)
    {
        final boolean notify;
        synchronized (this)
        {
            if (dead)
            {
                return false;
            }
            appendPending(io);
            if (Thread.currentThread() == delivering)
            {
                // resubmitted from a completion callback: the response handler pushes once after all callbacks
                deferredPump = true;
                return true;
            }
            notify = pump();
        }
        if (notify)
        {
            notifyBackend();
        }
        deliverDone();
        return true;
    }

    /**
     * The back end notified: drain responses, complete I/O, refill the ring.
     */
    void onEvent(final int ignoredPort)
    {
        counters.add(BlockFrontCounters.NOTIFICATIONS_RECEIVED, 1);
        boolean notify = false;
        String broken = null;
        synchronized (this)
        {
            if (dead)
            {
                return;
            }
            try
            {
                do
                {
                    while (ring.copyNextResponse(response, 0))
                    {
                        final long id = response.getLong(BlkifResponseDescriptor.ID_OFFSET);
                        final int operation = response.getByte(BlkifResponseDescriptor.OPERATION_OFFSET) & 0xFF;
                        final short status = response.getShort(BlkifResponseDescriptor.STATUS_OFFSET);
                        final ResponseVerdict verdict = shadow.complete(id, operation, status);
                        if (ResponseVerdict.OK != verdict)
                        {
                            broken = "queue " + index + ": " + shadow.describe(verdict, id, operation);
                            break;
                        }
                        if (null != violation)
                        {
                            broken = violation;
                            break;
                        }
                    }
                }
                while (null == broken && ring.finalCheckForResponses());
            }
            catch (final RingProtocolException ex)
            {
                broken = "queue " + index + ": " + ex.getMessage();
            }
            if (null == broken)
            {
                notify = pump();
            }
        }
        if (notify)
        {
            notifyBackend();
        }
        deliverCallbacksThenPump();
        if (null != broken)
        {
            device.onBroken(broken);
        }
    }

    /**
     * Runs the completion callbacks with resubmissions from them deferred, then issues everything they queued with one
     * push (and at most one event) instead of one per callback.
     */
    private void deliverCallbacksThenPump()
    {
        synchronized (this)
        {
            delivering = Thread.currentThread();
        }
        try
        {
            deliverDone();
        }
        finally
        {
            boolean notify = false;
            synchronized (this)
            {
                delivering = null;
                if (deferredPump && !dead)
                {
                    notify = pump();
                }
                deferredPump = false;
            }
            if (notify)
            {
                notifyBackend();
            }
        }
        deliverDone();
    }

    /**
     * Stops the queue for a reconnect: everything in flight or waiting goes to {@code sink} to be reissued, pages go
     * back to the pool, the ring's grants are ended and its port closed.
     */
    void drainForRecovery(final BlockFront.IoSink sink, final int generation, final boolean hypercallsAllowed)
    {
        synchronized (this)
        {
            dead = true;
            for (BlockIo io = pendingHead; null != io; )
            {
                final BlockIo next = io.next;
                if (io.generation != generation)
                {
                    io.generation = generation;
                    sink.accept(io);
                }
                io = next;
            }
            shadow.forEachInFlight((slot) ->
            {
                final int id = slot.id();
                final BlockIo io = slotIo[id];
                releaseSlotPages(id, hypercallsAllowed);
                slotIo[id] = null;
                if (io.generation != generation)
                {
                    io.generation = generation;
                    counters.add(BlockFrontCounters.REISSUED, 1);
                    sink.accept(io);
                }
            });
            pendingHead = null;
            pendingTail = null;
        }
        teardownRing(hypercallsAllowed);
    }

    /**
     * Fails everything in flight or waiting with {@code failure} and tears the ring down.
     */
    void failAll(final BlockFrontException failure, final boolean hypercallsAllowed)
    {
        synchronized (this)
        {
            dead = true;
            failing = failure;
            shadow.failAll(BlkifStatus.ERROR.value());
            for (BlockIo io = pendingHead; null != io; )
            {
                final BlockIo next = io.next;
                io.failure = failure;
                appendDone(io);
                io = next;
            }
            pendingHead = null;
            pendingTail = null;
        }
        deliverDone();
        teardownRing(hypercallsAllowed);
    }

    private void teardownRing(final boolean hypercallsAllowed)
    {
        pool.releaseAll(hypercallsAllowed);
        if (!hypercallsAllowed)
        {
            return;
        }
        try
        {
            domain.hypercalls().eventChannelOp().close(port);
        }
        catch (final RuntimeException ignore)
        {
            // the port is already gone
        }
        boolean leaked = false;
        for (final int ref : ringRefs)
        {
            if (grants.endAccess(ref))
            {
                counters.add(BlockFrontCounters.GRANTS_ENDED, 1);
            }
            else
            {
                leaked = true;
            }
        }
        if (leaked)
        {
            counters.add(BlockFrontCounters.LEAKED_PAGES, ringPages);
            return;
        }
        for (int p = 0; p < ringPages; p++)
        {
            domain.pageAllocator().free(ringGfn + p);
        }
    }

    private boolean pump()
    {
        boolean pushed = false;
        while (null != pendingHead)
        {
            final BlockIo io = pendingHead;
            final BlockFrontException invalid = device.check(io);
            if (null != invalid)
            {
                popPending();
                io.failure = invalid;
                appendDone(io);
                continue;
            }
            if (!issuePart(io))
            {
                break;
            }
            pushed = true;
            if (io.issuedAll)
            {
                popPending();
            }
        }
        return pushed && ring.pushRequestsAndCheckNotify();
    }

    private boolean issuePart(final BlockIo io)
    {
        final BlkifOp op = io.operation();
        final int id = shadow.acquire();
        if (BlockFrontShadow.NO_ID == id)
        {
            return false;
        }
        final int remaining = io.length() - io.issuedBytes;
        final int bytes = Math.min(remaining, maxSegments * PAGE);
        final int pages = (bytes + PAGE - 1) / PAGE;
        final boolean useIndirect = pages > MAX_SEGMENTS_PER_REQUEST;
        final int indirectPages = useIndirect ? BlkifRequestDescriptor.indirectPages(pages) : 0;
        final boolean write = BlkifOp.WRITE == op;
        // take and grant every page first, so that a shortage leaves nothing behind
        int taken = 0;
        int indirectTaken = 0;
        boolean ok = true;
        while (taken < pages)
        {
            final long page = takePage(write);
            if (FrontPagePool.NONE == page)
            {
                ok = false;
                break;
            }
            slotPages[id][taken] = page;
            slotRefs[id][taken] = FrontPagePool.ref(page);
            taken++;
        }
        while (ok && indirectTaken < indirectPages)
        {
            final long page = takePage(true);
            if (FrontPagePool.NONE == page)
            {
                ok = false;
                break;
            }
            slotIndirectPages[id][indirectTaken] = page;
            slotIndirectRefs[id][indirectTaken] = FrontPagePool.ref(page);
            indirectTaken++;
        }
        slotPageCount[id] = taken;
        slotIndirectCount[id] = indirectTaken;
        if (!ok)
        {
            releaseSlotPages(id, true);
            shadow.release(id);
            return false;
        }
        final int offset = ring.claimRequest();
        final long sector = io.sector() + (io.issuedBytes >>> SECTOR_SHIFT);
        final BlkifRequestFlyweight req = request.wrap(ringBuffer, offset).clear();
        final BlockFrontShadow.Slot slot = shadow.slot(id).sectorNumber(sector).completion(onSlotComplete);
        req.id(id).handle(device.devid() & 0xFFFF).sectorNumber(sector);
        if (BlkifOp.DISCARD == op)
        {
            req.operation(op).discardNrSectors(io.discardSectors());
            slot.operation(op);
            counters.add(BlockFrontCounters.DISCARDS, 1);
        }
        else if (BlkifOp.FLUSH_DISKCACHE == op)
        {
            req.operation(op).nrSegments(0);
            slot.operation(op);
            counters.add(BlockFrontCounters.FLUSHES, 1);
        }
        else
        {
            if (write)
            {
                copyIntoPages(io, id, bytes);
            }
            if (useIndirect)
            {
                req.operation(BlkifOp.INDIRECT).indirectOp(op).indirectNrSegments(pages)
                    .indirectHandle(device.devid() & 0xFFFF);
                for (int p = 0; p < indirectPages; p++)
                {
                    domain.wrapGuestFrame(FrontPagePool.gfn(slotIndirectPages[id][p]), pageView);
                    segments.wrapPage(pageView, 0);
                    final int firstSegment = p * SEGMENTS_PER_INDIRECT_FRAME;
                    final int count = Math.min(SEGMENTS_PER_INDIRECT_FRAME, pages - firstSegment);
                    for (int s = 0; s < count; s++)
                    {
                        final int segment = firstSegment + s;
                        segments.segment(s, slotRefs[id][segment], 0, lastSect(bytes, segment));
                    }
                    req.indirectGref(p, slotIndirectRefs[id][p]);
                }
                slot.indirect(op).segmentCount(pages);
                counters.add(BlockFrontCounters.INDIRECT, 1);
            }
            else
            {
                req.operation(op).nrSegments(pages);
                for (int s = 0; s < pages; s++)
                {
                    req.segment(s, slotRefs[id][s], 0, lastSect(bytes, s));
                }
                slot.operation(op).segmentCount(pages);
            }
            counters.add(write ? BlockFrontCounters.WRITES : BlockFrontCounters.READS, 1);
        }
        counters.add(BlockFrontCounters.REQUESTS, 1);
        slotIo[id] = io;
        slotIoOffset[id] = io.issuedBytes;
        slotBytes[id] = bytes;
        io.issuedBytes += bytes;
        io.partsOutstanding++;
        io.issuedAll = io.issuedBytes >= io.length();
        return true;
    }

    private long takePage(final boolean backReadsOnly)
    {
        final long page = pool.take();
        if (FrontPagePool.NONE == page || pool.isPersistent())
        {
            return page;
        }
        final int ref = grants.grantAccess(backendId, FrontPagePool.gfn(page), backReadsOnly);
        if (ref < 0)
        {
            pool.give(page);
            return FrontPagePool.NONE;
        }
        counters.add(BlockFrontCounters.GRANTS_ISSUED, 1);
        return ((long)ref << 32) | FrontPagePool.gfn(page);
    }

    private static int lastSect(final int bytes, final int page)
    {
        final int inPage = Math.min(PAGE, bytes - page * PAGE);
        return (inPage >>> SECTOR_SHIFT) - 1;
    }

    private void copyIntoPages(final BlockIo io, final int id, final int bytes)
    {
        final int base = io.offset() + io.issuedBytes;
        for (int p = 0, done = 0; done < bytes; p++)
        {
            final int n = Math.min(PAGE, bytes - done);
            domain.wrapGuestFrame(FrontPagePool.gfn(slotPages[id][p]), pageView);
            pageView.putBytes(0, io.buffer(), base + done, n);
            done += n;
        }
    }

    private void copyOutOfPages(final BlockIo io, final int id)
    {
        final MutableDirectBuffer dst = (MutableDirectBuffer)io.buffer();
        final int bytes = slotBytes[id];
        final int base = io.offset() + slotIoOffset[id];
        for (int p = 0, done = 0; done < bytes; p++)
        {
            final int n = Math.min(PAGE, bytes - done);
            domain.wrapGuestFrame(FrontPagePool.gfn(slotPages[id][p]), pageView);
            dst.putBytes(base + done, pageView, 0, n);
            done += n;
        }
    }

    private void onSlotComplete(final BlockFrontShadow.Slot slot, final int status)
    {
        final int id = slot.id();
        final BlockIo io = slotIo[id];
        slotIo[id] = null;
        if (null == io)
        {
            return;
        }
        if (null != failing)
        {
            io.failure = failing;
        }
        else if (BlkifStatus.OKAY.value() != status)
        {
            if (0 == io.failedStatus)
            {
                io.failedStatus = (short)status;
            }
        }
        else if (BlkifOp.READ == io.operation())
        {
            copyOutOfPages(io, id);
            counters.add(BlockFrontCounters.BYTES_READ, slotBytes[id]);
        }
        else if (BlkifOp.WRITE == io.operation())
        {
            counters.add(BlockFrontCounters.BYTES_WRITTEN, slotBytes[id]);
        }
        releaseSlotPages(id, null == failing || domain.isAlive());
        io.partsOutstanding--;
        if (0 == io.partsOutstanding && (io.issuedAll || null != io.failure))
        {
            appendDone(io);
        }
    }

    private void releaseSlotPages(final int id, final boolean hypercallsAllowed)
    {
        // last page first: the pool is a stack, so the next request takes them back in ascending order and a run of
        // machine-consecutive pages stays one, which lets the back end serve it with one disk call
        final int indirectCount = slotIndirectCount[id];
        for (int p = indirectCount - 1; p >= 0; p--)
        {
            releasePage(slotIndirectPages[id][p], slotIndirectRefs[id][p], hypercallsAllowed);
        }
        final int count = slotPageCount[id];
        for (int p = count - 1; p >= 0; p--)
        {
            releasePage(slotPages[id][p], slotRefs[id][p], hypercallsAllowed);
        }
        slotPageCount[id] = 0;
        slotIndirectCount[id] = 0;
    }

    private void releasePage(final long page, final int ref, final boolean hypercallsAllowed)
    {
        if (pool.isPersistent())
        {
            pool.give(page);
            return;
        }
        if (!hypercallsAllowed)
        {
            pool.leak();
            return;
        }
        if (grants.endAccess(ref))
        {
            counters.add(BlockFrontCounters.GRANTS_ENDED, 1);
            pool.give(page);
        }
        else
        {
            // the back end still maps the page: never reuse it, and stop trusting the back end
            pool.leak();
            violation = "queue " + index + ": grant " + ref + " still in use by the back end after its response";
        }
    }

    private void notifyBackend()
    {
        try
        {
            domain.hypercalls().eventChannelOp().send(port);
            counters.add(BlockFrontCounters.NOTIFICATIONS_SENT, 1);
        }
        catch (final RuntimeException ignore)
        {
            // the port was closed under us by a reconnect or the domain's death; the I/O is reissued or failed there
        }
    }

    private void appendPending(final BlockIo io)
    {
        io.next = null;
        if (null == pendingTail)
        {
            pendingHead = io;
        }
        else
        {
            pendingTail.next = io;
        }
        pendingTail = io;
    }

    private void popPending()
    {
        final BlockIo io = pendingHead;
        pendingHead = io.next;
        if (null == pendingHead)
        {
            pendingTail = null;
        }
        io.next = null;
    }

    private void appendDone(final BlockIo io)
    {
        if (io.completed)
        {
            return;
        }
        io.completed = true;
        io.next = null;
        if (null == doneTail)
        {
            doneHead = io;
        }
        else
        {
            doneTail.next = io;
        }
        doneTail = io;
    }

    private void deliverDone()
    {
        BlockIo io;
        synchronized (this)
        {
            io = doneHead;
            doneHead = null;
            doneTail = null;
        }
        while (null != io)
        {
            final BlockIo next = io.next;
            io.next = null;
            device.complete(io);
            io = next;
        }
    }
}
