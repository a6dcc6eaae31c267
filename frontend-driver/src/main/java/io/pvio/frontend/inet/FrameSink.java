package io.pvio.frontend.inet;

import org.agrona.DirectBuffer;

/**
 * Where an {@link Ipv4Host} sends a frame: the guest's network device. The frame is lent for the call only.
 */
@FunctionalInterface
public interface FrameSink
{
    /**
     * Sends one Ethernet frame.
     *
     * @param frame  the buffer holding it.
     * @param offset where it starts.
     * @param length its bytes, header included.
     * @return true if the device took it, false if it had no room (the frame is dropped and counted).
     */
    boolean send(DirectBuffer frame, int offset, int length);
}
