package io.pvio.frontend.block;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import io.pvio.hypervisor.Domain;
import io.pvio.hypervisor.xenstore.XenStore;
import io.pvio.hypervisor.xenstore.XenStoreConnection;
import io.pvio.hypervisor.xenstore.XenStoreException;
import io.pvio.hypervisor.xenstore.XenbusState;
import io.pvio.hypervisor.xenstore.XenbusStateWatcher;
import io.pvio.hypervisor.xenstore.XenbusValues;
import io.pvio.hypervisor.xenstore.XsError;
import io.pvio.ring.blkif.BlkifOp;
import io.pvio.ring.blkif.BlkifRequestDescriptor;
import io.pvio.ring.blkif.BlkifStatus;
import io.pvio.ring.blkif.BlkifXenbusKeys;

/**
 * blkfront: a guest's virtual block device, the front end of Xen's block split driver.
 * <p>
 * <b>Handshake</b> (run on the device's xenbus thread): when the back end is {@code InitWait} it reads the offered
 * features, takes the smaller of each offer and its {@link BlockFrontOptions}, allocates, inits and grants one ring per
 * queue (multi-page rings on machine-contiguous pages), allocates one event channel per queue, and writes every
 * transport key in one transaction ({@code ring-ref} or {@code ring-ref0..N} with {@code ring-page-order};
 * {@code queue-i/...} with {@code multi-queue-num-queues} when there are several queues; {@code event-channel},
 * {@code protocol}, {@code feature-persistent}), then goes {@code Initialised}. When the back end is
 * {@code Connected} it reads the disk ({@code sectors}, {@code sector-size}, {@code info}, flush and discard) and
 * goes {@code Connected}.
 * <p>
 * <b>I/O</b>: {@link #submit(BlockIo)} takes any sector-aligned read or write, splits it into blkif requests of up to
 * 11 pages, or one indirect request when the back end offers indirect segments, copies data through the device's own
 * pages (never sharing anything but the I/O's bytes), and pushes with the event-index check. Responses are handled on
 * the guest's event-loop thread; each is copied once and checked against the shadow table.
 * <p>
 * <b>Recovery</b>: when the back end goes {@code Closing}/{@code Closed}/away, or shows up at {@code InitWait} while
 * this end is connected (a restarted back end), the device keeps every I/O in flight, ends its ring grants, closes its
 * ports, writes {@code Initialising}, and once the back end is back it redoes the handshake and reissues those I/Os:
 * callers see no error.
 * <p>
 * <b>Hostile back end</b>: a response with an unknown or duplicate id or the wrong operation, impossible ring indexes,
 * or a grant still mapped after its response make the device {@link BlockFrontState#BROKEN}: every I/O fails with
 * {@link BlockFrontException.Reason#BROKEN} naming the violation, and the ring is not used again.
 */
public final class BlockFront implements AutoCloseable
{
    /** How long {@link #close()} waits for the back end to acknowledge, in milliseconds. */
    public static final long CLOSE_WAIT_MILLIS = 5_000;

    private static final long PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
    private static final int WATCH_EVENTS_PER_POLL = 64;

    /** Receives I/O to reissue. */
    interface IoSink
    {
        void accept(BlockIo io);
    }

    private final Domain domain;
    private final XenStoreConnection xs;
    private final String frontendPath;
    private final BlockFrontOptions options;
    private final BlockFrontCounters counters = new BlockFrontCounters();
    private final int devid;
    private final Thread thread;
    private final AtomicInteger nextQueue = new AtomicInteger();
    private final IoSink reissue = this::appendDevicePending;
    private volatile BlockFrontState state = BlockFrontState.INITIALISING;
    private volatile FrontQueue[] queues;
    private volatile String brokenReason;
    private volatile boolean closeRequested;
    private volatile long sectors;
    private volatile int sectorSize = BlkifRequestDescriptor.SECTOR_SIZE;
    private volatile boolean readOnly;
    private volatile boolean flushSupported;
    private volatile boolean discardSupported;
    private volatile boolean persistentGrants;
    private volatile int maxIndirectSegments;
    private volatile int queueCount;
    private volatile int ringPages;
    private FrontQueue[] setUpQueues;
    private BlockIo pendingHead;
    private BlockIo pendingTail;
    private int generation;
    private boolean recovering;
    private boolean closing;
    private String backendPath;
    private int backendId;
    private XenbusStateWatcher watcher;

    private BlockFront(
        final Domain guest, final XenStore xenStore, final String frontendPath, final BlockFrontOptions options)
    {
        this.domain = guest;
        this.frontendPath = frontendPath;
        this.options = options.copy();
        final String last = frontendPath.substring(frontendPath.lastIndexOf('/') + 1);
        this.devid = XenbusValues.parseInt(last, "devid", 0, Integer.MAX_VALUE);
        this.thread = new Thread(this::run, "xenbus-blkfront-d" + guest.id() + '-' + devid);
        this.thread.setDaemon(true);
        this.xs = xenStore.connect(guest.id(), () -> LockSupport.unpark(thread));
    }

    /**
     * Starts a front end on a device directory the toolstack created; returns at once, the handshake runs on the
     * device's xenbus thread. Pages come from the guest's {@link Domain#pageAllocator()}.
     *
     * @param guest        the guest.
     * @param xenStore     the store.
     * @param frontendPath the front end's directory, {@code /local/domain/<fe>/device/vbd/<devid>}.
     * @param options      what to ask for; copied.
     * @return the device.
     */
    public static BlockFront start(
        final Domain guest, final XenStore xenStore, final String frontendPath, final BlockFrontOptions options)
    {
        final BlockFront front = new BlockFront(guest, xenStore, frontendPath, options);
        front.thread.start();
        return front;
    }

    /**
     * Waits until the device is connected.
     *
     * @param timeout how long to wait.
     * @param unit    its unit.
     * @return true if connected.
     * @throws InterruptedException if interrupted.
     */
    public boolean awaitConnected(final long timeout, final TimeUnit unit) throws InterruptedException
    {
        final long deadline = System.nanoTime() + unit.toNanos(timeout);
        while (BlockFrontState.CONNECTED != state)
        {
            if (System.nanoTime() - deadline > 0 || BlockFrontState.BROKEN == state ||
                BlockFrontState.CLOSED == state)
            {
                return false;
            }
            Thread.sleep(1);
        }
        return true;
    }

    /**
     * The device's state.
     *
     * @return the state.
     */
    public BlockFrontState state()
    {
        return state;
    }

    /**
     * The virtual device number.
     *
     * @return the devid.
     */
    public int devid()
    {
        return devid;
    }

    /**
     * The disk's size, once connected.
     *
     * @return 512-byte sectors.
     */
    public long sectors()
    {
        return sectors;
    }

    /**
     * The disk's logical block size, once connected.
     *
     * @return bytes.
     */
    public int sectorSize()
    {
        return sectorSize;
    }

    /**
     * Whether the disk refuses writes.
     *
     * @return true if read-only.
     */
    public boolean isReadOnly()
    {
        return readOnly;
    }

    /**
     * Queues negotiated.
     *
     * @return 1 or more once connected.
     */
    public int queues()
    {
        return queueCount;
    }

    /**
     * Pages per ring negotiated.
     *
     * @return 1, 2, 4, 8 or 16 once connected.
     */
    public int ringPages()
    {
        return ringPages;
    }

    /**
     * Whether persistent grants are in use.
     *
     * @return true if both ends agreed.
     */
    public boolean persistentGrants()
    {
        return persistentGrants;
    }

    /**
     * Most segments per indirect request in use.
     *
     * @return 0 if indirect requests are not used.
     */
    public int maxIndirectSegments()
    {
        return maxIndirectSegments;
    }

    /**
     * Whether flushes are served.
     *
     * @return true if the back end offers them (and has not refused one).
     */
    public boolean flushSupported()
    {
        return flushSupported;
    }

    /**
     * Whether discards are served.
     *
     * @return true if the back end offers them (and has not refused one).
     */
    public boolean discardSupported()
    {
        return discardSupported;
    }

    /**
     * The device's counters.
     *
     * @return the live counters.
     */
    public BlockFrontCounters counters()
    {
        return counters;
    }

    /**
     * Why the device is broken.
     *
     * @return the violation, or null unless {@link BlockFrontState#BROKEN}.
     */
    public String brokenReason()
    {
        return brokenReason;
    }

    /**
     * Submits an I/O. Never blocks; allocates nothing in steady state. The callback runs on the guest's event-loop
     * thread when the I/O completes, or on this thread if it is refused at once. While the device is not connected
     * the I/O waits.
     *
     * @param io a set-up I/O not in flight.
     */
    public void submit(final BlockIo io)
    {
        io.restart();
        final FrontQueue[] qs;
        synchronized (this)
        {
            final BlockFrontState current = state;
            if (BlockFrontState.BROKEN == current || BlockFrontState.CLOSED == current)
            {
                io.failure = terminalFailure(current);
            }
            else if (BlockFrontState.CONNECTED != current)
            {
                appendDevicePending(io);
                return;
            }
        }
        if (null != io.failure)
        {
            complete(io);
            return;
        }
        qs = queues;
        if (null == qs || !qs[(nextQueue.getAndIncrement() & Integer.MAX_VALUE) % qs.length].submit(io))
        {
            synchronized (this)
            {
                appendDevicePending(io);
            }
            dispatchDevicePending();
        }
    }

    /**
     * Reads asynchronously.
     *
     * @param sector first 512-byte sector.
     * @param dst    receives the data.
     * @param offset where in {@code dst}.
     * @param length bytes.
     * @return completed when the data is in {@code dst}, or exceptionally with a {@link BlockFrontException}.
     */
    public CompletableFuture<Void> read(
        final long sector, final MutableDirectBuffer dst, final int offset, final int length)
    {
        return submitForFuture(new BlockIo().read(sector, dst, offset, length));
    }

    /**
     * Writes asynchronously.
     *
     * @param sector first 512-byte sector.
     * @param src    holds the data.
     * @param offset where in {@code src}.
     * @param length bytes.
     * @return completed when the back end acknowledged the write.
     */
    public CompletableFuture<Void> write(final long sector, final DirectBuffer src, final int offset, final int length)
    {
        return submitForFuture(new BlockIo().write(sector, src, offset, length));
    }

    /**
     * Flushes the disk's cache asynchronously.
     *
     * @return completed when every write acknowledged before it is durable.
     */
    public CompletableFuture<Void> flush()
    {
        return submitForFuture(new BlockIo().flush());
    }

    /**
     * Discards sectors asynchronously.
     *
     * @param sector  first 512-byte sector.
     * @param sectors how many.
     * @return completed when the range reads as zeros.
     */
    public CompletableFuture<Void> discard(final long sector, final long sectors)
    {
        return submitForFuture(new BlockIo().discard(sector, sectors));
    }

    /**
     * Reads and waits. Not on the guest's event-loop thread.
     *
     * @param sector first 512-byte sector.
     * @param dst    receives the data.
     * @param offset where in {@code dst}.
     * @param length bytes.
     * @throws BlockFrontException if the read failed.
     */
    public void readBlocking(final long sector, final MutableDirectBuffer dst, final int offset, final int length)
    {
        await(read(sector, dst, offset, length));
    }

    /**
     * Writes and waits. Not on the guest's event-loop thread.
     *
     * @param sector first 512-byte sector.
     * @param src    holds the data.
     * @param offset where in {@code src}.
     * @param length bytes.
     * @throws BlockFrontException if the write failed.
     */
    public void writeBlocking(final long sector, final DirectBuffer src, final int offset, final int length)
    {
        await(write(sector, src, offset, length));
    }

    /**
     * Flushes and waits. Not on the guest's event-loop thread.
     *
     * @throws BlockFrontException if the flush failed.
     */
    public void flushBlocking()
    {
        await(flush());
    }

    /**
     * Closes the device: {@code Closing}, waits (at most {@value #CLOSE_WAIT_MILLIS} ms) for the back end to let go,
     * ends every grant, closes every port, frees every page, {@code Closed}. I/O still outstanding fails with
     * {@link BlockFrontException.Reason#CLOSED}. Idempotent; waits for the xenbus thread.
     */
    @Override
    public void close()
    {
        closeRequested = true;
        LockSupport.unpark(thread);
        if (Thread.currentThread() != thread)
        {
            try
            {
                thread.join(TimeUnit.SECONDS.toMillis(30));
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public String toString()
    {
        return "BlockFront{" + frontendPath + ", state=" + state + ", queues=" + queueCount + '}';
    }

    // ---------------------------------------------------------------------------------------------------------------
    // called by the queues

    /**
     * Checks an I/O against the connected disk; allocates only when it refuses.
     *
     * @return null if the I/O may be issued, else the failure.
     */
    BlockFrontException check(final BlockIo io)
    {
        final BlkifOp op = io.operation();
        if (BlkifOp.FLUSH_DISKCACHE == op)
        {
            return flushSupported ? null : new BlockFrontException(BlockFrontException.Reason.NOT_SUPPORTED,
                "the back end does not offer feature-flush-cache");
        }
        if (BlkifOp.DISCARD == op)
        {
            if (!discardSupported)
            {
                return new BlockFrontException(BlockFrontException.Reason.NOT_SUPPORTED,
                    "the back end does not offer feature-discard");
            }
            if (readOnly)
            {
                return new BlockFrontException(BlockFrontException.Reason.READ_ONLY, "discard on a read-only disk");
            }
            return checkRange(io.sector(), io.discardSectors(), io);
        }
        if (BlkifOp.WRITE == op && readOnly)
        {
            return new BlockFrontException(BlockFrontException.Reason.READ_ONLY, "write on a read-only disk: " + io);
        }
        final int length = io.length();
        if (length <= 0 || 0 != length % sectorSize || null == io.buffer() || io.offset() < 0 ||
            (long)io.offset() + length > io.buffer().capacity() ||
            (BlkifOp.READ == op && !(io.buffer() instanceof MutableDirectBuffer)))
        {
            return new BlockFrontException(BlockFrontException.Reason.INVALID_REQUEST, "length " + length +
                " must be a positive multiple of the " + sectorSize + "-byte sector size inside a buffer of " +
                (null == io.buffer() ? 0 : io.buffer().capacity()) + " bytes from offset " + io.offset() + ": " + io);
        }
        return checkRange(io.sector(), length >>> BlkifRequestDescriptor.SECTOR_SHIFT, io);
    }

    void complete(final BlockIo io)
    {
        BlockFrontException error = io.failure;
        if (null == error && 0 != io.failedStatus)
        {
            if (BlkifStatus.EOPNOTSUPP.value() == io.failedStatus)
            {
                if (BlkifOp.FLUSH_DISKCACHE == io.operation())
                {
                    flushSupported = false;
                }
                else if (BlkifOp.DISCARD == io.operation())
                {
                    discardSupported = false;
                }
                error = new BlockFrontException(BlockFrontException.Reason.NOT_SUPPORTED,
                    "the back end answered EOPNOTSUPP: " + io);
            }
            else
            {
                error = new BlockFrontException(BlockFrontException.Reason.IO_ERROR,
                    "the back end answered status " + io.failedStatus + ": " + io);
            }
        }
        counters.add(BlockFrontCounters.IOS, 1);
        if (null != error)
        {
            counters.add(BlockFrontCounters.ERRORS, 1);
        }
        final BlockIoCallback callback = io.callback();
        if (null != callback)
        {
            try
            {
                callback.onComplete(io, error);
            }
            catch (final RuntimeException ignore)
            {
                // a caller's callback failing must not stop the completion of the others
            }
        }
    }

    void onBroken(final String reason)
    {
        final FrontQueue[] qs;
        synchronized (this)
        {
            if (BlockFrontState.BROKEN == state || BlockFrontState.CLOSED == state)
            {
                return;
            }
            brokenReason = reason;
            state = BlockFrontState.BROKEN;
            qs = null != queues ? queues : setUpQueues;
            queues = null;
            setUpQueues = null;
        }
        failEverything(qs, new BlockFrontException(BlockFrontException.Reason.BROKEN,
            "the back end broke the protocol: " + reason), domain.isAlive());
    }

    // ---------------------------------------------------------------------------------------------------------------
    // xenbus thread

    private void run()
    {
        boolean dead = false;
        try
        {
            backendPath = xs.readString(frontendPath + '/' + BlkifXenbusKeys.BACKEND);
            backendId = XenbusValues.parseInt(xs.readString(frontendPath + '/' + BlkifXenbusKeys.BACKEND_ID),
                BlkifXenbusKeys.BACKEND_ID, 0, XenStore.MAX_DOMAIN_ID);
            watcher = new XenbusStateWatcher(xs, frontendPath, backendPath, this::onBackendState);
            watcher.start();
            while (!closeRequested)
            {
                if (xs.isClosed() || !domain.isAlive())
                {
                    dead = true;
                    break;
                }
                if (0 == xs.pollWatchEvents(watcher, WATCH_EVENTS_PER_POLL) && !closeRequested)
                {
                    LockSupport.parkNanos(this, PARK_NANOS);
                }
            }
        }
        catch (final RuntimeException ex)
        {
            dead = xs.isClosed() || !domain.isAlive();
            if (!dead)
            {
                onBroken("xenbus handshake failed: " + ex.getMessage());
            }
        }
        try
        {
            shutdown(!dead && domain.isAlive() && !xs.isClosed());
        }
        finally
        {
            if (null != watcher && !xs.isClosed())
            {
                watcher.stop();
            }
            if (!xs.isClosed())
            {
                xs.close();
            }
        }
    }

    private void onBackendState(final XenbusState previous, final XenbusState current)
    {
        if (closing || BlockFrontState.BROKEN == state || BlockFrontState.CLOSED == state)
        {
            return;
        }
        switch (current)
        {
            case INIT_WAIT:
                if (null != queues || null != setUpQueues)
                {
                    disconnectForRecovery();
                }
                setUp();
                break;
            case CONNECTED:
                if (null != setUpQueues && null == queues)
                {
                    finishConnect();
                }
                break;
            case CLOSING:
            case CLOSED:
            case UNKNOWN:
                if (null != queues || null != setUpQueues)
                {
                    disconnectForRecovery();
                }
                switchState(XenbusState.INITIALISING);
                break;
            default:
                break;
        }
    }

    private void setUp()
    {
        final int backMaxQueues = optionalInt(BlkifXenbusKeys.MULTI_QUEUE_MAX_QUEUES, 1, 1 << 16, 1);
        final int backMaxOrder = optionalInt(BlkifXenbusKeys.MAX_RING_PAGE_ORDER, 0, 1 << 16, 0);
        final boolean backPersistent = 1 == optionalInt(BlkifXenbusKeys.FEATURE_PERSISTENT, 0, 1, 0);
        final int backIndirect = optionalInt(BlkifXenbusKeys.FEATURE_MAX_INDIRECT_SEGMENTS, 0, 1 << 30, 0);
        final int nQueues = Math.min(options.queues(), backMaxQueues);
        final int order = Math.min(options.ringPageOrder(), Math.min(backMaxOrder,
            BlkifXenbusKeys.MAX_RING_PAGE_ORDER_LIMIT));
        final boolean persistent = options.persistentGrants() && backPersistent;
        final int indirect = Math.min(Math.min(options.maxIndirectSegments(), backIndirect),
            BlkifRequestDescriptor.MAX_INDIRECT_SEGMENTS);
        final FrontQueue[] made = new FrontQueue[nQueues];
        try
        {
            for (int q = 0; q < nQueues; q++)
            {
                made[q] = new FrontQueue(this, q, domain, backendId, persistent, counters, 1 << order, indirect);
            }
            xs.transaction(XenbusStateWatcher.SWITCH_STATE_ATTEMPTS, (tx) ->
            {
                writeTransportKeys(tx, made, order, persistent);
                return null;
            });
        }
        catch (final RuntimeException ex)
        {
            final BlockFrontException failure = new BlockFrontException(BlockFrontException.Reason.BROKEN,
                "could not set up the rings: " + ex.getMessage());
            for (final FrontQueue queue : made)
            {
                if (null != queue)
                {
                    queue.failAll(failure, true);
                }
            }
            throw ex;
        }
        for (final FrontQueue queue : made)
        {
            queue.bind();
        }
        queueCount = nQueues;
        ringPages = 1 << order;
        persistentGrants = persistent;
        maxIndirectSegments = indirect > BlkifRequestDescriptor.MAX_SEGMENTS_PER_REQUEST ? indirect : 0;
        synchronized (this)
        {
            setUpQueues = made;
        }
        switchState(XenbusState.INITIALISED);
    }

    private void writeTransportKeys(final int tx, final FrontQueue[] made, final int order, final boolean persistent)
    {
        removeQuietly(tx, BlkifXenbusKeys.RING_REF);
        for (int p = 0; p < 1 << BlkifXenbusKeys.MAX_RING_PAGE_ORDER_LIMIT; p++)
        {
            removeQuietly(tx, BlkifXenbusKeys.ringRef(p));
        }
        removeQuietly(tx, BlkifXenbusKeys.EVENT_CHANNEL);
        removeQuietly(tx, BlkifXenbusKeys.RING_PAGE_ORDER);
        removeQuietly(tx, BlkifXenbusKeys.MULTI_QUEUE_NUM_QUEUES);
        for (int q = 0; q < BlkifXenbusKeys.MAX_QUEUES_LIMIT; q++)
        {
            removeQuietly(tx, BlkifXenbusKeys.queueDirectory(q));
        }
        if (order > 0)
        {
            write(tx, BlkifXenbusKeys.RING_PAGE_ORDER, Integer.toString(order));
        }
        if (made.length > 1)
        {
            write(tx, BlkifXenbusKeys.MULTI_QUEUE_NUM_QUEUES, Integer.toString(made.length));
        }
        for (int q = 0; q < made.length; q++)
        {
            final String dir = 1 == made.length ? "" : BlkifXenbusKeys.queueDirectory(q) + '/';
            final int[] refs = made[q].ringRefs();
            for (int p = 0; p < refs.length; p++)
            {
                write(tx, dir + (0 == order ? BlkifXenbusKeys.RING_REF : BlkifXenbusKeys.ringRef(p)),
                    Integer.toUnsignedString(refs[p]));
            }
            write(tx, dir + BlkifXenbusKeys.EVENT_CHANNEL, Integer.toString(made[q].port()));
        }
        write(tx, BlkifXenbusKeys.PROTOCOL, BlkifXenbusKeys.PROTOCOL_X86_64);
        write(tx, BlkifXenbusKeys.FEATURE_PERSISTENT, persistent ? "1" : "0");
    }

    private void finishConnect()
    {
        final long diskSectors = XenbusValues.parseDecimal(readBack(BlkifXenbusKeys.SECTORS), BlkifXenbusKeys.SECTORS, 1,
            Long.MAX_VALUE >>> BlkifRequestDescriptor.SECTOR_SHIFT);
        final int size = optionalInt(BlkifXenbusKeys.SECTOR_SIZE, BlkifRequestDescriptor.SECTOR_SIZE, 4096,
            BlkifRequestDescriptor.SECTOR_SIZE);
        if (0 != (size & (size - 1)))
        {
            throw new IllegalArgumentException(BlkifXenbusKeys.SECTOR_SIZE + "=" + size + " (expected a power of 2)");
        }
        final int info = optionalInt(BlkifXenbusKeys.INFO, 0, Integer.MAX_VALUE, 0);
        sectors = diskSectors;
        sectorSize = size;
        readOnly = 0 != (info & BlkifXenbusKeys.VDISK_READONLY);
        flushSupported = 1 == optionalInt(BlkifXenbusKeys.FEATURE_FLUSH_CACHE, 0, 1, 0);
        discardSupported = 1 == optionalInt(BlkifXenbusKeys.FEATURE_DISCARD, 0, 1, 0);
        synchronized (this)
        {
            queues = setUpQueues;
            setUpQueues = null;
            state = BlockFrontState.CONNECTED;
        }
        if (recovering)
        {
            recovering = false;
            counters.add(BlockFrontCounters.RECONNECTS, 1);
        }
        switchState(XenbusState.CONNECTED);
        dispatchDevicePending();
    }

    private void disconnectForRecovery()
    {
        final FrontQueue[] qs;
        final int gen;
        synchronized (this)
        {
            qs = null != queues ? queues : setUpQueues;
            queues = null;
            setUpQueues = null;
            state = BlockFrontState.RECOVERING;
            gen = ++generation;
        }
        recovering = true;
        if (null != qs)
        {
            for (final FrontQueue queue : qs)
            {
                queue.drainForRecovery(this::reissueLocked, gen, true);
            }
        }
    }

    private void reissueLocked(final BlockIo io)
    {
        synchronized (this)
        {
            reissue.accept(io);
        }
    }

    private void shutdown(final boolean hypercallsAllowed)
    {
        if (hypercallsAllowed && BlockFrontState.BROKEN != state)
        {
            closing = true;
            switchState(XenbusState.CLOSING);
            final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(CLOSE_WAIT_MILLIS);
            while (System.nanoTime() - deadline < 0)
            {
                final XenbusState back = watcher.refresh();
                if (XenbusState.CLOSING == back || XenbusState.CLOSED == back || XenbusState.UNKNOWN == back)
                {
                    break;
                }
                xs.pollWatchEvents(watcher, WATCH_EVENTS_PER_POLL);
                LockSupport.parkNanos(this, PARK_NANOS);
            }
        }
        closing = true;
        final FrontQueue[] qs;
        synchronized (this)
        {
            qs = null != queues ? queues : setUpQueues;
            queues = null;
            setUpQueues = null;
            if (BlockFrontState.BROKEN != state)
            {
                state = BlockFrontState.CLOSED;
            }
        }
        failEverything(qs, new BlockFrontException(BlockFrontException.Reason.CLOSED, "device " + frontendPath +
            " closed"), hypercallsAllowed);
        state = BlockFrontState.CLOSED;
        if (hypercallsAllowed)
        {
            switchState(XenbusState.CLOSED);
        }
    }

    private void failEverything(final FrontQueue[] qs, final BlockFrontException failure, final boolean hypercalls)
    {
        if (null != qs)
        {
            for (final FrontQueue queue : qs)
            {
                queue.failAll(failure, hypercalls);
            }
        }
        BlockIo io;
        synchronized (this)
        {
            io = pendingHead;
            pendingHead = null;
            pendingTail = null;
        }
        while (null != io)
        {
            final BlockIo next = io.next;
            io.next = null;
            io.failure = failure;
            complete(io);
            io = next;
        }
    }

    private void appendDevicePending(final BlockIo io)
    {
        io.restart();
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

    private void dispatchDevicePending()
    {
        BlockIo io;
        final FrontQueue[] qs;
        synchronized (this)
        {
            if (BlockFrontState.CONNECTED != state || null == queues)
            {
                return;
            }
            qs = queues;
            io = pendingHead;
            pendingHead = null;
            pendingTail = null;
        }
        while (null != io)
        {
            final BlockIo next = io.next;
            io.next = null;
            if (!qs[(nextQueue.getAndIncrement() & Integer.MAX_VALUE) % qs.length].submit(io))
            {
                synchronized (this)
                {
                    appendDevicePending(io);
                }
            }
            io = next;
        }
    }

    private BlockFrontException terminalFailure(final BlockFrontState current)
    {
        return BlockFrontState.BROKEN == current ?
            new BlockFrontException(BlockFrontException.Reason.BROKEN, "device is broken: " + brokenReason) :
            new BlockFrontException(BlockFrontException.Reason.CLOSED, "device " + frontendPath + " is closed");
    }

    private BlockFrontException checkRange(final long sector, final long count, final BlockIo io)
    {
        final long end = sector + count;
        if (sector < 0 || count < 0 || end < sector || end > sectors ||
            0 != (sector & ((sectorSize >>> BlkifRequestDescriptor.SECTOR_SHIFT) - 1)))
        {
            return new BlockFrontException(BlockFrontException.Reason.INVALID_REQUEST, "sectors [" + sector + ", " +
                end + ") are not aligned to " + sectorSize + " bytes inside the disk's " + sectors + " sectors: " + io);
        }
        return null;
    }

    private void switchState(final XenbusState newState)
    {
        try
        {
            watcher.switchState(newState);
        }
        catch (final XenStoreException ex)
        {
            if (XsError.ENOENT != ex.error())
            {
                throw ex;
            }
        }
    }

    private String readBack(final String node)
    {
        return xs.readString(backendPath + '/' + node);
    }

    private int optionalInt(final String node, final int min, final int max, final int absent)
    {
        try
        {
            return XenbusValues.parseInt(readBack(node), node, min, max);
        }
        catch (final XenStoreException ex)
        {
            if (XsError.ENOENT == ex.error())
            {
                return absent;
            }
            throw ex;
        }
    }

    private void write(final int tx, final String node, final String value)
    {
        xs.write(tx, frontendPath + '/' + node, value);
    }

    private void removeQuietly(final int tx, final String node)
    {
        try
        {
            xs.rm(tx, frontendPath + '/' + node);
        }
        catch (final XenStoreException ex)
        {
            if (XsError.ENOENT != ex.error())
            {
                throw ex;
            }
        }
    }

    private CompletableFuture<Void> submitForFuture(final BlockIo io)
    {
        final CompletableFuture<Void> future = new CompletableFuture<>();
        io.callback((done, error) ->
        {
            if (null == error)
            {
                future.complete(null);
            }
            else
            {
                future.completeExceptionally(error);
            }
        });
        submit(io);
        return future;
    }

    private static void await(final CompletableFuture<Void> future)
    {
        try
        {
            future.get();
        }
        catch (final ExecutionException ex)
        {
            if (ex.getCause() instanceof BlockFrontException)
            {
                throw (BlockFrontException)ex.getCause();
            }
            throw new BlockFrontException(BlockFrontException.Reason.IO_ERROR, String.valueOf(ex.getCause()));
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new BlockFrontException(BlockFrontException.Reason.CLOSED, "interrupted while waiting for the I/O");
        }
    }

}
