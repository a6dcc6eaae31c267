package io.pvio.backend.net;

import org.agrona.DirectBuffer;

/**
 * Where a {@link Bridge} delivers a frame: a netback vif, an emulated NIC's model or the uplink. The frame is lent for
 * the call only; a port that keeps it copies it. Must not block.
 */
@FunctionalInterface
public interface BridgePort
{
    /**
     * Delivers one Ethernet frame.
     *
     * @param frame  the buffer holding it.
     * @param offset where it starts.
     * @param length its bytes, header included.
     */
    void deliver(DirectBuffer frame, int offset, int length);
}
