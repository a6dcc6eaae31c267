package io.pvio.ring;

/**
 * Delivers a notification to the other end of a ring, once a push has said one is needed. In pvio this raises an
 * event channel; in-process users may {@linkplain ParkingIdleStrategy unpark a waiting thread}; a cross-process
 * user may write to an eventfd or a socket.
 */
@FunctionalInterface
public interface Notifier
{
    /**
     * Notify the peer. Notifications coalesce: the peer drains the ring until its final check finds nothing, so one
     * notification may cover many entries and a spurious one is harmless.
     */
    void notifyPeer();
}
