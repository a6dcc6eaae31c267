package io.pvio.machine.memory;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicIntegerArray;

import org.agrona.BufferUtil;
import org.agrona.UnsafeApi;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The machine's physical memory: {@link #frameCount()} frames of {@link #FRAME_SIZE} bytes in off-heap memory,
 * addressed by machine frame number (MFN), released deterministically by {@link #close()}.
 * <p>
 * The frame allocator records one owner domain per frame. {@link #free(long, int)} scrubs a frame (zero-fills it) before
 * it can be allocated again, so no domain ever sees another's data in a fresh frame. A frame can be
 * {@linkplain #retain(long) retained} by a foreign mapping; freeing a retained frame only marks it, and the last
 * {@link #release(long)} completes the free.
 * <p>
 * Frame views ({@link #frame(long)}, {@link #wrapFrame(long, UnsafeBuffer)}) and copies are lock-free; allocation and
 * freeing take a lock. Using a view after {@link #close()} is a use-after-free: close only when every user is done.
 */
public final class MachineMemory implements AutoCloseable
{
    /** log2 of the frame size. */
    public static final int FRAME_SHIFT = 12;

    /** Bytes per machine frame. */
    public static final int FRAME_SIZE = 1 << FRAME_SHIFT;

    /** Owner of a free frame. */
    public static final int NO_OWNER = -1;

    /** Owner of a frame whose owner freed it while it was still retained; freed by the last release. */
    public static final int FREE_WHEN_RELEASED = -2;

    /** Returned by {@link #tryAllocate(int)} when no frame is free. */
    public static final long NO_FRAME = -1;

    /** Most frames one machine may have: 64 GiB. */
    public static final long MAX_FRAMES = 1L << 24;

    private static final int CHUNK_SHIFT = 16;
    private static final int FRAMES_PER_CHUNK = 1 << CHUNK_SHIFT;

    private final int frameCount;
    private final ByteBuffer[] chunks;
    private final long[] chunkAddresses;
    private final AtomicIntegerArray owners;
    private final AtomicIntegerArray retains;
    private final int[] freeStack;
    private int freeTop;
    private boolean closed;

    /**
     * Allocates {@code bytes} of machine memory, all frames free and zeroed.
     *
     * @param bytes size of memory, a positive multiple of {@link #FRAME_SIZE}, at most {@link #MAX_FRAMES} frames.
     * @throws IllegalArgumentException if the size is not a whole, positive, supported number of frames.
     */
    public MachineMemory(final long bytes)
    {
        if (bytes <= 0 || (bytes & (FRAME_SIZE - 1)) != 0 || (bytes >> FRAME_SHIFT) > MAX_FRAMES)
        {
            throw new IllegalArgumentException("machine memory must be a positive multiple of " + FRAME_SIZE +
                " bytes, at most " + (MAX_FRAMES << FRAME_SHIFT) + ": bytes=" + bytes);
        }
        frameCount = (int)(bytes >> FRAME_SHIFT);
        final int chunkCount = (frameCount + FRAMES_PER_CHUNK - 1) >> CHUNK_SHIFT;
        chunks = new ByteBuffer[chunkCount];
        chunkAddresses = new long[chunkCount];
        try
        {
            for (int i = 0; i < chunkCount; i++)
            {
                final int framesInChunk = Math.min(FRAMES_PER_CHUNK, frameCount - (i << CHUNK_SHIFT));
                // one spare frame so frames start on 4 KiB boundaries; allocateDirect zero-fills
                chunks[i] = ByteBuffer.allocateDirect((framesInChunk + 1) << FRAME_SHIFT);
                final long address = BufferUtil.address(chunks[i]);
                chunkAddresses[i] = (address + FRAME_SIZE - 1) & -(long)FRAME_SIZE;
            }
        }
        catch (final OutOfMemoryError ex)
        {
            freeChunks();
            throw new IllegalArgumentException("cannot reserve " + bytes + " bytes of off-heap memory for the " +
                "machine (raise -XX:MaxDirectMemorySize?): " + ex.getMessage(), ex);
        }
        owners = new AtomicIntegerArray(frameCount);
        retains = new AtomicIntegerArray(frameCount);
        freeStack = new int[frameCount];
        for (int i = 0; i < frameCount; i++)
        {
            owners.set(i, NO_OWNER);
            freeStack[i] = frameCount - 1 - i;
        }
        freeTop = frameCount;
    }

    /**
     * Number of frames.
     *
     * @return the frame count.
     */
    public int frameCount()
    {
        return frameCount;
    }

    /**
     * Number of frames free for allocation now.
     *
     * @return free frames.
     */
    public synchronized int freeFrames()
    {
        return freeTop;
    }

    /**
     * Number of frames a domain owns. Frames it freed that are still retained by a mapping are not counted. This
     * scans every frame: use it in reports and tests, not on a hot path.
     *
     * @param domainId the owner.
     * @return frames owned.
     */
    public int framesOwnedBy(final int domainId)
    {
        int count = 0;
        for (int i = 0; i < frameCount; i++)
        {
            if (owners.get(i) == domainId)
            {
                count++;
            }
        }
        return count;
    }

    /**
     * Allocates one frame for {@code owner}.
     *
     * @param owner the domain that will own the frame, 0 or more.
     * @return the frame's MFN.
     * @throws OutOfMachineMemoryException if no frame is free.
     */
    public long allocate(final int owner)
    {
        final long mfn = tryAllocate(owner);
        if (NO_FRAME == mfn)
        {
            throw new OutOfMachineMemoryException("machine memory exhausted: domain " + owner + " asked for 1 frame, " +
                "0 of " + frameCount + " free");
        }
        return mfn;
    }

    /**
     * Allocates one frame for {@code owner}, or reports that none is free.
     *
     * @param owner the domain that will own the frame, 0 or more.
     * @return the frame's MFN, or {@link #NO_FRAME}.
     */
    public synchronized long tryAllocate(final int owner)
    {
        checkOwner(owner);
        checkOpen();
        if (0 == freeTop)
        {
            return NO_FRAME;
        }
        final int mfn = freeStack[--freeTop];
        owners.set(mfn, owner);
        return mfn;
    }

    /**
     * Allocates {@code count} frames for {@code owner}, all or none.
     *
     * @param owner the domain that will own the frames.
     * @param count how many.
     * @param mfns  receives the MFNs in its first {@code count} elements.
     * @throws OutOfMachineMemoryException if fewer than {@code count} frames are free; nothing is allocated.
     */
    public synchronized void allocate(final int owner, final int count, final long[] mfns)
    {
        checkOwner(owner);
        checkOpen();
        if (count < 0 || count > mfns.length)
        {
            throw new IllegalArgumentException("count out of range: count=" + count + ", mfns.length=" + mfns.length);
        }
        if (count > freeTop)
        {
            throw new OutOfMachineMemoryException("machine memory exhausted: domain " + owner + " asked for " + count +
                " frames, " + freeTop + " of " + frameCount + " free");
        }
        for (int i = 0; i < count; i++)
        {
            final int mfn = freeStack[--freeTop];
            owners.set(mfn, owner);
            mfns[i] = mfn;
        }
    }

    /**
     * Frees a frame its owner no longer needs. A frame still retained by a mapping stays out of the allocator until
     * its last {@link #release(long)}.
     *
     * @param mfn   the frame.
     * @param owner the domain freeing it, which must be its owner.
     * @return true if the frame went back to the allocator now, false if it waits for its mappings to go.
     * @throws IllegalArgumentException if the MFN is out of range or the frame is not owned by {@code owner}.
     */
    public synchronized boolean free(final long mfn, final int owner)
    {
        checkOpen();
        final int frame = checkMfn(mfn);
        final int current = owners.get(frame);
        if (current != owner || owner < 0)
        {
            throw new IllegalArgumentException("domain " + owner + " cannot free mfn=" + mfn + ": owner=" + current);
        }
        if (retains.get(frame) > 0)
        {
            owners.set(frame, FREE_WHEN_RELEASED);
            return false;
        }
        scrubAndFree(frame);
        return true;
    }

    /**
     * Hands a frame from one owner to another (a page becoming shared, or a shared page becoming a domain's again).
     *
     * @param mfn  the frame.
     * @param from its owner now.
     * @param to   the new owner, 0 or more.
     * @throws IllegalArgumentException if {@code from} does not own the frame.
     */
    public synchronized void transfer(final long mfn, final int from, final int to)
    {
        checkOpen();
        checkOwner(to);
        final int frame = checkMfn(mfn);
        if (owners.get(frame) != from || from < 0)
        {
            throw new IllegalArgumentException("domain " + from + " cannot hand over mfn=" + mfn + ": owner=" +
                owners.get(frame));
        }
        owners.set(frame, to);
    }

    /**
     * Holds a frame for a mapping: while retained, freeing it does not return it to the allocator.
     *
     * @param mfn the frame, which must have an owner.
     * @throws IllegalArgumentException if the frame is free or out of range.
     */
    public void retain(final long mfn)
    {
        final int frame = checkMfn(mfn);
        if (owners.get(frame) < 0)
        {
            throw new IllegalArgumentException("cannot retain mfn=" + mfn + ": it has no owner");
        }
        retains.incrementAndGet(frame);
    }

    /**
     * Ends one {@link #retain(long)}; the last release of a frame its owner already freed frees it.
     *
     * @param mfn the frame.
     * @throws IllegalStateException if the frame is not retained.
     */
    public void release(final long mfn)
    {
        final int frame = checkMfn(mfn);
        final int remaining = retains.decrementAndGet(frame);
        if (remaining < 0)
        {
            retains.incrementAndGet(frame);
            throw new IllegalStateException("mfn=" + mfn + " released more often than retained");
        }
        if (0 == remaining)
        {
            synchronized (this)
            {
                if (owners.get(frame) == FREE_WHEN_RELEASED && retains.get(frame) == 0)
                {
                    scrubAndFree(frame);
                }
            }
        }
    }

    /**
     * How many mappings hold a frame.
     *
     * @param mfn the frame.
     * @return retain count.
     */
    public int retainCount(final long mfn)
    {
        return retains.get(checkMfn(mfn));
    }

    /**
     * The frame's owner: a domain id, {@link #NO_OWNER} or {@link #FREE_WHEN_RELEASED}.
     *
     * @param mfn the frame.
     * @return the owner.
     */
    public int owner(final long mfn)
    {
        return owners.get(checkMfn(mfn));
    }

    /**
     * Address of a frame's first byte, for copies with no intermediate view.
     *
     * @param mfn the frame.
     * @return the native address.
     */
    public long frameAddress(final long mfn)
    {
        final int frame = checkMfn(mfn);
        return chunkAddresses[frame >>> CHUNK_SHIFT] + ((long)(frame & (FRAMES_PER_CHUNK - 1)) << FRAME_SHIFT);
    }

    /**
     * A new view of one frame, sharing its memory. For hot paths use {@link #wrapFrame(long, UnsafeBuffer)}.
     *
     * @param mfn the frame.
     * @return a {@link #FRAME_SIZE}-byte buffer over the frame.
     */
    public UnsafeBuffer frame(final long mfn)
    {
        return new UnsafeBuffer(frameAddress(mfn), FRAME_SIZE);
    }

    /**
     * Points an existing view at one frame, allocating nothing.
     *
     * @param mfn  the frame.
     * @param view the view to re-point.
     * @return {@code view}.
     */
    public UnsafeBuffer wrapFrame(final long mfn, final UnsafeBuffer view)
    {
        view.wrap(frameAddress(mfn), FRAME_SIZE);
        return view;
    }

    /**
     * Copies bytes between frames (or within one), staying inside each frame.
     *
     * @param srcMfn    source frame.
     * @param srcOffset offset in the source frame.
     * @param dstMfn    destination frame.
     * @param dstOffset offset in the destination frame.
     * @param length    bytes to copy.
     * @throws IndexOutOfBoundsException if a range leaves its frame.
     */
    public void copy(final long srcMfn, final int srcOffset, final long dstMfn, final int dstOffset, final int length)
    {
        checkRange(srcOffset, length);
        checkRange(dstOffset, length);
        UnsafeApi.copyMemory(frameAddress(srcMfn) + srcOffset, frameAddress(dstMfn) + dstOffset, length);
    }

    /**
     * Frees the off-heap memory. Every view and address handed out becomes invalid.
     */
    @Override
    public synchronized void close()
    {
        if (!closed)
        {
            closed = true;
            freeChunks();
        }
    }

    /**
     * Whether {@link #close()} has run.
     *
     * @return true once closed.
     */
    public synchronized boolean isClosed()
    {
        return closed;
    }

    private void scrubAndFree(final int frame)
    {
        UnsafeApi.setMemory(frameAddress(frame), FRAME_SIZE, (byte)0);
        owners.set(frame, NO_OWNER);
        freeStack[freeTop++] = frame;
    }

    private void freeChunks()
    {
        for (int i = 0; i < chunks.length; i++)
        {
            if (null != chunks[i])
            {
                BufferUtil.free(chunks[i]);
                chunks[i] = null;
                chunkAddresses[i] = 0;
            }
        }
    }

    private int checkMfn(final long mfn)
    {
        if (mfn < 0 || mfn >= frameCount)
        {
            throw new IllegalArgumentException("mfn out of range: mfn=" + mfn + " (expected: 0 <= mfn < " +
                frameCount + ")");
        }
        return (int)mfn;
    }

    private void checkOpen()
    {
        if (closed)
        {
            throw new IllegalStateException("machine memory is closed");
        }
    }

    private static void checkOwner(final int owner)
    {
        if (owner < 0)
        {
            throw new IllegalArgumentException("owner must be a domain id: owner=" + owner);
        }
    }

    private static void checkRange(final int offset, final int length)
    {
        if ((offset | length) < 0 || offset + length > FRAME_SIZE)
        {
            throw new IndexOutOfBoundsException("range leaves the frame: offset=" + offset + ", length=" + length +
                " (expected: 0 <= offset, 0 <= length, offset + length <= " + FRAME_SIZE + ")");
        }
    }
}
