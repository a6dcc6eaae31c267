package io.pvio.hypervisor.memory;

import java.util.SplittableRandom;

import org.agrona.collections.Int2ObjectHashMap;
import org.agrona.concurrent.UnsafeBuffer;

import io.pvio.hypervisor.Domain;
import io.pvio.hypervisor.P2M;
import io.pvio.machine.memory.MachineMemory;

/**
 * How the hypervisor hands machine memory between domains, behind each domain's P2M:
 * <ul>
 *   <li><b>Reservations</b> ({@code XENMEM_decrease_reservation} / {@code XENMEM_populate_physmap}): a balloon driver
 *       gives guest frames back and asks for them again; see {@link MemoryOps}.</li>
 *   <li><b>Hypervisor swapping</b>: with a host limit set, the hypervisor keeps a domain within it by swapping random
 *       pages out to its own swap store and back in when the guest touches them, without the guest knowing.</li>
 *   <li><b>Content-based sharing</b> ({@link PageSharing}): identical pages map one read-only frame; a write breaks
 *       the sharing.</li>
 *   <li><b>Working-set sampling</b>: each period n random pages are invalidated; touches of them are counted.</li>
 * </ul>
 * Every guest access the hypervisor has to see goes through {@link #access}: the fault path of a swapped, shared or
 * sampled page. One lock guards all of it. A guest that loads and stores through {@link #readLong},
 * {@link #writeLong}, {@link #copyIn} and {@link #copyOut} may run beside the sharing scanner and swapping on other
 * threads: translation and data access happen under the lock, as a TLB shootdown would make them atomic on hardware.
 * A caller that keeps a machine frame from {@link #access} must not run beside them. A domain's frames reach the machine allocator again on
 * {@link #releaseDomain}.
 */
public final class MemoryManager
{
    private final MachineMemory memory;
    private final Int2ObjectHashMap<DomainMemory> domains = new Int2ObjectHashMap<>();
    private final SwapStore swap = new SwapStore();
    private final PageSharing sharing;
    private final UnsafeBuffer view = new UnsafeBuffer(0, 0);
    private SplittableRandom victimRandom = new SplittableRandom(0x5eed);

    /**
     * A memory manager over the machine's memory.
     *
     * @param memory the machine memory.
     */
    public MemoryManager(final MachineMemory memory)
    {
        this.memory = memory;
        this.sharing = new PageSharing(this, memory);
    }

    /**
     * Content-based page sharing.
     *
     * @return the sharing engine.
     */
    public PageSharing sharing()
    {
        return sharing;
    }

    MachineMemory memory()
    {
        return memory;
    }

    DomainMemory state(final Domain domain)
    {
        DomainMemory state = domains.get(domain.id());
        if (null == state)
        {
            final P2M p2m = domain.p2m();
            int populated = 0;
            for (int gfn = 0; gfn < p2m.size(); gfn++)
            {
                if (p2m.entry(gfn) >= 0)
                {
                    populated++;
                }
            }
            state = new DomainMemory(domain.id(), p2m.size(), populated);
            domains.put(domain.id(), state);
        }
        return state;
    }

    /**
     * A guest access to one of its frames as the hypervisor's fault path sees it: a sampled page is counted as
     * touched, a swapped page is swapped in (swapping another out if the domain is at its host limit), and a write to
     * a shared page breaks the sharing.
     *
     * @param domain the guest.
     * @param gfn    the guest frame.
     * @param write  whether the access writes.
     * @return the machine frame now behind the guest frame, writable if {@code write}.
     * @throws IllegalArgumentException if the frame is out of range or not populated (ballooned out).
     */
    public synchronized long access(final Domain domain, final long gfn, final boolean write)
    {
        final long mfn = resolve(domain, gfn, write);
        if (P2M.INVALID_MFN == mfn)
        {
            throw new IllegalArgumentException("domain " + domain.id() + " has no frame at gfn=" + gfn +
                " (not populated)");
        }
        return mfn;
    }

    /**
     * A guest's 8-byte load from one of its frames, through the fault path, done under the manager's lock so that no
     * merge or swap-out can move the frame between the translation and the load.
     *
     * @param domain the guest.
     * @param gfn    the guest frame.
     * @param offset byte offset in the frame, 8-byte aligned.
     * @return the value.
     * @throws IllegalArgumentException if the frame is out of range or not populated.
     */
    public synchronized long readLong(final Domain domain, final long gfn, final int offset)
    {
        return memory.wrapFrame(access(domain, gfn, false), view).getLong(offset);
    }

    /**
     * A guest's 8-byte store into one of its frames, through the fault path (a shared frame is unshared first), under
     * the manager's lock.
     *
     * @param domain the guest.
     * @param gfn    the guest frame.
     * @param offset byte offset in the frame, 8-byte aligned.
     * @param value  the value.
     * @throws IllegalArgumentException if the frame is out of range or not populated.
     */
    public synchronized void writeLong(final Domain domain, final long gfn, final int offset, final long value)
    {
        memory.wrapFrame(access(domain, gfn, true), view).putLong(offset, value);
    }

    /**
     * Copies a whole guest frame out (the guest writing it to its swap device), under the manager's lock.
     *
     * @param domain the guest.
     * @param gfn    the guest frame.
     * @param dst    at least a frame's bytes.
     */
    public synchronized void copyOut(final Domain domain, final long gfn, final byte[] dst)
    {
        memory.wrapFrame(access(domain, gfn, false), view).getBytes(0, dst, 0, MachineMemory.FRAME_SIZE);
    }

    /**
     * Copies a whole guest frame in (the guest reading it back from its swap device), under the manager's lock.
     *
     * @param domain the guest.
     * @param gfn    the guest frame.
     * @param src    at least a frame's bytes.
     */
    public synchronized void copyIn(final Domain domain, final long gfn, final byte[] src)
    {
        memory.wrapFrame(access(domain, gfn, true), view).putBytes(0, src, 0, MachineMemory.FRAME_SIZE);
    }

    /**
     * The machine frame behind a guest frame, made present (swapped in) and, for writes, private: what a grant map or
     * copy of the frame needs.
     *
     * @param domain the owner of the frame.
     * @param gfn    the guest frame, range-checked.
     * @param write  whether the frame will be written.
     * @return the machine frame, or {@link P2M#INVALID_MFN} if out of range or not populated.
     */
    public synchronized long resolve(final Domain domain, final long gfn, final boolean write)
    {
        final P2M p2m = domain.p2m();
        if (gfn < 0 || gfn >= p2m.size())
        {
            return P2M.INVALID_MFN;
        }
        final DomainMemory state = state(domain);
        if (state.sampled.get((int)gfn))
        {
            state.sampled.clear((int)gfn);
            state.sampleFaults++;
            state.estimator.touched();
        }
        long entry = p2m.entry(gfn);
        if (P2M.INVALID_MFN == entry)
        {
            return P2M.INVALID_MFN;
        }
        if (entry < 0)
        {
            entry = swapIn(domain, state, gfn, entry);
        }
        if (write && 0 != (entry & P2M.SHARED))
        {
            entry = sharing.breakSharing(domain, state, gfn, entry);
        }
        return entry & ~P2M.SHARED;
    }

    int decreaseReservation(final Domain domain, final long[] gfns, final int count)
    {
        synchronized (this)
        {
            final DomainMemory state = state(domain);
            final P2M p2m = domain.p2m();
            for (int i = 0; i < count; i++)
            {
                final long gfn = gfns[i];
                if (gfn < 0 || gfn >= p2m.size() || P2M.INVALID_MFN == p2m.entry(gfn))
                {
                    return i;
                }
                release(domain, state, gfn);
                state.decreased++;
            }
            return count;
        }
    }

    int populatePhysmap(final Domain domain, final long[] gfns, final int count)
    {
        synchronized (this)
        {
            final DomainMemory state = state(domain);
            final P2M p2m = domain.p2m();
            for (int i = 0; i < count; i++)
            {
                final long gfn = gfns[i];
                if (gfn < 0 || gfn >= p2m.size() || P2M.INVALID_MFN != p2m.entry(gfn))
                {
                    return i;
                }
                final long mfn = memory.tryAllocate(domain.id());
                if (MachineMemory.NO_FRAME == mfn)
                {
                    return i;
                }
                memory.wrapFrame(mfn, view).setMemory(0, MachineMemory.FRAME_SIZE, (byte)0);
                p2m.setEntry(gfn, mfn);
                state.populated++;
                state.increased++;
                if (state.populated > state.hostLimit)
                {
                    swapOutRandom(domain, state, state.populated - state.hostLimit, victimRandom, gfn);
                }
            }
            return count;
        }
    }

    /**
     * Drops one guest frame whatever state it is in: a private frame goes back to the machine, a swapped one frees its
     * slot, a shared one drops a sharer.
     */
    private void release(final Domain domain, final DomainMemory state, final long gfn)
    {
        final P2M p2m = domain.p2m();
        final long entry = p2m.setEntry(gfn, P2M.INVALID_MFN);
        state.sampled.clear((int)gfn);
        if (P2M.INVALID_MFN == entry)
        {
            return;
        }
        if (entry < 0)
        {
            swap.release((int)P2M.swapSlot(entry));
            state.swapped--;
            return;
        }
        state.populated--;
        if (0 != (entry & P2M.SHARED))
        {
            sharing.dropSharer(entry & ~P2M.SHARED);
        }
        else
        {
            memory.free(entry, domain.id());
        }
    }

    /**
     * Sets how many machine frames the hypervisor lets a domain hold, swapping random pages out now if it holds more
     * and whenever a swap-in or populate would exceed it. {@link Integer#MAX_VALUE} lifts the limit.
     *
     * @param domain the domain.
     * @param frames the limit, 1 or more.
     * @param random picks victims.
     * @return pages swapped out now.
     */
    public synchronized int setHostLimit(final Domain domain, final int frames, final SplittableRandom random)
    {
        if (frames < 1)
        {
            throw new IllegalArgumentException("host limit must be positive: " + frames);
        }
        final DomainMemory state = state(domain);
        state.hostLimit = frames;
        return state.populated > frames ?
            swapOutRandom(domain, state, state.populated - frames, random, -1) : 0;
    }

    /**
     * Seeds the random victim choice of swap-ins at the host limit, for reproducible runs.
     *
     * @param seed the seed.
     */
    public synchronized void seedVictims(final long seed)
    {
        victimRandom = new SplittableRandom(seed);
    }

    private long swapIn(final Domain domain, final DomainMemory state, final long gfn, final long entry)
    {
        if (state.populated >= state.hostLimit)
        {
            swapOutRandom(domain, state, state.populated - state.hostLimit + 1, victimRandom, gfn);
        }
        final long mfn = memory.tryAllocate(domain.id());
        if (MachineMemory.NO_FRAME == mfn)
        {
            throw new IllegalStateException("no machine frame to swap in gfn " + gfn + " of domain " + domain.id());
        }
        swap.load((int)P2M.swapSlot(entry), memory.wrapFrame(mfn, view));
        domain.p2m().setEntry(gfn, mfn);
        state.swapped--;
        state.populated++;
        state.hostSwapIns++;
        return mfn;
    }

    private int swapOutRandom(
        final Domain domain, final DomainMemory state, final int pages, final SplittableRandom random, final long keep)
    {
        final P2M p2m = domain.p2m();
        final int size = p2m.size();
        int done = 0;
        int attempts = 0;
        while (done < pages && attempts < 64 * size)
        {
            attempts++;
            final int gfn = random.nextInt(size);
            final long entry = p2m.entry(gfn);
            if (gfn == keep || entry < 0 || 0 != (entry & P2M.SHARED) || memory.retainCount(entry) > 0)
            {
                continue; // not populated, shared, or mapped by another domain through a grant
            }
            final int slot = swap.store(memory.wrapFrame(entry, view));
            p2m.setEntry(gfn, P2M.swappedEntry(slot));
            memory.free(entry, domain.id());
            state.populated--;
            state.swapped++;
            state.hostSwapOuts++;
            done++;
        }
        return done;
    }

    /**
     * Starts a working-set sampling period: invalidates n randomly chosen populated pages of the domain, so the next
     * touch of each is seen (and counted) by the hypervisor.
     *
     * @param domain the domain.
     * @param pages  n, the sample size.
     * @param random picks the pages.
     * @return pages actually sampled (fewer if the domain has fewer populated).
     */
    public synchronized int startSamplingPeriod(final Domain domain, final int pages, final SplittableRandom random)
    {
        final DomainMemory state = state(domain);
        state.sampled.clear();
        final P2M p2m = domain.p2m();
        final int want = Math.min(pages, state.populated);
        int chosen = 0;
        int attempts = 0;
        while (chosen < want && attempts < 64 * p2m.size())
        {
            attempts++;
            final int gfn = random.nextInt(p2m.size());
            if (p2m.entry(gfn) >= 0 && !state.sampled.get(gfn))
            {
                state.sampled.set(gfn);
                chosen++;
            }
        }
        state.estimator.startPeriod(chosen);
        return chosen;
    }

    /**
     * Ends a sampling period: the sample t / n feeds the moving averages.
     *
     * @param domain the domain.
     * @return the new estimate of the active fraction.
     */
    public synchronized double endSamplingPeriod(final Domain domain)
    {
        final DomainMemory state = state(domain);
        state.sampled.clear();
        return state.estimator.endPeriod();
    }

    /**
     * A domain's working-set estimator.
     *
     * @param domain the domain.
     * @return the estimator.
     */
    public synchronized WorkingSetEstimator estimator(final Domain domain)
    {
        return state(domain).estimator;
    }

    /**
     * A snapshot of a domain's memory counters.
     *
     * @param domain the domain.
     * @return the snapshot.
     */
    public synchronized MemoryStats stats(final Domain domain)
    {
        final DomainMemory s = state(domain);
        return new MemoryStats(s.maxPages, s.populated, s.swapped, s.hostLimit, s.decreased, s.increased,
            s.hostSwapOuts, s.hostSwapIns, s.sharedBreaks, s.sampleFaults, sharing.sharedPagesOf(domain));
    }

    /**
     * Pages the hypervisor has swapped back in for a domain (cheaper than {@link #stats} for polling).
     *
     * @param domain the domain.
     * @return the count.
     */
    public synchronized long hostSwapIns(final Domain domain)
    {
        return state(domain).hostSwapIns;
    }

    /**
     * Pages in the hypervisor's swap store.
     *
     * @return slots in use.
     */
    public synchronized int swappedPages()
    {
        return swap.inUse();
    }

    /**
     * Returns every frame of a dying domain: private frames to the machine, swap slots to the store, shared frames
     * lose a sharer; its hints and counters are forgotten.
     *
     * @param domain the domain.
     */
    public synchronized void releaseDomain(final Domain domain)
    {
        final DomainMemory state = state(domain);
        for (int gfn = 0; gfn < domain.p2m().size(); gfn++)
        {
            release(domain, state, gfn);
        }
        sharing.forget(domain.id());
        domains.remove(domain.id());
    }
}
