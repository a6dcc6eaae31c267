package io.pvio.machine.cpu;

/**
 * A guest kernel's system-call entry ({@code LSTAR} natively and in full mode; the fast handler of the trap table in
 * para mode).
 */
@FunctionalInterface
public interface SyscallHandler
{
    /**
     * Serves a system call.
     *
     * @param cpu    the CPU it was made on.
     * @param number the call number (from {@code rax}).
     * @return the result, returned in {@code rax}.
     */
    long handle(GuestCpu cpu, long number);
}
