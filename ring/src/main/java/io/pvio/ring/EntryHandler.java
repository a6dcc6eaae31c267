package io.pvio.ring;

import org.agrona.DirectBuffer;

/**
 * Receives ring entries one at a time, either in place in shared memory or as a private copy.
 */
@FunctionalInterface
public interface EntryHandler
{
    /**
     * Called for each consumed entry. The bytes are valid only for the duration of the call: in place, the slot may
     * be reused by the producer once the call returns; as a copy, the private buffer is reused for the next entry.
     *
     * @param buffer the buffer holding the entry.
     * @param offset offset of the entry's first byte in {@code buffer}.
     */
    void onEntry(DirectBuffer buffer, int offset);
}
