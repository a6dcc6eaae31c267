package io.pvio.machine.paging;

import org.agrona.collections.LongArrayList;
import org.agrona.concurrent.UnsafeBuffer;

import io.pvio.machine.memory.MachineMemory;

import static io.pvio.machine.paging.PageTableEntry.ENTRY_BYTES;
import static io.pvio.machine.paging.PageTableEntry.PAGE_SIZE;
import static io.pvio.machine.paging.PageTableEntry.PRESENT;
import static io.pvio.machine.paging.PageTableEntry.USER;
import static io.pvio.machine.paging.PageTableEntry.WRITABLE;

/**
 * Builds an address space the way a kernel edits its page tables, directly in machine frames it owns: table frames are
 * allocated on demand (zeroed), intermediate entries are present, writable and user so that the leaf decides, and
 * {@link #free()} gives every table frame back. This is native paging: entries hold machine frame numbers.
 */
public final class PageTableBuilder
{
    private static final long INTERMEDIATE = PRESENT | WRITABLE | USER;

    private final MachineMemory memory;
    private final int owner;
    private final long root;
    private final LongArrayList tables = new LongArrayList();
    private final UnsafeBuffer view = new UnsafeBuffer(0, 0);

    /**
     * A new, empty address space.
     *
     * @param memory machine memory.
     * @param owner  the domain that owns the table frames.
     */
    public PageTableBuilder(final MachineMemory memory, final int owner)
    {
        this.memory = memory;
        this.owner = owner;
        this.root = newTable();
    }

    /**
     * The PML4 table's frame, the value for CR3.
     *
     * @return the machine frame number.
     */
    public long root()
    {
        return root;
    }

    /**
     * Table frames in use, the root included.
     *
     * @return the count.
     */
    public int tableFrames()
    {
        return tables.size();
    }

    /**
     * Maps one 4 KiB page.
     *
     * @param virtualAddress the page's address (low 12 bits ignored).
     * @param frame          the machine frame.
     * @param flags          the leaf's flags; {@link PageTableEntry#PRESENT} is added.
     * @return the entry it replaced (0 if none).
     */
    public long map(final long virtualAddress, final long frame, final long flags)
    {
        final long table = tableFor(virtualAddress, 1);
        return swap(table, PageTableEntry.index(virtualAddress, 1), PageTableEntry.make(frame, flags | PRESENT));
    }

    /**
     * Maps one 2 MiB page with a level-2 entry.
     *
     * @param virtualAddress the page's address, 2 MiB aligned.
     * @param frame          the first machine frame, a multiple of 512.
     * @param flags          the entry's flags; present and page-size are added.
     * @return the entry it replaced (0 if none).
     * @throws IllegalArgumentException if not aligned.
     */
    public long mapLarge(final long virtualAddress, final long frame, final long flags)
    {
        if (0 != (virtualAddress & ((1L << PageTableEntry.LARGE_PAGE_SHIFT) - 1)) ||
            0 != (frame & (PageTableEntry.FRAMES_PER_LARGE_PAGE - 1)))
        {
            throw new IllegalArgumentException("a 2 MiB page needs a 2 MiB-aligned address and frame: va=0x" +
                Long.toHexString(virtualAddress) + " frame=" + frame);
        }
        final long table = tableFor(virtualAddress, 2);
        return swap(table, PageTableEntry.index(virtualAddress, 2),
            PageTableEntry.make(frame, flags | PRESENT | PAGE_SIZE));
    }

    /**
     * Removes the 4 KiB mapping of a page (the caller then invalidates the TLB entry).
     *
     * @param virtualAddress the page's address.
     * @return the entry removed, 0 if the page was not mapped.
     */
    public long unmap(final long virtualAddress)
    {
        final long table = existingTable(virtualAddress);
        return table < 0 ? 0 : swap(table, PageTableEntry.index(virtualAddress, 1), 0);
    }

    /**
     * The leaf entry mapping a 4 KiB page.
     *
     * @param virtualAddress the page's address.
     * @return the entry, 0 if none.
     */
    public long entry(final long virtualAddress)
    {
        final long table = existingTable(virtualAddress);
        return table < 0 ? 0 : read(table, PageTableEntry.index(virtualAddress, 1));
    }

    /**
     * Frees every table frame. The address space must not be in any CR3 afterwards.
     */
    public void free()
    {
        for (int i = 0; i < tables.size(); i++)
        {
            memory.free(tables.getLong(i), owner);
        }
        tables.clear();
    }

    private long tableFor(final long virtualAddress, final int leafLevel)
    {
        long table = root;
        for (int level = PageTableEntry.LEVELS; level > leafLevel; level--)
        {
            final int index = PageTableEntry.index(virtualAddress, level);
            final long entry = read(table, index);
            if (0 == (entry & PRESENT))
            {
                final long next = newTable();
                write(table, index, PageTableEntry.make(next, INTERMEDIATE));
                table = next;
            }
            else
            {
                if (0 != (entry & PAGE_SIZE))
                {
                    throw new IllegalStateException("va 0x" + Long.toHexString(virtualAddress) +
                        " is inside a 2 MiB page");
                }
                table = PageTableEntry.frame(entry);
            }
        }
        return table;
    }

    private long existingTable(final long virtualAddress)
    {
        long table = root;
        for (int level = PageTableEntry.LEVELS; level > 1; level--)
        {
            final long entry = read(table, PageTableEntry.index(virtualAddress, level));
            if (0 == (entry & PRESENT) || 0 != (entry & PAGE_SIZE))
            {
                return -1;
            }
            table = PageTableEntry.frame(entry);
        }
        return table;
    }

    private long newTable()
    {
        final long frame = memory.allocate(owner);
        memory.wrapFrame(frame, view).setMemory(0, MachineMemory.FRAME_SIZE, (byte)0);
        tables.addLong(frame);
        return frame;
    }

    private long read(final long table, final int index)
    {
        return memory.wrapFrame(table, view).getLong(index * ENTRY_BYTES);
    }

    private void write(final long table, final int index, final long entry)
    {
        memory.wrapFrame(table, view).putLong(index * ENTRY_BYTES, entry);
    }

    private long swap(final long table, final int index, final long entry)
    {
        final long previous = read(table, index);
        write(table, index, entry);
        return previous;
    }
}
