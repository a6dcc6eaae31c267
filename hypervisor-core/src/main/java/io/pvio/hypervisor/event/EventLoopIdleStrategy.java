package io.pvio.hypervisor.event;

import org.agrona.concurrent.IdleStrategy;

/**
 * Idles the thread of a {@link DomainEventLoop}: spins, then yields, then parks until the domain gets an event (a
 * sender raises the upcall and unparks the thread) or the loop stops. Made by
 * {@link DomainEventLoop#idleStrategy(int, int)}; holds per-thread counts, so one per thread.
 */
final class EventLoopIdleStrategy implements IdleStrategy
{
    static final String ALIAS = "evtchn-park";

    private final DomainEventLoop loop;
    private final int maxSpins;
    private final int maxYields;
    private int spins;
    private int yields;

    EventLoopIdleStrategy(final DomainEventLoop loop, final int maxSpins, final int maxYields)
    {
        if (maxSpins < 0 || maxYields < 0)
        {
            throw new IllegalArgumentException("negative setting: maxSpins=" + maxSpins + ", maxYields=" + maxYields);
        }
        this.loop = loop;
        this.maxSpins = maxSpins;
        this.maxYields = maxYields;
    }

    @Override
    public void idle(final int workCount)
    {
        if (workCount > 0)
        {
            reset();
        }
        else
        {
            idle();
        }
    }

    @Override
    public void idle()
    {
        if (spins < maxSpins)
        {
            spins++;
            Thread.onSpinWait();
        }
        else if (yields < maxYields)
        {
            yields++;
            Thread.yield();
        }
        else
        {
            loop.park();
        }
    }

    @Override
    public void reset()
    {
        spins = 0;
        yields = 0;
    }

    @Override
    public String alias()
    {
        return ALIAS;
    }
}
