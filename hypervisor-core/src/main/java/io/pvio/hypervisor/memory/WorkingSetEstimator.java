package io.pvio.hypervisor.memory;

/**
 * ESX's statistical working-set estimate for one domain: each period the hypervisor invalidates the mappings of n
 * randomly chosen pages; the accesses that fault them back in are counted (t), and the period's sample is f = t / n.
 * Two exponentially weighted moving averages smooth the samples, a fast one and a slow one, and the estimate is the
 * largest of those and the latest sample, so it rises within a period and decays over several.
 */
public final class WorkingSetEstimator
{
    /** Weight of a new sample in the fast average. */
    public static final double FAST_WEIGHT = 0.5;

    /** Weight of a new sample in the slow average. */
    public static final double SLOW_WEIGHT = 0.1;

    private int sampledPages;
    private int touched;
    private double lastSample;
    private double fast;
    private double slow;
    private int periods;

    void startPeriod(final int pages)
    {
        sampledPages = pages;
        touched = 0;
    }

    void touched()
    {
        touched++;
    }

    /**
     * Pages of the current period's sample touched so far.
     *
     * @return the count t.
     */
    public int touchedThisPeriod()
    {
        return touched;
    }

    double endPeriod()
    {
        final double sample = 0 == sampledPages ? 0 : Math.min(1.0, (double)touched / sampledPages);
        if (0 == periods)
        {
            fast = sample;
            slow = sample;
        }
        else
        {
            fast += FAST_WEIGHT * (sample - fast);
            slow += SLOW_WEIGHT * (sample - slow);
        }
        lastSample = sample;
        periods++;
        return estimate();
    }

    /**
     * The estimated active fraction: max(fast average, slow average, latest sample).
     *
     * @return a fraction from 0 to 1.
     */
    public double estimate()
    {
        return Math.max(lastSample, Math.max(fast, slow));
    }

    /**
     * The latest period's sample t / n.
     *
     * @return a fraction from 0 to 1.
     */
    public double lastSample()
    {
        return lastSample;
    }

    /**
     * The fast moving average.
     *
     * @return a fraction.
     */
    public double fastAverage()
    {
        return fast;
    }

    /**
     * The slow moving average.
     *
     * @return a fraction.
     */
    public double slowAverage()
    {
        return slow;
    }

    /**
     * Completed periods.
     *
     * @return the count.
     */
    public int periods()
    {
        return periods;
    }
}
