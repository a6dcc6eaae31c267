package io.pvio.machine.cpu;

import io.pvio.machine.CostModel;

import java.util.ArrayList;
import java.util.List;

/**
 * Shared pieces of the CPU mode tests: a cost model whose prices are distinct powers of ten, so a cycle total names
 * exactly which charges made it, and a handler that records what it saw.
 */
final class CpuTestSupport
{
    static final long VM_EXIT = 1L;
    static final long HYPERCALL = 10L;
    static final long EXCEPTION_DELIVERY = 100L;
    static final long PORT_EMULATION = 1_000L;
    static final long SYSCALL_EMULATION = 10_000L;
    static final long UPCALL = 100_000L;

    private CpuTestSupport()
    {
    }

    static CostModel cost()
    {
        return new CostModel().vmExit(VM_EXIT).hypercall(HYPERCALL).exceptionDelivery(EXCEPTION_DELIVERY)
            .portEmulation(PORT_EMULATION).syscallEmulation(SYSCALL_EMULATION).upcall(UPCALL).contextSwitch(0);
    }

    /** One call of a {@link Recorder}: the vector, error code, {@code cr2}, IF and handler depth it ran with. */
    record Seen(int vector, long errorCode, long cr2, boolean interruptsEnabled, int depth)
    {
    }

    /** An interrupt or exception handler that records each call. */
    static final class Recorder implements InterruptHandler
    {
        final List<Seen> seen = new ArrayList<>();

        @Override
        public void handle(final GuestCpu cpu, final int vector, final long errorCode)
        {
            seen.add(new Seen(vector, errorCode, cpu.registers().get(CpuRegisters.CR2),
                cpu.registers().interruptsEnabled(), cpu.handlerDepth()));
        }
    }
}
