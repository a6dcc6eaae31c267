package io.pvio.machine.cpu;

/**
 * Thrown by a {@link CpuPlatform}'s port or MMIO access when the access was forwarded to a device model that has not
 * answered yet: the vCPU stops inside the instruction, as Xen's emulator returns {@code X86EMUL_RETRY} and the vCPU
 * waits for the ioreq's response. It is not an error and carries no stack trace; guest code lets it pass up to the
 * vCPU's run loop, which blocks the vCPU until the device model answers and then runs the same code again.
 * <p>
 * <b>The retry contract.</b> Code that may be stopped this way must, when run again, issue the same access (port or
 * address, size, direction, value) before any other device access or side effect that must not happen twice; the
 * access then completes with the answer, without a second exit. A driver written as a register program (one step per
 * access, the step advanced only after the access returned) meets it.
 */
public final class IoPending extends RuntimeException
{
    /** The one instance: throwing it allocates nothing. */
    public static final IoPending INSTANCE = new IoPending();

    private static final long serialVersionUID = 1L;

    private IoPending()
    {
        super("the vCPU waits for a device model's answer", null, false, false);
    }
}
