package io.pvio.backend.block;

import java.nio.Buffer;
import java.nio.ByteBuffer;

import org.agrona.BufferUtil;
import org.agrona.DirectBuffer;
import org.agrona.UnsafeApi;

/**
 * Reusable {@link ByteBuffer} views that let a {@link java.nio.channels.FileChannel} read into, or write from, the
 * memory behind an Agrona buffer in place: no copy on our side and no allocation once warmed up. One instance per
 * thread (see {@link #forCurrentThread()}): a view is valid until the same thread asks for the next one.
 * <p>
 * <b>Off-heap memory</b> (a grant-mapped frame, machine memory, a direct or mapped byte buffer) goes through the
 * <em>address window</em>: one direct {@code ByteBuffer} created once per thread with the largest capacity, whose
 * base address is re-pointed at the caller's memory before each use, so the kernel reads or writes that memory
 * directly. Re-pointing writes the {@code address} field of {@link Buffer} through {@link UnsafeApi}, at the offset
 * Agrona itself reads ({@link BufferUtil#BYTE_BUFFER_ADDRESS_FIELD_OFFSET}); the capacity is set once, when the
 * window is made. The window's own one-byte allocation is freed by its cleaner, which remembers the original
 * address. Like the rest of Agrona this needs {@code --add-exports java.base/jdk.internal.misc=ALL-UNNAMED}.
 * <p>
 * <b>Heap memory</b> (a {@code byte[]} or heap {@code ByteBuffer}) cannot be pinned, so it goes through a wrapper of
 * the array, made again only when the array changes. The JDK then copies through its per-thread temporary direct
 * buffer: an extra copy, acceptable for tests and tools. The wrapper keeps the last array reachable until the thread
 * uses another one.
 */
final class ChannelViews
{
    private static final long CAPACITY_FIELD_OFFSET = UnsafeApi.objectFieldOffset(Buffer.class, "capacity");
    private static final ThreadLocal<ChannelViews> VIEWS = ThreadLocal.withInitial(ChannelViews::new);

    private final ByteBuffer window;
    private byte[] heapArray;
    private ByteBuffer heapView;

    private ChannelViews()
    {
        window = ByteBuffer.allocateDirect(0);
        UnsafeApi.putInt(window, CAPACITY_FIELD_OFFSET, Integer.MAX_VALUE);
        window.clear();
    }

    /**
     * The calling thread's views.
     *
     * @return this thread's instance, made on first use.
     */
    static ChannelViews forCurrentThread()
    {
        return VIEWS.get();
    }

    /**
     * A view of {@code [offset, offset + length)} of {@code buffer}: position at the first byte, remaining
     * {@code length}. The caller has bounds-checked the range.
     *
     * @param buffer the memory to view.
     * @param offset first byte, relative to the buffer.
     * @param length bytes.
     * @return a view, valid until this thread's next call.
     */
    ByteBuffer view(final DirectBuffer buffer, final int offset, final int length)
    {
        final byte[] array = buffer.byteArray();
        if (null == array)
        {
            return window(buffer.addressOffset() + offset, length);
        }

        if (array != heapArray)
        {
            heapView = ByteBuffer.wrap(array);
            heapArray = array;
        }
        final ByteBuffer heapView = this.heapView;
        final int start = (int)(buffer.addressOffset() - BufferUtil.ARRAY_BASE_OFFSET) + offset;
        heapView.clear();
        heapView.position(start).limit(start + length);
        return heapView;
    }

    /**
     * A view of {@code length} bytes of native memory at {@code address}: position 0, limit {@code length}.
     *
     * @param address first byte.
     * @param length  bytes.
     * @return the window, valid until this thread's next call.
     */
    ByteBuffer window(final long address, final int length)
    {
        final ByteBuffer window = this.window;
        UnsafeApi.putLong(window, BufferUtil.BYTE_BUFFER_ADDRESS_FIELD_OFFSET, address);
        window.clear().limit(length);
        return window;
    }
}
