package io.pvio.machine.vm;

import java.util.BitSet;
import java.util.SplittableRandom;

import io.pvio.machine.memory.MachineMemory;
import io.pvio.machine.paging.GuestPhysicalMap;

/**
 * A guest's pseudo-physical memory as its kernel sees it: frames 0..n-1, each backed by a machine frame the domain
 * owns, with the kernel's own page allocator (first fit, aligned runs for 2 MiB pages) and a share count per frame for
 * copy-on-write. Backing frames are scattered over machine memory by default, as a para guest's are (it maps its
 * contiguous pseudo-physical memory onto them itself), so a guest frame number is never mistaken for a machine one.
 * Implements the hypervisor's P2M view for the paging hardware.
 */
public final class GuestPhysicalMemory implements GuestPhysicalMap, AutoCloseable
{
    private final MachineMemory memory;
    private final int owner;
    private final long[] mfns;
    private final int[] shares;
    private final BitSet used;
    private int inUse;
    private int next;
    private boolean closed;

    /**
     * Allocates the machine frames behind {@code frames} guest frames.
     *
     * @param memory the machine memory.
     * @param owner  the domain that owns the frames.
     * @param frames guest frames, 1 or more.
     */
    public GuestPhysicalMemory(final MachineMemory memory, final int owner, final int frames)
    {
        this(memory, owner, frames, true);
    }

    /**
     * Allocates the machine frames behind {@code frames} guest frames, scattered (shuffled, as a guest's memory ends
     * up after the machine has run a while) or in the order the machine hands them out (contiguous on a fresh
     * machine, which 2 MiB machine pages need).
     *
     * @param memory    the machine memory.
     * @param owner     the domain that owns the frames.
     * @param frames    guest frames, 1 or more.
     * @param scattered whether to shuffle the backing frames.
     */
    public GuestPhysicalMemory(final MachineMemory memory, final int owner, final int frames, final boolean scattered)
    {
        if (frames < 1)
        {
            throw new IllegalArgumentException("frames must be positive: " + frames);
        }
        this.memory = memory;
        this.owner = owner;
        this.mfns = new long[frames];
        this.shares = new int[frames];
        this.used = new BitSet(frames);
        memory.allocate(owner, frames, mfns);
        if (scattered)
        {
            final SplittableRandom random = new SplittableRandom(0x9E37_79B9L * (owner + 1) + frames);
            for (int i = frames - 1; i > 0; i--)
            {
                final int j = random.nextInt(i + 1);
                final long t = mfns[i];
                mfns[i] = mfns[j];
                mfns[j] = t;
            }
        }
    }

    @Override
    public long machineFrame(final long gfn)
    {
        return gfn >= 0 && gfn < mfns.length ? mfns[(int)gfn] : NOT_POPULATED;
    }

    /**
     * The machine memory behind this guest.
     *
     * @return the memory.
     */
    public MachineMemory machineMemory()
    {
        return memory;
    }

    /**
     * The owning domain.
     *
     * @return the domain id.
     */
    public int owner()
    {
        return owner;
    }

    /**
     * Number of guest frames.
     *
     * @return frames.
     */
    public int frames()
    {
        return mfns.length;
    }

    /**
     * Frames the kernel has allocated.
     *
     * @return frames in use.
     */
    public int inUse()
    {
        return inUse;
    }

    /**
     * Allocates one zeroed frame with a share count of one.
     *
     * @return the guest frame number.
     * @throws IllegalStateException if none is free.
     */
    public long allocate()
    {
        int pfn = used.nextClearBit(next);
        if (pfn >= mfns.length)
        {
            pfn = used.nextClearBit(0);
            if (pfn >= mfns.length)
            {
                throw new IllegalStateException("guest " + owner + " is out of memory: " + inUse + " of " +
                    mfns.length + " frames in use");
            }
        }
        take(pfn, 1);
        next = pfn + 1;
        return pfn;
    }

    /**
     * Allocates {@code count} zeroed guest-contiguous frames starting at a multiple of {@code count}.
     *
     * @param count a power of two.
     * @return the first guest frame number.
     * @throws IllegalStateException if no such run is free.
     */
    public long allocateAligned(final int count)
    {
        for (int start = 0; start + count <= mfns.length; start += count)
        {
            final int firstUsed = used.nextSetBit(start);
            if (firstUsed < 0 || firstUsed >= start + count)
            {
                take(start, count);
                return start;
            }
        }
        throw new IllegalStateException("guest " + owner + " has no free aligned run of " + count + " frames");
    }

    private void take(final int start, final int count)
    {
        used.set(start, start + count);
        inUse += count;
        for (int pfn = start; pfn < start + count; pfn++)
        {
            shares[pfn] = 1;
            memory.frame(mfns[pfn]).setMemory(0, MachineMemory.FRAME_SIZE, (byte)0);
        }
    }

    /**
     * Adds a sharer (a copy-on-write mapping).
     *
     * @param pfn the frame.
     */
    public void share(final long pfn)
    {
        shares[checkUsed(pfn)]++;
    }

    /**
     * The number of mappings sharing a frame.
     *
     * @param pfn the frame.
     * @return the share count, 0 if free.
     */
    public int shareCount(final long pfn)
    {
        return shares[(int)pfn];
    }

    /**
     * Drops one sharer; the last one frees the frame.
     *
     * @param pfn the frame.
     * @return true if the frame was freed.
     */
    public boolean release(final long pfn)
    {
        final int index = checkUsed(pfn);
        if (--shares[index] > 0)
        {
            return false;
        }
        used.clear(index);
        inUse--;
        return true;
    }

    private int checkUsed(final long pfn)
    {
        if (pfn < 0 || pfn >= mfns.length || !used.get((int)pfn))
        {
            throw new IllegalArgumentException("guest frame " + pfn + " is not allocated");
        }
        return (int)pfn;
    }

    /**
     * Returns every machine frame to the machine.
     */
    @Override
    public void close()
    {
        if (closed)
        {
            return;
        }
        closed = true;
        for (final long mfn : mfns)
        {
            memory.free(mfn, owner);
        }
    }
}
