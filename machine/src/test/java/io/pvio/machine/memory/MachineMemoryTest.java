package io.pvio.machine.memory;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MachineMemoryTest
{
    private final MachineMemory memory = new MachineMemory(16 * MachineMemory.FRAME_SIZE);

    @AfterEach
    void close()
    {
        memory.close();
    }

    @Test
    void shouldStartWithEveryFrameFreeAndZeroed()
    {
        assertEquals(16, memory.frameCount());
        assertEquals(16, memory.freeFrames());
        for (long mfn = 0; mfn < 16; mfn++)
        {
            assertEquals(MachineMemory.NO_OWNER, memory.owner(mfn));
            final UnsafeBuffer frame = memory.frame(mfn);
            assertEquals(4096, frame.capacity());
            for (int i = 0; i < 4096; i += 8)
            {
                assertEquals(0, frame.getLong(i));
            }
        }
    }

    @Test
    void shouldRecordOwnerAndCountFrames()
    {
        final long a = memory.allocate(3);
        final long b = memory.allocate(3);
        final long c = memory.allocate(7);
        assertNotEquals(a, b);
        assertEquals(3, memory.owner(a));
        assertEquals(7, memory.owner(c));
        assertEquals(2, memory.framesOwnedBy(3));
        assertEquals(13, memory.freeFrames());
    }

    @Test
    void shouldScrubFrameWhenFreed()
    {
        final long mfn = memory.allocate(1);
        memory.frame(mfn).putLong(4088, 0xDEAD_BEEFL);
        assertTrue(memory.free(mfn, 1));
        assertEquals(MachineMemory.NO_OWNER, memory.owner(mfn));
        assertEquals(0, memory.frame(mfn).getLong(4088), "a freed frame carries no data to its next owner");
    }

    @Test
    void shouldReportExhaustionNamingTheRequest()
    {
        final long[] mfns = new long[16];
        memory.allocate(2, 16, mfns);
        assertEquals(MachineMemory.NO_FRAME, memory.tryAllocate(2));
        final OutOfMachineMemoryException ex = assertThrows(OutOfMachineMemoryException.class, () -> memory.allocate(4));
        assertEquals("machine memory exhausted: domain 4 asked for 1 frame, 0 of 16 free", ex.getMessage());
    }

    @Test
    void shouldAllocateAllOrNothing()
    {
        memory.allocate(1, 10, new long[10]);
        final OutOfMachineMemoryException ex = assertThrows(
            OutOfMachineMemoryException.class, () -> memory.allocate(2, 7, new long[7]));
        assertEquals("machine memory exhausted: domain 2 asked for 7 frames, 6 of 16 free", ex.getMessage());
        assertEquals(6, memory.freeFrames());
        assertEquals(0, memory.framesOwnedBy(2));
    }

    @Test
    void shouldRefuseToFreeFrameOfAnotherOwner()
    {
        final long mfn = memory.allocate(1);
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> memory.free(mfn, 2));
        assertEquals("domain 2 cannot free mfn=" + mfn + ": owner=1", ex.getMessage());
        assertEquals(1, memory.owner(mfn));
    }

    @Test
    void shouldHoldRetainedFrameUntilLastRelease()
    {
        final long mfn = memory.allocate(1);
        memory.frame(mfn).putInt(0, 42);
        memory.retain(mfn);
        memory.retain(mfn);

        assertFalse(memory.free(mfn, 1), "still mapped elsewhere");
        assertEquals(MachineMemory.FREE_WHEN_RELEASED, memory.owner(mfn));
        assertEquals(15, memory.freeFrames(), "not handed out while in use");
        assertEquals(42, memory.frame(mfn).getInt(0), "the mapper still sees the data");

        memory.release(mfn);
        assertEquals(15, memory.freeFrames());
        memory.release(mfn);
        assertEquals(16, memory.freeFrames());
        assertEquals(MachineMemory.NO_OWNER, memory.owner(mfn));
        assertEquals(0, memory.frame(mfn).getInt(0));
        assertThrows(IllegalStateException.class, () -> memory.release(mfn));
    }

    @Test
    void shouldCopyInsideFramesOnly()
    {
        final long src = memory.allocate(1);
        final long dst = memory.allocate(1);
        memory.frame(src).putLong(100, 77);
        memory.copy(src, 100, dst, 4000, 8);
        assertEquals(77, memory.frame(dst).getLong(4000));
        assertThrows(IndexOutOfBoundsException.class, () -> memory.copy(src, 4090, dst, 0, 8));
        assertThrows(IndexOutOfBoundsException.class, () -> memory.copy(src, 0, dst, -1, 8));
        assertThrows(IndexOutOfBoundsException.class, () -> memory.copy(src, 0, dst, 0, -8));
    }

    @Test
    void shouldRejectOutOfRangeFramesAndSizes()
    {
        assertThrows(IllegalArgumentException.class, () -> memory.owner(16));
        assertThrows(IllegalArgumentException.class, () -> memory.frame(-1));
        assertThrows(IllegalArgumentException.class, () -> new MachineMemory(4095));
        assertThrows(IllegalArgumentException.class, () -> new MachineMemory(0));
        assertThrows(IllegalArgumentException.class, () -> memory.allocate(-1));
    }

    @Test
    void shouldWrapViewsWithoutCopying()
    {
        final long mfn = memory.allocate(1);
        final UnsafeBuffer view = new UnsafeBuffer(0, 0);
        memory.wrapFrame(mfn, view).putLong(8, 5);
        assertEquals(5, memory.frame(mfn).getLong(8));
        assertEquals(memory.frameAddress(mfn), view.addressOffset());
    }

    @Test
    void shouldSpanSeveralChunks()
    {
        try (MachineMemory big = new MachineMemory((1L << 16) * 4096 + 8 * 4096))
        {
            final long[] mfns = new long[big.frameCount()];
            big.allocate(1, mfns.length, mfns);
            final long last = big.frameCount() - 1;
            big.frame(last).putLong(4088, 9);
            big.frame(65535).putLong(4088, 8);
            assertEquals(9, big.frame(last).getLong(4088));
            assertEquals(big.frameAddress(65535) + 4096, big.frameAddress(65535) + MachineMemory.FRAME_SIZE);
            assertEquals(8, big.frame(65535).getLong(4088));
        }
    }

    @Test
    void shouldRefuseAllocationAfterClose()
    {
        memory.close();
        assertTrue(memory.isClosed());
        assertThrows(IllegalStateException.class, () -> memory.allocate(1));
        memory.close();
    }
}
