package io.pvio.bench.scenario;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.UnsafeApi;

/**
 * The deterministic parts of a workload: which block each I/O touches, whether it reads or writes, and the bytes a
 * given version of a block holds, so that a read can be checked against the last acknowledged write without keeping
 * the disk's contents in memory. Version 0 of a block is zeros (a sparse image never written); every later version
 * is a pseudo-random function of (seed, block, version), eight bytes at a time.
 * <p>
 * A version's bytes are a fixed pseudo-random page of 512 words ({@code KEY}), each XORed with a word that depends on
 * (seed, block, version) and on which 4 KiB of the block it is in. So two versions, two blocks or two pages of a
 * block differ in every word, and data moved by any number of words within a page differs from the key in almost
 * every word, while filling and checking cost a load and an XOR per word rather than a hash: the check runs on every
 * read, on the guest's vCPU and on the native thread alike, and must not be what bounds either. The words are in the
 * machine's byte order (little-endian on x86-64, the only platform the io_uring engines run on).
 */
final class BlockPattern
{
    private static final long GOLDEN = 0x9E3779B97F4A7C15L;
    private static final int PAGE_BYTES = 4096;
    /** The pseudo-random page every version's bytes are XORed from, one word per 8 bytes of a 4 KiB page. */
    private static final long[] KEY = new long[PAGE_BYTES / 8];
    private static final long LONG_ARRAY_BASE = UnsafeApi.arrayBaseOffset(long[].class);
    /**
     * Each thread's copy of one page as words: a block is copied in or out a page at a time (one memory copy), and the
     * words are made or compared in a plain loop over two arrays, which the JIT turns into vector instructions.
     */
    private static final ThreadLocal<long[]> SCRATCH = ThreadLocal.withInitial(() -> new long[PAGE_BYTES / 8]);

    static
    {
        for (int w = 0; w < KEY.length; w++)
        {
            KEY[w] = mix(0x3C6EF372FE94F82BL + w * GOLDEN);
        }
    }

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
        buffer.boundsCheck(offset, length);
        final long[] words = SCRATCH.get();
        final long base = base(seed, block, version);
        for (int page = 0; page < length; page += PAGE_BYTES)
        {
            final long salt = mix(base + page);
            final int bytes = Math.min(PAGE_BYTES, length - page);
            final int count = bytes >>> 3;
            for (int w = 0; w < count; w++)
            {
                words[w] = KEY[w] ^ salt; // a loop over arrays: the JIT vectorises it
            }
            UnsafeApi.copyMemory(words, LONG_ARRAY_BASE, buffer.byteArray(), buffer.addressOffset() + offset + page,
                bytes);
        }
    }

    /** Whether {@code length} bytes (a multiple of 8) hold the content of {@code version} of {@code block}. */
    static boolean matches(
        final DirectBuffer buffer, final int offset, final int length, final long seed, final long block,
        final int version)
    {
        buffer.boundsCheck(offset, length);
        final long[] words = SCRATCH.get();
        final long base = 0 == version ? 0 : base(seed, block, version);
        for (int page = 0; page < length; page += PAGE_BYTES)
        {
            final int bytes = Math.min(PAGE_BYTES, length - page);
            final int count = bytes >>> 3;
            UnsafeApi.copyMemory(buffer.byteArray(), buffer.addressOffset() + offset + page, words, LONG_ARRAY_BASE,
                bytes);
            long differ = 0;
            if (0 == version)
            {
                for (int w = 0; w < count; w++)
                {
                    differ |= words[w];
                }
            }
            else
            {
                final long salt = mix(base + page);
                for (int w = 0; w < count; w++)
                {
                    differ |= words[w] ^ KEY[w] ^ salt;
                }
            }
            if (0 != differ)
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
