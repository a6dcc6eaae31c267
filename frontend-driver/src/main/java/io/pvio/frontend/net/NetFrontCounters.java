package io.pvio.frontend.net;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Live counters of one netfront interface. The transmit counters are written under the transmit lock, the receive
 * counters under the receive lock (each by one thread at a time), with opaque stores; any thread reads them with
 * opaque loads, possibly a few increments late.
 */
public final class NetFrontCounters
{
    static final int TX_FRAMES = 0;
    static final int TX_BYTES = 1;
    static final int TX_SLOTS = 2;
    static final int TX_BUSY = 3;
    static final int TX_ERRORS = 4;
    static final int TX_COPIES = 5;
    static final int TX_NOTIFICATIONS_SENT = 6;
    static final int TX_GRANTS_ISSUED = 7;
    static final int TX_GRANTS_ENDED = 8;
    static final int RX_FRAMES = 9;
    static final int RX_BYTES = 10;
    static final int RX_SLOTS = 11;
    static final int RX_ERRORS = 12;
    static final int RX_COPIES = 13;
    static final int RX_NOTIFICATIONS_SENT = 14;
    static final int RX_GRANTS_ISSUED = 15;
    static final int RX_GRANTS_ENDED = 16;
    static final int NOTIFICATIONS_RECEIVED = 17;
    static final int LEAKED_PAGES = 18;
    static final int COUNT = 19;

    private static final int PAD = 16;
    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(long[].class);

    private final long[] slab = new long[PAD + COUNT + PAD];

    NetFrontCounters()
    {
    }

    void add(final int counter, final long delta)
    {
        final int index = PAD + counter;
        SLOT.setOpaque(slab, index, (long)SLOT.getOpaque(slab, index) + delta);
    }

    void addShared(final int counter, final long delta)
    {
        SLOT.getAndAdd(slab, PAD + counter, delta);
    }

    private long get(final int counter)
    {
        return (long)SLOT.getOpaque(slab, PAD + counter);
    }

    /**
     * Frames handed to the back end.
     *
     * @return the count.
     */
    public long txFrames()
    {
        return get(TX_FRAMES);
    }

    /**
     * Bytes of {@link #txFrames()}.
     *
     * @return the count.
     */
    public long txBytes()
    {
        return get(TX_BYTES);
    }

    /**
     * Transmit requests issued (a frame takes one per fragment).
     *
     * @return the count.
     */
    public long txSlots()
    {
        return get(TX_SLOTS);
    }

    /**
     * Transmits refused because the ring had no room (back-pressure).
     *
     * @return the count.
     */
    public long txBusy()
    {
        return get(TX_BUSY);
    }

    /**
     * Transmit responses with an error or dropped status.
     *
     * @return the count.
     */
    public long txErrors()
    {
        return get(TX_ERRORS);
    }

    /**
     * Frames received and handed to the receiver.
     *
     * @return the count.
     */
    public long rxFrames()
    {
        return get(RX_FRAMES);
    }

    /**
     * Bytes of {@link #rxFrames()}.
     *
     * @return the count.
     */
    public long rxBytes()
    {
        return get(RX_BYTES);
    }

    /**
     * Receive buffers the back end filled.
     *
     * @return the count.
     */
    public long rxSlots()
    {
        return get(RX_SLOTS);
    }

    /**
     * Received frames dropped because a buffer of theirs came back with an error status.
     *
     * @return the count.
     */
    public long rxErrors()
    {
        return get(RX_ERRORS);
    }

    /**
     * Memory copies made by the guest: a transmit fragment into its granted page, a multi-buffer frame into the
     * reassembly buffer. A single-buffer frame is handed to the receiver in place.
     *
     * @return the count.
     */
    public long copies()
    {
        return get(TX_COPIES) + get(RX_COPIES);
    }

    /**
     * Events sent to the back end, for transmit requests and for receive buffers posted.
     *
     * @return the count.
     */
    public long notificationsSent()
    {
        return get(TX_NOTIFICATIONS_SENT) + get(RX_NOTIFICATIONS_SENT);
    }

    /**
     * Events received from the back end.
     *
     * @return the count.
     */
    public long notificationsReceived()
    {
        return get(NOTIFICATIONS_RECEIVED);
    }

    /**
     * Grants issued: ring pages, transmit fragments, receive buffers.
     *
     * @return the count.
     */
    public long grantsIssued()
    {
        return get(TX_GRANTS_ISSUED) + get(RX_GRANTS_ISSUED);
    }

    /**
     * Grants ended.
     *
     * @return the count.
     */
    public long grantsEnded()
    {
        return get(TX_GRANTS_ENDED) + get(RX_GRANTS_ENDED);
    }

    /**
     * Pages never reused because their grant could not be ended.
     *
     * @return the count.
     */
    public long leakedPages()
    {
        return get(LEAKED_PAGES);
    }

    @Override
    public String toString()
    {
        return "NetFrontCounters{txFrames=" + txFrames() + ", txBytes=" + txBytes() + ", txSlots=" + txSlots() +
            ", txBusy=" + txBusy() + ", txErrors=" + txErrors() + ", rxFrames=" + rxFrames() + ", rxBytes=" +
            rxBytes() + ", rxSlots=" + rxSlots() + ", rxErrors=" + rxErrors() + ", copies=" + copies() +
            ", notificationsSent=" + notificationsSent() + ", notificationsReceived=" + notificationsReceived() +
            ", grantsIssued=" + grantsIssued() + ", grantsEnded=" + grantsEnded() + '}';
    }
}
