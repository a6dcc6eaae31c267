package io.pvio.machine.cpu;

import io.pvio.machine.cpu.CpuTestSupport.Recorder;
import io.pvio.machine.cpu.CpuTestSupport.Seen;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static io.pvio.machine.cpu.CpuTestSupport.EXCEPTION_DELIVERY;
import static io.pvio.machine.cpu.CpuTestSupport.PORT_EMULATION;
import static io.pvio.machine.cpu.CpuTestSupport.SYSCALL_EMULATION;
import static io.pvio.machine.cpu.CpuTestSupport.VM_EXIT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Full (trap and emulate) mode on a fake platform: each privileged operation is one VM exit with its VT-x reason,
 * counted and priced; virtual interrupts are injected through the guest's IDT on entry, and one that waits while the
 * guest has IF clear is taken through an interrupt-window exit when {@code sti} or {@code iret} opens it.
 */
class FullCpuTest
{
    private final FakePlatform platform = new FakePlatform();
    private final GuestCpu cpu = GuestCpu.create(CpuMode.FULL, platform, CpuTestSupport.cost());

    @Test
    void shouldExitOncePerPrivilegedOperationWithItsReason()
    {
        cpu.disableInterrupts();
        cpu.enableInterrupts();
        assertEquals(0, cpu.counters().exits(), "cli and sti with nothing waiting do not exit");

        cpu.loadCr3(0x3000);
        assertEquals(0x3000, platform.registers.get(CpuRegisters.CR3));
        assertExit(ExitReason.CR_ACCESS, 1, VM_EXIT);
        cpu.invlpg(0x4000);
        assertExit(ExitReason.INVLPG, 1, 2 * VM_EXIT);
        assertEquals(FakePlatform.DEVICE_VALUE, cpu.in(0x60, 1));
        cpu.out(0x64, 2, 9);
        assertExit(ExitReason.IO_INSTRUCTION, 2, 4 * VM_EXIT + 2 * PORT_EMULATION);
        assertEquals(FakePlatform.DEVICE_VALUE, cpu.mmioRead(0xF000_0000L, 8));
        cpu.mmioWrite(0xF000_0000L, 8, 1);
        assertExit(ExitReason.EPT_VIOLATION, 2, 6 * VM_EXIT + 4 * PORT_EMULATION);
        cpu.setTimer(777);
        assertEquals(777, platform.armedDeadline);
        assertExit(ExitReason.MSR_WRITE, 1, 7 * VM_EXIT + 4 * PORT_EMULATION);
        cpu.halt();
        assertEquals(1, platform.blocks);
        assertExit(ExitReason.HLT, 1, 8 * VM_EXIT + 4 * PORT_EMULATION);

        assertEquals(List.of("in 96/1", "out 100/2=9", "mmio read 4026531840/8", "mmio write 4026531840/8=1"),
            platform.deviceAccesses);
        assertEquals(8, cpu.counters().exits());
        assertEquals(8, cpu.counters().hypervisorEntries());
        assertEquals(0, cpu.counters().calls());
        assertEquals(28, ExitReason.CR_ACCESS.number());
        assertEquals(48, ExitReason.EPT_VIOLATION.number());
    }

    @Test
    void shouldYieldWithoutAHypercallAndRegisterTheCallbackVectorWithOne()
    {
        cpu.yieldCpu();
        assertEquals(1, platform.yields);
        assertEquals(0, cpu.counters().hypervisorEntries());
        cpu.setEventCallback(() -> { });
        assertEquals(1, cpu.counters().calls(PvCall.HVM_SET_CALLBACK));
        assertEquals(List.of(PvCall.HVM_SET_CALLBACK), platform.hypercalls);
    }

    @Test
    void shouldPriceSystemCallsAsMonitorWorkWithoutAnExit()
    {
        cpu.setSyscallHandler((c, number) -> number + 1);
        assertEquals(8, cpu.syscall(7));
        assertEquals(8, platform.registers.get(CpuRegisters.RAX));
        assertEquals(1, cpu.counters().syscalls());
        assertEquals(1, cpu.counters().hypervisorEntries());
        assertEquals(0, cpu.counters().exits());
        assertEquals(SYSCALL_EMULATION, cpu.counters().modeledCycles());
    }

    @Test
    void shouldReflectExceptionsIntoTheIdtThroughAnExceptionExit()
    {
        final Recorder divide = new Recorder();
        final Recorder pageFault = new Recorder();
        cpu.setHandler(Vectors.DIVIDE_ERROR, divide);
        cpu.setHandler(Vectors.PAGE_FAULT, pageFault);
        cpu.raiseException(Vectors.DIVIDE_ERROR, 0);
        cpu.pageFault(0x7000_1234L, 2);
        assertEquals(List.of(new Seen(Vectors.DIVIDE_ERROR, 0, 0, true, 1)), divide.seen);
        assertEquals(List.of(new Seen(Vectors.PAGE_FAULT, 2, 0x7000_1234L, true, 1)), pageFault.seen);
        assertExit(ExitReason.EXCEPTION, 2, 2 * VM_EXIT + 2 * EXCEPTION_DELIVERY);
        assertEquals(2, cpu.counters().exceptions());
        assertEquals(2, cpu.counters().injected());
        assertEquals(2, cpu.counters().exits(), "iret from the handler does not exit");
    }

    @Test
    void shouldInjectAPostedInterruptOnEntryAndExitForTheEoi()
    {
        final Recorder device = new Recorder();
        cpu.setHandler(0x40, device);
        cpu.postInterrupt(0x40);
        assertEquals(1, platform.kicks);
        assertEquals(1, cpu.enterGuest());
        assertEquals(List.of(new Seen(0x40, 0, 0, false, 1)), device.seen);
        assertTrue(cpu.interruptsEnabled());
        assertEquals(1, cpu.counters().injected());
        assertEquals(1, cpu.counters().interrupts());
        assertExit(ExitReason.MSR_WRITE, 1, VM_EXIT + EXCEPTION_DELIVERY);
        assertEquals(0, cpu.counters().exits(ExitReason.EXTERNAL_INTERRUPT), "posted while not running");
        assertFalse(cpu.interruptController().isInService(0x40));
    }

    @Test
    void shouldCountAnExternalInterruptExitForAnInterruptPostedWhileTheGuestRuns()
    {
        cpu.setHandler(0x40, new Recorder());
        platform.running = true;
        cpu.postInterrupt(0x40);
        cpu.postInterrupt(0x40); // already requested: one request, one IPI
        assertEquals(1, cpu.enterGuest());
        assertEquals(1, cpu.counters().exits(ExitReason.EXTERNAL_INTERRUPT));
        assertEquals(0, cpu.enterGuest());
        assertEquals(1, cpu.counters().exits(ExitReason.EXTERNAL_INTERRUPT));
    }

    @Test
    void shouldTakeAnInterruptWaitingBehindIfClearThroughTheWindowThatStiOpens()
    {
        final Recorder device = new Recorder();
        cpu.setHandler(0x40, device);
        cpu.disableInterrupts();
        cpu.postInterrupt(0x40);
        assertEquals(0, cpu.enterGuest());
        cpu.loadCr3(0x1000); // an exit and re-entry with IF clear: nothing injected
        assertTrue(device.seen.isEmpty());
        assertFalse(cpu.hasDeliverable());
        assertEquals(0, cpu.counters().exits(ExitReason.INTERRUPT_WINDOW));

        cpu.enableInterrupts();
        assertEquals(1, device.seen.size());
        assertEquals(1, cpu.counters().exits(ExitReason.INTERRUPT_WINDOW));
        assertEquals(1, cpu.counters().injected());
        assertTrue(cpu.interruptsEnabled());
    }

    @Test
    void shouldOpenTheWindowOnIretForAVectorRaisedWhileTheHandlerRan()
    {
        final List<Integer> order = new ArrayList<>();
        cpu.setHandler(0x40, (c, vector, errorCode) ->
        {
            order.add(vector);
            c.postInterrupt(0x50);
            c.out(0x80, 1, 0); // an exit inside the handler (IF clear): its re-entry must not inject 0x50
            order.add(-vector);
        });
        cpu.setHandler(0x50, (c, vector, errorCode) -> order.add(vector));
        cpu.postInterrupt(0x40);
        assertEquals(2, cpu.enterGuest());
        assertEquals(List.of(0x40, -0x40, 0x50), order);
        assertEquals(1, cpu.counters().exits(ExitReason.INTERRUPT_WINDOW));
        assertEquals(2, cpu.counters().exits(ExitReason.MSR_WRITE), "one EOI each");
        assertEquals(2, cpu.counters().injected());
    }

    @Test
    void shouldHoldASamePriorityVectorUntilTheEoiAndThenTakeIt()
    {
        final List<Integer> order = new ArrayList<>();
        cpu.setHandler(0x41, (c, vector, errorCode) -> order.add(vector));
        cpu.setHandler(0x42, (c, vector, errorCode) -> order.add(vector));
        cpu.postInterrupt(0x41);
        cpu.postInterrupt(0x42);
        assertEquals(2, cpu.enterGuest());
        assertEquals(List.of(0x42, 0x41), order, "highest first");
        assertEquals(1, cpu.counters().exits(ExitReason.INTERRUPT_WINDOW));
    }

    @Test
    void shouldEndAHaltAtOnceWhenAnInterruptIsPending()
    {
        final Recorder device = new Recorder();
        cpu.setHandler(0x40, device);
        cpu.disableInterrupts();
        cpu.postInterrupt(0x40);
        cpu.halt();
        assertEquals(0, platform.blocks);
        assertEquals(1, device.seen.size());
        assertEquals(1, cpu.counters().exits(ExitReason.HLT));
    }

    @Test
    void shouldDeliverTheTimerAndEventsAsVectors()
    {
        final int[] ticks = new int[1];
        final int[] events = new int[1];
        cpu.setTimerHandler(() -> ticks[0]++);
        cpu.setEventCallback(() -> events[0]++);
        cpu.timerExpired();
        assertTrue(cpu.interruptController().isRequested(Vectors.LOCAL_TIMER));
        cpu.eventsPending();
        assertTrue(cpu.interruptController().isRequested(Vectors.HYPERVISOR_CALLBACK));
        assertEquals(2, cpu.enterGuest());
        assertEquals(1, ticks[0]);
        assertEquals(1, events[0]);
        assertEquals(1, cpu.counters().timerTicks());
        assertEquals(2, cpu.counters().injected());
    }

    private void assertExit(final ExitReason reason, final long count, final long cycles)
    {
        assertEquals(count, cpu.counters().exits(reason), cpu.counters().toString());
        assertEquals(cycles, cpu.counters().modeledCycles(), cpu.counters().toString());
    }
}
