package io.pvio.hypervisor;

import java.util.concurrent.atomic.AtomicLongArray;

import io.pvio.machine.paging.GuestPhysicalMap;

/**
 * A domain's physical-to-machine map: guest frame number (GFN, Xen's pseudo-physical frame) to machine frame number
 * (MFN). Guest frame numbers come from the guest and are range-checked on every lookup.
 */
public final class P2M implements GuestPhysicalMap
{
    /** The MFN of a GFN with no machine frame behind it ({@code INVALID_MFN}). */
    public static final long INVALID_MFN = -1;

    private final AtomicLongArray mfns;

    /**
     * Creates an empty map of {@code frames} guest frames.
     *
     * @param frames number of guest frames the domain can address.
     */
    public P2M(final int frames)
    {
        if (frames < 0)
        {
            throw new IllegalArgumentException("frames must not be negative: frames=" + frames);
        }
        mfns = new AtomicLongArray(frames);
        for (int i = 0; i < frames; i++)
        {
            mfns.set(i, INVALID_MFN);
        }
    }

    /**
     * Number of guest frames the map covers.
     *
     * @return the size.
     */
    public int size()
    {
        return mfns.length();
    }

    /**
     * The MFN behind a guest frame.
     *
     * @param gfn guest frame number, untrusted.
     * @return the MFN, or {@link #INVALID_MFN} if the GFN is out of range or unpopulated.
     */
    public long lookup(final long gfn)
    {
        if (gfn < 0 || gfn >= mfns.length())
        {
            return INVALID_MFN;
        }
        return mfns.get((int)gfn);
    }

    /**
     * The machine frame behind a guest frame, for the paging hardware: the same as {@link #lookup(long)}.
     *
     * @param gfn guest frame number, untrusted.
     * @return the MFN, or {@link GuestPhysicalMap#NOT_POPULATED}.
     */
    @Override
    public long machineFrame(final long gfn)
    {
        return lookup(gfn);
    }

    /**
     * Sets the MFN behind a guest frame (the hypervisor does this when it populates or changes the reservation).
     *
     * @param gfn guest frame number.
     * @param mfn machine frame number, or {@link #INVALID_MFN} to unpopulate.
     * @return the previous MFN.
     */
    public long set(final long gfn, final long mfn)
    {
        if (gfn < 0 || gfn >= mfns.length())
        {
            throw new IllegalArgumentException("gfn out of range: gfn=" + gfn + " (expected: 0 <= gfn < " +
                mfns.length() + ")");
        }
        return mfns.getAndSet((int)gfn, mfn);
    }
}
