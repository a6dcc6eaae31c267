package io.pvio.hypervisor.memory;

/**
 * Divides host memory between domains (Waldspurger, OSDI 2002, section 5). Under {@link AllocationPolicy#SHARES} and
 * {@link AllocationPolicy#IDLE_TAX} it is min-funding revocation: starting from every domain at its maximum, pages are
 * taken, a step at a time, from the domain with the lowest adjusted shares-per-page ratio
 * <pre>
 *   rho = S / (P * (f + k * (1 - f)))      k = 1 / (1 - tau)
 * </pre>
 * (S shares, P pages, f active fraction) until the total fits; with tau = 0 this is plain proportional share. The
 * active fraction of a domain at P pages is its active page count over P (the pages it is using stay the same as its
 * allocation moves), so an idle domain's ratio rises as it is taxed and the split settles where the ratios meet.
 */
public final class MemoryScheduler
{
    /** ESX's default tax rate. */
    public static final double DEFAULT_TAU = 0.75;

    /** Headroom the working-set policy adds to an estimate. */
    public static final double WORKING_SET_HEADROOM = 1.1;

    private MemoryScheduler()
    {
    }

    /**
     * The idle page cost k = 1 / (1 - tau).
     *
     * @param tau the tax rate, 0 &lt;= tau &lt; 1.
     * @return k.
     */
    public static double idleCost(final double tau)
    {
        if (!(tau >= 0 && tau < 1))
        {
            throw new IllegalArgumentException("tau must be in [0, 1): " + tau);
        }
        return 1.0 / (1.0 - tau);
    }

    /**
     * The adjusted shares-per-page ratio rho.
     *
     * @param shares         S.
     * @param pages          P, 1 or more.
     * @param activeFraction f, 0 to 1.
     * @param tau            the tax rate.
     * @return rho.
     */
    public static double sharesPerPage(final double shares, final double pages, final double activeFraction,
        final double tau)
    {
        final double k = idleCost(tau);
        return shares / (pages * (activeFraction + k * (1.0 - activeFraction)));
    }

    /**
     * Allocation targets for every client.
     *
     * @param policy    the policy.
     * @param tau       the tax rate ({@link AllocationPolicy#IDLE_TAX} only).
     * @param hostPages pages to divide.
     * @param clients   the clients.
     * @return each client's target in pages, between its minimum and maximum.
     */
    public static long[] targets(
        final AllocationPolicy policy, final double tau, final long hostPages, final Client[] clients)
    {
        idleCost(tau);
        final long[] alloc = new long[clients.length];
        if (AllocationPolicy.WORKING_SET == policy)
        {
            return workingSet(hostPages, clients, alloc);
        }
        final double effectiveTau = AllocationPolicy.IDLE_TAX == policy ? tau : 0;
        long total = 0;
        for (int i = 0; i < clients.length; i++)
        {
            alloc[i] = clients[i].maxPages();
            total += alloc[i];
        }
        final long step = Math.max(1, hostPages / 2000);
        while (total > hostPages)
        {
            int victim = -1;
            double lowest = Double.MAX_VALUE;
            for (int i = 0; i < clients.length; i++)
            {
                final Client c = clients[i];
                if (alloc[i] <= c.minPages())
                {
                    continue;
                }
                final double rho = sharesPerPage(c.shares(), alloc[i], c.activeFraction(alloc[i]), effectiveTau);
                if (rho < lowest)
                {
                    lowest = rho;
                    victim = i;
                }
            }
            if (victim < 0)
            {
                break; // every client at its minimum: the host is overcommitted beyond the minimums
            }
            final long take = Math.min(step, Math.min(alloc[victim] - clients[victim].minPages(), total - hostPages));
            alloc[victim] -= take;
            total -= take;
        }
        return alloc;
    }

    private static long[] workingSet(final long hostPages, final Client[] clients, final long[] alloc)
    {
        long total = 0;
        long shares = 0;
        for (int i = 0; i < clients.length; i++)
        {
            final Client c = clients[i];
            alloc[i] = Math.max(c.minPages(), Math.min(c.maxPages(), (long)Math.ceil(c.activePages() *
                WORKING_SET_HEADROOM)));
            total += alloc[i];
            shares += c.shares();
        }
        if (total > hostPages)
        {
            // not even the working sets fit: scale what is above each minimum
            long above = 0;
            long mins = 0;
            for (int i = 0; i < clients.length; i++)
            {
                above += alloc[i] - clients[i].minPages();
                mins += clients[i].minPages();
            }
            final double scale = above == 0 ? 0 : Math.max(0, (double)(hostPages - mins) / above);
            for (int i = 0; i < clients.length; i++)
            {
                alloc[i] = clients[i].minPages() + (long)Math.floor((alloc[i] - clients[i].minPages()) * scale);
            }
            return alloc;
        }
        long spare = hostPages - total;
        for (int i = 0; i < clients.length && spare > 0 && shares > 0; i++)
        {
            final long extra = Math.min(clients[i].maxPages() - alloc[i],
                (long)Math.floor((double)(hostPages - total) * clients[i].shares() / shares));
            alloc[i] += Math.min(extra, spare);
            spare -= Math.min(extra, spare);
        }
        return alloc;
    }

    /**
     * One domain as the scheduler sees it.
     *
     * @param shares      its shares, more than 0.
     * @param minPages    the least it keeps.
     * @param maxPages    the most it can have (its configured size).
     * @param activePages pages it is estimated to be using (active fraction times its current size).
     */
    public record Client(long shares, long minPages, long maxPages, double activePages)
    {
        /**
         * Checks the values.
         *
         * @param shares      its shares, more than 0.
         * @param minPages    the least it keeps.
         * @param maxPages    the most it can have.
         * @param activePages pages it is estimated to be using.
         */
        public Client
        {
            if (shares <= 0 || minPages < 0 || maxPages < minPages || activePages < 0)
            {
                throw new IllegalArgumentException("client: shares=" + shares + " min=" + minPages + " max=" +
                    maxPages + " active=" + activePages + " (expected shares > 0, 0 <= min <= max, active >= 0)");
            }
        }

        /**
         * The active fraction at an allocation of {@code pages}: active pages over pages, at most 1.
         *
         * @param pages the allocation.
         * @return f.
         */
        public double activeFraction(final long pages)
        {
            return pages <= 0 ? 1.0 : Math.min(1.0, activePages / pages);
        }
    }
}
