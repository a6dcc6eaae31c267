package io.pvio.frontend.net;

import io.pvio.ring.netif.NetifDescriptor;

/**
 * What a netfront interface asks for. Mutable and fluent; {@link NetFront#start} takes a copy.
 */
public final class NetFrontOptions
{
    private int rxBuffers = NetifDescriptor.RING_ENTRIES_PER_PAGE;
    private boolean scatterGather = true;

    /**
     * Defaults: a full receive ring of posted buffers (256 pages), scatter-gather when the back end offers it.
     */
    public NetFrontOptions()
    {
    }

    NetFrontOptions copy()
    {
        return new NetFrontOptions().rxBuffers(rxBuffers).scatterGather(scatterGather);
    }

    /**
     * How many receive buffers (one page each) are kept posted.
     *
     * @param n 0 (receive nothing) to {@value NetifDescriptor#RING_ENTRIES_PER_PAGE}.
     * @return this.
     * @throws IllegalArgumentException if out of range.
     */
    public NetFrontOptions rxBuffers(final int n)
    {
        if (n < 0 || n > NetifDescriptor.RING_ENTRIES_PER_PAGE)
        {
            throw new IllegalArgumentException("rxBuffers=" + n + " (expected: 0 <= rxBuffers <= " +
                NetifDescriptor.RING_ENTRIES_PER_PAGE + ")");
        }
        rxBuffers = n;
        return this;
    }

    /**
     * Receive buffers kept posted.
     *
     * @return the count.
     */
    public int rxBuffers()
    {
        return rxBuffers;
    }

    /**
     * Asks for scatter-gather: frames larger than a page, in several slots, both ways.
     *
     * @param on whether to use it when the back end offers it.
     * @return this.
     */
    public NetFrontOptions scatterGather(final boolean on)
    {
        scatterGather = on;
        return this;
    }

    /**
     * Whether scatter-gather is wanted.
     *
     * @return true if wanted.
     */
    public boolean scatterGather()
    {
        return scatterGather;
    }
}
