package io.pvio.hypervisor.event;

/**
 * Told when a domain's {@code evtchn_upcall_pending} goes from 0 to 1: the hook by which a scheduled vCPU, instead of
 * a parked thread, is woken to run the event loop. Called on the sender's thread; must not block.
 */
@FunctionalInterface
public interface UpcallListener
{
    /**
     * An upcall became pending.
     */
    void onUpcall();
}
