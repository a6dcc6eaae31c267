package io.pvio.backend.net;

import io.pvio.backend.CounterSlabs;

/**
 * Live counters of one netback vif, summed over every connection it has had. Each writer counts in a slab of its own
 * (the transmit agent in one, the receive path, serialised by its lock, in another, the xenbus thread in a third),
 * with opaque stores and no fence on the hot path; any thread reads them with opaque loads, so a reader sees every
 * counter move forward, possibly a few increments late.
 */
public final class NetBackCounters
{
    static final int TX_FRAMES = 0;
    static final int TX_BYTES = 1;
    static final int TX_SLOTS = 2;
    static final int RX_FRAMES = 3;
    static final int RX_BYTES = 4;
    static final int RX_SLOTS = 5;
    static final int RX_DROPPED_NO_BUFFER = 6;
    static final int RX_DROPPED_NO_SG = 7;
    static final int RX_ERRORS_GRANT = 8;
    static final int GRANT_COPIES = 9;
    static final int NOTIFICATIONS_SENT = 10;
    static final int NOTIFICATIONS_RECEIVED = 11;
    static final int PROTOCOL_VIOLATIONS = 12;
    static final int GRANT_MAPS = 13;
    static final int GRANT_UNMAPS = 14;
    static final int COUNT = 15;

    private final CounterSlabs slabs = new CounterSlabs(COUNT);

    NetBackCounters()
    {
    }

    long[] newSlab()
    {
        return slabs.newSlab();
    }

    /** Hands back a stopped writer's slab for the next connection; see {@link CounterSlabs#recycle}. */
    void recycle(final long[] slab)
    {
        slabs.recycle(slab);
    }

    /**
     * Counter slabs kept: one per writer alive at once (the transmit agent, the receive path, the xenbus thread),
     * reused from one connection to the next, so a front end that reconnects again and again does not grow them.
     *
     * @return the count.
     */
    public int slabs()
    {
        return slabs.slabCount();
    }

    static void add(final long[] slab, final int counter, final long delta)
    {
        CounterSlabs.add(slab, counter, delta);
    }

    /**
     * Adds from any thread; for counters written by more than one thread.
     */
    static void addShared(final long[] slab, final int counter, final long delta)
    {
        CounterSlabs.addShared(slab, counter, delta);
    }

    private long sum(final int counter)
    {
        return slabs.sum(counter);
    }

    /**
     * Frames the guest transmitted that passed every check and went into the bridge.
     *
     * @return the count.
     */
    public long txFrames()
    {
        return sum(TX_FRAMES);
    }

    /**
     * Bytes of {@link #txFrames()}, Ethernet headers included.
     *
     * @return the count.
     */
    public long txBytes()
    {
        return sum(TX_BYTES);
    }

    /**
     * Transmit ring slots consumed (fragments and extra-info slots).
     *
     * @return the count.
     */
    public long txSlots()
    {
        return sum(TX_SLOTS);
    }

    /**
     * Frames copied into the guest's posted receive buffers.
     *
     * @return the count.
     */
    public long rxFrames()
    {
        return sum(RX_FRAMES);
    }

    /**
     * Bytes of {@link #rxFrames()}.
     *
     * @return the count.
     */
    public long rxBytes()
    {
        return sum(RX_BYTES);
    }

    /**
     * Receive buffers filled (a frame larger than a page takes several).
     *
     * @return the count.
     */
    public long rxSlots()
    {
        return sum(RX_SLOTS);
    }

    /**
     * Frames for the guest dropped because it had not posted enough receive buffers.
     *
     * @return the count.
     */
    public long rxDroppedNoBuffer()
    {
        return sum(RX_DROPPED_NO_BUFFER);
    }

    /**
     * Frames for the guest dropped because they need several buffers and the guest did not ask for
     * {@code feature-sg}.
     *
     * @return the count.
     */
    public long rxDroppedNoSg()
    {
        return sum(RX_DROPPED_NO_SG);
    }

    /**
     * Frames for the guest whose copy into a posted buffer failed (a bad receive grant); answered with an error.
     *
     * @return the count.
     */
    public long rxErrorsGrant()
    {
        return sum(RX_ERRORS_GRANT);
    }

    /**
     * {@code GNTTABOP_copy} operations run, transmit and receive.
     *
     * @return the count.
     */
    public long grantCopies()
    {
        return sum(GRANT_COPIES);
    }

    /**
     * Events sent to the front end.
     *
     * @return the count.
     */
    public long notificationsSent()
    {
        return sum(NOTIFICATIONS_SENT);
    }

    /**
     * Events received from the front end.
     *
     * @return the count.
     */
    public long notificationsReceived()
    {
        return sum(NOTIFICATIONS_RECEIVED);
    }

    /**
     * Times the front end was refused or cut off for breaking the protocol.
     *
     * @return the count.
     */
    public long protocolViolations()
    {
        return sum(PROTOCOL_VIOLATIONS);
    }

    /**
     * Grant maps (the two ring pages of each connection).
     *
     * @return the count.
     */
    public long grantMaps()
    {
        return sum(GRANT_MAPS);
    }

    /**
     * Grant unmaps.
     *
     * @return the count.
     */
    public long grantUnmaps()
    {
        return sum(GRANT_UNMAPS);
    }

    @Override
    public String toString()
    {
        return "NetBackCounters{txFrames=" + txFrames() + ", txBytes=" + txBytes() + ", rxFrames=" + rxFrames() +
            ", rxBytes=" + rxBytes() + ", rxDroppedNoBuffer=" + rxDroppedNoBuffer() + ", grantCopies=" +
            grantCopies() + ", notificationsSent=" + notificationsSent() + ", notificationsReceived=" +
            notificationsReceived() + ", protocolViolations=" + protocolViolations() + '}';
    }
}
