package io.pvio.frontend.net;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import io.pvio.hypervisor.Domain;
import io.pvio.hypervisor.grant.GrantTable;
import io.pvio.hypervisor.xenstore.XenStore;
import io.pvio.hypervisor.xenstore.XenStoreConnection;
import io.pvio.hypervisor.xenstore.XenStoreException;
import io.pvio.hypervisor.xenstore.XenbusState;
import io.pvio.hypervisor.xenstore.XenbusStateWatcher;
import io.pvio.hypervisor.xenstore.XenbusValues;
import io.pvio.hypervisor.xenstore.XsError;
import io.pvio.ring.FrontRing;
import io.pvio.ring.RingGeometry;
import io.pvio.ring.RingProtocolException;
import io.pvio.ring.netif.NetifDescriptor;
import io.pvio.ring.netif.NetifDescriptor.RxRequest;
import io.pvio.ring.netif.NetifDescriptor.RxResponse;
import io.pvio.ring.netif.NetifDescriptor.TxRequest;
import io.pvio.ring.netif.NetifDescriptor.TxResponse;
import io.pvio.ring.netif.NetifXenbusKeys;

/**
 * netfront: a guest's virtual network interface, the front end of Xen's network split driver, with one queue (a
 * transmit ring, a receive ring, one event channel for both).
 * <p>
 * <b>Handshake</b> (on the interface's xenbus thread): when the back end is {@code InitWait} it checks
 * {@code feature-rx-copy=1}, takes {@code feature-sg} if both ends want it, reads the MAC from its own directory (the
 * toolstack's {@code mac}, else the back end's), allocates, inits and grants both rings, allocates the event channel,
 * posts its receive buffers, writes {@code tx-ring-ref}, {@code rx-ring-ref}, {@code event-channel},
 * {@code request-rx-copy=1}, {@code feature-rx-notify=1} and {@code feature-sg} in one transaction and goes
 * {@code Connected} (netfront skips {@code Initialised}). It is {@link NetFrontState#CONNECTED} once the back end is.
 * <p>
 * <b>Transmit</b>: {@link #transmit(DirectBuffer, int, int)} copies the frame into the interface's own pages (so
 * nothing but the frame's bytes is shared), one page per fragment, grants each read-only, and pushes a chain of
 * requests: the first with the frame's total size, each with {@code more_data} but the last. A full ring is
 * back-pressure: it returns false and allocates nothing. Each response ends its fragment's grant.
 * <p>
 * <b>Receive</b>: every buffer posted is a page granted writable for that one use; a response ends the grant,
 * chains of {@code more_data} buffers are reassembled, and the frame goes to the {@link NetReceiver} on the guest's
 * event-loop thread; the buffer is granted and posted again, and the back end is notified if it asked.
 * <p>
 * <b>Hostile back end</b>: impossible ring indexes, a response id out of range or not outstanding, an unknown status,
 * a receive {@code offset + status} beyond the page, an extra-info slot it was never asked for, a frame longer than
 * 18 buffers or 64 KiB, or a grant still in use after its response make the interface {@link NetFrontState#BROKEN}
 * ({@link #brokenReason()}); the rings are not used again.
 */
public final class NetFront implements AutoCloseable
{
    /** How long {@link #close()} waits for the back end to let go, in milliseconds. */
    public static final long CLOSE_WAIT_MILLIS = 5_000;

    /** Bytes of an Ethernet header, the smallest frame. */
    public static final int HEADER_BYTES = 14;

    private static final long PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
    private static final int WATCH_EVENTS_PER_POLL = 64;
    private static final int PAGE = NetifDescriptor.PAGE_SIZE;
    private static final int RING_SIZE = NetifDescriptor.RING_ENTRIES_PER_PAGE;
    private static final int MAX_SLOTS = NetifDescriptor.NR_SLOTS_MIN;
    private static final int REASSEMBLY_BYTES = MAX_SLOTS * PAGE;
    private static final int TX_HEADROOM = 64;
    private static final int RX_REFILL_BATCH = 16;

    private final Domain domain;
    private final GrantTable grants;
    private final XenStoreConnection xs;
    private final String frontendPath;
    private final NetFrontOptions options;
    private final NetReceiver receiver;
    private final NetFrontCounters counters = new NetFrontCounters();
    private final int devid;
    private final Thread thread;
    private volatile NetFrontState state = NetFrontState.INITIALISING;
    private volatile String brokenReason;
    private volatile boolean closeRequested;
    private volatile long mac = -1;
    private volatile boolean scatterGather;
    private String backendPath;
    private int backendId;
    private XenbusStateWatcher watcher;
    private boolean setUp;

    // shared set-up: written by the xenbus thread before the handler is bound and the state is published
    private long txRingGfn = -1;
    private long rxRingGfn = -1;
    private int txRingRef = -1;
    private int rxRingRef = -1;
    private int port = -1;
    private FrontRing txRing;
    private UnsafeBuffer txRingBuffer;
    private FrontRing rxRing;
    private UnsafeBuffer rxRingBuffer;

    // transmit side, under txLock
    private final Object txLock = new Object();
    private final long[] txGfn = new long[RING_SIZE];
    private final int[] txRef = new int[RING_SIZE];
    private final boolean[] txInFlight = new boolean[RING_SIZE];
    private final boolean[] txLeaked = new boolean[RING_SIZE];
    private final int[] txFreeIds = new int[RING_SIZE];
    private final int[] txPieceRefs = new int[MAX_SLOTS];
    private final int[] txPieceIds = new int[MAX_SLOTS];
    private final int[] txChunk = new int[MAX_SLOTS];
    private final DirectBuffer[] singleBuffer = new DirectBuffer[1];
    private final int[] singleOffset = new int[1];
    private final int[] singleLength = new int[1];
    private final UnsafeBuffer txResponse = new UnsafeBuffer(new byte[TxResponse.LENGTH]);
    private final UnsafeBuffer txPage = new UnsafeBuffer(0, 0);
    private int txFreeCount;
    private int txPages;
    private boolean txOpen;
    private volatile String txViolation;

    // receive side, under rxLock
    private final Object rxLock = new Object();
    private final int rxBuffers;
    private final long[] rxGfn;
    private final int[] rxRef;
    private final boolean[] rxPosted;
    private final boolean[] rxLeaked;
    private final int[] rxFree;
    private final UnsafeBuffer rxResponse = new UnsafeBuffer(new byte[RxResponse.LENGTH]);
    private final UnsafeBuffer rxPage = new UnsafeBuffer(0, 0);
    private final UnsafeBuffer reassembly;
    private int rxFreeCount;
    private int rxPagesAllocated;
    private boolean rxOpen;
    private int chainSlots;
    private int chainBytes;
    private boolean chainError;
    private int chainFirstId = -1;
    private int chainFirstOffset;

    private NetFront(
        final Domain guest,
        final XenStore xenStore,
        final String frontendPath,
        final NetFrontOptions options,
        final NetReceiver receiver)
    {
        this.domain = guest;
        this.grants = guest.grantTable();
        this.frontendPath = frontendPath;
        this.options = options.copy();
        this.receiver = receiver;
        final String last = frontendPath.substring(frontendPath.lastIndexOf('/') + 1);
        this.devid = XenbusValues.parseInt(last, "devid", 0, Integer.MAX_VALUE);
        this.rxBuffers = this.options.rxBuffers();
        this.rxGfn = new long[Math.max(1, rxBuffers)];
        this.rxRef = new int[Math.max(1, rxBuffers)];
        this.rxPosted = new boolean[Math.max(1, rxBuffers)];
        this.rxLeaked = new boolean[Math.max(1, rxBuffers)];
        this.rxFree = new int[Math.max(1, rxBuffers)];
        this.reassembly = new UnsafeBuffer(new byte[REASSEMBLY_BYTES]);
        this.thread = new Thread(this::run, "xenbus-netfront-d" + guest.id() + '-' + devid);
        this.thread.setDaemon(true);
        this.xs = xenStore.connect(guest.id(), () -> LockSupport.unpark(thread));
    }

    /**
     * Starts an interface on a vif directory the toolstack created; returns at once, the handshake runs on the
     * interface's xenbus thread. Pages come from the guest's {@link Domain#pageAllocator()}.
     *
     * @param guest        the guest.
     * @param xenStore     the store.
     * @param frontendPath the front end's directory, {@code /local/domain/<fe>/device/vif/<devid>}.
     * @param options      what to ask for; copied.
     * @param receiver     told about every frame received, on the guest's event-loop thread.
     * @return the interface.
     */
    public static NetFront start(
        final Domain guest,
        final XenStore xenStore,
        final String frontendPath,
        final NetFrontOptions options,
        final NetReceiver receiver)
    {
        final NetFront front = new NetFront(guest, xenStore, frontendPath, options, receiver);
        front.thread.start();
        return front;
    }

    /**
     * Waits until the interface is connected.
     *
     * @param timeout how long to wait.
     * @param unit    its unit.
     * @return true if connected.
     * @throws InterruptedException if interrupted.
     */
    public boolean awaitConnected(final long timeout, final TimeUnit unit) throws InterruptedException
    {
        final long deadline = System.nanoTime() + unit.toNanos(timeout);
        while (NetFrontState.CONNECTED != state)
        {
            if (System.nanoTime() - deadline > 0 || NetFrontState.BROKEN == state || NetFrontState.CLOSED == state)
            {
                return false;
            }
            Thread.sleep(1);
        }
        return true;
    }

    /**
     * The interface's state.
     *
     * @return the state.
     */
    public NetFrontState state()
    {
        return state;
    }

    /**
     * The interface's MAC address, once set up.
     *
     * @return the address as a 48-bit number (first byte most significant), or -1 before the handshake.
     */
    public long mac()
    {
        return mac;
    }

    /**
     * Whether frames larger than a page may be sent and received.
     *
     * @return true if both ends agreed on scatter-gather.
     */
    public boolean scatterGather()
    {
        return scatterGather;
    }

    /**
     * The largest frame {@link #transmit} accepts.
     *
     * @return 65,535 bytes with scatter-gather, else a page.
     */
    public int maxFrameBytes()
    {
        return scatterGather ? NetifDescriptor.MAX_TX_SIZE : PAGE - TX_HEADROOM;
    }

    /**
     * The interface's counters.
     *
     * @return the live counters.
     */
    public NetFrontCounters counters()
    {
        return counters;
    }

    /**
     * Why the interface is broken.
     *
     * @return the violation, or null unless {@link NetFrontState#BROKEN}.
     */
    public String brokenReason()
    {
        return brokenReason;
    }

    /**
     * Transmits one frame. Never blocks; allocates nothing. The frame is copied before this returns.
     *
     * @param frame  the buffer holding the frame, Ethernet header first.
     * @param offset where it starts.
     * @param length its bytes, {@value #HEADER_BYTES} to {@link #maxFrameBytes()}.
     * @return true if queued to the back end; false if the ring or the interface's pages are full (try again after
     *         responses come back) or the interface is not connected.
     * @throws IllegalArgumentException if the length is out of range.
     */
    public boolean transmit(final DirectBuffer frame, final int offset, final int length)
    {
        final boolean queued;
        synchronized (txLock)
        {
            singleBuffer[0] = frame;
            singleOffset[0] = offset;
            singleLength[0] = length;
            try
            {
                queued = transmitLocked(singleBuffer, singleOffset, singleLength, 1);
            }
            finally
            {
                singleBuffer[0] = null;
            }
        }
        reportTxViolation();
        return queued;
    }

    /**
     * Transmits one frame given as several pieces (scatter-gather): each piece goes out in fragments of its own.
     * Never blocks; allocates nothing.
     *
     * @param buffers the pieces' buffers, in order.
     * @param offsets where each piece starts.
     * @param lengths each piece's bytes; empty pieces are skipped.
     * @param count   how many pieces.
     * @return true if queued, false on back-pressure or when not connected.
     * @throws IllegalArgumentException if the total is out of range or the frame needs more than
     *                                  {@value NetifDescriptor#NR_SLOTS_MIN} slots.
     */
    public boolean transmit(final DirectBuffer[] buffers, final int[] offsets, final int[] lengths, final int count)
    {
        final boolean queued;
        synchronized (txLock)
        {
            queued = transmitLocked(buffers, offsets, lengths, count);
        }
        reportTxViolation();
        return queued;
    }

    private void reportTxViolation()
    {
        final String violation = txViolation;
        if (null != violation)
        {
            onBroken(violation);
        }
    }

    /**
     * Closes the interface: {@code Closing}, waits (at most {@value #CLOSE_WAIT_MILLIS} ms) for the back end to let
     * go, ends every grant, closes the port, frees every page, {@code Closed}. Idempotent; waits for the xenbus
     * thread.
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
        return "NetFront{" + frontendPath + ", state=" + state + '}';
    }

    // ---------------------------------------------------------------------------------------------------------------
    // transmit

    private boolean transmitLocked(
        final DirectBuffer[] buffers, final int[] offsets, final int[] lengths, final int count)
    {
        int total = 0;
        int slots = 0;
        for (int i = 0; i < count; i++)
        {
            final int n = lengths[i];
            if (n < 0)
            {
                throw new IllegalArgumentException("lengths[" + i + "]=" + n + " (expected >= 0)");
            }
            total += n;
            slots += (n + PAGE - TX_HEADROOM - 1) / (PAGE - TX_HEADROOM);
        }
        if (total < HEADER_BYTES || total > maxFrameBytes() || slots > MAX_SLOTS || (slots > 1 && !scatterGather))
        {
            throw new IllegalArgumentException("frame of " + total + " bytes in " + slots + " slots (expected: " +
                HEADER_BYTES + " <= length <= " + maxFrameBytes() + ", slots <= " +
                (scatterGather ? MAX_SLOTS : 1) + ")");
        }
        if (!txOpen)
        {
            return false;
        }
        final FrontRing ring = txRing;
        if (ring.freeRequests() < slots || txFreeCount < slots)
        {
            // reclaim what the back end has answered since the last event (the receive path may be transmitting
            // from a long pass, before the event handler comes back to the transmit ring)
            String violation;
            try
            {
                violation = reapTx();
            }
            catch (final RingProtocolException ex)
            {
                violation = ex.getMessage();
            }
            if (null != violation)
            {
                txOpen = false;
                txViolation = violation;
                return false;
            }
            if (ring.freeRequests() < slots || txFreeCount < slots)
            {
                counters.add(NetFrontCounters.TX_BUSY, 1);
                return false;
            }
        }
        // copy and grant every fragment first: claimed ring slots cannot be given back
        int made = 0;
        for (int i = 0; i < count; i++)
        {
            final int n = lengths[i];
            for (int done = 0; done < n; )
            {
                final int chunk = Math.min(n - done, PAGE - TX_HEADROOM);
                final int id = txFreeIds[--txFreeCount];
                domain.wrapGuestFrame(txGfn[id], txPage);
                txPage.putBytes(TX_HEADROOM, buffers[i], offsets[i] + done, chunk);
                counters.add(NetFrontCounters.TX_COPIES, 1);
                final int ref = grants.grantAccess(backendId, txGfn[id], true);
                if (ref < 0)
                {
                    txFreeIds[txFreeCount++] = id;
                    unwindTx(made);
                    counters.add(NetFrontCounters.TX_BUSY, 1);
                    return false;
                }
                counters.add(NetFrontCounters.TX_GRANTS_ISSUED, 1);
                txPieceIds[made] = id;
                txPieceRefs[made] = ref;
                txChunk[made] = chunk;
                made++;
                done += chunk;
            }
        }
        final UnsafeBuffer shared = txRingBuffer;
        for (int s = 0; s < made; s++)
        {
            final int id = txPieceIds[s];
            final int slot = ring.claimRequest();
            shared.putInt(slot + TxRequest.GREF_OFFSET, txPieceRefs[s]);
            shared.putShort(slot + TxRequest.OFFSET_OFFSET, (short)TX_HEADROOM);
            shared.putShort(slot + TxRequest.FLAGS_OFFSET, (short)(s < made - 1 ? TxRequest.FLAG_MORE_DATA : 0));
            shared.putShort(slot + TxRequest.ID_OFFSET, (short)id);
            shared.putShort(slot + TxRequest.SIZE_OFFSET, (short)(0 == s ? total : txChunk[s]));
            txRef[id] = txPieceRefs[s];
            txInFlight[id] = true;
        }
        counters.add(NetFrontCounters.TX_FRAMES, 1);
        counters.add(NetFrontCounters.TX_BYTES, total);
        counters.add(NetFrontCounters.TX_SLOTS, made);
        // req_prod is published with a volatile store: the back end sees the requests before the index, and the
        // index is visible before its req_event is read (RING_PUSH_REQUESTS_AND_CHECK_NOTIFY)
        if (ring.pushRequestsAndCheckNotify())
        {
            notifyBackend(NetFrontCounters.TX_NOTIFICATIONS_SENT);
        }
        return true;
    }

    private void unwindTx(final int made)
    {
        for (int s = made - 1; s >= 0; s--)
        {
            if (grants.endAccess(txPieceRefs[s]))
            {
                counters.add(NetFrontCounters.TX_GRANTS_ENDED, 1);
            }
            txFreeIds[txFreeCount++] = txPieceIds[s];
        }
    }

    /** Reclaims answered fragments; returns a violation or null. Under txLock. */
    private String reapTx()
    {
        final FrontRing ring = txRing;
        final UnsafeBuffer rsp = txResponse;
        while (ring.copyNextResponse(rsp, 0))
        {
            final int id = rsp.getShort(TxResponse.ID_OFFSET) & 0xFFFF;
            final short status = rsp.getShort(TxResponse.STATUS_OFFSET);
            if (id >= RING_SIZE || !txInFlight[id])
            {
                return "tx response id " + id + " is not outstanding";
            }
            if (NetifDescriptor.RSP_OKAY != status && NetifDescriptor.RSP_ERROR != status &&
                NetifDescriptor.RSP_DROPPED != status)
            {
                return "tx response id " + id + " has status " + status + " (expected OKAY, ERROR or DROPPED)";
            }
            txInFlight[id] = false;
            if (!grants.endAccess(txRef[id]))
            {
                counters.addShared(NetFrontCounters.LEAKED_PAGES, 1);
                txLeaked[id] = true; // the back end may still write it: never reuse or free the page
                return "tx grant " + txRef[id] + " still in use by the back end after its response";
            }
            counters.add(NetFrontCounters.TX_GRANTS_ENDED, 1);
            if (NetifDescriptor.RSP_OKAY != status)
            {
                counters.add(NetFrontCounters.TX_ERRORS, 1);
            }
            txFreeIds[txFreeCount++] = id;
        }
        return null;
    }

    // ---------------------------------------------------------------------------------------------------------------
    // receive

    /** Posts every free buffer the ring has room for; notifies if the back end asked. Under rxLock. */
    private void postRx()
    {
        final FrontRing ring = rxRing;
        final UnsafeBuffer shared = rxRingBuffer;
        int posted = 0;
        while (rxFreeCount > 0 && ring.freeRequests() > 0)
        {
            final int id = rxFree[rxFreeCount - 1];
            final int ref = grants.grantAccess(backendId, rxGfn[id], false);
            if (ref < 0)
            {
                break;
            }
            rxFreeCount--;
            counters.add(NetFrontCounters.RX_GRANTS_ISSUED, 1);
            final int slot = ring.claimRequest();
            shared.putShort(slot + RxRequest.ID_OFFSET, (short)id);
            shared.putShort(slot + RxRequest.PAD_OFFSET, (short)0);
            shared.putInt(slot + RxRequest.GREF_OFFSET, ref);
            rxRef[id] = ref;
            rxPosted[id] = true;
            posted++;
        }
        // feature-rx-notify: tell the back end buffers came, if its req_event asks
        if (posted > 0 && ring.pushRequestsAndCheckNotify())
        {
            notifyBackend(NetFrontCounters.RX_NOTIFICATIONS_SENT);
        }
    }

    /** Completes received frames; returns a violation or null. Under rxLock. */
    private String reapRx()
    {
        final FrontRing ring = rxRing;
        final UnsafeBuffer rsp = rxResponse;
        while (ring.copyNextResponse(rsp, 0))
        {
            final int id = rsp.getShort(RxResponse.ID_OFFSET) & 0xFFFF;
            final int offset = rsp.getShort(RxResponse.OFFSET_OFFSET) & 0xFFFF;
            final int flags = rsp.getShort(RxResponse.FLAGS_OFFSET) & 0xFFFF;
            final int status = rsp.getShort(RxResponse.STATUS_OFFSET);
            if (id >= rxBuffers || !rxPosted[id])
            {
                return "rx response id " + id + " is not a posted buffer";
            }
            rxPosted[id] = false;
            if (!grants.endAccess(rxRef[id]))
            {
                counters.addShared(NetFrontCounters.LEAKED_PAGES, 1);
                rxLeaked[id] = true;
                return "rx grant " + rxRef[id] + " still in use by the back end after its response";
            }
            counters.add(NetFrontCounters.RX_GRANTS_ENDED, 1);
            counters.add(NetFrontCounters.RX_SLOTS, 1);
            if (0 != (flags & RxResponse.FLAG_EXTRA_INFO))
            {
                return "rx response id " + id + " flags extra info, which was never asked for";
            }
            if (status >= 0 && offset + status > PAGE)
            {
                return "rx response id " + id + ": offset " + offset + " + status " + status + " is beyond the page";
            }
            chainSlots++;
            if (chainSlots > MAX_SLOTS)
            {
                return "rx frame takes more than " + MAX_SLOTS + " buffers";
            }
            if (status < 0 && NetifDescriptor.RSP_ERROR != status && NetifDescriptor.RSP_DROPPED != status)
            {
                return "rx response " + id + " with unknown status " + status;
            }
            if (status >= 0 && chainBytes + status > NetifDescriptor.MAX_TX_SIZE)
            {
                return "rx frame longer than " + NetifDescriptor.MAX_TX_SIZE + " bytes";
            }
            if (status < 0)
            {
                chainError = true;
            }
            else if (!chainError)
            {
                if (1 == chainSlots && 0 == (flags & RxResponse.FLAG_MORE_DATA))
                {
                    chainFirstId = id; // a one-buffer frame is handed over in place
                    chainFirstOffset = offset;
                }
                else
                {
                    domain.wrapGuestFrame(rxGfn[id], rxPage);
                    reassembly.putBytes(chainBytes, rxPage, offset, status);
                    counters.add(NetFrontCounters.RX_COPIES, 1);
                }
                chainBytes += status;
            }
            if (0 != (flags & RxResponse.FLAG_MORE_DATA))
            {
                rxFree[rxFreeCount++] = id;
                continue;
            }
            completeFrame(id);
            if (rxFreeCount >= RX_REFILL_BATCH)
            {
                // refill while the back end keeps producing: a long pass must not hold every buffer it consumed
                postRx();
            }
        }
        return null;
    }

    private void completeFrame(final int lastId)
    {
        final int bytes = chainBytes;
        final boolean error = chainError;
        final int inPlace = chainFirstId;
        final int inPlaceOffset = chainFirstOffset;
        chainSlots = 0;
        chainBytes = 0;
        chainError = false;
        chainFirstId = -1;
        if (error || bytes < HEADER_BYTES)
        {
            // an error status, or a runt no receiver can read an Ethernet header from
            counters.add(NetFrontCounters.RX_ERRORS, 1);
        }
        else
        {
            counters.add(NetFrontCounters.RX_FRAMES, 1);
            counters.add(NetFrontCounters.RX_BYTES, bytes);
            try
            {
                if (inPlace >= 0)
                {
                    domain.wrapGuestFrame(rxGfn[inPlace], rxPage);
                    receiver.onFrame(rxPage, inPlaceOffset, bytes);
                }
                else
                {
                    receiver.onFrame(reassembly, 0, bytes);
                }
            }
            catch (final RuntimeException ignore)
            {
                // a receiver failing must not stop the interface
            }
        }
        rxFree[rxFreeCount++] = lastId;
    }

    /**
     * The back end notified: reclaim transmitted fragments, complete received frames, post buffers again; then arm
     * both rings' {@code rsp_event} and look again ({@code RING_FINAL_CHECK_FOR_RESPONSES}).
     */
    private void onEvent(final int ignoredPort)
    {
        counters.addShared(NetFrontCounters.NOTIFICATIONS_RECEIVED, 1);
        String violation = null;
        synchronized (txLock)
        {
            if (txOpen)
            {
                try
                {
                    do
                    {
                        violation = reapTx();
                    }
                    while (null == violation && txRing.finalCheckForResponses());
                }
                catch (final RingProtocolException ex)
                {
                    violation = ex.getMessage();
                }
                // closed before the lock is released: no transmit uses a ring judged hostile
                txOpen = null == violation;
            }
        }
        if (null == violation)
        {
            synchronized (rxLock)
            {
                if (rxOpen)
                {
                    try
                    {
                        do
                        {
                            violation = reapRx();
                            if (null == violation)
                            {
                                postRx();
                            }
                        }
                        while (null == violation && rxRing.finalCheckForResponses());
                    }
                    catch (final RingProtocolException ex)
                    {
                        violation = ex.getMessage();
                    }
                    rxOpen = null == violation;
                }
            }
        }
        if (null != violation)
        {
            onBroken(violation);
        }
    }

    private void onBroken(final String reason)
    {
        synchronized (txLock)
        {
            txOpen = false;
        }
        synchronized (rxLock)
        {
            rxOpen = false;
        }
        synchronized (this)
        {
            if (NetFrontState.BROKEN == state || NetFrontState.CLOSED == state)
            {
                return;
            }
            brokenReason = reason;
            state = NetFrontState.BROKEN;
        }
    }

    /**
     * Moves to {@code next} unless the interface is already broken or closed, under the monitor {@link #onBroken}
     * takes, so a violation found on the guest's vCPU is never overwritten by the xenbus thread's transition.
     */
    private synchronized void moveTo(final NetFrontState next)
    {
        if (NetFrontState.BROKEN != state && NetFrontState.CLOSED != state)
        {
            state = next;
        }
    }

    private void notifyBackend(final int counter)
    {
        try
        {
            domain.hypercalls().eventChannelOp().send(port);
            counters.add(counter, 1);
        }
        catch (final RuntimeException ignore)
        {
            // the port was closed under us by a teardown or the domain's death
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // xenbus thread

    private void run()
    {
        try
        {
            backendPath = xs.readString(frontendPath + '/' + NetifXenbusKeys.BACKEND);
            backendId = XenbusValues.parseInt(xs.readString(frontendPath + '/' + NetifXenbusKeys.BACKEND_ID),
                NetifXenbusKeys.BACKEND_ID, 0, XenStore.MAX_DOMAIN_ID);
            watcher = new XenbusStateWatcher(xs, frontendPath, backendPath, this::onBackendState);
            watcher.start();
            while (!closeRequested)
            {
                if (xs.isClosed() || !domain.isAlive())
                {
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
            if (!xs.isClosed() && domain.isAlive())
            {
                onBroken("xenbus handshake failed: " + ex.getMessage());
            }
        }
        try
        {
            shutdown(domain.isAlive() && !xs.isClosed());
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
        if (NetFrontState.BROKEN == state || NetFrontState.CLOSED == state)
        {
            return;
        }
        switch (current)
        {
            case INIT_WAIT:
                if (!setUp)
                {
                    setUp();
                }
                break;
            case CONNECTED:
                if (setUp)
                {
                    moveTo(NetFrontState.CONNECTED);
                }
                break;
            case CLOSING:
            case CLOSED:
            case UNKNOWN:
                if (setUp)
                {
                    // the back end cut the interface off or went away: let go of everything
                    teardown(true);
                    moveTo(NetFrontState.CLOSED);
                    switchState(XenbusState.CLOSED);
                }
                else
                {
                    // a new front end on a device an earlier one closed: the state key still says Closed, and the
                    // back end waits for Initialising before it offers its features again (as Linux's xenbus core
                    // writes Initialising when it probes a front end)
                    switchState(XenbusState.INITIALISING);
                }
                break;
            default:
                break;
        }
    }

    private void setUp()
    {
        if (1 != optionalBackInt(NetifXenbusKeys.FEATURE_RX_COPY, 0, 1, 0))
        {
            throw new IllegalStateException("the back end does not offer " + NetifXenbusKeys.FEATURE_RX_COPY);
        }
        final boolean sg = options.scatterGather() && 1 == optionalBackInt(NetifXenbusKeys.FEATURE_SG, 0, 1, 0);
        String macText = readOptional(frontendPath + '/' + NetifXenbusKeys.MAC);
        if (null == macText)
        {
            macText = xs.readString(backendPath + '/' + NetifXenbusKeys.MAC);
        }
        final long address = parseMac(macText);
        setUp = true;
        allocateRings();
        synchronized (txLock)
        {
            scatterGather = sg;
            for (int id = 0; id < RING_SIZE; id++)
            {
                txGfn[id] = domain.pageAllocator().allocate();
                txPages++;
                txFreeIds[txFreeCount++] = RING_SIZE - 1 - id;
            }
        }
        synchronized (rxLock)
        {
            for (int id = 0; id < rxBuffers; id++)
            {
                rxGfn[id] = domain.pageAllocator().allocate();
                rxPagesAllocated++;
                rxFree[rxFreeCount++] = rxBuffers - 1 - id;
            }
        }
        xs.transaction(XenbusStateWatcher.SWITCH_STATE_ATTEMPTS, (tx) ->
        {
            write(tx, NetifXenbusKeys.TX_RING_REF, Integer.toUnsignedString(txRingRef));
            write(tx, NetifXenbusKeys.RX_RING_REF, Integer.toUnsignedString(rxRingRef));
            write(tx, NetifXenbusKeys.EVENT_CHANNEL, Integer.toString(port));
            write(tx, NetifXenbusKeys.REQUEST_RX_COPY, "1");
            write(tx, NetifXenbusKeys.FEATURE_RX_NOTIFY, "1");
            write(tx, NetifXenbusKeys.FEATURE_SG, sg ? "1" : "0");
            return null;
        });
        mac = address;
        synchronized (txLock)
        {
            txOpen = true;
        }
        synchronized (rxLock)
        {
            rxOpen = true;
            postRx();
        }
        domain.eventChannels().bindHandler(port, this::onEvent);
        switchState(XenbusState.CONNECTED);
    }

    private void allocateRings()
    {
        final RingGeometry txGeometry = NetifDescriptor.txRing(1);
        final RingGeometry rxGeometry = NetifDescriptor.rxRing(1);
        txRingGfn = domain.pageAllocator().allocate();
        txRingBuffer = new UnsafeBuffer(domain.guestFrame(txRingGfn).addressOffset(), txGeometry.ringBytes());
        txRing = FrontRing.init(txRingBuffer, txGeometry);
        rxRingGfn = domain.pageAllocator().allocate();
        rxRingBuffer = new UnsafeBuffer(domain.guestFrame(rxRingGfn).addressOffset(), rxGeometry.ringBytes());
        rxRing = FrontRing.init(rxRingBuffer, rxGeometry);
        txRingRef = grants.grantAccess(backendId, txRingGfn, false);
        rxRingRef = grants.grantAccess(backendId, rxRingGfn, false);
        if (txRingRef < 0 || rxRingRef < 0)
        {
            throw new IllegalStateException("no grant reference left for the rings");
        }
        counters.add(NetFrontCounters.TX_GRANTS_ISSUED, 2);
        port = domain.hypercalls().eventChannelOp().allocUnbound(backendId);
    }

    private void shutdown(final boolean hypercallsAllowed)
    {
        if (hypercallsAllowed && setUp && NetFrontState.CLOSED != state)
        {
            switchState(XenbusState.CLOSING);
            final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(CLOSE_WAIT_MILLIS);
            while (System.nanoTime() - deadline < 0)
            {
                final XenbusState back = watcher.refresh();
                if (XenbusState.CLOSING == back || XenbusState.CLOSED == back || XenbusState.UNKNOWN == back)
                {
                    break;
                }
                LockSupport.parkNanos(this, PARK_NANOS);
            }
        }
        teardown(hypercallsAllowed);
        moveTo(NetFrontState.CLOSED);
        if (hypercallsAllowed)
        {
            switchState(XenbusState.CLOSED);
        }
    }

    /** Ends every grant, closes the port, frees every page whose grant ended. Idempotent. */
    private void teardown(final boolean hypercallsAllowed)
    {
        if (!setUp)
        {
            return;
        }
        setUp = false;
        synchronized (txLock)
        {
            txOpen = false;
            for (int id = 0; id < RING_SIZE && hypercallsAllowed; id++)
            {
                boolean free = true;
                if (txInFlight[id])
                {
                    txInFlight[id] = false;
                    free = endGrant(txRef[id], NetFrontCounters.TX_GRANTS_ENDED);
                }
                if (free && id < txPages && !txLeaked[id])
                {
                    domain.pageAllocator().free(txGfn[id]);
                }
            }
            txFreeCount = 0;
            txPages = 0;
        }
        synchronized (rxLock)
        {
            rxOpen = false;
            for (int id = 0; id < rxPagesAllocated && hypercallsAllowed; id++)
            {
                boolean free = true;
                if (rxPosted[id])
                {
                    rxPosted[id] = false;
                    free = endGrant(rxRef[id], NetFrontCounters.RX_GRANTS_ENDED);
                }
                if (free && !rxLeaked[id])
                {
                    domain.pageAllocator().free(rxGfn[id]);
                }
            }
            rxFreeCount = 0;
            rxPagesAllocated = 0;
        }
        if (!hypercallsAllowed)
        {
            return;
        }
        if (port > 0)
        {
            try
            {
                domain.hypercalls().eventChannelOp().close(port);
            }
            catch (final RuntimeException ignore)
            {
                // already gone
            }
            port = -1;
        }
        if (txRingRef >= 0 && endGrant(txRingRef, NetFrontCounters.TX_GRANTS_ENDED))
        {
            domain.pageAllocator().free(txRingGfn);
        }
        if (rxRingRef >= 0 && endGrant(rxRingRef, NetFrontCounters.TX_GRANTS_ENDED))
        {
            domain.pageAllocator().free(rxRingGfn);
        }
        txRingRef = -1;
        rxRingRef = -1;
    }

    private boolean endGrant(final int ref, final int counter)
    {
        if (grants.endAccess(ref))
        {
            counters.addShared(counter, 1);
            return true;
        }
        counters.addShared(NetFrontCounters.LEAKED_PAGES, 1);
        return false;
    }

    /**
     * Parses {@code xx:xx:xx:xx:xx:xx} (hex, either case).
     *
     * @param text the value.
     * @return the address as a 48-bit number.
     * @throws IllegalArgumentException if malformed.
     */
    public static long parseMac(final String text)
    {
        if (null == text || 17 != text.length())
        {
            throw new IllegalArgumentException("mac=\"" + text + "\" (expected xx:xx:xx:xx:xx:xx)");
        }
        long value = 0;
        for (int i = 0; i < 6; i++)
        {
            if (i > 0 && ':' != text.charAt(i * 3 - 1))
            {
                throw new IllegalArgumentException("mac=\"" + text + "\" (expected xx:xx:xx:xx:xx:xx)");
            }
            final int hi = Character.digit(text.charAt(i * 3), 16);
            final int lo = Character.digit(text.charAt(i * 3 + 1), 16);
            if (hi < 0 || lo < 0)
            {
                throw new IllegalArgumentException("mac=\"" + text + "\" (expected xx:xx:xx:xx:xx:xx)");
            }
            value = (value << 8) | (hi << 4) | lo;
        }
        return value;
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

    private void write(final int tx, final String node, final String value)
    {
        xs.write(tx, frontendPath + '/' + node, value);
    }

    private String readOptional(final String path)
    {
        try
        {
            return xs.readString(path);
        }
        catch (final XenStoreException ex)
        {
            if (XsError.ENOENT == ex.error())
            {
                return null;
            }
            throw ex;
        }
    }

    private int optionalBackInt(final String node, final int min, final int max, final int absent)
    {
        final String value = readOptional(backendPath + '/' + node);
        return null == value ? absent : XenbusValues.parseInt(value, node, min, max);
    }
}
