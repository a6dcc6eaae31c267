package io.pvio.machine.cpu;

import io.pvio.machine.cpu.CpuTestSupport.Recorder;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Native mode on a fake platform: privileged instructions execute with no exit, no hypercall and no modeled cycles;
 * only exceptions and interrupts delivered through the IDT are counted and priced, and a missing handler crashes the
 * guest.
 */
class NativeCpuTest
{
    private final FakePlatform platform = new FakePlatform();
    private final GuestCpu cpu = GuestCpu.create(CpuMode.NATIVE, platform, CpuTestSupport.cost());

    @Test
    void shouldExecutePrivilegedInstructionsWithoutEnteringAHypervisor()
    {
        cpu.disableInterrupts();
        assertFalse(cpu.interruptsEnabled());
        cpu.enableInterrupts();
        assertTrue(cpu.interruptsEnabled());
        cpu.loadCr3(0x1000);
        assertEquals(0x1000, platform.registers.get(CpuRegisters.CR3));
        cpu.invlpg(0x2000);
        assertEquals(FakePlatform.DEVICE_VALUE, cpu.in(0x60, 1));
        cpu.out(0x64, 1, 0xFE);
        assertEquals(FakePlatform.DEVICE_VALUE, cpu.mmioRead(0xFEE0_0000L, 4));
        cpu.mmioWrite(0xFEE0_0000L, 4, 7);
        cpu.setTimer(123_456);
        cpu.yieldCpu();

        assertEquals(List.of("in 96/1", "out 100/1=254", "mmio read 4276092928/4", "mmio write 4276092928/4=7"),
            platform.deviceAccesses);
        assertEquals(123_456, platform.armedDeadline);
        assertEquals(1, platform.yields);
        assertNothingEntered();
        assertEquals(0, cpu.counters().modeledCycles());
    }

    @Test
    void shouldHaltUntilAnInterruptAndNotSleepWhenOneIsDeliverable()
    {
        final Recorder device = new Recorder();
        cpu.setHandler(0x40, device);
        cpu.disableInterrupts();
        cpu.halt();
        assertTrue(cpu.interruptsEnabled(), "halt is sti; hlt");
        assertEquals(1, platform.blocks);

        platform.registers.interruptsEnabled(false);
        cpu.postInterrupt(0x40);
        cpu.halt();
        assertEquals(1, platform.blocks, "a deliverable interrupt ends the halt at once");
        assertEquals(1, device.seen.size());
        assertNothingEntered();
    }

    @Test
    void shouldMakeSystemCallsDirectlyThroughLstar()
    {
        cpu.setSyscallHandler((c, number) -> number * 2);
        assertEquals(42, cpu.syscall(21));
        assertEquals(42, platform.registers.get(CpuRegisters.RAX));
        assertEquals(1, cpu.counters().syscalls());
        assertNothingEntered();
        assertEquals(0, cpu.counters().modeledCycles());
    }

    @Test
    void shouldDeliverExceptionsThroughTheIdtWithCr2ForPageFaults()
    {
        final Recorder divide = new Recorder();
        final Recorder pageFault = new Recorder();
        cpu.setHandler(Vectors.DIVIDE_ERROR, divide);
        cpu.setHandler(Vectors.PAGE_FAULT, pageFault);

        cpu.raiseException(Vectors.DIVIDE_ERROR, 0);
        cpu.pageFault(0xdead_b000L, 6);

        assertEquals(List.of(new CpuTestSupport.Seen(Vectors.DIVIDE_ERROR, 0, 0, true, 1)), divide.seen);
        assertEquals(List.of(new CpuTestSupport.Seen(Vectors.PAGE_FAULT, 6, 0xdead_b000L, true, 1)), pageFault.seen);
        assertEquals(2, cpu.counters().exceptions());
        assertEquals(2 * CpuTestSupport.EXCEPTION_DELIVERY, cpu.counters().modeledCycles());
        assertEquals(0, cpu.handlerDepth());
        assertNothingEntered();
    }

    @Test
    void shouldCrashTheGuestOnAnExceptionOrSystemCallWithNoHandler()
    {
        final GuestCrash crash = assertThrows(GuestCrash.class, () -> cpu.raiseException(Vectors.INVALID_OPCODE, 0));
        assertTrue(crash.getMessage().contains("exception " + Vectors.INVALID_OPCODE), crash.getMessage());
        assertThrows(GuestCrash.class, () -> cpu.pageFault(0x1000, 0));
        assertThrows(GuestCrash.class, () -> cpu.syscall(1));
        assertEquals(0, cpu.counters().exceptions());
        assertEquals(0, cpu.counters().syscalls());
        assertThrows(IllegalArgumentException.class, () -> cpu.raiseException(Vectors.FIRST_EXTERNAL, 0));
        assertThrows(IllegalArgumentException.class, () -> cpu.postInterrupt(Vectors.PAGE_FAULT));
    }

    @Test
    void shouldTakeInterruptsThroughTheIdtWithInterruptsOffInTheHandler()
    {
        final Recorder device = new Recorder();
        cpu.setHandler(0x40, device);
        platform.running = true;
        cpu.postInterrupt(0x40);
        assertEquals(1, platform.kicks);
        assertTrue(cpu.interruptController().isRequested(0x40));

        assertEquals(1, cpu.enterGuest());
        assertEquals(List.of(new CpuTestSupport.Seen(0x40, 0, 0, false, 1)), device.seen);
        assertTrue(cpu.interruptsEnabled(), "iret restores IF");
        assertFalse(cpu.interruptController().isInService(0x40), "the handler's EOI ended it");
        assertEquals(1, cpu.counters().interrupts());
        assertEquals(CpuTestSupport.EXCEPTION_DELIVERY, cpu.counters().modeledCycles());
        assertEquals(0, cpu.enterGuest());
        assertNothingEntered();
    }

    @Test
    void shouldHoldInterruptsWhileDisabledAndTakeThemOnSti()
    {
        final Recorder device = new Recorder();
        cpu.setHandler(0x40, device);
        cpu.disableInterrupts();
        cpu.postInterrupt(0x40);
        assertEquals(0, cpu.enterGuest());
        assertFalse(cpu.hasDeliverable());
        assertTrue(device.seen.isEmpty());
        cpu.enableInterrupts();
        assertEquals(1, device.seen.size());
        assertNothingEntered();
    }

    @Test
    void shouldRunTheTimerAndEventHandlersOnTheirVectors()
    {
        final int[] ticks = new int[1];
        final int[] events = new int[1];
        cpu.setTimerHandler(() -> ticks[0]++);
        cpu.setEventCallback(() -> events[0]++);
        cpu.timerExpired();
        cpu.eventsPending();
        assertEquals(2, platform.kicks);
        assertEquals(2, cpu.enterGuest());
        assertEquals(1, ticks[0]);
        assertEquals(1, events[0]);
        assertEquals(1, cpu.counters().timerTicks());
        assertEquals(2, cpu.counters().interrupts());
        assertNothingEntered();
    }

    private void assertNothingEntered()
    {
        final CpuCounters counters = cpu.counters();
        assertEquals(0, counters.exits(), counters.toString());
        assertEquals(0, counters.calls(), counters.toString());
        assertEquals(0, counters.hypervisorEntries(), counters.toString());
        assertEquals(0, counters.injected(), counters.toString());
        assertEquals(0, counters.upcalls(), counters.toString());
        assertEquals(0, counters.bounces(), counters.toString());
        assertTrue(platform.hypercalls.isEmpty(), platform.hypercalls.toString());
    }
}
