package io.pvio.backend.block;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Makes test buffers of every kind a {@link BlockStore} must accept, and frees the direct ones deterministically.
 */
final class TestBuffers implements AutoCloseable
{
    /**
     * The kinds of memory blkback may hand a store.
     */
    enum Kind
    {
        /** Wrapped by address only, as a grant-mapped guest frame is: no array, no byte buffer. */
        OFF_HEAP_ADDRESS,

        /** A slice of a direct byte buffer, so the view starts at a non-zero adjustment. */
        DIRECT_BYTE_BUFFER,

        /** A plain byte array. */
        HEAP_ARRAY,

        /** A slice of a heap byte buffer with a non-zero array offset. */
        HEAP_BYTE_BUFFER
    }

    private static final int SLACK = 24;

    private final List<ByteBuffer> directBuffers = new ArrayList<>();

    /**
     * A buffer of {@code capacity} bytes of the given kind, starting somewhere inside its backing memory.
     *
     * @param kind     the memory kind.
     * @param capacity usable bytes.
     * @return a zeroed buffer.
     */
    UnsafeBuffer allocate(final Kind kind, final int capacity)
    {
        switch (kind)
        {
            case OFF_HEAP_ADDRESS:
            {
                final ByteBuffer memory = ByteBuffer.allocateDirect(capacity);
                directBuffers.add(memory);
                return new UnsafeBuffer(BufferUtil.address(memory), capacity);
            }

            case DIRECT_BYTE_BUFFER:
            {
                final ByteBuffer memory = ByteBuffer.allocateDirect(capacity + SLACK);
                directBuffers.add(memory);
                return new UnsafeBuffer(memory, SLACK, capacity);
            }

            case HEAP_ARRAY:
                return new UnsafeBuffer(new byte[capacity]);

            case HEAP_BYTE_BUFFER:
            {
                final ByteBuffer outer = ByteBuffer.wrap(new byte[capacity + 2 * SLACK]);
                final ByteBuffer memory = outer.position(SLACK).slice();
                return new UnsafeBuffer(memory, SLACK, capacity);
            }

            default:
                throw new IllegalArgumentException("kind=" + kind);
        }
    }

    /**
     * Frees every direct buffer made so far.
     */
    @Override
    public void close()
    {
        for (final ByteBuffer buffer : directBuffers)
        {
            BufferUtil.free(buffer);
        }
        directBuffers.clear();
    }
}
