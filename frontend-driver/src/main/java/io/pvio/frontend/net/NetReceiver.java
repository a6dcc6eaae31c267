package io.pvio.frontend.net;

import org.agrona.DirectBuffer;

/**
 * Told about each frame a {@link NetFront} receives, on the guest's event-loop thread (its vCPU 0 when a scheduler
 * runs the machine). The frame is lent for the call only: its buffer is posted to the back end again afterwards. It
 * must not block; it may transmit.
 */
@FunctionalInterface
public interface NetReceiver
{
    /**
     * One received Ethernet frame, reassembled if it came in several buffers.
     *
     * @param frame  the buffer holding it.
     * @param offset where it starts.
     * @param length its bytes, header included.
     */
    void onFrame(DirectBuffer frame, int offset, int length);
}
