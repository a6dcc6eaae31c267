package io.pvio.hypervisor;

import java.util.concurrent.atomic.AtomicLongArray;

import io.pvio.machine.paging.GuestPhysicalMap;

/**
 * A domain's physical-to-machine map: guest frame number (GFN, Xen's pseudo-physical frame) to machine frame number
 * (MFN). Guest frame numbers come from the guest and are range-checked on every lookup.
 * <p>
 * Each entry is one {@code long}:
 * <pre>
 *   63  62  61                                   0
 *  +---+---+--------------------------------------+
 *  | 0 | S |  machine frame number                |   populated; S = shared copy-on-write (read-only)
 *  +---+---+--------------------------------------+
 *  -1                                                  not populated (ballooned out, never populated)
 *  -2 - slot                                           swapped out by the hypervisor to swap slot {@code slot}
 * </pre>
 * {@link #lookup} answers only populated entries (with S masked off); the memory manager reads the raw entry.
 */
public final class P2M implements GuestPhysicalMap
{
    /** The MFN of a GFN with no machine frame behind it ({@code INVALID_MFN}). */
    public static final long INVALID_MFN = -1;

    /** The bit of a populated entry whose frame is shared copy-on-write. */
    public static final long SHARED = 1L << 62;

    private static final long SWAPPED_BASE = -2;

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
        final long raw = mfns.get((int)gfn);
        return raw >= 0 ? raw & ~SHARED : INVALID_MFN;
    }

    /**
     * The raw entry: a machine frame with the {@link #SHARED} bit, {@link #INVALID_MFN}, or a swapped entry.
     *
     * @param gfn the guest frame, in range.
     * @return the entry.
     */
    public long entry(final long gfn)
    {
        return mfns.get(index(gfn));
    }

    /**
     * Replaces the raw entry.
     *
     * @param gfn   the guest frame, in range.
     * @param entry the new entry.
     * @return the old entry.
     */
    public long setEntry(final long gfn, final long entry)
    {
        return mfns.getAndSet(index(gfn), entry);
    }

    /**
     * The raw entry of a frame swapped to {@code slot}.
     *
     * @param slot the swap slot, 0 or more.
     * @return the entry.
     */
    public static long swappedEntry(final long slot)
    {
        return SWAPPED_BASE - slot;
    }

    /**
     * The swap slot of a raw entry.
     *
     * @param entry a raw entry.
     * @return the slot, or -1 if the entry is not swapped.
     */
    public static long swapSlot(final long entry)
    {
        return entry <= SWAPPED_BASE ? SWAPPED_BASE - entry : -1;
    }

    private int index(final long gfn)
    {
        if (gfn < 0 || gfn >= mfns.length())
        {
            throw new IllegalArgumentException("gfn out of range: gfn=" + gfn + " (expected: 0 <= gfn < " +
                mfns.length() + ")");
        }
        return (int)gfn;
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
