package io.pvio.backend.net;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.LockSupport;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;

import io.pvio.backend.AgentHost;
import io.pvio.hypervisor.Domain;
import io.pvio.hypervisor.PageAllocator;
import io.pvio.hypervisor.event.EventChannelOps;
import io.pvio.hypervisor.grant.GrantCopyBatch;
import io.pvio.hypervisor.grant.GrantEntryDescriptor;
import io.pvio.hypervisor.grant.GrantStatus;
import io.pvio.hypervisor.grant.GrantTableOps;
import io.pvio.hypervisor.sched.VcpuTask;
import io.pvio.ring.BackRing;
import io.pvio.ring.RingProtocolException;
import io.pvio.ring.netif.NetifDescriptor;
import io.pvio.ring.netif.NetifDescriptor.ExtraInfo;
import io.pvio.ring.netif.NetifDescriptor.RxRequest;
import io.pvio.ring.netif.NetifDescriptor.RxResponse;
import io.pvio.ring.netif.NetifDescriptor.TxRequest;
import io.pvio.ring.netif.NetifDescriptor.TxResponse;

/**
 * One queue of a netback vif: its transmit and receive rings, its event channel, and the agent that serves the
 * transmit ring (Linux's per-queue kthread), a task on one of the driver domain's vCPUs when a scheduler runs the
 * machine, otherwise on a thread of its own. It is also the vif's {@link BridgePort}: frames the bridge forwards to
 * the vif are copied into the guest's posted receive buffers on the thread that delivers them.
 * <p>
 * <b>Transmit</b> ({@link #doWork()}): each request is copied out of the ring once ({@code RING_COPY_REQUEST}) and
 * checked as it arrives, in order: flags known; on the first slot the packet size at least an Ethernet header and at
 * most the largest frame (65,535 bytes with scatter-gather, a page without); no extra-info slot (this back end
 * offers neither GSO, multicast control nor hashing, so each is refused); on every later slot no extra info,
 * {@code offset + size} within the page, at most {@value NetifDescriptor#NR_SLOTS_MIN} slots, and the later slots'
 * sizes never above the first slot's packet size; every grant reference inside the front end's grant table. When the
 * chain ends the fragments are grant-copied into this queue's own staging pages, every slot gets its response, and
 * the frame goes into the bridge. Responses are published every {@value #RESPONSE_BATCH} slots and at the end of each
 * pass (at most {@value #BUDGET} slots) with the event-index check.
 * <p>
 * <b>Receive</b> ({@link #deliver}): under the receive lock, a frame needs one posted buffer per page of it (several
 * only when the front end asked for {@code feature-sg}); without them it is dropped and counted, never queued. The
 * frame is copied into this queue's staging pages, the buffers' requests are copied out of the ring once, one grant
 * copy per buffer fills them, and the responses go into the requests' slots ({@code more_data} on all but the last);
 * the front end is notified only if its {@code rsp_event} asks.
 * <p>
 * <b>Hostile front end</b>: any malformed transmit request, a failed transmit grant copy, or impossible ring indexes
 * break the queue for good: it stops serving and tells the device, which cuts the vif off. The steady-state path
 * allocates nothing.
 * <p>
 * <b>Idle</b>: as blkback's queue: after a pass with no work the vCPU's halt polling (or the thread's spins and
 * yields) leaves a busy front end a window in which it pushes without notifying; then {@code req_event} is armed and
 * re-checked behind a full fence ({@code RING_FINAL_CHECK_FOR_REQUESTS}) before blocking.
 */
final class NetbackQueue implements VcpuTask, IdleStrategy, BridgePort
{
    /** Most transmit slots consumed in one pass. */
    static final int BUDGET = 64;

    /** Transmit responses published together while a pass goes on. */
    static final int RESPONSE_BATCH = 16;

    /** Spins of the polling window, on a thread of its own. */
    static final int POLL_SPINS = 2_000;

    /** Yields of the polling window, after the spins. */
    static final int POLL_YIELDS = 50;

    private static final int PAGE = NetifDescriptor.PAGE_SIZE;
    private static final int PAGE_SHIFT = 12;
    private static final int KNOWN_TX_FLAGS = TxRequest.FLAG_CSUM_BLANK | TxRequest.FLAG_DATA_VALIDATED |
        TxRequest.FLAG_MORE_DATA | TxRequest.FLAG_EXTRA_INFO;
    private static final int MAX_CHAIN = NetifDescriptor.NR_SLOTS_MIN;

    /** Pages of a staging buffer: the largest frame the bridge forwards, rounded up. */
    static final int STAGING_PAGES = (Bridge.MAX_FRAME_BYTES + PAGE - 1) / PAGE;

    private final NetBack device;
    private final Domain driverDomain;
    private final int frontendId;
    private final GrantTableOps grants;
    private final EventChannelOps events;
    private final Bridge bridge;
    private final BackRing txRing;
    private final UnsafeBuffer txBuffer;
    private final BackRing rxRing;
    private final UnsafeBuffer rxBuffer;
    private final int[] ringHandles;
    private final int port;
    private final boolean frontSg;
    private final int maxFrame;
    private final long[] txSlab;
    private final long[] rxSlab;
    private final String roleName;

    // transmit side: the agent's thread only
    private final UnsafeBuffer txRequest = new UnsafeBuffer(new byte[TxRequest.LENGTH]);
    private final long txStagingGfn;
    private final UnsafeBuffer txStaging;
    private final GrantCopyBatch txBatch = new GrantCopyBatch(2 * NetifDescriptor.NR_SLOTS_MIN);
    private final int[] chainId = new int[MAX_CHAIN];
    private final int[] fragGref = new int[NetifDescriptor.NR_SLOTS_MIN];
    private final int[] fragOffset = new int[NetifDescriptor.NR_SLOTS_MIN];
    private final int[] fragSize = new int[NetifDescriptor.NR_SLOTS_MIN];
    private final int[] fragId = new int[NetifDescriptor.NR_SLOTS_MIN];
    private int chainSlots;
    private int fragments;
    private int packetSize;
    private int laterBytes;
    private boolean moreData;
    private boolean extrasPending;
    private long refLimit;

    // receive side: under rxLock
    private final Object rxLock = new Object();
    private final UnsafeBuffer rxRequest = new UnsafeBuffer(new byte[RxRequest.LENGTH]);
    private final long rxStagingGfn;
    private final UnsafeBuffer rxStaging;
    private final GrantCopyBatch rxBatch = new GrantCopyBatch(STAGING_PAGES);
    private final int[] rxIds = new int[STAGING_PAGES];
    private boolean rxOpen;

    private volatile boolean wakeRequested;
    private volatile boolean running = true;
    private volatile boolean broken;

    private static final VarHandle BROKEN;

    static
    {
        try
        {
            BROKEN = MethodHandles.lookup().findVarHandle(NetbackQueue.class, "broken", boolean.class);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }
    private final AgentHost agentHost = new AgentHost();
    private int idleCount;
    private int bridgePort = -1;

    NetbackQueue(
        final NetBack device,
        final Domain driverDomain,
        final int frontendId,
        final Bridge bridge,
        final BackRing txRing,
        final UnsafeBuffer txBuffer,
        final BackRing rxRing,
        final UnsafeBuffer rxBuffer,
        final int[] ringHandles,
        final int port,
        final boolean frontSg,
        final NetBackCounters counters)
    {
        this.device = device;
        this.driverDomain = driverDomain;
        this.frontendId = frontendId;
        this.grants = driverDomain.hypercalls().grantTableOp();
        this.events = driverDomain.hypercalls().eventChannelOp();
        this.bridge = bridge;
        this.txRing = txRing;
        this.txBuffer = txBuffer;
        this.rxRing = rxRing;
        this.rxBuffer = rxBuffer;
        this.ringHandles = ringHandles;
        this.port = port;
        this.frontSg = frontSg;
        this.maxFrame = frontSg ? NetifDescriptor.MAX_TX_SIZE : PAGE;
        this.txSlab = counters.newSlab();
        this.rxSlab = counters.newSlab();
        this.roleName = "netback-d" + frontendId + '-' + device.devid() + "-q0";
        final PageAllocator pages = driverDomain.pageAllocator();
        this.txStagingGfn = pages.allocateContiguous(STAGING_PAGES);
        try
        {
            this.rxStagingGfn = pages.allocateContiguous(STAGING_PAGES);
        }
        catch (final RuntimeException ex)
        {
            freePages(txStagingGfn);
            throw ex;
        }
        this.txStaging = new UnsafeBuffer(driverDomain.guestFrame(txStagingGfn).addressOffset(), STAGING_PAGES * PAGE);
        this.rxStaging = new UnsafeBuffer(driverDomain.guestFrame(rxStagingGfn).addressOffset(), STAGING_PAGES * PAGE);
    }

    int port()
    {
        return port;
    }

    /**
     * Joins the bridge and starts serving: the receive path opens, the agent starts on its vCPU or thread.
     *
     * @param bridgePortId the port the bridge gave this queue.
     */
    /**
     * The port the bridge gave this queue.
     *
     * @return the port id, or -1 before {@link #start}.
     */
    int bridgePort()
    {
        synchronized (rxLock)
        {
            return bridgePort;
        }
    }

    void start(final int bridgePortId)
    {
        synchronized (rxLock)
        {
            bridgePort = bridgePortId;
            rxOpen = true;
        }
        // a task of one of the driver domain's vCPUs, which the front end's event wakes, or a thread of its own
        agentHost.start(this, driverDomain.vcpu(frontendId % driverDomain.vcpus()), this, this::onAgentError);
    }

    /**
     * Called on the driver domain's event loop when the front end notifies: wake the agent.
     */
    void onEvent(final int ignoredPort)
    {
        NetBackCounters.addShared(txSlab, NetBackCounters.NOTIFICATIONS_RECEIVED, 1);
        wakeRequested = true;
        agentHost.wake();
    }

    /**
     * Stops the agent and closes the receive path; the caller has removed the bridge port already, so no delivery is
     * running. Requests not answered stay in the rings.
     */
    void stop()
    {
        running = false;
        synchronized (rxLock)
        {
            rxOpen = false;
        }
        agentHost.stop(this);
    }

    /** The transmit agent's counter slab (the front end's events count in it too). */
    long[] txSlab()
    {
        return txSlab;
    }

    /** The receive path's counter slab. */
    long[] rxSlab()
    {
        return rxSlab;
    }

    /**
     * Unmaps both rings and frees the staging pages. After {@link #stop()}.
     */
    void release(final long[] deviceSlab)
    {
        for (final int handle : ringHandles)
        {
            grants.unmap(handle);
            NetBackCounters.add(deviceSlab, NetBackCounters.GRANT_UNMAPS, 1);
        }
        freePages(txStagingGfn);
        freePages(rxStagingGfn);
    }

    private void freePages(final long first)
    {
        final PageAllocator pages = driverDomain.pageAllocator();
        for (int p = 0; p < STAGING_PAGES; p++)
        {
            pages.free(first + p);
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
        int served = 0;
        try
        {
            while (served < BUDGET && txRing.copyNextRequest(txRequest, 0))
            {
                served++;
                NetBackCounters.add(txSlab, NetBackCounters.TX_SLOTS, 1);
                if (!onTxSlot())
                {
                    return served;
                }
                if (txRing.unpushedResponses() >= RESPONSE_BATCH)
                {
                    publishTx();
                }
            }
        }
        catch (final RingProtocolException ex)
        {
            fault("tx ring: " + ex.getMessage());
            return served;
        }
        catch (final RuntimeException ex)
        {
            // on a vCPU nothing else would tell the device: the vif is cut off rather than left connected, unserved
            fault("agent failed: " + ex);
            return served;
        }
        if (txRing.unpushedResponses() > 0)
        {
            publishTx();
        }
        return served;
    }

    /**
     * On a vCPU about to block: arm {@code req_event} and re-check ({@code RING_FINAL_CHECK_FOR_REQUESTS}), so the
     * front end's next push notifies.
     */
    @Override
    public boolean prepareToBlock()
    {
        wakeRequested = false;
        if (!running || broken)
        {
            return false;
        }
        try
        {
            return txRing.finalCheckForRequests();
        }
        catch (final RingProtocolException ex)
        {
            return true; // the next pass reads the index again and cuts the front end off
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
        if (prepareToBlock())
        {
            return; // requests arrived while arming req_event
        }
        // the event handler sets wakeRequested then unparks: seen here, or the unpark leaves a permit for the park
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
        fault("agent failed: " + error);
    }

    private void fault(final String reason)
    {
        // the tx agent and a thread delivering rx can both fault: only the first reports
        if (!BROKEN.compareAndSet(this, false, true))
        {
            return;
        }
        NetBackCounters.addShared(txSlab, NetBackCounters.PROTOCOL_VIOLATIONS, 1);
        device.onProtocolViolation(reason);
    }

    private void publishTx()
    {
        if (txRing.pushResponsesAndCheckNotify())
        {
            notifyFrontend(txSlab);
        }
    }

    private void notifyFrontend(final long[] slab)
    {
        try
        {
            events.send(port);
            NetBackCounters.add(slab, NetBackCounters.NOTIFICATIONS_SENT, 1);
        }
        catch (final RuntimeException ex)
        {
            // the front end's port is gone (its domain died): the device is told through XenStore
        }
    }

    /**
     * Checks the transmit slot just copied and adds it to the packet being assembled; sends the packet when its
     * chain ends.
     *
     * @return false if the front end broke the protocol (the queue is broken now).
     */
    private boolean onTxSlot()
    {
        final UnsafeBuffer req = txRequest;
        if (extrasPending)
        {
            return onExtraSlot(req);
        }
        final int gref = req.getInt(TxRequest.GREF_OFFSET);
        final int offset = req.getShort(TxRequest.OFFSET_OFFSET) & 0xFFFF;
        final int flags = req.getShort(TxRequest.FLAGS_OFFSET) & 0xFFFF;
        final int id = req.getShort(TxRequest.ID_OFFSET) & 0xFFFF;
        final int size = req.getShort(TxRequest.SIZE_OFFSET) & 0xFFFF;
        if (0 != (flags & ~KNOWN_TX_FLAGS))
        {
            return malformed(id, "unknown flags 0x" + Integer.toHexString(flags));
        }
        if (0 == fragments)
        {
            if (size < Bridge.HEADER_BYTES)
            {
                return malformed(id, "packet size " + size + " is below the " + Bridge.HEADER_BYTES +
                    "-byte Ethernet header");
            }
            if (size > maxFrame)
            {
                return malformed(id, "packet size " + size + " exceeds the largest frame, " + maxFrame + " bytes" +
                    (frontSg ? "" : " (no feature-sg)"));
            }
            if (offset >= PAGE)
            {
                return malformed(id, "offset " + offset + " is beyond the page");
            }
            packetSize = size;
            extrasPending = 0 != (flags & TxRequest.FLAG_EXTRA_INFO);
        }
        else
        {
            if (0 != (flags & TxRequest.FLAG_EXTRA_INFO))
            {
                return malformed(id, "extra_info on fragment " + fragments + " (only the first slot may carry it)");
            }
            if (fragments == NetifDescriptor.NR_SLOTS_MIN)
            {
                return malformed(id, "the packet takes more than " + NetifDescriptor.NR_SLOTS_MIN +
                    " slots (XEN_NETIF_NR_SLOTS_MIN)");
            }
            if (offset + size > PAGE)
            {
                return malformed(id, "fragment " + fragments + ": offset " + offset + " + size " + size +
                    " crosses the page");
            }
            laterBytes += size;
            if (laterBytes > packetSize)
            {
                return malformed(id, "size mismatch: fragments after the first hold " + laterBytes +
                    " bytes, more than the packet's size " + packetSize);
            }
        }
        if (!grantInRange(gref))
        {
            return malformed(id, "bad grant reference " + Integer.toUnsignedString(gref) +
                " (the front end's table has " + refLimit + " entries)");
        }
        if (0 != (flags & TxRequest.FLAG_MORE_DATA) && !frontSg)
        {
            return malformed(id, "more_data without feature-sg");
        }
        fragGref[fragments] = gref;
        fragOffset[fragments] = offset;
        fragSize[fragments] = size;
        fragId[fragments] = id;
        fragments++;
        chainId[chainSlots++] = id;
        moreData = 0 != (flags & TxRequest.FLAG_MORE_DATA);
        return moreData || extrasPending || sendPacket();
    }

    private boolean onExtraSlot(final UnsafeBuffer req)
    {
        final int type = req.getByte(ExtraInfo.TYPE_OFFSET) & 0xFF;
        final int flags = req.getByte(ExtraInfo.FLAGS_OFFSET) & 0xFF;
        final int id = fragId[0];
        if (ExtraInfo.TYPE_NONE == type || type >= ExtraInfo.TYPE_MAX)
        {
            return malformed(id, "extra info of unknown type " + type);
        }
        if (ExtraInfo.TYPE_GSO == type)
        {
            return malformed(id, "GSO extra info, but feature-gso-tcpv4/6 is not offered");
        }
        return malformed(id, "extra info of type " + type + " (flags 0x" + Integer.toHexString(flags) +
            "), but neither feature-multicast-control nor hashing is offered");
    }

    private boolean grantInRange(final int gref)
    {
        if (Long.compareUnsigned(gref & 0xFFFF_FFFFL, refLimit) < 0)
        {
            return true;
        }
        // the table may have grown since the last look: ask the hypervisor (rare: once per growth)
        final int frames = grants.querySize(frontendId);
        refLimit = frames > 0 ? (long)frames * GrantEntryDescriptor.ENTRIES_PER_FRAME : 0;
        return Long.compareUnsigned(gref & 0xFFFF_FFFFL, refLimit) < 0;
    }

    private boolean malformed(final int id, final String what)
    {
        fault("malformed tx request id=" + id + ": " + what);
        return false;
    }

    /**
     * The chain is complete: copy its fragments into the staging pages, answer every slot and hand the frame to the
     * bridge.
     */
    private boolean sendPacket()
    {
        final int firstBytes = packetSize - laterBytes;
        if (fragOffset[0] + firstBytes > PAGE)
        {
            return malformed(fragId[0], "first slot: offset " + fragOffset[0] + " + size " + firstBytes +
                " crosses the page");
        }
        final GrantCopyBatch batch = txBatch.clear();
        int position = 0;
        for (int f = 0; f < fragments; f++)
        {
            int remaining = 0 == f ? firstBytes : fragSize[f];
            int source = fragOffset[f];
            while (remaining > 0)
            {
                final int inPage = position & (PAGE - 1);
                final int chunk = Math.min(remaining, PAGE - inPage);
                batch.addFromGrant(frontendId, fragGref[f], source, txStagingGfn + (position >>> PAGE_SHIFT), inPage,
                    chunk);
                position += chunk;
                source += chunk;
                remaining -= chunk;
            }
        }
        final int ops = batch.count();
        final int failed = grants.copy(batch);
        NetBackCounters.add(txSlab, NetBackCounters.GRANT_COPIES, ops);
        if (failed > 0)
        {
            for (int i = 0; i < ops; i++)
            {
                final short status = batch.status(i);
                if (GrantStatus.OKAY != status)
                {
                    return malformed(fragId[0], "bad grant reference " +
                        Integer.toUnsignedString((int)batch.source(i)) + ": grant copy failed with " +
                        GrantStatus.name(status));
                }
            }
        }
        final UnsafeBuffer ring = txBuffer;
        for (int s = 0; s < chainSlots; s++)
        {
            final int offset = txRing.claimResponse();
            ring.putShort(offset + TxResponse.ID_OFFSET, (short)chainId[s]);
            ring.putShort(offset + TxResponse.STATUS_OFFSET, NetifDescriptor.RSP_OKAY);
        }
        NetBackCounters.add(txSlab, NetBackCounters.TX_FRAMES, 1);
        NetBackCounters.add(txSlab, NetBackCounters.TX_BYTES, packetSize);
        final int size = packetSize;
        chainSlots = 0;
        fragments = 0;
        laterBytes = 0;
        moreData = false;
        extrasPending = false;
        bridge.receive(bridgePort, txStaging, 0, size, System.nanoTime());
        return true;
    }

    /**
     * A frame the bridge forwards to this vif: copy it into the guest's posted receive buffers, or drop it. Runs on
     * the delivering thread (another vif's agent, the uplink) under the bridge's lock; allocates nothing.
     */
    @Override
    public void deliver(final DirectBuffer frame, final int offset, final int length)
    {
        synchronized (rxLock)
        {
            if (!rxOpen || broken || length <= 0)
            {
                return;
            }
            final long[] slab = rxSlab;
            final int slots = (length + PAGE - 1) >>> PAGE_SHIFT;
            if (slots > STAGING_PAGES || (slots > 1 && !frontSg))
            {
                NetBackCounters.add(slab, NetBackCounters.RX_DROPPED_NO_SG, 1);
                return;
            }
            try
            {
                if (rxRing.unconsumedRequests() < slots)
                {
                    NetBackCounters.add(slab, NetBackCounters.RX_DROPPED_NO_BUFFER, 1);
                    return;
                }
                rxStaging.putBytes(0, frame, offset, length);
                final GrantCopyBatch batch = rxBatch.clear();
                for (int s = 0; s < slots; s++)
                {
                    rxRing.copyNextRequest(rxRequest, 0);
                    rxIds[s] = rxRequest.getShort(RxRequest.ID_OFFSET) & 0xFFFF;
                    final int gref = rxRequest.getInt(RxRequest.GREF_OFFSET);
                    batch.addToGrant(rxStagingGfn + s, 0, frontendId, gref, 0, Math.min(PAGE, length - s * PAGE));
                }
                final int failed = grants.copy(batch);
                NetBackCounters.add(slab, NetBackCounters.GRANT_COPIES, slots);
                final UnsafeBuffer ring = rxBuffer;
                for (int s = 0; s < slots; s++)
                {
                    final int slot = rxRing.claimResponse();
                    final int bytes = Math.min(PAGE, length - s * PAGE);
                    ring.putShort(slot + RxResponse.ID_OFFSET, (short)rxIds[s]);
                    ring.putShort(slot + RxResponse.OFFSET_OFFSET, (short)0);
                    ring.putShort(slot + RxResponse.FLAGS_OFFSET,
                        (short)(s < slots - 1 ? RxResponse.FLAG_MORE_DATA : 0));
                    ring.putShort(slot + RxResponse.STATUS_OFFSET,
                        GrantStatus.OKAY == batch.status(s) ? (short)bytes : NetifDescriptor.RSP_ERROR);
                }
                NetBackCounters.add(slab, NetBackCounters.RX_SLOTS, slots);
                if (failed > 0)
                {
                    NetBackCounters.add(slab, NetBackCounters.RX_ERRORS_GRANT, 1);
                }
                else
                {
                    NetBackCounters.add(slab, NetBackCounters.RX_FRAMES, 1);
                    NetBackCounters.add(slab, NetBackCounters.RX_BYTES, length);
                }
                if (rxRing.pushResponsesAndCheckNotify())
                {
                    notifyFrontend(slab);
                }
            }
            catch (final RingProtocolException ex)
            {
                rxOpen = false;
                fault("rx ring: " + ex.getMessage());
            }
        }
    }

    @Override
    public String toString()
    {
        return roleName + "{bridgePort=" + bridgePort + ", broken=" + broken + '}';
    }
}
