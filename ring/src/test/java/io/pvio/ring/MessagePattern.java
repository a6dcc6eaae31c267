package io.pvio.ring;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * The bytes the stress tests put in requests and responses: every byte of an entry is a function of the message's
 * sequence number, so a torn, stale, duplicated or misplaced entry is caught wherever it lands.
 * <p>
 * An entry is a run of 8-byte words (a shorter tail takes the low bytes of its word). Word 0 of a request is the
 * sequence number itself and word 0 of a response is its complement, so a dump is easy to read; the other words are
 * a mix of the sequence number and the word's offset. Nothing here allocates unless it describes a mismatch.
 */
final class MessagePattern
{
    /** Returned by the mismatch finders when every byte is as expected. */
    static final int MATCH = -1;

    private static final long GOLDEN_GAMMA = 0x9E37_79B9_7F4A_7C15L;

    private MessagePattern()
    {
    }

    static long requestWord(final long seq, final int offset)
    {
        if (0 == offset)
        {
            return seq;
        }
        final long mixed = (seq + offset) * GOLDEN_GAMMA;
        return mixed ^ (mixed >>> 29);
    }

    static long responseWord(final long seq, final int offset)
    {
        return ~requestWord(seq, offset) ^ ((long)offset << 56);
    }

    static void writeRequest(final MutableDirectBuffer buffer, final int offset, final int length, final long seq)
    {
        for (int i = 0; i < length; i += 8)
        {
            putWord(buffer, offset + i, length - i, requestWord(seq, i));
        }
    }

    static void writeResponse(final MutableDirectBuffer buffer, final int offset, final int length, final long seq)
    {
        for (int i = 0; i < length; i += 8)
        {
            putWord(buffer, offset + i, length - i, responseWord(seq, i));
        }
    }

    /**
     * Finds the first byte of a request that differs from the pattern.
     *
     * @return the offset of the first wrong byte relative to {@code offset}, or {@link #MATCH}.
     */
    static int requestMismatch(final DirectBuffer buffer, final int offset, final int length, final long seq)
    {
        for (int i = 0; i < length; i += 8)
        {
            final int wrong = wordMismatch(buffer, offset + i, length - i, requestWord(seq, i));
            if (MATCH != wrong)
            {
                return i + wrong;
            }
        }
        return MATCH;
    }

    /**
     * Finds the first byte of a response that differs from the pattern.
     *
     * @return the offset of the first wrong byte relative to {@code offset}, or {@link #MATCH}.
     */
    static int responseMismatch(final DirectBuffer buffer, final int offset, final int length, final long seq)
    {
        for (int i = 0; i < length; i += 8)
        {
            final int wrong = wordMismatch(buffer, offset + i, length - i, responseWord(seq, i));
            if (MATCH != wrong)
            {
                return i + wrong;
            }
        }
        return MATCH;
    }

    static String describeRequestMismatch(
        final DirectBuffer buffer, final int offset, final int length, final long seq, final int wrong)
    {
        return "request seq=" + seq + " wrong at byte " + wrong + ": found word0=" + word0(buffer, offset, length) +
            " entry=" + hex(buffer, offset, length);
    }

    static String describeResponseMismatch(
        final DirectBuffer buffer, final int offset, final int length, final long seq, final int wrong)
    {
        return "response seq=" + seq + " wrong at byte " + wrong + ": found ~word0=" +
            ~word0(buffer, offset, length) + " entry=" + hex(buffer, offset, length);
    }

    private static void putWord(final MutableDirectBuffer buffer, final int index, final int remaining, final long word)
    {
        if (remaining >= 8)
        {
            buffer.putLong(index, word);
        }
        else
        {
            for (int b = 0; b < remaining; b++)
            {
                buffer.putByte(index + b, (byte)(word >>> (b * 8)));
            }
        }
    }

    private static int wordMismatch(final DirectBuffer buffer, final int index, final int remaining, final long word)
    {
        if (remaining >= 8)
        {
            final long diff = buffer.getLong(index) ^ word;
            return 0 == diff ? MATCH : Long.numberOfTrailingZeros(diff) >>> 3;
        }
        for (int b = 0; b < remaining; b++)
        {
            if (buffer.getByte(index + b) != (byte)(word >>> (b * 8)))
            {
                return b;
            }
        }
        return MATCH;
    }

    private static long word0(final DirectBuffer buffer, final int offset, final int length)
    {
        return length >= 8 ? buffer.getLong(offset) : buffer.getByte(offset);
    }

    private static String hex(final DirectBuffer buffer, final int offset, final int length)
    {
        final StringBuilder text = new StringBuilder(length * 2);
        for (int i = 0; i < length; i++)
        {
            text.append(String.format("%02x", buffer.getByte(offset + i)));
        }
        return text.toString();
    }
}
