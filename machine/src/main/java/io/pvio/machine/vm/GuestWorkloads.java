package io.pvio.machine.vm;

import java.util.SplittableRandom;

import io.pvio.machine.memory.MachineMemory;
import io.pvio.machine.vm.GuestKernel.AddressSpace;

/**
 * Guest workloads that exercise a {@link GuestKernel}: address-space build and teardown (fork/exec), memory touched in
 * sequential, random and hot/cold patterns, context switches and mmap/munmap churn. Each writes values it can check
 * and checks what it reads, so a translation that lands on the wrong frame fails the run.
 */
public final class GuestWorkloads
{
    /** Where workloads put their data. */
    public static final long HEAP = 0x4000_0000L;

    private static final int PAGE = MachineMemory.FRAME_SIZE;

    /** How a touch workload picks pages. */
    public enum Pattern
    {
        /** Page after page, wrapping around. */
        SEQUENTIAL,
        /** Uniformly at random. */
        RANDOM,
        /** 90% of touches to the first 10% of the pages. */
        HOT_COLD
    }

    private GuestWorkloads()
    {
    }

    /**
     * Creates a process: an address space with {@code pages} writable pages at {@link #HEAP}, each holding a value
     * derived from its address, and the heap region demand-paged up to {@code 4 * pages}; switches to it.
     *
     * @param kernel the kernel.
     * @param pages  pages to map.
     * @return the space.
     */
    public static AddressSpace startProcess(final GuestKernel kernel, final int pages)
    {
        final AddressSpace space = kernel.createAddressSpace();
        kernel.demandRegion(space, HEAP, HEAP + 4L * pages * PAGE);
        for (int i = 0; i < pages; i++)
        {
            kernel.map(space, HEAP + (long)i * PAGE, true);
        }
        kernel.switchTo(space);
        for (int i = 0; i < pages; i++)
        {
            final long va = HEAP + (long)i * PAGE;
            kernel.access(va, true, stamp(va, 0));
        }
        return space;
    }

    /**
     * One fork/exec/exit/wait cycle, as a shell runs a command: fork the parent (copy on write), the child writes
     * {@code childWrites} of its pages (copy-on-write faults) and checks the parent's values, execs a new image that
     * demand-faults {@code imagePages} pages and makes {@code syscalls} system calls, exits; the parent waits, then
     * rewrites the pages the fork made copy-on-write and checks nothing the child did reached it.
     *
     * @param kernel      the kernel; {@code parent} must be current.
     * @param parent      the parent process.
     * @param childWrites pages the child writes before exec.
     * @param imagePages  pages the new image touches.
     * @param syscalls    system calls the new image makes.
     */
    public static void forkExec(
        final GuestKernel kernel, final AddressSpace parent, final int childWrites, final int imagePages,
        final int syscalls)
    {
        kernel.syscall(); // fork
        final AddressSpace child = kernel.fork(parent);
        kernel.switchTo(child);
        for (int i = 0; i < childWrites && i < parent.pages(); i++)
        {
            final long va = HEAP + (long)i * PAGE;
            expect(kernel, va, stamp(va, 0));
            kernel.access(va, true, stamp(va, 1));
        }
        kernel.syscall(); // exec
        final AddressSpace image = kernel.createAddressSpace();
        kernel.demandRegion(image, HEAP, HEAP + 4L * imagePages * PAGE);
        kernel.switchTo(image);
        kernel.destroy(child, image);
        for (int i = 0; i < imagePages; i++)
        {
            final long va = HEAP + (long)i * PAGE;
            expect(kernel, va, 0);
            kernel.access(va, true, stamp(va, 2));
        }
        for (int i = 0; i < syscalls; i++)
        {
            kernel.syscall();
        }
        kernel.syscall(); // exit
        kernel.destroy(image, parent);
        kernel.syscall(); // wait
        for (int i = 0; i < parent.pages(); i++)
        {
            final long va = HEAP + (long)i * PAGE;
            expect(kernel, va, stamp(va, 0));
            kernel.access(va, true, stamp(va, 0));
        }
    }

    /**
     * Touches {@code touches} pages of the current space among the first {@code pages} heap pages, reading each
     * page's first word (demand-faulting pages not yet mapped) and writing one in four.
     *
     * @param kernel  the kernel.
     * @param pattern how pages are picked.
     * @param pages   pages in the working set.
     * @param touches how many touches.
     * @param random  the random source.
     * @return a checksum of what was read.
     */
    public static long touch(
        final GuestKernel kernel, final Pattern pattern, final int pages, final int touches,
        final SplittableRandom random)
    {
        long sum = 0;
        final int hot = Math.max(1, pages / 10);
        for (int i = 0; i < touches; i++)
        {
            final int page;
            switch (pattern)
            {
                case SEQUENTIAL:
                    page = i % pages;
                    break;
                case RANDOM:
                    page = random.nextInt(pages);
                    break;
                default:
                    page = random.nextInt(10) < 9 ? random.nextInt(hot) :
                        hot + random.nextInt(Math.max(1, pages - hot));
                    break;
            }
            final long va = HEAP + (long)Math.min(page, pages - 1) * PAGE;
            final boolean write = 0 == (i & 3);
            sum += kernel.access(va, write, write ? stamp(va, 0) : 0);
        }
        return sum;
    }

    /**
     * Round-robin context switches between processes, each touching {@code touchesPerSlice} random pages of its
     * {@code pages}-page heap per slice and checking what it reads.
     *
     * @param kernel          the kernel.
     * @param processes       the processes, each started by {@link #startProcess} with {@code pages} pages.
     * @param pages           heap pages of each.
     * @param switches        context switches.
     * @param touchesPerSlice touches per slice.
     * @param random          the random source.
     */
    public static void contextSwitches(
        final GuestKernel kernel, final AddressSpace[] processes, final int pages, final int switches,
        final int touchesPerSlice, final SplittableRandom random)
    {
        for (int s = 0; s < switches; s++)
        {
            kernel.syscall(); // the timer tick's way into the scheduler
            kernel.switchTo(processes[s % processes.length]);
            for (int t = 0; t < touchesPerSlice; t++)
            {
                final long va = HEAP + (long)random.nextInt(pages) * PAGE;
                expect(kernel, va, stamp(va, 0));
            }
        }
    }

    /**
     * mmap/munmap churn in the current space: each round maps {@code pages} fresh pages at a scratch address (the
     * kernel's batch covers the whole mmap), writes and checks each, then unmaps them all (one INVLPG each).
     *
     * @param kernel the kernel.
     * @param space  the current space.
     * @param rounds rounds.
     * @param pages  pages per round.
     */
    public static void mmapChurn(final GuestKernel kernel, final AddressSpace space, final int rounds, final int pages)
    {
        final long base = 0x7000_0000L;
        for (int r = 0; r < rounds; r++)
        {
            kernel.syscall(); // mmap(MAP_POPULATE)
            for (int i = 0; i < pages; i++)
            {
                kernel.map(space, base + (long)i * PAGE, true);
            }
            kernel.flush();
            for (int i = 0; i < pages; i++)
            {
                final long va = base + (long)i * PAGE;
                expect(kernel, va, 0);
                kernel.access(va, true, stamp(va, r));
                expect(kernel, va, stamp(va, r));
            }
            kernel.syscall(); // munmap
            for (int i = 0; i < pages; i++)
            {
                kernel.unmap(space, base + (long)i * PAGE);
            }
            kernel.flush();
        }
    }

    /**
     * The value workloads store in a page: its address and a generation.
     *
     * @param va         the address.
     * @param generation the generation.
     * @return the value.
     */
    public static long stamp(final long va, final int generation)
    {
        return va * 31 + generation + 1;
    }

    private static void expect(final GuestKernel kernel, final long va, final long expected)
    {
        final long actual = kernel.access(va, false, 0);
        if (actual != expected)
        {
            throw new IllegalStateException("domain " + kernel.domain() + " read 0x" + Long.toHexString(actual) +
                " at 0x" + Long.toHexString(va) + ", expected 0x" + Long.toHexString(expected));
        }
    }
}
