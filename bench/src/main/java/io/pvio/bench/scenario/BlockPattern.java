package io.pvio.bench.scenario;

import java.nio.ByteOrder;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * The deterministic parts of a workload: which block each I/O touches, whether it reads or writes, and the bytes a
 * given version of a block holds, so that a read can be checked against the last acknowledged write without keeping
 * the disk's contents in memory. Version 0 of a block is zeros (a sparse image never written); every later version
 * is a pseudo-random function of (seed, block, version), eight bytes at a time.
 */
final class BlockPattern
{
    private static final long GOLDEN = 0x9E3779B97F4A7C15L;

    private BlockPattern()
    {
    }

    /** SplitMix64's finaliser: a bijection that scatters every input bit over the output. */
    static long mix(final long value)
    {
        long z = value + GOLDEN;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** A number from 0 (inclusive) to {@code bound} (exclusive) for the n-th draw of a stream. */
    static long draw(final long seed, final long stream, final long n, final long bound)
    {
        return Long.remainderUnsigned(mix(seed ^ mix(stream * 0x632BE59BD9B4E019L + n)), bound);
    }

    /** Whether the n-th I/O of a stream reads, for a read share from 0 to 1. */
    static boolean isRead(final long seed, final long stream, final long n, final double readShare)
    {
        final double u = (mix(seed * 31 + mix(stream ^ (n * 0xD6E8FEB86659FD93L))) >>> 11) * 0x1.0p-53;
        return u < readShare;
    }

    /** Fills {@code length} bytes (a multiple of 8) with the content of {@code version} of {@code block}. */
    static void fill(
        final MutableDirectBuffer buffer, final int offset, final int length, final long seed, final long block,
        final int version)
    {
        if (0 == version)
        {
            buffer.setMemory(offset, length, (byte)0);
            return;
        }
        final long base = base(seed, block, version);
        for (int i = 0; i < length; i += 8)
        {
            buffer.putLong(offset + i, mix(base + i), ByteOrder.LITTLE_ENDIAN);
        }
    }

    /** Whether {@code length} bytes (a multiple of 8) hold the content of {@code version} of {@code block}. */
    static boolean matches(
        final DirectBuffer buffer, final int offset, final int length, final long seed, final long block,
        final int version)
    {
        if (0 == version)
        {
            for (int i = 0; i < length; i += 8)
            {
                if (0 != buffer.getLong(offset + i))
                {
                    return false;
                }
            }
            return true;
        }
        final long base = base(seed, block, version);
        for (int i = 0; i < length; i += 8)
        {
            if (buffer.getLong(offset + i, ByteOrder.LITTLE_ENDIAN) != mix(base + i))
            {
                return false;
            }
        }
        return true;
    }

    private static long base(final long seed, final long block, final int version)
    {
        return mix(seed ^ mix(block * GOLDEN + version));
    }
}
