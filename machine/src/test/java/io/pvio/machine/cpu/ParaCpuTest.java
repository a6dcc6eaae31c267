package io.pvio.machine.cpu;

import io.pvio.machine.cpu.CpuTestSupport.Recorder;
import io.pvio.machine.cpu.CpuTestSupport.Seen;
import org.junit.jupiter.api.Test;

import java.util.List;

import static io.pvio.machine.cpu.CpuTestSupport.EXCEPTION_DELIVERY;
import static io.pvio.machine.cpu.CpuTestSupport.HYPERCALL;
import static io.pvio.machine.cpu.CpuTestSupport.PORT_EMULATION;
import static io.pvio.machine.cpu.CpuTestSupport.UPCALL;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Para mode on a fake platform: privileged operations are the PV hypercalls of Xen's x86-64 ABI, counted, priced and
 * reported to the platform; {@code cli}/{@code sti} and MMIO are fast paths with no hypercall; faults are bounced to
 * the trap table with {@code cr2}; events arrive as upcalls, held back while the upcall mask is set and delivered
 * when it is cleared.
 */
class ParaCpuTest
{
    private final FakePlatform platform = new FakePlatform();
    private final GuestCpu cpu = GuestCpu.create(CpuMode.PARA, platform, CpuTestSupport.cost());

    @Test
    void shouldMakeOneHypercallPerPrivilegedOperation()
    {
        cpu.setInterruptTable(new InterruptHandler[0]);
        cpu.loadCr3(0x5000);
        assertEquals(0x5000, platform.registers.get(CpuRegisters.CR3));
        cpu.invlpg(0x6000);
        assertEquals(FakePlatform.DEVICE_VALUE, cpu.in(0x70, 1));
        cpu.out(0x71, 1, 3);
        cpu.setTimer(999);
        assertEquals(999, platform.armedDeadline);
        cpu.yieldCpu();
        assertEquals(1, platform.yields);
        cpu.halt();
        assertEquals(1, platform.blocks);

        assertEquals(List.of(PvCall.SET_TRAP_TABLE, PvCall.MMUEXT_OP, PvCall.MMUEXT_OP, PvCall.EMULATE_PRIV_OP,
            PvCall.EMULATE_PRIV_OP, PvCall.SET_TIMER_OP, PvCall.SCHEDOP_YIELD, PvCall.SCHEDOP_BLOCK),
            platform.hypercalls);
        final CpuCounters counters = cpu.counters();
        assertEquals(2, counters.calls(PvCall.MMUEXT_OP));
        assertEquals(2, counters.calls(PvCall.EMULATE_PRIV_OP));
        assertEquals(8, counters.calls());
        assertEquals(8, counters.hypervisorEntries());
        assertEquals(0, counters.exits());
        assertEquals(8 * HYPERCALL + 2 * PORT_EMULATION, counters.modeledCycles());
    }

    @Test
    void shouldTakeTheFastPathsWithNoHypercall()
    {
        cpu.disableInterrupts();
        assertTrue(platform.upcallMasked);
        assertFalse(cpu.interruptsEnabled());
        assertTrue(platform.registers.interruptsEnabled(), "the mask is in vcpu_info, not rflags");
        cpu.enableInterrupts();
        assertFalse(platform.upcallMasked);
        assertEquals(FakePlatform.DEVICE_VALUE, cpu.mmioRead(0xE000_0000L, 4));
        cpu.mmioWrite(0xE000_0000L, 4, 5);
        cpu.setSyscallHandler((c, number) -> -number);
        assertEquals(-3, cpu.syscall(3));
        assertEquals(1, cpu.counters().syscalls());
        assertEquals(0, cpu.counters().hypervisorEntries());
        assertEquals(0, cpu.counters().modeledCycles());
        assertTrue(platform.hypercalls.isEmpty());
    }

    @Test
    void shouldBounceFaultsToTheTrapTableWithCr2AndReturnByIret()
    {
        final Recorder divide = new Recorder();
        final Recorder pageFault = new Recorder();
        cpu.setHandler(Vectors.DIVIDE_ERROR, divide);
        cpu.setHandler(Vectors.PAGE_FAULT, pageFault);
        cpu.raiseException(Vectors.DIVIDE_ERROR, 0);
        cpu.pageFault(0x4444_5000L, 7);
        assertEquals(List.of(new Seen(Vectors.DIVIDE_ERROR, 0, 0, true, 1)), divide.seen);
        assertEquals(List.of(new Seen(Vectors.PAGE_FAULT, 7, 0x4444_5000L, true, 1)), pageFault.seen);
        final CpuCounters counters = cpu.counters();
        assertEquals(2, counters.bounces());
        assertEquals(2, counters.exceptions());
        assertEquals(2, counters.calls(PvCall.IRET));
        assertEquals(4, counters.hypervisorEntries(), "a bounce and an iret each");
        assertEquals(4 * HYPERCALL + 2 * EXCEPTION_DELIVERY, counters.modeledCycles());
        assertEquals(0, counters.exits());
    }

    @Test
    void shouldCrashOnAFaultWithNoTrapTableEntry()
    {
        assertThrows(GuestCrash.class, () -> cpu.pageFault(0x1000, 0));
        assertEquals(0x1000, platform.registers.get(CpuRegisters.CR2));
        assertEquals(0, cpu.counters().bounces());
    }

    @Test
    void shouldRefuseInterruptVectorsAndSendTimerExpiryAsAnEvent()
    {
        assertThrows(IllegalStateException.class, () -> cpu.postInterrupt(0x40));
        final int[] ticks = new int[1];
        cpu.setTimerHandler(() -> ticks[0]++);
        cpu.timerExpired();
        assertEquals(1, platform.timerEvents);
        assertEquals(0, ticks[0], "the tick runs when the VIRQ_TIMER event is handled");
        cpu.timerEvent();
        assertEquals(1, ticks[0]);
        assertEquals(1, cpu.counters().timerTicks());
        cpu.eventsPending();
        assertEquals(1, platform.kicks);
    }

    @Test
    void shouldUpcallIntoTheCallbackWithEventsMaskedAndIretAfter()
    {
        final boolean[] maskedInside = new boolean[1];
        final int[] depthInside = new int[1];
        cpu.setEventCallback(() ->
        {
            maskedInside[0] = platform.upcallMasked;
            depthInside[0] = cpu.handlerDepth();
            platform.upcallPending = false; // the handler clears evtchn_upcall_pending
        });
        assertEquals(List.of(PvCall.SET_CALLBACKS), platform.hypercalls);
        assertEquals(0, cpu.enterGuest());
        platform.upcallPending = true;
        assertTrue(cpu.hasDeliverable());
        assertEquals(1, cpu.enterGuest());
        assertTrue(maskedInside[0]);
        assertEquals(1, depthInside[0]);
        assertFalse(platform.upcallMasked, "iret restores the clear mask");
        assertEquals(1, cpu.counters().upcalls());
        assertEquals(1, cpu.counters().calls(PvCall.IRET));
        assertEquals(2 * HYPERCALL + UPCALL, cpu.counters().modeledCycles());
    }

    @Test
    void shouldHoldTheUpcallWhileMaskedAndDeliverItOnUnmask()
    {
        final int[] upcalls = new int[1];
        cpu.setEventCallback(() ->
        {
            upcalls[0]++;
            platform.upcallPending = false;
        });
        cpu.disableInterrupts();
        platform.upcallPending = true;
        assertFalse(cpu.hasDeliverable());
        assertEquals(0, cpu.enterGuest());
        assertEquals(0, upcalls[0]);
        cpu.enableInterrupts();
        assertEquals(1, upcalls[0]);
        assertEquals(1, cpu.counters().calls(PvCall.FORCE_EVTCHN_CALLBACK));
        cpu.disableInterrupts();
        cpu.enableInterrupts();
        assertEquals(1, cpu.counters().calls(PvCall.FORCE_EVTCHN_CALLBACK), "nothing pending: no hypercall");
    }

    @Test
    void shouldEndAHaltAtOnceWhenAnUpcallIsPending()
    {
        cpu.setEventCallback(() -> platform.upcallPending = false);
        cpu.disableInterrupts();
        platform.upcallPending = true;
        cpu.halt();
        assertEquals(0, platform.blocks);
        assertEquals(1, cpu.counters().upcalls());
        assertEquals(1, cpu.counters().calls(PvCall.SCHEDOP_BLOCK));
        assertFalse(platform.upcallMasked, "SCHEDOP_block unmasks");
    }

    @Test
    void shouldBoundTheUpcallsOfOneEntry()
    {
        final int[] upcalls = new int[1];
        cpu.setEventCallback(() -> upcalls[0]++); // never clears pending: an event storm
        platform.upcallPending = true;
        assertEquals(ParaCpu.MAX_UPCALLS_PER_ENTRY, cpu.enterGuest());
        assertEquals(ParaCpu.MAX_UPCALLS_PER_ENTRY, upcalls[0]);
    }
}
