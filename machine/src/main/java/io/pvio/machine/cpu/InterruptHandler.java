package io.pvio.machine.cpu;

/**
 * A guest kernel's handler for one vector: an IDT entry (native, full) or a trap-table entry (para).
 */
@FunctionalInterface
public interface InterruptHandler
{
    /**
     * Handles an exception or interrupt on the vCPU's thread, with the CPU in the handler's state (interrupts off for
     * an interrupt; {@code cr2} holding the address for a page fault).
     *
     * @param cpu       the CPU it arrived on.
     * @param vector    the vector.
     * @param errorCode the exception's error code, or 0.
     */
    void handle(GuestCpu cpu, int vector, long errorCode);
}
