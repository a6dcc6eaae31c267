package io.pvio.machine.cpu;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A vCPU's interrupt controller, the part of a local APIC the machine models: the interrupt request register
 * ({@code IRR}, vectors raised and not yet taken) and the in-service register ({@code ISR}, vectors whose handler has
 * not yet signalled end of interrupt). A vector is deliverable when its priority class ({@code vector >> 4}) is above
 * that of every vector in service, as the APIC's processor-priority rule says.
 * <p>
 * Any thread may raise a vector ({@link #raise(int)}, an atomic OR into {@code IRR}); only the thread running the vCPU
 * accepts and ends them. In full mode this is the hypervisor's virtual APIC, whose vectors are injected on VM entry;
 * in native mode it stands for the hardware APIC.
 */
public final class InterruptController
{
    /** Vectors: 256, as on x86. */
    public static final int VECTORS = 256;

    private static final int WORDS = VECTORS / Long.SIZE;
    private static final VarHandle WORD = MethodHandles.arrayElementVarHandle(long[].class);

    private final long[] irr = new long[WORDS];
    private final long[] isr = new long[WORDS];

    /**
     * Raises a vector; safe from any thread. Raising a vector already requested does nothing more (one request per
     * vector, as on the APIC).
     *
     * @param vector 0 to 255.
     * @return true if the vector was not already requested.
     * @throws IllegalArgumentException if the vector is out of range.
     */
    public boolean raise(final int vector)
    {
        checkVector(vector);
        final long bit = 1L << vector;
        // volatile RMW: publishes the source's earlier writes to the vCPU that accepts the vector
        return 0 == ((long)WORD.getAndBitwiseOr(irr, vector >>> 6, bit) & bit);
    }

    /**
     * The highest requested vector that may be delivered now, or -1.
     *
     * @return a vector, or -1.
     */
    public int deliverable()
    {
        final int requested = highest(irr, true);
        if (requested < 0)
        {
            return -1;
        }
        final int inService = highest(isr, false);
        return inService < 0 || (requested >>> 4) > (inService >>> 4) ? requested : -1;
    }

    /**
     * Whether any vector is requested, deliverable or not.
     *
     * @return true if {@code IRR} is not empty.
     */
    public boolean anyRequested()
    {
        return highest(irr, true) >= 0;
    }

    /**
     * Takes a requested vector into service (the CPU's interrupt acknowledge). vCPU thread only.
     *
     * @param vector a vector returned by {@link #deliverable()}.
     */
    public void accept(final int vector)
    {
        final long bit = 1L << vector;
        // volatile RMW: other vectors of the word may be raised concurrently
        WORD.getAndBitwiseAnd(irr, vector >>> 6, ~bit);
        isr[vector >>> 6] |= bit;
    }

    /**
     * End of interrupt: clears the highest vector in service. vCPU thread only.
     *
     * @return the vector ended, or -1 if none was in service.
     */
    public int endOfInterrupt()
    {
        final int vector = highest(isr, false);
        if (vector >= 0)
        {
            isr[vector >>> 6] &= ~(1L << vector);
        }
        return vector;
    }

    /**
     * Whether a vector is requested.
     *
     * @param vector 0 to 255.
     * @return true if in {@code IRR}.
     */
    public boolean isRequested(final int vector)
    {
        checkVector(vector);
        return 0 != ((long)WORD.getVolatile(irr, vector >>> 6) & (1L << vector));
    }

    /**
     * Whether a vector is in service.
     *
     * @param vector 0 to 255.
     * @return true if in {@code ISR}.
     */
    public boolean isInService(final int vector)
    {
        checkVector(vector);
        return 0 != (isr[vector >>> 6] & (1L << vector));
    }

    private static int highest(final long[] words, final boolean shared)
    {
        for (int w = WORDS - 1; w >= 0; w--)
        {
            // volatile read for IRR (written by other threads); plain for ISR (vCPU thread only)
            final long word = shared ? (long)WORD.getVolatile(words, w) : words[w];
            if (0 != word)
            {
                return (w << 6) + 63 - Long.numberOfLeadingZeros(word);
            }
        }
        return -1;
    }

    private static void checkVector(final int vector)
    {
        if (vector < 0 || vector >= VECTORS)
        {
            throw new IllegalArgumentException("vector out of range: " + vector + " (expected 0..255)");
        }
    }
}
