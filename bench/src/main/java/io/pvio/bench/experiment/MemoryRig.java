package io.pvio.bench.experiment;

import java.util.ArrayList;
import java.util.List;

import io.pvio.frontend.memory.BalloonDriver;
import io.pvio.frontend.memory.GuestPager;
import io.pvio.hypervisor.Domain;
import io.pvio.hypervisor.Hypervisor;
import io.pvio.hypervisor.memory.MemoryManager;
import io.pvio.hypervisor.memory.MemoryTarget;
import io.pvio.hypervisor.xenstore.XenStore;
import io.pvio.hypervisor.xenstore.XenStoreConnection;
import io.pvio.machine.CostModel;
import io.pvio.machine.memory.MachineMemory;

/**
 * A machine for the memory-management experiments: the hypervisor, XenStore with a toolstack connection, and guests
 * each with a balloon driver and a paging model over their own allocator. Guests run on the caller's thread, step by
 * step, so runs are reproducible.
 */
final class MemoryRig implements AutoCloseable
{
    /** Work per operation a guest does besides its memory access (assumption, cycles): a small file-system call. */
    static final long OP_CYCLES = 20_000;

    private static final int DOM0_FRAMES = 64;

    final Hypervisor hypervisor;
    final XenStore xenStore = new XenStore();
    final XenStoreConnection toolstack;
    final CostModel cost = new CostModel();
    private final List<Guest> guests = new ArrayList<>();

    MemoryRig(final int machineFrames)
    {
        hypervisor = new Hypervisor(new MachineMemory((long)(machineFrames + DOM0_FRAMES) * MachineMemory.FRAME_SIZE),
            DOM0_FRAMES, 1);
        toolstack = xenStore.connect(0);
    }

    MemoryManager memoryManager()
    {
        return hypervisor.memoryManager();
    }

    Guest guest(final String name, final int pages, final int virtualPages, final int balloonFloor)
    {
        final Domain domain = hypervisor.dom0().hypercalls().createDomain(name, pages, 1);
        xenStore.introduceDomain(domain.id());
        final XenStoreConnection store = xenStore.connect(domain.id());
        final GuestPager pager = new GuestPager(domain, domain.pageAllocator(), hypervisor.memoryManager(),
            virtualPages);
        final BalloonDriver balloon = new BalloonDriver(domain, domain.pageAllocator(), store, pager, balloonFloor);
        final Guest guest = new Guest(this, domain, store, pager, balloon, pages);
        guests.add(guest);
        return guest;
    }

    /**
     * Modeled cycles of a guest's work: its operations plus every page moved to or from a swap device, guest's or
     * hypervisor's.
     */
    long modeledCycles(final long operations, final long pageIos)
    {
        return operations * OP_CYCLES + pageIos * cost.diskPageIo();
    }

    @Override
    public void close()
    {
        for (final Guest guest : guests)
        {
            guest.balloon.close();
            guest.store.close();
        }
        toolstack.close();
        hypervisor.close();
    }

    /** One guest of the rig. */
    static final class Guest
    {
        final MemoryRig rig;
        final Domain domain;
        final XenStoreConnection store;
        final GuestPager pager;
        final BalloonDriver balloon;
        final int maxPages;

        Guest(final MemoryRig rig, final Domain domain, final XenStoreConnection store, final GuestPager pager,
            final BalloonDriver balloon, final int maxPages)
        {
            this.rig = rig;
            this.domain = domain;
            this.store = store;
            this.pager = pager;
            this.balloon = balloon;
            this.maxPages = maxPages;
        }

        /** The toolstack sets the target; the guest's balloon driver sees the watch fire. */
        void target(final long pages)
        {
            MemoryTarget.write(rig.toolstack, domain.id(), pages, maxPages);
            balloon.poll();
        }

        /** Moves the balloon all the way to its target. */
        void settle()
        {
            while (0 != balloon.step(256))
            {
                // keep stepping
            }
        }

        /** Guest and hypervisor page I/Os so far. */
        long pageIos()
        {
            final var stats = rig.memoryManager().stats(domain);
            return pager.pageIns() + pager.pageOuts() + stats.hostSwapIns() + stats.hostSwapOuts();
        }
    }
}
