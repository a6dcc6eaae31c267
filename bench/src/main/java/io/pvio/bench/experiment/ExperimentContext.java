package io.pvio.bench.experiment;

import java.io.PrintWriter;

/**
 * What an experiment run gets from its caller: a seed for every random choice, a scale (1 for the full run, smaller
 * for the quick runs tests make) and a place for progress lines.
 *
 * @param seed     the seed.
 * @param scale    work multiplier, more than 0 and at most 1.
 * @param progress where progress lines go (null for none).
 */
public record ExperimentContext(long seed, double scale, PrintWriter progress)
{
    /**
     * Checks the scale.
     *
     * @param seed     the seed.
     * @param scale    work multiplier.
     * @param progress progress writer or null.
     */
    public ExperimentContext
    {
        if (!(scale > 0 && scale <= 1))
        {
            throw new IllegalArgumentException("scale must be in (0, 1]: " + scale);
        }
    }

    /**
     * Reports progress.
     *
     * @param line what is happening.
     */
    public void progress(final String line)
    {
        if (null != progress)
        {
            progress.println(line);
            progress.flush();
        }
    }

    /**
     * Scales a count of work, keeping at least {@code min}.
     *
     * @param full the count in a full run.
     * @param min  the least.
     * @return the scaled count.
     */
    public int scaled(final int full, final int min)
    {
        return Math.max(min, (int)Math.round(full * scale));
    }
}
