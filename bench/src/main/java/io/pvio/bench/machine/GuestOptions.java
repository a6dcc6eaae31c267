package io.pvio.bench.machine;

import io.pvio.hypervisor.sched.CreditScheduler;
import io.pvio.machine.vm.PagingMode;

/**
 * How a guest of a {@link PvMachine} is built: its vCPUs, its virtualization mode and its scheduler weight and cap.
 * Mutable and fluent.
 */
public final class GuestOptions
{
    private int vcpus = 1;
    private PagingMode mode = PagingMode.PARA;
    private int weight = CreditScheduler.DEFAULT_WEIGHT;
    private int cap;

    /**
     * One para-virtualized vCPU with the default weight and no cap.
     */
    public GuestOptions()
    {
    }

    /**
     * The vCPU count.
     *
     * @return vCPUs.
     */
    public int vcpus()
    {
        return vcpus;
    }

    /**
     * Sets the vCPU count.
     *
     * @param vcpus 1 to 32.
     * @return this.
     */
    public GuestOptions vcpus(final int vcpus)
    {
        if (vcpus < 1 || vcpus > 32)
        {
            throw new IllegalArgumentException("vcpus=" + vcpus + " (expected 1..32)");
        }
        this.vcpus = vcpus;
        return this;
    }

    /**
     * The virtualization mode, for memory and CPU alike.
     *
     * @return the mode.
     */
    public PagingMode mode()
    {
        return mode;
    }

    /**
     * Sets the mode.
     *
     * @param mode native, full, para or nested.
     * @return this.
     */
    public GuestOptions mode(final PagingMode mode)
    {
        this.mode = java.util.Objects.requireNonNull(mode, "mode");
        return this;
    }

    /**
     * The credit-scheduler weight.
     *
     * @return the weight.
     */
    public int weight()
    {
        return weight;
    }

    /**
     * Sets the weight.
     *
     * @param weight 1 to 65535.
     * @return this.
     */
    public GuestOptions weight(final int weight)
    {
        if (weight < 1 || weight > CreditScheduler.MAX_WEIGHT)
        {
            throw new IllegalArgumentException("weight=" + weight + " (expected 1.." + CreditScheduler.MAX_WEIGHT + ")");
        }
        this.weight = weight;
        return this;
    }

    /**
     * The cap, in percent of one physical CPU; 0 for none.
     *
     * @return the cap.
     */
    public int cap()
    {
        return cap;
    }

    /**
     * Sets the cap.
     *
     * @param cap 0 for none, else 1 to 100 x vCPUs.
     * @return this.
     */
    public GuestOptions cap(final int cap)
    {
        if (cap < 0 || cap > 3200)
        {
            throw new IllegalArgumentException("cap=" + cap + " (expected 0..3200)");
        }
        this.cap = cap;
        return this;
    }
}
