package io.pvio.backend.block;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;
import org.jctools.queues.MpscArrayQueue;

import io.pvio.backend.AgentHost;
import io.pvio.hypervisor.Domain;
import io.pvio.hypervisor.PageAllocator;
import io.pvio.hypervisor.event.EventChannelOps;
import io.pvio.hypervisor.grant.GrantCopyBatch;
import io.pvio.hypervisor.grant.GrantTableOps;
import io.pvio.hypervisor.sched.VcpuTask;
import io.pvio.ring.BackRing;
import io.pvio.ring.RingProtocolException;
import io.pvio.ring.blkif.BlkifOp;
import io.pvio.ring.blkif.BlkifRequestDescriptor;
import io.pvio.ring.blkif.BlkifRequestFlyweight;
import io.pvio.ring.blkif.BlkifRequestValidator;
import io.pvio.ring.blkif.BlkifResponseFlyweight;
import io.pvio.ring.blkif.BlkifSegmentFlyweight;
import io.pvio.ring.blkif.BlkifStatus;

import static io.pvio.ring.blkif.BlkifRequestDescriptor.SECTOR_SHIFT;
import static io.pvio.ring.blkif.BlkifRequestDescriptor.SEGMENTS_OFFSET;
import static io.pvio.ring.blkif.BlkifRequestDescriptor.SEGMENTS_PER_INDIRECT_FRAME;
import static io.pvio.ring.blkif.BlkifRequestDescriptor.SEGMENT_LENGTH;

/**
 * One ring of a blkback device and the agent that serves it (Linux's per-ring kthread): a task on one of the driver
 * domain's vCPUs when a scheduler runs the machine ({@code (frontend id + queue index) mod vCPUs}, so the queues of
 * a device spread over dom0's vCPUs), otherwise on a thread of its own.
 * <p>
 * <b>On a vCPU</b> the front end's event, delivered by the driver domain's upcall, wakes the vCPU, which runs
 * {@link #doWork()} in its next pass; when the vCPU runs out of work it polls a while (halt polling), then calls
 * {@link #prepareToBlock()}, which arms {@code req_event} with the final check before the vCPU blocks. The rest of
 * this comment describes the thread of its own.
 * <p>
 * <b>A pass</b> ({@link #doWork()}): copy each request out of the ring once ({@code RING_COPY_REQUEST}), validate the
 * copy, serve it, write the response in place, and publish the responses every {@value #RESPONSE_BATCH} requests and
 * at the end of the pass (at most {@value #BUDGET} requests) with the event-index check, sending an event only when
 * the front end asked for one.
 * <p>
 * <b>Idle</b> ({@link #idle(int)}): after a pass with no work the agent keeps polling the ring for
 * {@value #POLL_SPINS} spins and {@value #POLL_YIELDS} yields <em>without</em> arming {@code req_event}, so a busy
 * front end pushes without notifying; only then does it arm {@code req_event} and re-check behind a full fence
 * ({@code RING_FINAL_CHECK_FOR_REQUESTS}) and park. The event handler on the driver domain's event loop sets
 * {@code wakeRequested} (volatile) and then unparks the thread; the agent reads {@code wakeRequested} (volatile) after
 * its final check and parks only if it is clear. Either the agent sees the flag, or the handler's unpark comes after
 * the agent's read and leaves a permit that makes the park return at once: no lost wake-up.
 * <p>
 * <b>Hostile front end</b>: impossible ring indexes ({@link RingProtocolException}) break the ring for good: the
 * agent stops serving it and tells the device, which cuts the front end off. Invalid requests get an error response
 * and the agent carries on. The steady-state path allocates nothing.
 * <p>
 * <b>With io-workers</b> a direct read or write goes to a worker, and the worker answers it itself, as Linux's
 * {@code end_block_io_op} does from the disk's interrupt: it writes the response, pushes it with the event-index
 * check and notifies the front end, so a completion never waits for this agent's vCPU. The response side of the
 * ring ({@code rsp_prod_pvt}, the slots, {@code rsp_prod}) then has several writers, so every claim, write and push
 * happens under {@link #lockResponses()}; the request side stays the agent's alone. The worker then hands the job
 * back through {@code completions} for the agent to reuse, with no wake-up: the agent takes finished jobs back at
 * its next pass. Workers count what they answer in a slab of their own, with atomic adds. A worker's event is
 * coalesced as a disk's completion interrupts are: while other jobs are in flight it waits for them, for at most
 * {@value #COMPLETION_COALESCE} responses, so a front end kept busy by a deep queue is woken once per batch instead of
 * once per completion; the response itself is always pushed at once, for a front end that polls.
 */
final class BlkbackQueue implements VcpuTask, IdleStrategy
{
    /** Most requests served before responses are published. */
    static final int BUDGET = 64;

    /**
     * Responses published together while a pass goes on: often enough that the front end completes and refills while
     * this agent keeps serving (the two overlap instead of taking turns), rarely enough that an idle front end is
     * notified at most once per this many requests.
     */
    static final int RESPONSE_BATCH = 16;

    /**
     * With io-workers, the most worker completions whose owed event may wait for the others in flight: a worker that
     * pushes a response the front end asked an event for sends it at once only if no other job is in flight, or
     * once this many responses have gone out since it became owed (the coalescing of a disk's completion interrupts);
     * otherwise the last job in flight to finish, or the agent's next push, sends it.
     */
    static final int COMPLETION_COALESCE = 8;

    /** Spins of the polling window. */
    static final int POLL_SPINS = 2_000;

    /** Yields of the polling window, after the spins. */
    static final int POLL_YIELDS = 50;

    private static final int COPY_CHUNK = 32;
    private static final int PAGE_SIZE = 4096;
    private static final int MAX_RUN_BYTES = 1 << 20;

    private final BlockBack device;
    private final int index;
    private final Domain driverDomain;
    private final int frontendId;
    private final GrantTableOps grants;
    private final EventChannelOps events;
    private final BlockStore store;
    private final BlockDataPath dataPath;
    private final long[] slab;
    private final long[] completionSlab;
    private final BackRing ring;
    private final UnsafeBuffer ringBuffer;
    private final int[] ringHandles;
    private final int port;
    private final BlkifRequestValidator validator;
    private final UnsafeBuffer request = new UnsafeBuffer(new byte[BlkifRequestDescriptor.REQUEST_LENGTH]);
    private final BlkifRequestFlyweight requestView = new BlkifRequestFlyweight();
    private final BlkifResponseFlyweight response = new BlkifResponseFlyweight();
    private final BlkifSegmentFlyweight segments = new BlkifSegmentFlyweight();
    private final UnsafeBuffer indirectSegments;
    private final UnsafeBuffer mapView = new UnsafeBuffer(0, 0);
    private final UnsafeBuffer runView = new UnsafeBuffer(0, 0);
    private final long[] segmentAddress;
    private final int[] segmentHandle;
    private final PersistentGrantCache persistent;
    private final GrantCopyBatch copyBatch;
    private final long[] bounceGfns;
    private final UnsafeBuffer[] bounceViews;
    private final String roleName;
    private final BlockIoEngine engine;
    /** The image, when an io_uring serves the asynchronous jobs (which must then be in place for O_DIRECT). */
    private final FileBlockStore uringStore;
    private final AsyncBlockIo[] pool;
    private final MpscArrayQueue<AsyncBlockIo> completions;
    private int poolTop;
    private int inFlight;
    private volatile boolean wakeRequested;
    private volatile boolean running = true;
    private final AgentHost agentHost = new AgentHost();
    private boolean broken;
    private int idleCount;
    @SuppressWarnings("unused") // through RESPONSE_LOCK
    private volatile int responseLock;
    /** Jobs handed to the engine and not yet answered; changed by atomic add only (agent +1, worker -1). */
    @SuppressWarnings("unused") // through ASYNC_OUTSTANDING
    private volatile int asyncOutstanding;
    /** Under the response lock: a push asked for an event that has not been sent yet. */
    private boolean eventOwed;
    /** Under the response lock: worker responses pushed since the event became owed. */
    private int owedResponses;

    private static final VarHandle RESPONSE_LOCK;
    private static final VarHandle ASYNC_OUTSTANDING;

    static
    {
        try
        {
            RESPONSE_LOCK = MethodHandles.lookup().findVarHandle(BlkbackQueue.class, "responseLock", int.class);
            ASYNC_OUTSTANDING = MethodHandles.lookup().findVarHandle(BlkbackQueue.class, "asyncOutstanding",
                int.class);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    BlkbackQueue(
        final BlockBack device,
        final int index,
        final Domain driverDomain,
        final int frontendId,
        final BlockStore store,
        final BlockBackOptions options,
        final boolean persistentGrants,
        final BackRing ring,
        final UnsafeBuffer ringBuffer,
        final int[] ringHandles,
        final int port,
        final long[] slab,
        final long[] completionSlab)
    {
        this.device = device;
        this.index = index;
        this.driverDomain = driverDomain;
        this.frontendId = frontendId;
        this.grants = driverDomain.hypercalls().grantTableOp();
        this.events = driverDomain.hypercalls().eventChannelOp();
        this.store = store;
        this.dataPath = persistentGrants ? BlockDataPath.GRANT_MAP : options.dataPath();
        this.slab = slab;
        this.completionSlab = completionSlab;
        this.ring = ring;
        this.ringBuffer = ringBuffer;
        this.ringHandles = ringHandles;
        this.port = port;
        this.validator = new BlkifRequestValidator(new BlkifRequestValidator.Context()
            .sectors(store.sectors())
            .readOnly(store.isReadOnly())
            .flushCache(options.flushCache())
            .discard(options.discard() && !store.isReadOnly())
            .barrier(false)
            .maxIndirectSegments(options.maxIndirectSegments()));
        this.indirectSegments = options.maxIndirectSegments() > 0 ?
            new UnsafeBuffer(new byte[BlkifRequestDescriptor.MAX_INDIRECT_PAGES_PER_REQUEST * 4096]) : null;
        final int maxSegments = Math.max(BlkifRequestDescriptor.MAX_SEGMENTS_PER_REQUEST, options.maxIndirectSegments());
        this.segmentAddress = new long[maxSegments];
        this.segmentHandle = new int[maxSegments];
        this.persistent = persistentGrants ?
            new PersistentGrantCache(grants, frontendId, Math.min(ring.size() * maxSegments, 4096) + 8, slab) : null;
        if (BlockDataPath.GRANT_COPY == dataPath)
        {
            final PageAllocator pages = driverDomain.pageAllocator();
            this.copyBatch = new GrantCopyBatch(COPY_CHUNK);
            this.bounceGfns = new long[COPY_CHUNK];
            this.bounceViews = new UnsafeBuffer[COPY_CHUNK];
            for (int i = 0; i < COPY_CHUNK; i++)
            {
                bounceGfns[i] = pages.allocate();
                bounceViews[i] = driverDomain.guestFrame(bounceGfns[i]);
            }
        }
        else
        {
            this.copyBatch = null;
            this.bounceGfns = null;
            this.bounceViews = null;
        }
        this.roleName = "blkback-d" + frontendId + '-' + device.devid() + "-q" + index;
        final boolean uring = options.ioUring() && store instanceof FileBlockStore;
        if (null != persistent && (uring || options.ioWorkers() > 0))
        {
            this.uringStore = uring ? (FileBlockStore)store : null;
            this.engine = uring ?
                new UringBlockIo(roleName, uringStore, ring.size(), Math.max(64, 2 * ring.size())) :
                new BlockIoWorkers(roleName, options.ioWorkers(), ring.size());
            // every request without a response may hold a job, and the engine some it has answered and not yet
            // handed back: with this many, a reap always frees one for the next request
            this.pool = new AsyncBlockIo[ring.size() + engine.extraJobs()];
            for (int i = 0; i < pool.length; i++)
            {
                pool[i] = new AsyncBlockIo(this, store, i);
            }
            this.poolTop = pool.length;
            this.completions = new MpscArrayQueue<>(Math.max(2, pool.length));
        }
        else
        {
            this.uringStore = null;
            this.engine = null;
            this.pool = null;
            this.completions = null;
        }
    }

    int port()
    {
        return port;
    }

    void start()
    {
        if (null != engine)
        {
            engine.start();
        }
        // a task of one of the driver domain's vCPUs, which the front end's event wakes, or a thread of its own
        agentHost.start(this, driverDomain.vcpu((frontendId + index) % driverDomain.vcpus()), this,
            this::onAgentError);
    }

    /**
     * Called on the driver domain's event loop when the front end notifies: wake the agent.
     */
    void onEvent(final int ignoredPort)
    {
        BlockBackCounters.addShared(slab, BlockBackCounters.NOTIFICATIONS_RECEIVED, 1);
        wakeRequested = true;
        agentHost.wake();
    }

    /**
     * Stops the agent and waits for its thread. The requests it has not answered stay in the ring.
     *
     * @return true if nothing of this queue runs any more (no I/O worker outlived the wait), so its counter slabs
     *         may be recycled.
     */
    boolean stop()
    {
        running = false;
        agentHost.stop(this);
        if (null != engine)
        {
            // the agent no longer runs: this thread owns inFlight now; wait until no worker touches a grant page
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (inFlight > 0 && System.nanoTime() - deadline < 0)
            {
                if (null == completions.poll())
                {
                    Thread.onSpinWait();
                }
                else
                {
                    inFlight--;
                }
            }
            return engine.stopAndJoin() && 0 == inFlight;
        }
        return true;
    }

    /** The agent's counter slab. */
    long[] slab()
    {
        return slab;
    }

    /** The I/O workers' counter slab. */
    long[] completionSlab()
    {
        return completionSlab;
    }

    /**
     * On a worker: a job is done. Answers it on the ring (claim, write, push with the event-index check, notify if
     * the front end asked), counts it, then hands it back to the agent's pool. Allocates nothing.
     *
     * @param io the job.
     */
    void complete(final AsyncBlockIo io)
    {
        complete(io, false);
    }

    /**
     * On the engine's thread: a job is done, as {@link #complete(AsyncBlockIo)}, but an event the front end asked
     * for stays owed when {@code deferEvent}: the engine answers its completions in batches (an io_uring's CQEs of
     * one pass) and sends the batch's one event with {@link #sendOwedEvent()} after its last, as a disk raises one
     * interrupt for the completions it has gathered. Allocates nothing.
     *
     * @param io         the job.
     * @param deferEvent true to leave an owed event for {@link #sendOwedEvent()}.
     */
    void complete(final AsyncBlockIo io, final boolean deferEvent)
    {
        final boolean okay = BlkifStatus.OKAY.value() == io.status;
        // counted before the response is published: a front end that has its answer finds it counted (the ring's
        // release of the response orders these adds before it), and so does a disconnect that folds the slab in
        BlockBackCounters.addShared(completionSlab, BlockBackCounters.ASYNC_WAIT_NANOS, io.startedAt - io.handedAt);
        BlockBackCounters.addShared(completionSlab, BlockBackCounters.ASYNC_SERVICE_NANOS,
            io.finishedAt - io.startedAt);
        if (okay)
        {
            BlockBackCounters.addShared(completionSlab,
                io.write ? BlockBackCounters.WRITES : BlockBackCounters.READS, 1);
            BlockBackCounters.addShared(completionSlab,
                io.write ? BlockBackCounters.BYTES_WRITTEN : BlockBackCounters.BYTES_READ, io.bytes);
        }
        else
        {
            BlockBackCounters.addShared(completionSlab, BlockBackCounters.ERRORS_IO, 1);
        }
        final boolean notify;
        lockResponses();
        try
        {
            writeResponse(io.id, io.operation, io.status);
            eventOwed |= ring.pushResponsesAndCheckNotify();
            // No lost event: an owed event stays owed until sent, and each later completion looks again; the one that
            // leaves no job in flight sends it (a job submitted after that read comes back through here too), and so
            // does the agent's next push. A submit racing with the read only makes the event go out early. A
            // deferred completion leaves it to the sendOwedEvent its engine queues after the batch.
            final int others = (int)ASYNC_OUTSTANDING.getAndAdd(this, -1) - 1;
            notify = eventOwed && !deferEvent && (0 == others || ++owedResponses >= COMPLETION_COALESCE);
            if (notify)
            {
                eventOwed = false;
                owedResponses = 0;
            }
        }
        finally
        {
            unlockResponses();
        }
        if (notify)
        {
            notifyFrontend(completionSlab, true);
        }
        // last: once offered, the agent may reuse the job; the offer releases this worker's last use of the ring,
        // so an agent that has taken every job back (stop) knows no worker touches the ring or a grant page again
        completions.offer(io);
    }

    /**
     * On the engine's thread, after a batch of {@link #complete(AsyncBlockIo, boolean) deferred completions}: sends
     * the event they left owed, if any. No event is lost: each deferred completion that leaves one owed is followed
     * by this call, and an event a worker or the agent sends meanwhile clears it under the same lock.
     */
    void sendOwedEvent()
    {
        final boolean notify;
        lockResponses();
        try
        {
            notify = eventOwed;
            eventOwed = false;
            owedResponses = 0;
        }
        finally
        {
            unlockResponses();
        }
        if (notify)
        {
            notifyFrontend(completionSlab, true);
        }
    }

    /** Takes every finished job back into the pool (the engine has answered them already). */
    private int reapCompletions()
    {
        int reaped = 0;
        AsyncBlockIo io;
        while (null != (io = completions.poll()))
        {
            inFlight--;
            pool[poolTop++] = io;
            reaped++;
        }
        return reaped;
    }

    /**
     * Hands a direct read or write on persistent grants to the workers, when every grant is mapped or has room (an
     * eviction would unmap a page an in-flight job may use).
     *
     * @return true if handed off (the response comes at completion), false to serve it here.
     */
    private boolean submitAsync(
        final long id, final int operation, final boolean write, final long firstSector, final BlkifSegmentFlyweight segs,
        final int n)
    {
        if (0 == poolTop)
        {
            reapCompletions();
        }
        if (n > BlkifRequestDescriptor.MAX_SEGMENTS_PER_REQUEST || 0 == poolTop)
        {
            return false;
        }
        for (int i = 0; i < n; i++)
        {
            if (!persistent.acquiresWithoutEviction(segs.gref(i)))
            {
                drainInFlight();
                return false;
            }
        }
        for (int i = 0; i < n; i++)
        {
            final UnsafeBuffer view = persistent.acquire(segs.gref(i));
            if (null == view)
            {
                return false; // the synchronous path maps again, fails the same way and answers the error
            }
            segmentAddress[i] = view.addressOffset();
        }
        final AsyncBlockIo io = pool[--poolTop];
        int runs = 0;
        long bytesMoved = 0;
        int i = 0;
        while (i < n)
        {
            final int first = segs.firstSect(i);
            int bytes = (segs.lastSect(i) - first + 1) << SECTOR_SHIFT;
            int j = i + 1;
            while (j < n && BlkifRequestDescriptor.MAX_SECT == segs.lastSect(j - 1) && 0 == segs.firstSect(j) &&
                segmentAddress[j] == segmentAddress[j - 1] + PAGE_SIZE)
            {
                bytes += (segs.lastSect(j) + 1) << SECTOR_SHIFT;
                j++;
            }
            io.runAddress[runs] = segmentAddress[i] + ((long)first << SECTOR_SHIFT);
            io.runBytes[runs] = bytes;
            if (null != uringStore && !uringStore.inPlace(io.runAddress[runs], bytes))
            {
                pool[poolTop++] = io; // O_DIRECT cannot use this memory in place: served here, through a bounce
                return false;
            }
            runs++;
            bytesMoved += bytes;
            i = j;
        }
        BlockBackCounters.add(slab, BlockBackCounters.SEGMENTS, n);
        BlockBackCounters.add(slab, BlockBackCounters.ASYNC, 1);
        io.id = id;
        io.operation = operation;
        io.write = write;
        io.sector = firstSector;
        io.runs = runs;
        io.bytes = bytesMoved;
        inFlight++;
        // before the offer: the worker's decrement never comes first
        final int depth = (int)ASYNC_OUTSTANDING.getAndAdd(this, 1) + 1;
        BlockBackCounters.add(slab, BlockBackCounters.ASYNC_DEPTH, depth);
        io.handedAt = System.nanoTime();
        engine.submit(io); // the queue's offer publishes the fields above to the worker that polls it
        return true;
    }

    /** Waits for every in-flight job and answers it (before the persistent cache may evict a mapping). */
    private void drainInFlight()
    {
        while (inFlight > 0)
        {
            if (0 == reapCompletions())
            {
                Thread.onSpinWait();
            }
        }
    }

    /**
     * Releases what the ring held: persistent mappings, bounce pages and the ring's own mappings. After {@link #stop()}.
     */
    void release()
    {
        if (null != persistent)
        {
            persistent.unmapAll();
        }
        if (null != bounceGfns)
        {
            for (final long gfn : bounceGfns)
            {
                driverDomain.pageAllocator().free(gfn);
            }
        }
        for (final int handle : ringHandles)
        {
            grants.unmap(handle);
            BlockBackCounters.add(slab, BlockBackCounters.GRANT_UNMAPS, 1);
        }
    }

    @Override
    public String roleName()
    {
        return roleName;
    }

    @Override
    public int doWork()
    {
        if (broken || !running)
        {
            return 0;
        }
        int served = null == completions ? 0 : reapCompletions();
        try
        {
            while (served < BUDGET && ring.copyNextRequest(request, 0))
            {
                serve();
                served++;
                if (0 == served % RESPONSE_BATCH && pushResponses())
                {
                    notifyFrontend(slab, false);
                }
            }
        }
        catch (final RingProtocolException ex)
        {
            broken = true;
            BlockBackCounters.add(slab, BlockBackCounters.PROTOCOL_VIOLATIONS, 1);
            device.onProtocolViolation("queue " + index + ": " + ex.getMessage());
        }
        if (pushResponses())
        {
            notifyFrontend(slab, false);
        }
        return served;
    }

    /**
     * On a vCPU about to block: arm {@code req_event} and re-check ({@code RING_FINAL_CHECK_FOR_REQUESTS}), so the
     * front end's next push notifies; the vCPU's halt polling has already given a busy front end the window in which
     * it pushes without notifying.
     */
    @Override
    public boolean prepareToBlock()
    {
        wakeRequested = false;
        return running && !broken && finalCheckForRequests();
    }

    /**
     * Arms {@code req_event} and re-checks for requests. A hostile producer index found here (a front end that
     * overflowed the ring while the agent was about to block) counts as work: the ring is broken, so the next pass
     * reads the index again, throws in {@link #doWork()} and cuts the front end off there, as for any violation.
     */
    private boolean finalCheckForRequests()
    {
        try
        {
            return ring.finalCheckForRequests();
        }
        catch (final RingProtocolException ex)
        {
            return true;
        }
    }

    @Override
    public void idle(final int workCount)
    {
        if (workCount > 0)
        {
            idleCount = 0;
            return;
        }
        idle();
    }

    @Override
    public void idle()
    {
        if (!running)
        {
            return;
        }
        final int count = idleCount++;
        if (count < POLL_SPINS)
        {
            Thread.onSpinWait();
            return;
        }
        if (count < POLL_SPINS + POLL_YIELDS)
        {
            Thread.yield();
            return;
        }
        idleCount = 0;
        if (!broken && finalCheckForRequests())
        {
            return; // requests arrived while arming req_event
        }
        // the event handler sets wakeRequested and unparks: seen here, or the unpark leaves a permit
        if (!wakeRequested && running)
        {
            LockSupport.park(this);
        }
        wakeRequested = false;
    }

    @Override
    public void reset()
    {
        idleCount = 0;
    }

    private void onAgentError(final Throwable error)
    {
        device.onProtocolViolation("queue " + index + " agent failed: " + error);
    }

    private void notifyFrontend(final long[] counters, final boolean shared)
    {
        try
        {
            events.send(port);
            if (shared)
            {
                BlockBackCounters.addShared(counters, BlockBackCounters.NOTIFICATIONS_SENT, 1);
            }
            else
            {
                BlockBackCounters.add(counters, BlockBackCounters.NOTIFICATIONS_SENT, 1);
            }
        }
        catch (final RuntimeException ex)
        {
            // the front end's port is gone (its domain died): the device is told through XenStore
        }
    }

    private void serve()
    {
        BlockBackCounters.add(slab, BlockBackCounters.REQUESTS, 1);
        final BlkifRequestFlyweight req = requestView.wrap(request, 0);
        final long id = req.id();
        final int operation = req.operation();
        BlkifRequestValidator.Verdict verdict = validator.validate(request, 0);
        int dataOperation = operation;
        int nrSegments = req.nrSegments();
        BlkifSegmentFlyweight segs = null;
        if (BlkifRequestValidator.Verdict.FETCH_INDIRECT == verdict)
        {
            BlockBackCounters.add(slab, BlockBackCounters.INDIRECT, 1);
            nrSegments = req.indirectNrSegments();
            dataOperation = req.indirectOp();
            if (!fetchIndirect(req, nrSegments))
            {
                BlockBackCounters.add(slab, BlockBackCounters.ERRORS_GRANT, 1);
                respond(id, operation, BlkifStatus.ERROR.value());
                return;
            }
            verdict = validator.validateIndirectSegments(request, 0, indirectSegments, 0);
            segs = segments.wrap(indirectSegments, 0, nrSegments);
        }
        else if (nrSegments > 0 && nrSegments <= BlkifRequestDescriptor.MAX_SEGMENTS_PER_REQUEST)
        {
            segs = segments.wrap(request, SEGMENTS_OFFSET, nrSegments);
        }
        if (verdict.isRefusal())
        {
            BlockBackCounters.add(slab, BlkifStatus.EOPNOTSUPP == verdict.status() ?
                BlockBackCounters.ERRORS_NOT_SUPPORTED : BlockBackCounters.ERRORS_INVALID, 1);
            respond(id, operation, verdict.status().value());
            return;
        }
        short status = BlkifStatus.OKAY.value();
        try
        {
            if (BlkifOp.READ.value() == dataOperation || BlkifOp.WRITE.value() == dataOperation)
            {
                final boolean write = BlkifOp.WRITE.value() == dataOperation;
                if (null != engine && operation == dataOperation &&
                    submitAsync(id, operation, write, req.sectorNumber(), segs, nrSegments))
                {
                    return;
                }
                status = transfer(write, req.sectorNumber(), segs, nrSegments);
                BlockBackCounters.add(slab, write ? BlockBackCounters.WRITES : BlockBackCounters.READS, 1);
            }
            else if (BlkifOp.FLUSH_DISKCACHE.value() == operation)
            {
                if (nrSegments > 0)
                {
                    status = transfer(true, req.sectorNumber(), segs, nrSegments);
                }
                if (BlkifStatus.OKAY.value() == status)
                {
                    store.flush();
                }
                BlockBackCounters.add(slab, BlockBackCounters.FLUSHES, 1);
            }
            else if (BlkifOp.DISCARD.value() == operation)
            {
                store.discard(req.sectorNumber(), req.discardNrSectors());
                BlockBackCounters.add(slab, BlockBackCounters.DISCARDS, 1);
            }
            else
            {
                status = BlkifStatus.EOPNOTSUPP.value();
                BlockBackCounters.add(slab, BlockBackCounters.ERRORS_NOT_SUPPORTED, 1);
            }
        }
        catch (final BlockStoreException ex)
        {
            BlockBackCounters.add(slab, BlockBackCounters.ERRORS_IO, 1);
            status = BlkifStatus.ERROR.value();
        }
        respond(id, operation, status);
    }

    private boolean fetchIndirect(final BlkifRequestFlyweight req, final int nrSegments)
    {
        final int pages = BlkifRequestDescriptor.indirectPages(nrSegments);
        int remaining = nrSegments;
        for (int p = 0; p < pages; p++)
        {
            final int ref = req.indirectGref(p);
            final int bytes = Math.min(remaining, SEGMENTS_PER_INDIRECT_FRAME) * SEGMENT_LENGTH;
            if (null != persistent)
            {
                final UnsafeBuffer view = persistent.acquire(ref);
                if (null == view)
                {
                    return false;
                }
                indirectSegments.putBytes(p * 4096, view, 0, bytes);
            }
            else
            {
                final int handle = grants.map(frontendId, ref, true, mapView);
                BlockBackCounters.add(slab, BlockBackCounters.GRANT_MAPS, 1);
                if (handle < 0)
                {
                    return false;
                }
                indirectSegments.putBytes(p * 4096, mapView, 0, bytes);
                grants.unmap(handle);
                BlockBackCounters.add(slab, BlockBackCounters.GRANT_UNMAPS, 1);
            }
            remaining -= SEGMENTS_PER_INDIRECT_FRAME;
        }
        return true;
    }

    /**
     * Moves the data of a read or write through grant mappings. Segments whose mapped frames are machine-consecutive
     * and that continue each other (one ends at the page's last sector, the next starts at its first) are served by one
     * store call, so a 64 KiB request on consecutive pages costs one {@code pread}, not sixteen.
     */
    private short transfer(final boolean write, final long firstSector, final BlkifSegmentFlyweight segs, final int n)
    {
        if (inFlight > 0 && null != persistent)
        {
            for (int i = 0; i < n; i++)
            {
                if (!persistent.acquiresWithoutEviction(segs.gref(i)))
                {
                    drainInFlight(); // an eviction must not unmap a page an in-flight job is using
                    break;
                }
            }
        }
        BlockBackCounters.add(slab, BlockBackCounters.SEGMENTS, n);
        if (BlockDataPath.GRANT_COPY == dataPath)
        {
            return copyTransfer(write, firstSector, segs, n);
        }
        int mapped = 0;
        short status = BlkifStatus.OKAY.value();
        for (int i = 0; i < n; i++)
        {
            final int ref = segs.gref(i);
            if (null != persistent)
            {
                final UnsafeBuffer view = persistent.acquire(ref);
                if (null == view)
                {
                    status = BlkifStatus.ERROR.value();
                    break;
                }
                segmentAddress[i] = view.addressOffset();
            }
            else
            {
                final int handle = grants.map(frontendId, ref, write, mapView);
                BlockBackCounters.add(slab, BlockBackCounters.GRANT_MAPS, 1);
                if (handle < 0)
                {
                    status = BlkifStatus.ERROR.value();
                    break;
                }
                segmentHandle[mapped++] = handle;
                segmentAddress[i] = mapView.addressOffset();
            }
        }
        try
        {
            if (BlkifStatus.OKAY.value() != status)
            {
                BlockBackCounters.add(slab, BlockBackCounters.ERRORS_GRANT, 1);
                return status;
            }
            long sector = firstSector;
            long bytesMoved = 0;
            int i = 0;
            while (i < n)
            {
                final int first = segs.firstSect(i);
                final long start = segmentAddress[i] + ((long)first << SECTOR_SHIFT);
                int bytes = (segs.lastSect(i) - first + 1) << SECTOR_SHIFT;
                int j = i + 1;
                while (j < n && BlkifRequestDescriptor.MAX_SECT == segs.lastSect(j - 1) && 0 == segs.firstSect(j) &&
                    segmentAddress[j] == segmentAddress[j - 1] + PAGE_SIZE && bytes <= MAX_RUN_BYTES)
                {
                    bytes += (segs.lastSect(j) + 1) << SECTOR_SHIFT;
                    j++;
                }
                runView.wrap(start, bytes);
                if (write)
                {
                    store.write(sector, runView, 0, bytes);
                }
                else
                {
                    store.read(sector, runView, 0, bytes);
                }
                sector += bytes >>> SECTOR_SHIFT;
                bytesMoved += bytes;
                i = j;
            }
            BlockBackCounters.add(slab, write ? BlockBackCounters.BYTES_WRITTEN : BlockBackCounters.BYTES_READ,
                bytesMoved);
            return status;
        }
        finally
        {
            for (int h = 0; h < mapped; h++)
            {
                grants.unmap(segmentHandle[h]);
            }
            if (mapped > 0)
            {
                BlockBackCounters.add(slab, BlockBackCounters.GRANT_UNMAPS, mapped);
            }
        }
    }

    private short copyTransfer(final boolean write, final long firstSector, final BlkifSegmentFlyweight segs, final int n)
    {
        long sector = firstSector;
        long bytesMoved = 0;
        for (int start = 0; start < n; start += COPY_CHUNK)
        {
            final int end = Math.min(n, start + COPY_CHUNK);
            final GrantCopyBatch batch = copyBatch.clear();
            long chunkSector = sector;
            for (int i = start; i < end; i++)
            {
                final int first = segs.firstSect(i);
                final int bytes = (segs.lastSect(i) - first + 1) << SECTOR_SHIFT;
                final int j = i - start;
                if (write)
                {
                    batch.addFromGrant(frontendId, segs.gref(i), first << SECTOR_SHIFT, bounceGfns[j], 0, bytes);
                }
                else
                {
                    store.read(chunkSector, bounceViews[j], 0, bytes);
                    batch.addToGrant(bounceGfns[j], 0, frontendId, segs.gref(i), first << SECTOR_SHIFT, bytes);
                }
                chunkSector += bytes >>> SECTOR_SHIFT;
            }
            final int failed = grants.copy(batch);
            BlockBackCounters.add(slab, BlockBackCounters.GRANT_COPIES, end - start);
            if (failed > 0)
            {
                BlockBackCounters.add(slab, BlockBackCounters.ERRORS_GRANT, 1);
                return BlkifStatus.ERROR.value();
            }
            for (int i = start; i < end; i++)
            {
                final int bytes = (segs.lastSect(i) - segs.firstSect(i) + 1) << SECTOR_SHIFT;
                if (write)
                {
                    store.write(sector, bounceViews[i - start], 0, bytes);
                }
                sector += bytes >>> SECTOR_SHIFT;
                bytesMoved += bytes;
            }
        }
        BlockBackCounters.add(slab, write ? BlockBackCounters.BYTES_WRITTEN : BlockBackCounters.BYTES_READ, bytesMoved);
        return BlkifStatus.OKAY.value();
    }

    private void respond(final long id, final int operation, final short status)
    {
        if (null == engine)
        {
            writeResponse(id, operation, status);
            return;
        }
        lockResponses();
        try
        {
            writeResponse(id, operation, status);
        }
        finally
        {
            unlockResponses();
        }
    }

    /** Publishes the claimed responses, if any; true if the front end must be notified. */
    private boolean pushResponses()
    {
        if (null == engine)
        {
            return ring.unpushedResponses() > 0 && ring.pushResponsesAndCheckNotify();
        }
        lockResponses();
        try
        {
            // read under the lock: a worker's push moves the count too; an event a worker deferred goes out here
            final boolean pushed = ring.unpushedResponses() > 0 && ring.pushResponsesAndCheckNotify();
            final boolean notify = pushed || eventOwed;
            eventOwed = false;
            owedResponses = 0;
            return notify;
        }
        finally
        {
            unlockResponses();
        }
    }

    /** Claims the next response slot and writes every byte of it; the caller owns the response side. */
    private void writeResponse(final long id, final int operation, final short status)
    {
        final int offset = ring.claimResponse();
        response.wrap(ringBuffer, offset).write(id, operation, status);
    }

    /**
     * Takes the response side of the ring. The critical sections are a few stores long and never block, so a waiter
     * spins, then yields its host thread (the holder may be a vCPU the host has descheduled). The acquiring CAS and
     * the releasing store order each holder's claim, slot writes and push after the previous holder's: together with
     * the ring's own release store of {@code rsp_prod}, the front end sees every pushed slot fully written.
     */
    private void lockResponses()
    {
        int spins = 0;
        while (!RESPONSE_LOCK.compareAndSet(this, 0, 1))
        {
            if (++spins < 64)
            {
                Thread.onSpinWait();
            }
            else
            {
                Thread.yield();
            }
        }
    }

    private void unlockResponses()
    {
        RESPONSE_LOCK.setRelease(this, 0);
    }
}
