package io.pvio.hypervisor.memory;

import java.util.ArrayList;
import java.util.List;

import org.agrona.collections.IntArrayList;
import org.agrona.concurrent.UnsafeBuffer;

import io.pvio.machine.memory.MachineMemory;

/**
 * The hypervisor's swap device: whole pages copied out of machine frames into slots and back. Slots are reused; a
 * slot's buffer is allocated the first time the store grows to it. Not thread-safe (the memory manager's lock).
 */
final class SwapStore
{
    private final List<byte[]> slots = new ArrayList<>();
    private final IntArrayList free = new IntArrayList();
    private int inUse;
    private long writes;
    private long reads;

    int store(final UnsafeBuffer frame)
    {
        final int slot;
        if (free.isEmpty())
        {
            slot = slots.size();
            slots.add(new byte[MachineMemory.FRAME_SIZE]);
        }
        else
        {
            slot = free.popInt();
        }
        frame.getBytes(0, slots.get(slot));
        inUse++;
        writes++;
        return slot;
    }

    void load(final int slot, final UnsafeBuffer frame)
    {
        frame.putBytes(0, slots.get(slot));
        reads++;
        release(slot);
    }

    void release(final int slot)
    {
        free.addInt(slot);
        inUse--;
    }

    int inUse()
    {
        return inUse;
    }

    long writes()
    {
        return writes;
    }

    long reads()
    {
        return reads;
    }
}
