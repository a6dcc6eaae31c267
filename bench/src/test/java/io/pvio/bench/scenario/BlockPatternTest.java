package io.pvio.bench.scenario;

import java.nio.ByteBuffer;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The verification pattern tells apart what a read must tell apart: other versions and other blocks differ in every
 * word, each page of a block differs from the others, a single flipped bit anywhere fails the check, and data moved
 * by a few words fails it too; version 0 is zeros.
 */
class BlockPatternTest
{
    @ParameterizedTest
    @ValueSource(ints = { 512, 4096, 8192, 12_288 + 512, 65_536 })
    void shouldMatchItsOwnFillAndCatchEveryOtherContent(final int length)
    {
        final UnsafeBuffer a = buffer(length);
        final UnsafeBuffer b = buffer(length);
        BlockPattern.fill(a, 0, length, 7, 100, 3);
        assertTrue(BlockPattern.matches(a, 0, length, 7, 100, 3));
        assertFalse(BlockPattern.matches(a, 0, length, 7, 100, 4), "another version");
        assertFalse(BlockPattern.matches(a, 0, length, 7, 101, 3), "another block");
        assertFalse(BlockPattern.matches(a, 0, length, 8, 100, 3), "another seed");
        assertFalse(BlockPattern.matches(a, 0, length, 7, 100, 0), "zeros");

        for (final long[] other : new long[][]{ { 7, 100, 4 }, { 7, 101, 3 }, { 8, 100, 3 } })
        {
            BlockPattern.fill(b, 0, length, other[0], other[1], (int)other[2]);
            for (int i = 0; i < length; i += 8)
            {
                assertTrue(a.getLong(i) != b.getLong(i), "word " + i / 8 + " equal to " + other[0] + '/' +
                    other[1] + '/' + other[2]);
            }
        }

        for (int at = 0; at < length; at += Math.max(1, length / 61))
        {
            a.putByte(at, (byte)(a.getByte(at) ^ 0x10));
            assertFalse(BlockPattern.matches(a, 0, length, 7, 100, 3), "a bit flipped at " + at);
            a.putByte(at, (byte)(a.getByte(at) ^ 0x10));
        }
        assertTrue(BlockPattern.matches(a, 0, length, 7, 100, 3));

        for (final int shift : new int[]{ 8, 16, 512 })
        {
            if (shift < length)
            {
                b.setMemory(0, length, (byte)0);
                b.putBytes(shift, a, 0, length - shift);
                BlockPattern.fill(b, 0, shift, 7, 100, 3);
                assertFalse(BlockPattern.matches(b, 0, length, 7, 100, 3), "moved by " + shift + " bytes");
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = { 8192, 65_536 })
    void shouldGiveEveryPageOfABlockItsOwnWords(final int length)
    {
        final UnsafeBuffer a = buffer(length);
        BlockPattern.fill(a, 0, length, 1, 5, 2);
        for (int page = 4096; page < length; page += 4096)
        {
            int same = 0;
            for (int i = 0; i < 4096; i += 8)
            {
                same += a.getLong(i) == a.getLong(page + i) ? 1 : 0;
            }
            assertEquals(0, same, "page " + page / 4096 + " repeats page 0");
        }
    }

    @ParameterizedTest
    @ValueSource(ints = { 0, 24 })
    void shouldFillAndCheckAtAnOffset(final int offset)
    {
        final UnsafeBuffer a = buffer(offset + 4096);
        a.setMemory(0, offset + 4096, (byte)0x77);
        BlockPattern.fill(a, offset, 4096, 3, 9, 1);
        assertTrue(BlockPattern.matches(a, offset, 4096, 3, 9, 1));
        for (int i = 0; i < offset; i++)
        {
            assertEquals(0x77, a.getByte(i), "bytes before the offset are left alone");
        }
        BlockPattern.fill(a, offset, 4096, 3, 9, 0);
        assertTrue(BlockPattern.matches(a, offset, 4096, 3, 9, 0), "version 0 is zeros");
        assertEquals(0, a.getLong(offset + 4088));
    }

    private static UnsafeBuffer buffer(final int length)
    {
        return new UnsafeBuffer(ByteBuffer.allocateDirect(length));
    }
}
