package io.pvio.hypervisor.grant;

import static io.pvio.hypervisor.grant.GrantEntryDescriptor.DOMID_MASK;
import static io.pvio.hypervisor.grant.GrantEntryDescriptor.DOMID_OFFSET;
import static io.pvio.hypervisor.grant.GrantEntryDescriptor.DOMID_SHIFT;
import static io.pvio.hypervisor.grant.GrantEntryDescriptor.ENTRIES_PER_FRAME;
import static io.pvio.hypervisor.grant.GrantEntryDescriptor.ENTRIES_PER_FRAME_SHIFT;
import static io.pvio.hypervisor.grant.GrantEntryDescriptor.FLAGS_MASK;
import static io.pvio.hypervisor.grant.GrantEntryDescriptor.FLAGS_OFFSET;
import static io.pvio.hypervisor.grant.GrantEntryDescriptor.FRAME_OFFSET;
import static io.pvio.hypervisor.grant.GrantEntryDescriptor.GTF_IN_USE_MASK;
import static io.pvio.hypervisor.grant.GrantEntryDescriptor.GTF_PERMIT_ACCESS;
import static io.pvio.hypervisor.grant.GrantEntryDescriptor.GTF_READING;
import static io.pvio.hypervisor.grant.GrantEntryDescriptor.GTF_READONLY;
import static io.pvio.hypervisor.grant.GrantEntryDescriptor.GTF_TYPE_MASK;
import static io.pvio.hypervisor.grant.GrantEntryDescriptor.GTF_WRITING;
import static io.pvio.hypervisor.grant.GrantEntryDescriptor.MAX_FRAME;
import static io.pvio.hypervisor.grant.GrantEntryDescriptor.NR_RESERVED_ENTRIES;
import static io.pvio.hypervisor.grant.GrantEntryDescriptor.entryOffset;
import static io.pvio.hypervisor.grant.GrantEntryDescriptor.frameIndex;

import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicIntegerArray;

import org.agrona.concurrent.UnsafeBuffer;

import io.pvio.hypervisor.Domain;
import io.pvio.hypervisor.DomainId;
import io.pvio.hypervisor.Errno;
import io.pvio.hypervisor.HypercallException;
import io.pvio.hypervisor.Hypervisor;
import io.pvio.hypervisor.P2M;
import io.pvio.machine.memory.MachineMemory;

/**
 * A domain's grant table, version 1: the frames of {@link GrantEntryDescriptor} entries through which the owner
 * shares its frames, plus the state the hypervisor keeps for the owner in both roles.
 * <ul>
 *   <li><b>Guest side</b> (code running in the owner): {@link #grantAccess(int, long, boolean)} and
 *   {@link #endAccess(int)}, with the free list of references. The table grows by one frame, through the owner's
 *   {@code setup_table} hypercall, when the free list runs dry, up to {@link #maxFrames()}.</li>
 *   <li><b>Granter side</b> (hypervisor-private): table frames, and per entry the counts of read and write pins held
 *   by maps and copies in flight. {@link GrantEntryDescriptor#GTF_READING} and
 *   {@link GrantEntryDescriptor#GTF_WRITING} are set in the shared entry exactly while the counts say so.</li>
 *   <li><b>Grantee side</b> (hypervisor-private): the maptrack, the owner's mappings of other domains' grants, found
 *   by handle, at most {@link #maxMaptrack()} at once.</li>
 * </ul>
 * The table frames are allocated from machine memory as the owner's frames, like Xen's shared grant frames, and the
 * owner can see them ({@link #wrapTableFrame(int, UnsafeBuffer)}). They are freed by {@link #releaseAll()} when the
 * owner dies.
 *
 * <h2>Ordering</h2>
 * The guest and the hypervisor meet on one 32-bit word per entry, {@code flags | domid << 16}, and both change it
 * only by compare-and-swap once the entry is valid:
 * <ol>
 *   <li>grant: the guest writes {@code domid}, then {@code frame}, then a release fence (Xen's {@code wmb}), then
 *   {@code flags}; a hypervisor that reads a valid type also reads the domid and frame written before it;</li>
 *   <li>pin (map, copy): the hypervisor reads the word once, checks it, and sets {@code GTF_reading} (and
 *   {@code GTF_writing} for write access) by CAS against the word it checked, then reads {@code frame}: a guest that
 *   ended and re-granted the entry in between makes the CAS fail, so a stale frame is never used;</li>
 *   <li>end access: the guest clears {@code flags} by a CAS that expects {@code GTF_reading|GTF_writing} clear;
 *   checking and clearing are one atomic step, so a pin cannot slip in between (XSA-396);</li>
 *   <li>unpin: the hypervisor clears the bits by CAS after its last access to the frame, so a guest whose end-access
 *   CAS succeeds sees every byte a copy wrote (XSA-230: the bits never clear early).</li>
 * </ol>
 * Pins and unpins of one entry are serialised by a lock bit in the hypervisor's private pin word, as Xen serialises
 * them with the active entry's lock; the guest never takes it.
 *
 * <h2>Teardown</h2>
 * Every operation that touches this table's frames, its pin words or its maptrack enters a guard first; when the
 * owner dies, {@link #releaseAll()} closes the guard, waits for operations in flight, unmaps every mapping the owner
 * holds, and frees the table frames. Operations that arrive later fail ({@link GrantStatus#BAD_DOMAIN} for a dead
 * granter); a grantee's unmap of a dead granter's grant still releases the frame and touches no freed memory.
 */
public final class GrantTable
{
    /** System property with the default {@link #maxFrames()} of every new table. */
    public static final String MAX_FRAMES_PROP_NAME = "pvio.grant.maxFrames";

    /** Default grant-table size limit in frames: 32 frames, 16384 references. */
    public static final int MAX_FRAMES_DEFAULT = 32;

    /** Largest configurable grant-table size in frames. */
    public static final int MAX_FRAMES_LIMIT = 1024;

    /** System property with the default {@link #maxMaptrack()} of every new table. */
    public static final String MAX_MAPTRACK_PROP_NAME = "pvio.grant.maxMaptrack";

    /** Default number of mappings one domain may hold at once. */
    public static final int MAX_MAPTRACK_DEFAULT = 1024;

    /** Largest configurable maptrack size: handles carry a 16-bit slot index. */
    public static final int MAX_MAPTRACK_LIMIT = 1 << 16;

    /** Times a pin retries its CAS when the guest changes the entry under it (Xen gives up after the fifth try). */
    static final int MAX_PIN_RETRIES = 4;

    private static final int READ_PIN = 1;
    private static final int READ_PINS_MASK = 0xFFFF;
    private static final int WRITE_PIN = 1 << 16;
    private static final int WRITE_PINS_MASK = 0x7FFF << 16;
    private static final int PINS_MASK = READ_PINS_MASK | WRITE_PINS_MASK;
    private static final int PIN_LOCKED = 1 << 31;

    private final Domain owner;
    private final MachineMemory memory;
    private final Object growLock = new Object();
    private final Object refLock = new Object();
    private final TeardownGuard guard = new TeardownGuard();

    private int maxFrames;
    private Maptrack maptrack;

    private long[] frameMfns;
    private UnsafeBuffer[] frameViews;
    private AtomicIntegerArray pins;
    private volatile int nrFrames;
    private boolean released;

    private int[] freeRefs;
    private int freeRefCount;
    private boolean[] granted;
    private int grantedCount;
    private int knownRefs = NR_RESERVED_ENTRIES;

    /** Test hook: run by a copy after both sides are pinned and before the bytes move. */
    Runnable copyProbe;

    /**
     * Creates the empty table of {@code owner}, with limits from {@link #MAX_FRAMES_PROP_NAME} and
     * {@link #MAX_MAPTRACK_PROP_NAME} (or their defaults). No frame is allocated until the first grant or
     * {@code setup_table}.
     *
     * @param hypervisor the hypervisor.
     * @param owner      the domain whose table this is.
     * @throws IllegalArgumentException if a limit property is not a number in range.
     */
    public GrantTable(final Hypervisor hypervisor, final Domain owner)
    {
        this.owner = owner;
        this.memory = hypervisor.memory();
        allocateState(
            intProperty(MAX_FRAMES_PROP_NAME, MAX_FRAMES_DEFAULT, MAX_FRAMES_LIMIT),
            intProperty(MAX_MAPTRACK_PROP_NAME, MAX_MAPTRACK_DEFAULT, MAX_MAPTRACK_LIMIT));
    }

    /**
     * Sets this domain's limits, as the toolstack does when it builds a domain ({@code max_grant_frames},
     * {@code max_maptrack_frames}). Call it before the domain runs: before any grant, map or table growth.
     *
     * @param maxFrames   grant-table size limit in frames, 1 to {@link #MAX_FRAMES_LIMIT}.
     * @param maxMaptrack most mappings held at once, 1 to {@link #MAX_MAPTRACK_LIMIT}.
     * @throws IllegalArgumentException if a limit is out of range.
     * @throws IllegalStateException    if the table is already in use.
     */
    public void configureLimits(final int maxFrames, final int maxMaptrack)
    {
        checkLimit("maxFrames", maxFrames, MAX_FRAMES_LIMIT);
        checkLimit("maxMaptrack", maxMaptrack, MAX_MAPTRACK_LIMIT);
        synchronized (growLock)
        {
            if (0 != nrFrames || !maptrack.isPristine() || released)
            {
                throw new IllegalStateException("grant table of domain " + owner.id() + " is in use: nrFrames=" +
                    nrFrames + ", mapped before=" + !maptrack.isPristine() + ", released=" + released);
            }
            allocateState(maxFrames, maxMaptrack);
        }
    }

    /**
     * The domain whose table this is.
     *
     * @return the owner.
     */
    public Domain owner()
    {
        return owner;
    }

    /**
     * Current size in frames ({@code query_size}'s {@code nr_frames}).
     *
     * @return frames, 0 before the first growth and after {@link #releaseAll()}.
     */
    public int nrFrames()
    {
        return nrFrames;
    }

    /**
     * Size limit in frames ({@code query_size}'s {@code max_nr_frames}).
     *
     * @return the limit.
     */
    public int maxFrames()
    {
        return maxFrames;
    }

    /**
     * Most mappings of other domains' grants the owner may hold at once.
     *
     * @return the maptrack limit.
     */
    public int maxMaptrack()
    {
        return maptrack.limit();
    }

    /**
     * References the table holds now, reserved ones included: {@code nrFrames() * 512}.
     *
     * @return one past the highest valid reference.
     */
    public int refLimit()
    {
        return nrFrames << ENTRIES_PER_FRAME_SHIFT;
    }

    /**
     * The MFN of one table frame, as {@code setup_table} lists them for the guest to map.
     *
     * @param index the table frame, {@code 0 <= index < nrFrames()}.
     * @return the MFN.
     * @throws IndexOutOfBoundsException if there is no such table frame.
     */
    public long frameMfn(final int index)
    {
        synchronized (growLock)
        {
            checkTableFrame(index);
            return frameMfns[index];
        }
    }

    /**
     * Points a view at one of the table frames, as the owner sees its shared grant frames. Writing entries through it
     * bypasses {@link #grantAccess(int, long, boolean)}: the hypervisor checks whatever it finds there.
     *
     * @param index the table frame, {@code 0 <= index < nrFrames()}.
     * @param view  the view to re-point.
     * @return {@code view}.
     * @throws IndexOutOfBoundsException if there is no such table frame.
     */
    public UnsafeBuffer wrapTableFrame(final int index, final UnsafeBuffer view)
    {
        return memory.wrapFrame(frameMfn(index), view);
    }

    /**
     * Grants {@code remoteDomid} access to the owner's frame {@code gfn} (Linux's
     * {@code gnttab_grant_foreign_access}). Takes a free reference, growing the table by one frame when none is left,
     * then fills its entry in the order {@code grant_table.h} prescribes:
     * <ol>
     *   <li>write {@code domid};</li>
     *   <li>write {@code frame};</li>
     *   <li>release fence ({@code wmb}): the hypervisor sees both before it sees a valid type;</li>
     *   <li>write {@code flags = GTF_permit_access | (readOnly ? GTF_readonly : 0)}.</li>
     * </ol>
     * Called by code running in the owner.
     *
     * @param remoteDomid the domain allowed to map or copy the frame.
     * @param gfn         the owner's frame; whether it is populated is checked when it is used.
     * @param readOnly    whether the grantee may only read.
     * @return the grant reference, {@link GrantEntryDescriptor#NR_RESERVED_ENTRIES} or more, or
     *         {@link GrantStatus#NO_SPACE} if the table is at its limit and every reference is in use.
     * @throws IllegalArgumentException if {@code remoteDomid} is not a domain id or {@code gfn} does not fit in 32
     *                                  bits.
     * @throws HypercallException       ESRCH if the owner is dying.
     */
    public int grantAccess(final int remoteDomid, final long gfn, final boolean readOnly)
    {
        checkGrantArguments(remoteDomid, gfn);
        enterAsOwner("grantAccess");
        try
        {
            final int ref;
            synchronized (refLock)
            {
                if (0 == freeRefCount && !replenishFreeRefs())
                {
                    return GrantStatus.NO_SPACE;
                }
                ref = freeRefs[--freeRefCount];
                granted[ref] = true;
                grantedCount++;
            }
            writeEntry(ref, remoteDomid, gfn, readOnly);
            return ref;
        }
        finally
        {
            exitGuard();
        }
    }

    /**
     * Fills one of the reserved references 0 to 7, as the toolstack pre-populates
     * {@link GrantEntryDescriptor#RESERVED_CONSOLE} and {@link GrantEntryDescriptor#RESERVED_XENSTORE} for a new
     * domain. The entry is written in the order of {@link #grantAccess(int, long, boolean)}, and ended with
     * {@link #endAccess(int)}; a reserved reference never joins the free list.
     *
     * @param ref         the reserved reference, {@code 0 <= ref < 8}.
     * @param remoteDomid the domain allowed to map or copy the frame.
     * @param gfn         the owner's frame.
     * @param readOnly    whether the grantee may only read.
     * @throws IllegalArgumentException if {@code ref} is not reserved, or an argument is out of range.
     * @throws IllegalStateException    if {@code ref} is granted already or the table cannot get its first frame.
     * @throws HypercallException       ESRCH if the owner is dying.
     */
    public void grantReservedAccess(final int ref, final int remoteDomid, final long gfn, final boolean readOnly)
    {
        if (ref < 0 || ref >= NR_RESERVED_ENTRIES)
        {
            throw new IllegalArgumentException("not a reserved grant reference: ref=" + ref +
                " (expected: 0 <= ref < " + NR_RESERVED_ENTRIES + ")");
        }
        checkGrantArguments(remoteDomid, gfn);
        enterAsOwner("grantReservedAccess");
        try
        {
            synchronized (refLock)
            {
                if (0 == nrFrames && !replenishFreeRefs())
                {
                    throw new IllegalStateException("domain " + owner.id() + " cannot get a first grant-table frame");
                }
                if (granted[ref])
                {
                    throw new IllegalStateException("domain " + owner.id() + " has already granted reserved ref=" +
                        ref);
                }
                granted[ref] = true;
                grantedCount++;
            }
            writeEntry(ref, remoteDomid, gfn, readOnly);
        }
        finally
        {
            exitGuard();
        }
    }

    /**
     * Ends a grant (Linux's {@code gnttab_try_end_foreign_access}): revokes it unless the grantee still has the frame
     * mapped or a copy is using it. As {@code grant_table.h} prescribes, the check and the revocation are one CAS on
     * the flags/domid word, expecting {@code GTF_reading|GTF_writing} clear and writing {@code flags = 0}; there is
     * no separate query (XSA-396).
     * <p>
     * On success the reference goes back to the free list, and the frame may be reused: every byte the hypervisor
     * wrote into it is visible. On failure nothing changes: the grant stays in force, the caller must keep the frame
     * out of reuse, and try again later (or, as Linux does, leak it).
     *
     * @param ref a reference this table granted and has not ended.
     * @return true if access ended, false if the frame is still mapped or being copied.
     * @throws IllegalArgumentException if {@code ref} is not currently granted.
     * @throws HypercallException       ESRCH if the owner is dying.
     */
    public boolean endAccess(final int ref)
    {
        enterAsOwner("endAccess");
        try
        {
            synchronized (refLock)
            {
                if (ref < 0 || ref >= granted.length || !granted[ref])
                {
                    throw new IllegalArgumentException("domain " + owner.id() + " has not granted ref=" + ref);
                }
                final UnsafeBuffer frame = frameViews[frameIndex(ref)];
                final int wordIndex = entryOffset(ref) + FLAGS_OFFSET;
                // Volatile read (grant_table.h step 1): sees the in-use bits of any pin that completed before it.
                int word = frame.getIntVolatile(wordIndex);
                while (true)
                {
                    if (0 != (word & GTF_IN_USE_MASK))
                    {
                        return false;
                    }
                    // One CAS checks "not in use" and revokes; it fails if a pin set GTF_reading since the read above.
                    if (frame.compareAndSetInt(wordIndex, word, word & DOMID_MASK))
                    {
                        break;
                    }
                    word = frame.getIntVolatile(wordIndex);
                }
                granted[ref] = false;
                grantedCount--;
                if (ref >= NR_RESERVED_ENTRIES)
                {
                    freeRefs[freeRefCount++] = ref;
                }
                return true;
            }
        }
        finally
        {
            exitGuard();
        }
    }

    /**
     * How many references the owner has granted and not yet ended.
     *
     * @return the count.
     */
    public int grantedCount()
    {
        synchronized (refLock)
        {
            return grantedCount;
        }
    }

    /**
     * How many mappings of other domains' grants the owner holds now.
     *
     * @return the number of live handles.
     */
    public int mappingCount()
    {
        return maptrack.count();
    }

    /**
     * Whether {@link #releaseAll()} has run.
     *
     * @return true once released.
     */
    public boolean isReleased()
    {
        synchronized (growLock)
        {
            return released;
        }
    }

    /**
     * Tears the table down while its owner is dying: waits for grant operations in flight on it, unmaps every
     * mapping the owner holds of other domains' grants (so their frames are released), then frees the table frames.
     * Frames the owner granted and another domain still maps stay retained by those mappings and are freed, scrubbed,
     * when they are unmapped. Called by the hypervisor; runs once.
     *
     * @throws IllegalStateException if the owner is not dying.
     */
    public void releaseAll()
    {
        if (owner.isAlive())
        {
            throw new IllegalStateException("releaseAll is for a dying domain: domain " + owner.id() + " is " +
                owner.state());
        }
        synchronized (growLock)
        {
            if (released)
            {
                return;
            }
            released = true;
        }
        guard.close();
        maptrack.unmapAll();

        synchronized (growLock)
        {
            final int frames = nrFrames;
            // Nobody is in the guard any more, so no range check can race this store; it only keeps queries honest.
            nrFrames = 0;
            for (int i = 0; i < frames; i++)
            {
                memory.free(frameMfns[i], owner.id());
                frameMfns[i] = MachineMemory.NO_FRAME;
                frameViews[i] = null;
            }
        }
        synchronized (refLock)
        {
            freeRefCount = 0;
            grantedCount = 0;
            knownRefs = NR_RESERVED_ENTRIES;
            Arrays.fill(granted, false);
        }
    }

    /**
     * {@inheritDoc}
     */
    @Override
    public String toString()
    {
        return "GrantTable{domain=" + owner.id() + ", nrFrames=" + nrFrames + ", maxFrames=" + maxFrames +
            ", maxMaptrack=" + maptrack.limit() + '}';
    }

    /**
     * Enters the guard: the table's frames, pins and maptrack stay in place until {@link #exitGuard()}.
     *
     * @return false if the table is released or being released.
     */
    boolean enterGuard()
    {
        return guard.enter();
    }

    void exitGuard()
    {
        guard.exit();
    }

    Maptrack maptrack()
    {
        return maptrack;
    }

    /**
     * Grows the table to at least {@code target} frames ({@code GNTTABOP_setup_table}); the caller is in the guard.
     *
     * @param target frames wanted.
     * @return {@link GrantStatus#OKAY}, or {@link GrantStatus#GENERAL_ERROR} if {@code target} exceeds the limit or
     *         machine memory runs out (frames added before that stay).
     */
    int grow(final int target)
    {
        synchronized (growLock)
        {
            int frames = nrFrames;
            if (target <= frames)
            {
                return GrantStatus.OKAY;
            }
            if (target > maxFrames || released)
            {
                return GrantStatus.GENERAL_ERROR;
            }
            GrantEntryDescriptor.checkNativeOrder();
            while (frames < target)
            {
                final long mfn = memory.tryAllocate(owner.id());
                if (MachineMemory.NO_FRAME == mfn)
                {
                    return GrantStatus.GENERAL_ERROR;
                }
                frameMfns[frames] = mfn;
                frameViews[frames] = memory.frame(mfn);
                frames++;
                // Volatile store: the frame and its view are in place before its references pass a range check.
                nrFrames = frames;
            }
            return GrantStatus.OKAY;
        }
    }

    /**
     * Pins entry {@code ref} for {@code granteeId}: checks the entry, sets {@code GTF_reading} (and
     * {@code GTF_writing}) while counting the pin, and returns the machine frame granted. The caller is in the guard
     * and has range-checked {@code ref}.
     *
     * @param ref       the reference, {@code 0 <= ref < refLimit()}.
     * @param granteeId the domain asking.
     * @param writable  whether it asks to write.
     * @return the MFN (0 or more), or a negative {@link GrantStatus}.
     */
    long pin(final int ref, final int granteeId, final boolean writable)
    {
        final AtomicIntegerArray pins = this.pins;
        final UnsafeBuffer frame = frameViews[frameIndex(ref)];
        final int entry = entryOffset(ref);
        final int wordIndex = entry + FLAGS_OFFSET;
        final int before = lockEntry(pins, ref);
        int after = before;
        try
        {
            final int pinned;
            if (writable)
            {
                if (WRITE_PINS_MASK == (before & WRITE_PINS_MASK))
                {
                    return GrantStatus.GENERAL_ERROR;
                }
                pinned = before + WRITE_PIN;
            }
            else
            {
                if (READ_PINS_MASK == (before & READ_PINS_MASK))
                {
                    return GrantStatus.GENERAL_ERROR;
                }
                pinned = before + READ_PIN;
            }
            final int required = inUseFlags(pinned);
            // The one read of flags and domid: every check below looks at this local, never at shared memory again.
            int word = frame.getIntVolatile(wordIndex);
            int retries = 0;
            while (true)
            {
                final int status = checkEntry(word, granteeId, writable);
                if (GrantStatus.OKAY != status)
                {
                    return status;
                }
                if (required == (word & required))
                {
                    break;
                }
                // CAS against the checked word: succeeds only if the guest has not ended or changed the grant since.
                final int witness = frame.compareAndExchangeInt(wordIndex, word, word | required);
                if (witness == word)
                {
                    break;
                }
                if (++retries > MAX_PIN_RETRIES)
                {
                    return GrantStatus.GENERAL_ERROR;
                }
                word = witness;
            }
            // Read after the pin, as Xen does: with the in-use bits set the guest cannot end and re-grant the entry.
            final long gfn = frame.getIntVolatile(entry + FRAME_OFFSET) & MAX_FRAME;
            final long mfn = owner.resolveFrame(gfn, writable);
            if (P2M.INVALID_MFN == mfn)
            {
                clearFlags(frame, wordIndex, required & ~inUseFlags(before));
                return GrantStatus.BAD_PAGE;
            }
            after = pinned;
            return mfn;
        }
        finally
        {
            // Release store unlocks: the next pinner of this entry sees the counts and the flags written above.
            pins.setRelease(ref, after);
        }
    }

    /**
     * Drops a pin taken by {@link #pin(int, int, boolean)}, clearing {@code GTF_writing} with the last write pin and
     * {@code GTF_reading} with the last pin. The caller is in the guard and has finished with the frame.
     *
     * @param ref      the reference.
     * @param writable whether the pin was for writing.
     */
    void unpin(final int ref, final boolean writable)
    {
        final AtomicIntegerArray pins = this.pins;
        final int before = lockEntry(pins, ref);
        int after = before;
        try
        {
            if (0 == (before & (writable ? WRITE_PINS_MASK : READ_PINS_MASK)))
            {
                throw new IllegalStateException("unpin without a pin: domain=" + owner.id() + " ref=" + ref +
                    " writable=" + writable + " pins=0x" + Integer.toHexString(before));
            }
            after = before - (writable ? WRITE_PIN : READ_PIN);
            clearFlags(frameViews[frameIndex(ref)], entryOffset(ref) + FLAGS_OFFSET,
                inUseFlags(before) & ~inUseFlags(after));
        }
        finally
        {
            // Release store unlocks, after the flags are cleared: the next pinner sees counts and flags agree.
            pins.setRelease(ref, after);
        }
    }

    int readPins(final int ref)
    {
        return pins.get(ref) & READ_PINS_MASK;
    }

    int writePins(final int ref)
    {
        return (pins.get(ref) & WRITE_PINS_MASK) >>> 16;
    }

    private void enterAsOwner(final String call)
    {
        if (!enterGuard())
        {
            throw new HypercallException(Errno.ESRCH, call + ": domain " + owner.id() + " is " +
                owner.state());
        }
    }

    private boolean replenishFreeRefs()
    {
        int limit = nrFrames << ENTRIES_PER_FRAME_SHIFT;
        if (limit <= knownRefs)
        {
            final int frames = nrFrames;
            if (frames >= maxFrames)
            {
                return false;
            }
            if (GrantStatus.OKAY != owner.hypercalls().grantTableOp().setupTable(frames + 1) && nrFrames == frames)
            {
                return false;
            }
            limit = nrFrames << ENTRIES_PER_FRAME_SHIFT;
        }
        for (int ref = limit - 1; ref >= knownRefs; ref--)
        {
            freeRefs[freeRefCount++] = ref;
        }
        knownRefs = limit;
        return true;
    }

    private void writeEntry(final int ref, final int remoteDomid, final long gfn, final boolean readOnly)
    {
        final UnsafeBuffer frame = frameViews[frameIndex(ref)];
        final int entry = entryOffset(ref);
        frame.putShort(entry + DOMID_OFFSET, (short)remoteDomid);
        frame.putInt(entry + FRAME_OFFSET, (int)gfn);
        // wmb: domid and frame are visible before a valid type is (grant_table.h step 3).
        VarHandle.releaseFence();
        frame.putShort(entry + FLAGS_OFFSET, (short)(GTF_PERMIT_ACCESS | (readOnly ? GTF_READONLY : 0)));
    }

    private void allocateState(final int maxFrames, final int maxMaptrack)
    {
        final int maxRefs = maxFrames * ENTRIES_PER_FRAME;
        this.maxFrames = maxFrames;
        frameMfns = new long[maxFrames];
        frameViews = new UnsafeBuffer[maxFrames];
        pins = new AtomicIntegerArray(maxRefs);
        freeRefs = new int[maxRefs];
        granted = new boolean[maxRefs];
        maptrack = new Maptrack(memory, maxMaptrack);
    }

    private void checkTableFrame(final int index)
    {
        if (index < 0 || index >= nrFrames)
        {
            throw new IndexOutOfBoundsException("domain " + owner.id() + " has no grant-table frame index=" + index +
                " (expected: 0 <= index < " + nrFrames + ")");
        }
    }

    private static int lockEntry(final AtomicIntegerArray pins, final int ref)
    {
        while (true)
        {
            final int value = pins.get(ref);
            // Volatile CAS takes the entry lock: acquire pairs with the release store that unlocked it.
            if (0 == (value & PIN_LOCKED) && pins.compareAndSet(ref, value, value | PIN_LOCKED))
            {
                return value;
            }
            Thread.onSpinWait();
        }
    }

    private static void clearFlags(final UnsafeBuffer frame, final int wordIndex, final int clear)
    {
        if (0 != clear)
        {
            int word = frame.getIntVolatile(wordIndex);
            while (true)
            {
                // Volatile CAS, after the last access to the frame: a guest that sees the bits clear sees those bytes.
                final int witness = frame.compareAndExchangeInt(wordIndex, word, word & ~clear);
                if (witness == word)
                {
                    return;
                }
                word = witness;
            }
        }
    }

    private static int inUseFlags(final int pins)
    {
        return (0 != (pins & PINS_MASK) ? GTF_READING : 0) | (0 != (pins & WRITE_PINS_MASK) ? GTF_WRITING : 0);
    }

    private static int checkEntry(final int word, final int granteeId, final boolean writable)
    {
        final int flags = word & FLAGS_MASK;
        if (GTF_PERMIT_ACCESS != (flags & GTF_TYPE_MASK))
        {
            return GrantStatus.BAD_GNTREF;
        }
        if (granteeId != (word >>> DOMID_SHIFT))
        {
            return GrantStatus.PERMISSION_DENIED;
        }
        if (writable && 0 != (flags & GTF_READONLY))
        {
            return GrantStatus.PERMISSION_DENIED;
        }
        return GrantStatus.OKAY;
    }

    private static void checkGrantArguments(final int remoteDomid, final long gfn)
    {
        if (!DomainId.isValid(remoteDomid))
        {
            throw new IllegalArgumentException("not a domain id: remoteDomid=" + remoteDomid + " (expected: 0 <= " +
                "remoteDomid <= " + DomainId.MAX_DOMAIN_ID + ")");
        }
        if (gfn < 0 || gfn > MAX_FRAME)
        {
            throw new IllegalArgumentException("gfn does not fit a grant entry: gfn=" + gfn +
                " (expected: 0 <= gfn <= " + MAX_FRAME + ")");
        }
    }

    private static void checkLimit(final String name, final int value, final int limit)
    {
        if (value < 1 || value > limit)
        {
            throw new IllegalArgumentException(name + " out of range: " + name + "=" + value + " (expected: 1 <= " +
                name + " <= " + limit + ")");
        }
    }

    private static int intProperty(final String name, final int defaultValue, final int limit)
    {
        final String text = System.getProperty(name);
        if (null == text)
        {
            return defaultValue;
        }
        final int value;
        try
        {
            value = Integer.parseInt(text.trim());
        }
        catch (final NumberFormatException ex)
        {
            throw new IllegalArgumentException(
                "system property " + name + " is not a number: " + name + "=" + text, ex);
        }
        checkLimit(name, value, limit);
        return value;
    }
}
