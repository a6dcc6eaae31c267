package io.pvio.bench.ring;

import java.nio.file.Path;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

import io.pvio.ring.SharedRingDescriptor;

/**
 * Validated settings of one ring peer, front or back, as given to {@code pvio ring front-send} and
 * {@code pvio ring back-echo}. Both peers of one ring must be given equal values for everything but the timeout.
 * Immutable.
 */
public final class RingPeerOptions
{
    /** Page counts a ring may span: {@code 2^order} for orders 0 to {@link SharedRingDescriptor#MAX_PAGE_ORDER}. */
    public static final String VALID_PAGES = "1, 2, 4, 8, 16";

    /** Smallest request or response: the 64-bit sequence number in bytes 0..7. */
    public static final int MIN_ENTRY_BYTES = 8;

    /** Largest ring index, {@code RING_IDX} being an unsigned 32-bit number. */
    public static final long MAX_RING_INDEX = 0xFFFF_FFFFL;

    private final Path file;
    private final int pages;
    private final int requestBytes;
    private final int responseBytes;
    private final long count;
    private final int startIndex;
    private final int timeoutSeconds;

    /**
     * Settings for one ring peer.
     *
     * @param file           file that holds the shared ring pages.
     * @param pages          ring size in 4 KiB pages, one of {@link #VALID_PAGES}.
     * @param requestBytes   size of one request in bytes, at least {@link #MIN_ENTRY_BYTES}, at most {@link #maxEntryBytes(int)}.
     * @param responseBytes  size of one response in bytes, at least {@link #MIN_ENTRY_BYTES}, at most {@link #maxEntryBytes(int)}.
     * @param count          number of request/response round trips, at least 1.
     * @param startIndex     free-running ring index both peers start from, as an unsigned 32-bit number.
     * @param timeoutSeconds how long the peer may wait for the other side, at least 1.
     * @throws NullPointerException     if {@code file} is null.
     * @throws IllegalArgumentException if a value is out of range; the message names the value.
     */
    public RingPeerOptions(
        final Path file,
        final int pages,
        final int requestBytes,
        final int responseBytes,
        final long count,
        final int startIndex,
        final int timeoutSeconds)
    {
        this.file = Objects.requireNonNull(file, "file");
        if (!isValidPages(pages))
        {
            throw new IllegalArgumentException("pages must be one of " + VALID_PAGES + ": pages=" + pages);
        }
        checkEntryBytes("requestBytes", requestBytes, pages);
        checkEntryBytes("responseBytes", responseBytes, pages);
        if (count < 1)
        {
            throw new IllegalArgumentException("count must be positive: count=" + count);
        }
        if (timeoutSeconds < 1)
        {
            throw new IllegalArgumentException("timeoutSeconds must be positive: timeoutSeconds=" + timeoutSeconds);
        }
        this.pages = pages;
        this.requestBytes = requestBytes;
        this.responseBytes = responseBytes;
        this.count = count;
        this.startIndex = startIndex;
        this.timeoutSeconds = timeoutSeconds;
    }

    /**
     * Is {@code pages} a ring size the shared ring supports: a power of two from 1 to 16?
     *
     * @param pages page count to check.
     * @return true if {@code pages} is one of {@link #VALID_PAGES}.
     */
    public static boolean isValidPages(final int pages)
    {
        return pages > 0 && Integer.bitCount(pages) == 1 &&
            Integer.numberOfTrailingZeros(pages) <= SharedRingDescriptor.MAX_PAGE_ORDER;
    }

    /**
     * Largest request or response that still leaves room for one entry in a ring of {@code pages} pages: the ring
     * bytes less the shared header.
     *
     * @param pages ring size in pages, one of {@link #VALID_PAGES}.
     * @return the largest entry size in bytes.
     */
    public static int maxEntryBytes(final int pages)
    {
        return pages * SharedRingDescriptor.PAGE_SIZE - SharedRingDescriptor.HEADER_LENGTH;
    }

    /**
     * File that holds the shared ring pages.
     *
     * @return the ring file.
     */
    public Path file()
    {
        return file;
    }

    /**
     * Ring size in 4 KiB pages.
     *
     * @return 1, 2, 4, 8 or 16.
     */
    public int pages()
    {
        return pages;
    }

    /**
     * Size of one request in bytes.
     *
     * @return request bytes.
     */
    public int requestBytes()
    {
        return requestBytes;
    }

    /**
     * Size of one response in bytes.
     *
     * @return response bytes.
     */
    public int responseBytes()
    {
        return responseBytes;
    }

    /**
     * Number of request/response round trips.
     *
     * @return the count, at least 1.
     */
    public long count()
    {
        return count;
    }

    /**
     * Free-running ring index both peers start from, so that a short run can cross the 32-bit index wrap.
     *
     * @return the index as the bits of an unsigned 32-bit number.
     */
    public int startIndex()
    {
        return startIndex;
    }

    /**
     * How long the peer may wait for the other side before it gives up.
     *
     * @return the timeout in seconds, at least 1.
     */
    public int timeoutSeconds()
    {
        return timeoutSeconds;
    }

    /**
     * The timeout in nanoseconds, for deadline arithmetic.
     *
     * @return {@link #timeoutSeconds()} in nanoseconds.
     */
    public long timeoutNs()
    {
        return TimeUnit.SECONDS.toNanos(timeoutSeconds);
    }

    /**
     * {@inheritDoc}
     */
    @Override
    public String toString()
    {
        return "RingPeerOptions{file=" + file + ", pages=" + pages + ", requestBytes=" + requestBytes +
            ", responseBytes=" + responseBytes + ", count=" + count +
            ", startIndex=" + Integer.toUnsignedString(startIndex) + ", timeoutSeconds=" + timeoutSeconds + '}';
    }

    private static void checkEntryBytes(final String name, final int bytes, final int pages)
    {
        final int maxBytes = maxEntryBytes(pages);
        if (bytes < MIN_ENTRY_BYTES || bytes > maxBytes)
        {
            throw new IllegalArgumentException(
                name + " out of range: " + name + "=" + bytes + " (expected: " + MIN_ENTRY_BYTES + " <= " + name +
                " <= " + maxBytes +
                " for pages=" + pages + ")");
        }
    }
}
