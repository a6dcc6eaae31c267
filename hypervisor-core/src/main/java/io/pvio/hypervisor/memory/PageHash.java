package io.pvio.hypervisor.memory;

import org.agrona.concurrent.UnsafeBuffer;

import io.pvio.machine.memory.MachineMemory;

/**
 * A 64-bit hash of a page's contents for content-based sharing. A match is only a hint: pages are shared after a
 * byte-for-byte comparison.
 */
final class PageHash
{
    private static final long M1 = 0x9E37_79B9_7F4A_7C15L;
    private static final long M2 = 0xC2B2_AE3D_27D4_EB4FL;

    private PageHash()
    {
    }

    static long of(final UnsafeBuffer frame)
    {
        long h = M2;
        for (int offset = 0; offset < MachineMemory.FRAME_SIZE; offset += Long.BYTES)
        {
            h = Long.rotateLeft(h ^ (frame.getLong(offset) * M1), 29) * M2;
        }
        h ^= h >>> 33;
        h *= M1;
        h ^= h >>> 29;
        return h;
    }

    static boolean isZero(final UnsafeBuffer frame)
    {
        for (int offset = 0; offset < MachineMemory.FRAME_SIZE; offset += Long.BYTES)
        {
            if (0 != frame.getLong(offset))
            {
                return false;
            }
        }
        return true;
    }

    static boolean equal(final UnsafeBuffer a, final UnsafeBuffer b)
    {
        for (int offset = 0; offset < MachineMemory.FRAME_SIZE; offset += Long.BYTES)
        {
            if (a.getLong(offset) != b.getLong(offset))
            {
                return false;
            }
        }
        return true;
    }
}
