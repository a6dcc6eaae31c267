package io.pvio.machine.paging;

import org.agrona.concurrent.UnsafeBuffer;

import io.pvio.machine.CostModel;
import io.pvio.machine.memory.MachineMemory;

import static io.pvio.machine.paging.PageTableEntry.ENTRIES_PER_TABLE;
import static io.pvio.machine.paging.PageTableEntry.ENTRY_BYTES;
import static io.pvio.machine.paging.PageTableEntry.PAGE_SIZE;
import static io.pvio.machine.paging.PageTableEntry.PRESENT;
import static io.pvio.machine.paging.PageTableEntry.WRITABLE;

/**
 * Para virtualization of paging, as Xen's direct paging: a guest's tables hold machine frame numbers and the MMU walks
 * them as they are, but the guest may not write them. Every change goes through {@link #mmuUpdate} (batched: one
 * hypercall for many entries), which validates each new entry, and a table enters use only once validated
 * ({@link #pin}, or on {@link #loadCr3}).
 * <p>
 * <b>Frame types</b> (machine-wide, as Xen's {@code page_info}): each frame is untyped, writable, or a page table of one
 * level, with a count of the references that hold it in that type. A present entry of a level-n table holds its target
 * as a level n-1 table; a writable level-1 entry holds its target as writable; a read-only level-1 entry holds nothing.
 * A frame changes type only when nothing holds it, so a page-table frame can never be mapped writable and a writable
 * frame can never become a table: the guest cannot forge a mapping. Every target must belong to the guest. Large pages
 * are refused. Pinned tables keep their type without references, so CR3 loads need no revalidation.
 * <p>
 * Hypercalls and validated entries are counted and priced with the {@link CostModel}. Not thread-safe.
 */
public final class DirectPaging
{
    /** The call succeeded. */
    public static final int OK = 0;

    /** An argument is wrong: not a page-table frame, a bad level, a large page. */
    public static final int EINVAL = -22;

    /** The guest may not do this: a frame it does not own, or a type conflict. */
    public static final int EPERM = -1;

    /** Untyped frame. */
    static final byte NONE = 0;

    /** Mapped writable somewhere. */
    static final byte WRITABLE_TYPE = 5;

    private final MachineMemory memory;
    private final CostModel cost;
    private final byte[] type;
    private final int[] typeCount;
    private final boolean[] pinned;
    private final UnsafeBuffer view = new UnsafeBuffer(0, 0);
    private long hypercalls;
    private long validatedEntries;
    private long refused;
    private long modeledCycles;
    private int refusedIndex = -1;

    /**
     * Direct paging over machine memory.
     *
     * @param memory the machine memory; frame ownership decides what a guest may map.
     * @param cost   what hypercalls and validation cost.
     */
    public DirectPaging(final MachineMemory memory, final CostModel cost)
    {
        this.memory = memory;
        this.cost = cost;
        this.type = new byte[memory.frameCount()];
        this.typeCount = new int[memory.frameCount()];
        this.pinned = new boolean[memory.frameCount()];
    }

    /**
     * {@code MMUEXT_PIN_Ln_TABLE}: validates a table (and every table below it) and keeps it typed.
     *
     * @param domain the caller.
     * @param mfn    the table frame.
     * @param level  1 to 4.
     * @return {@link #OK}, {@link #EINVAL} or {@link #EPERM}.
     */
    public int pin(final int domain, final long mfn, final int level)
    {
        hypercall();
        if (level < 1 || level > PageTableEntry.LEVELS)
        {
            return refuse(EINVAL);
        }
        if (!owned(domain, mfn))
        {
            return refuse(EPERM);
        }
        if (pinned(mfn))
        {
            return type(mfn) == level ? OK : refuse(EPERM);
        }
        final int result = getType(domain, mfn, level);
        if (OK != result)
        {
            return refuse(result);
        }
        pinned[(int)mfn] = true;
        return OK;
    }

    /**
     * {@code MMUEXT_UNPIN_TABLE}: drops the reference a pin holds; a table nothing else holds loses its type, and so
     * do the tables and writable frames only it held, so their frames can be reused or freed.
     *
     * @param domain the caller.
     * @param mfn    a pinned table frame of the caller.
     * @return {@link #OK} or {@link #EINVAL} if the frame is not the caller's pinned table.
     */
    public int unpin(final int domain, final long mfn)
    {
        hypercall();
        if (!owned(domain, mfn) || !pinned(mfn))
        {
            return refuse(EINVAL);
        }
        pinned[(int)mfn] = false;
        putTypeRef(mfn);
        return OK;
    }

    /**
     * {@code mmuext_op new_baseptr}: loads a level-4 table into the MMU's CR3, validating it first unless pinned.
     *
     * @param domain the caller.
     * @param mfn    the level-4 table.
     * @param mmu    the vCPU's MMU.
     * @return {@link #OK}, {@link #EINVAL} or {@link #EPERM}.
     */
    public int loadCr3(final int domain, final long mfn, final Mmu mmu)
    {
        hypercall();
        if (!pinned(mfn))
        {
            final int result = getType(domain, mfn, PageTableEntry.LEVELS);
            if (OK != result)
            {
                return refuse(result);
            }
        }
        else if (type(mfn) != PageTableEntry.LEVELS)
        {
            return refuse(EINVAL);
        }
        mmu.loadCr3(mfn);
        return OK;
    }

    /**
     * {@code HYPERVISOR_mmu_update}: writes a batch of page-table entries, each validated before it is written.
     * Stops at the first refused entry; the ones before it stay done.
     *
     * @param domain  the caller.
     * @param ptrs    machine addresses of the entries: table frame times 4096 plus index times 8.
     * @param values  the new entries (machine frame numbers).
     * @param count   entries in the batch.
     * @return the number done if all were, else a negative error; {@link #refusedIndex()} is then the first refused.
     */
    public int mmuUpdate(final int domain, final long[] ptrs, final long[] values, final int count)
    {
        hypercall();
        for (int i = 0; i < count; i++)
        {
            final int result = updateOne(domain, ptrs[i], values[i]);
            if (OK != result)
            {
                refusedIndex = i;
                return refuse(result);
            }
        }
        return count;
    }

    /**
     * The batch index of the entry the last failed {@link #mmuUpdate} refused.
     *
     * @return the index, -1 before any refusal.
     */
    public int refusedIndex()
    {
        return refusedIndex;
    }

    private int updateOne(final int domain, final long ptr, final long value)
    {
        validatedEntries++;
        modeledCycles += cost.pteValidation();
        final long table = ptr >>> PageTableEntry.PAGE_SHIFT;
        final int index = (int)(ptr & (MachineMemory.FRAME_SIZE - 1)) / ENTRY_BYTES;
        if (0 != (ptr & (ENTRY_BYTES - 1)) || !owned(domain, table))
        {
            return EPERM;
        }
        final int level = type(table);
        if (level < 1 || level > PageTableEntry.LEVELS)
        {
            return EINVAL; // only validated tables may be updated, and only through this call
        }
        final long old = read(table, index);
        final int got = getEntryRef(domain, value, level);
        if (OK != got)
        {
            return got;
        }
        write(table, index, value);
        putEntryRef(old, level);
        return OK;
    }

    private int getType(final int domain, final long mfn, final int level)
    {
        if (!owned(domain, mfn))
        {
            return EPERM;
        }
        final int current = type(mfn);
        if (current == level && (typeCount[(int)mfn] > 0 || pinned(mfn)))
        {
            typeCount[(int)mfn]++;
            return OK;
        }
        if (NONE != current && (typeCount[(int)mfn] > 0 || pinned(mfn)))
        {
            return EPERM; // held as something else: a writable mapping, or a table of another level
        }
        // first use as a table of this level: take the type now, so that nothing the entries reach can take the frame
        // as something else while they are validated, then validate every entry
        type[(int)mfn] = (byte)level;
        typeCount[(int)mfn] = 1;
        for (int i = 0; i < ENTRIES_PER_TABLE; i++)
        {
            final int result = getEntryRef(domain, read(mfn, i), level);
            if (OK != result)
            {
                for (int j = 0; j < i; j++)
                {
                    putEntryRef(read(mfn, j), level);
                }
                type[(int)mfn] = NONE;
                typeCount[(int)mfn] = 0;
                return result;
            }
        }
        return OK;
    }

    private int getEntryRef(final int domain, final long entry, final int level)
    {
        validatedEntries++;
        if (0 == (entry & PRESENT))
        {
            return OK;
        }
        final long target = PageTableEntry.frame(entry);
        if (target >= memory.frameCount() || !owned(domain, target))
        {
            return EPERM;
        }
        if (level > 1)
        {
            if (0 != (entry & PAGE_SIZE))
            {
                return EINVAL;
            }
            return getType(domain, target, level - 1);
        }
        if (0 == (entry & WRITABLE))
        {
            return OK;
        }
        final int current = type(target);
        if (WRITABLE_TYPE == current || (NONE == current && !pinned(target)) ||
            (0 == typeCount[(int)target] && !pinned(target)))
        {
            type[(int)target] = WRITABLE_TYPE;
            typeCount[(int)target]++;
            return OK;
        }
        return EPERM; // a page-table frame may not be mapped writable
    }

    private void putEntryRef(final long entry, final int level)
    {
        if (0 == (entry & PRESENT))
        {
            return;
        }
        final long target = PageTableEntry.frame(entry);
        if (target >= memory.frameCount() || (1 == level && 0 == (entry & WRITABLE)))
        {
            return;
        }
        putTypeRef(target);
    }

    private void putTypeRef(final long target)
    {
        final int t = (int)target;
        if (typeCount[t] > 0)
        {
            typeCount[t]--;
        }
        if (0 == typeCount[t] && !pinned[t])
        {
            final int oldType = type[t];
            type[t] = NONE;
            if (oldType > 1 && oldType <= PageTableEntry.LEVELS)
            {
                for (int i = 0; i < ENTRIES_PER_TABLE; i++)
                {
                    putEntryRef(read(target, i), oldType);
                }
            }
        }
    }

    private boolean owned(final int domain, final long mfn)
    {
        return mfn >= 0 && mfn < memory.frameCount() && memory.owner(mfn) == domain;
    }

    private boolean pinned(final long mfn)
    {
        return mfn >= 0 && mfn < pinned.length && pinned[(int)mfn];
    }

    /**
     * A frame's current type: 0 untyped, 1 to 4 a page table of that level, 5 writable.
     *
     * @param mfn the frame.
     * @return the type.
     */
    public int type(final long mfn)
    {
        return mfn >= 0 && mfn < type.length ? type[(int)mfn] : NONE;
    }

    private long read(final long mfn, final int index)
    {
        return memory.wrapFrame(mfn, view).getLong(index * ENTRY_BYTES);
    }

    private void write(final long mfn, final int index, final long entry)
    {
        memory.wrapFrame(mfn, view).putLong(index * ENTRY_BYTES, entry);
    }

    private void hypercall()
    {
        hypercalls++;
        modeledCycles += cost.hypercall();
    }

    private int refuse(final int error)
    {
        refused++;
        return error;
    }

    /**
     * Hypercalls made ({@code mmu_update}, pins, base pointer loads).
     *
     * @return the count.
     */
    public long hypercalls()
    {
        return hypercalls;
    }

    /**
     * Entries validated, by updates and by table validation.
     *
     * @return the count.
     */
    public long validatedEntries()
    {
        return validatedEntries;
    }

    /**
     * Calls or entries refused.
     *
     * @return the count.
     */
    public long refused()
    {
        return refused;
    }

    /**
     * Modeled cycles of hypercalls and update validation.
     *
     * @return cycles, from the {@link CostModel}.
     */
    public long modeledCycles()
    {
        return modeledCycles;
    }
}
