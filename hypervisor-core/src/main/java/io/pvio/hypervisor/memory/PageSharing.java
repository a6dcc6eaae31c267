package io.pvio.hypervisor.memory;

import java.util.SplittableRandom;

import org.agrona.collections.Int2ObjectHashMap;
import org.agrona.collections.Long2LongHashMap;
import org.agrona.concurrent.UnsafeBuffer;

import io.pvio.hypervisor.Domain;
import io.pvio.hypervisor.DomainId;
import io.pvio.hypervisor.P2M;
import io.pvio.machine.memory.MachineMemory;

/**
 * Content-based page sharing as in ESX: a scanner visits each domain's frames in random order at a set rate, hashes
 * each page's contents and looks the hash up in one machine-wide table.
 * <ul>
 *   <li>A hash matching a <b>shared frame</b> is confirmed byte for byte; the guest frame is then remapped read-only
 *       to the shared frame and its own machine frame freed.</li>
 *   <li>A hash matching a <b>hint</b> (an unshared page seen earlier: domain and guest frame) is confirmed against the
 *       hinted page as it is now; if equal, the hinted page's frame becomes the shared frame (owned by
 *       {@link DomainId#COW}) for both. A stale hint is replaced.</li>
 *   <li>Otherwise the page becomes a hint. A false hash match only makes that page ineligible for now.</li>
 * </ul>
 * Sharing works within and across domains, zero pages included; a frame another domain has mapped through a grant is
 * left alone. A write to a shared page breaks the sharing through
 * the memory manager's fault path: the writer gets a private copy, or the frame back if it was the last sharer.
 * Runs under the memory manager's lock.
 * <p>
 * <b>Concurrency.</b> Real hardware write-protects a page and shoots down its TLB entries before merging it. Here
 * guests that reach their memory through the memory manager's {@code readLong}/{@code writeLong}/{@code copyIn}/
 * {@code copyOut} (translation and access under one lock) may run beside the scanner; a machine frame handed out
 * writable by {@link MemoryManager#access} stays writable to its holder, so such a holder must not run beside it.
 */
public final class PageSharing
{
    private static final long NONE = Long.MIN_VALUE;

    private final MemoryManager manager;
    private final MachineMemory memory;
    private final Long2LongHashMap sharedByHash = new Long2LongHashMap(NONE);
    private final Long2LongHashMap hashOfShared = new Long2LongHashMap(NONE);
    private final Long2LongHashMap sharers = new Long2LongHashMap(0);
    private final Long2LongHashMap hints = new Long2LongHashMap(NONE);
    private final Int2ObjectHashMap<Domain> domains = new Int2ObjectHashMap<>();
    private final Int2ObjectHashMap<Cursor> cursors = new Int2ObjectHashMap<>();
    private final UnsafeBuffer page = new UnsafeBuffer(0, 0);
    private final UnsafeBuffer other = new UnsafeBuffer(0, 0);
    private final long zeroHash;
    private long scanned;
    private long merged;
    private long falseMatches;
    private long breaks;

    PageSharing(final MemoryManager manager, final MachineMemory memory)
    {
        this.manager = manager;
        this.memory = memory;
        this.zeroHash = PageHash.of(new UnsafeBuffer(new byte[MachineMemory.FRAME_SIZE]));
    }

    /**
     * Scans up to {@code pages} frames of a domain, continuing its random-order pass.
     *
     * @param domain the domain.
     * @param pages  frames to visit.
     * @param random orders each pass over the domain's frames.
     * @return frames newly shared by this scan.
     */
    public int scan(final Domain domain, final int pages, final SplittableRandom random)
    {
        synchronized (manager)
        {
            final DomainMemory state = manager.state(domain);
            domains.put(domain.id(), domain);
            Cursor cursor = cursors.get(domain.id());
            if (null == cursor)
            {
                cursor = new Cursor(domain.p2m().size());
                cursors.put(domain.id(), cursor);
            }
            int shared = 0;
            for (int i = 0; i < pages; i++)
            {
                if (scanOne(domain, state, cursor.next(random)))
                {
                    shared++;
                }
            }
            return shared;
        }
    }

    private boolean scanOne(final Domain domain, final DomainMemory state, final int gfn)
    {
        final P2M p2m = domain.p2m();
        final long entry = p2m.entry(gfn);
        if (entry < 0 || 0 != (entry & P2M.SHARED) || memory.retainCount(entry) > 0)
        {
            return false; // not populated, already shared, or mapped by another domain through a grant
        }
        scanned++;
        memory.wrapFrame(entry, page);
        final long hash = PageHash.of(page);
        final long sharedMfn = sharedByHash.get(hash);
        if (NONE != sharedMfn)
        {
            if (!PageHash.equal(page, memory.wrapFrame(sharedMfn, other)))
            {
                falseMatches++;
                return false;
            }
            p2m.setEntry(gfn, sharedMfn | P2M.SHARED);
            sharers.put(sharedMfn, sharers.get(sharedMfn) + 1);
            memory.free(entry, domain.id());
            merged++;
            return true;
        }
        final long hint = hints.get(hash);
        if (NONE != hint)
        {
            final Domain hintDomain = domains.get((int)(hint >>> 32));
            final long hintGfn = hint & 0xFFFF_FFFFL;
            final long hintEntry = null == hintDomain || !hintDomain.isAlive() ? -1 : hintDomain.p2m().entry(hintGfn);
            if (hintEntry >= 0 && 0 == (hintEntry & P2M.SHARED) && (hintDomain != domain || hintGfn != gfn) &&
                0 == memory.retainCount(hintEntry) &&
                PageHash.equal(page, memory.wrapFrame(hintEntry, other)))
            {
                hints.remove(hash);
                memory.transfer(hintEntry, hintDomain.id(), DomainId.COW);
                hintDomain.p2m().setEntry(hintGfn, hintEntry | P2M.SHARED);
                p2m.setEntry(gfn, hintEntry | P2M.SHARED);
                memory.free(entry, domain.id());
                sharedByHash.put(hash, hintEntry);
                hashOfShared.put(hintEntry, hash);
                sharers.put(hintEntry, 2);
                merged++;
                return true;
            }
        }
        hints.put(hash, ((long)domain.id() << 32) | gfn);
        return false;
    }

    /**
     * A write to a shared page: the last sharer takes the frame back, any other gets a private copy.
     */
    long breakSharing(final Domain domain, final DomainMemory state, final long gfn, final long entry)
    {
        final long sharedMfn = entry & ~P2M.SHARED;
        final long count = sharers.get(sharedMfn);
        breaks++;
        state.sharedBreaks++;
        if (count <= 1)
        {
            forgetShared(sharedMfn);
            memory.transfer(sharedMfn, DomainId.COW, domain.id());
            domain.p2m().setEntry(gfn, sharedMfn);
            return sharedMfn;
        }
        final long copy = memory.tryAllocate(domain.id());
        if (MachineMemory.NO_FRAME == copy)
        {
            throw new IllegalStateException("no machine frame to break sharing of gfn " + gfn + " of domain " +
                domain.id());
        }
        memory.copy(sharedMfn, 0, copy, 0, MachineMemory.FRAME_SIZE);
        domain.p2m().setEntry(gfn, copy);
        sharers.put(sharedMfn, count - 1);
        return copy;
    }

    /**
     * A guest frame mapped to a shared frame went away.
     */
    void dropSharer(final long sharedMfn)
    {
        final long count = sharers.get(sharedMfn) - 1;
        if (count > 0)
        {
            sharers.put(sharedMfn, count);
            return;
        }
        forgetShared(sharedMfn);
        memory.free(sharedMfn, DomainId.COW);
    }

    private void forgetShared(final long sharedMfn)
    {
        sharers.remove(sharedMfn);
        final long hash = hashOfShared.remove(sharedMfn);
        if (NONE != hash)
        {
            sharedByHash.remove(hash);
        }
    }

    void forget(final int domainId)
    {
        domains.remove(domainId);
        cursors.remove(domainId);
        final Long2LongHashMap.EntryIterator it = hints.entrySet().iterator();
        while (it.hasNext())
        {
            it.next();
            if ((int)(it.getLongValue() >>> 32) == domainId)
            {
                it.remove();
            }
        }
    }

    int sharedPagesOf(final Domain domain)
    {
        final P2M p2m = domain.p2m();
        int count = 0;
        for (int gfn = 0; gfn < p2m.size(); gfn++)
        {
            final long entry = p2m.entry(gfn);
            if (entry >= 0 && 0 != (entry & P2M.SHARED))
            {
                count++;
            }
        }
        return count;
    }

    /**
     * Guest frames mapped to shared frames, over all domains.
     *
     * @return the count.
     */
    public long sharedGuestPages()
    {
        synchronized (manager)
        {
            long total = 0;
            final Long2LongHashMap.ValueIterator it = sharers.values().iterator();
            while (it.hasNext())
            {
                total += it.nextValue();
            }
            return total;
        }
    }

    /**
     * Distinct shared machine frames.
     *
     * @return the count.
     */
    public int sharedFrames()
    {
        synchronized (manager)
        {
            return sharers.size();
        }
    }

    /**
     * Machine frames sharing saves: guest frames mapped to shared frames minus the shared frames themselves.
     *
     * @return frames reclaimed.
     */
    public long reclaimedFrames()
    {
        return sharedGuestPages() - sharedFrames();
    }

    /**
     * Guest frames mapped to the shared zero page.
     *
     * @return the count (0 if no zero page is shared).
     */
    public long zeroPages()
    {
        synchronized (manager)
        {
            final long zeroMfn = sharedByHash.get(zeroHash);
            return NONE == zeroMfn ? 0 : sharers.get(zeroMfn);
        }
    }

    /**
     * Pages hashed by the scanner.
     *
     * @return the count.
     */
    public long scanned()
    {
        synchronized (manager)
        {
            return scanned;
        }
    }

    /**
     * Guest frames merged into shared frames (a frame merged, broken and merged again counts twice).
     *
     * @return the count.
     */
    public long merged()
    {
        synchronized (manager)
        {
            return merged;
        }
    }

    /**
     * Hash matches the byte comparison refused.
     *
     * @return the count.
     */
    public long falseMatches()
    {
        synchronized (manager)
        {
            return falseMatches;
        }
    }

    /**
     * Writes that broke sharing.
     *
     * @return the count.
     */
    public long breaks()
    {
        synchronized (manager)
        {
            return breaks;
        }
    }

    /**
     * Unshared pages remembered by hash.
     *
     * @return the count.
     */
    public int hints()
    {
        synchronized (manager)
        {
            return hints.size();
        }
    }

    /** A domain's random-order pass over its frames. */
    private static final class Cursor
    {
        private final int[] order;
        private int position;

        Cursor(final int frames)
        {
            order = new int[frames];
            for (int i = 0; i < frames; i++)
            {
                order[i] = i;
            }
            position = frames;
        }

        int next(final SplittableRandom random)
        {
            if (position == order.length)
            {
                for (int i = order.length - 1; i > 0; i--)
                {
                    final int j = random.nextInt(i + 1);
                    final int t = order[i];
                    order[i] = order[j];
                    order[j] = t;
                }
                position = 0;
            }
            return order[position++];
        }
    }
}
