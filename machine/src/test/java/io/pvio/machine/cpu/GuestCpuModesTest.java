package io.pvio.machine.cpu;

import io.pvio.machine.cpu.CpuTestSupport.Recorder;
import io.pvio.machine.cpu.CpuTestSupport.Seen;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

import static io.pvio.machine.cpu.CpuTestSupport.EXCEPTION_DELIVERY;
import static io.pvio.machine.cpu.CpuTestSupport.HYPERCALL;
import static io.pvio.machine.cpu.CpuTestSupport.PORT_EMULATION;
import static io.pvio.machine.cpu.CpuTestSupport.SYSCALL_EMULATION;
import static io.pvio.machine.cpu.CpuTestSupport.UPCALL;
import static io.pvio.machine.cpu.CpuTestSupport.VM_EXIT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The per-mode table of {@link GuestCpu} checked side by side: one kernel script (cli/sti, CR3, INVLPG, port and MMIO
 * I/O, a divide error, a page fault, a system call, the timer, yield, halt) leaves the same guest-visible results in
 * NATIVE, FULL and PARA mode, while what it costs differs exactly as the table says: nothing counted natively, VM
 * exits by reason in full mode, hypercalls by kind (none on the fast paths) in para mode. Then the delivery paths:
 * an external interrupt injected on entry, one held behind IF clear and taken after {@code sti} (with an
 * interrupt-window exit in full mode), and the para upcall held while masked and delivered on unmask.
 */
class GuestCpuModesTest
{
    private static final int DEVICE_VECTOR = 0x41;
    private static final long FAULT_ADDRESS = 0x7fff_1234_5000L;
    private static final long DEADLINE = 123_456_789L;

    /** What the guest saw while running the script: must not depend on the mode. */
    private record Observed(long cr3, long portValue, long mmioValue, long syscallResult, long raxAfterSyscall,
        List<Seen> handlers, List<String> deviceAccesses, long armedDeadline, int yields, int blocks,
        boolean ifAfterHalt)
    {
    }

    private static Observed runScript(final GuestCpu cpu, final FakePlatform platform)
    {
        final Recorder recorder = new Recorder();
        final InterruptHandler[] table = new InterruptHandler[32];
        table[Vectors.DIVIDE_ERROR] = recorder;
        table[Vectors.PAGE_FAULT] = recorder;
        cpu.setInterruptTable(table);
        cpu.setSyscallHandler((c, number) -> number * 2 + 1);

        cpu.disableInterrupts();
        assertFalse(cpu.interruptsEnabled(), cpu.mode() + ": cli");
        cpu.enableInterrupts();
        assertTrue(cpu.interruptsEnabled(), cpu.mode() + ": sti");
        cpu.loadCr3(0x4_2000L);
        cpu.invlpg(0x1000L);
        final long portValue = cpu.in(0x60, 1);
        cpu.out(0x64, 2, 0xAB);
        final long mmioValue = cpu.mmioRead(0xFEC0_0000L, 4);
        cpu.mmioWrite(0xFEC0_0010L, 4, 7);
        cpu.raiseException(Vectors.DIVIDE_ERROR, 0);
        cpu.pageFault(FAULT_ADDRESS, 6);
        final long result = cpu.syscall(20);
        cpu.setTimer(DEADLINE);
        cpu.yieldCpu();
        cpu.disableInterrupts();
        cpu.halt(); // nothing pending: interrupts come back on and the CPU sleeps
        return new Observed(platform.registers.get(CpuRegisters.CR3), portValue, mmioValue, result,
            platform.registers.get(CpuRegisters.RAX), List.copyOf(recorder.seen), List.copyOf(platform.deviceAccesses),
            platform.armedDeadline, platform.yields, platform.blocks, cpu.interruptsEnabled());
    }

    @Test
    void shouldLeaveTheSameGuestVisibleResultsInEveryMode()
    {
        final List<Observed> seen = new ArrayList<>();
        for (final CpuMode mode : CpuMode.values())
        {
            final FakePlatform platform = new FakePlatform();
            seen.add(runScript(GuestCpu.create(mode, platform, CpuTestSupport.cost()), platform));
        }
        final Observed expected = seen.get(0);
        assertEquals(0x4_2000L, expected.cr3());
        assertEquals(FakePlatform.DEVICE_VALUE, expected.portValue());
        assertEquals(FakePlatform.DEVICE_VALUE, expected.mmioValue());
        assertEquals(41, expected.syscallResult());
        assertEquals(41, expected.raxAfterSyscall());
        assertEquals(2, expected.handlers().size());
        assertEquals(Vectors.DIVIDE_ERROR, expected.handlers().get(0).vector());
        assertEquals(Vectors.PAGE_FAULT, expected.handlers().get(1).vector());
        assertEquals(6, expected.handlers().get(1).errorCode());
        assertEquals(FAULT_ADDRESS, expected.handlers().get(1).cr2(), "cr2 reaches the page-fault handler");
        assertEquals(1, expected.handlers().get(1).depth());
        assertEquals(List.of("in 96/1", "out 100/2=171", "mmio read 4273995776/4", "mmio write 4273995792/4=7"),
            expected.deviceAccesses());
        assertEquals(DEADLINE, expected.armedDeadline());
        assertEquals(1, expected.yields());
        assertEquals(1, expected.blocks());
        assertTrue(expected.ifAfterHalt());
        for (int i = 1; i < seen.size(); i++)
        {
            assertEquals(expected, seen.get(i), CpuMode.values()[i] + " differs from " + CpuMode.values()[0]);
        }
    }

    @Test
    void shouldCountNothingNatively()
    {
        final FakePlatform platform = new FakePlatform();
        final GuestCpu cpu = GuestCpu.create(CpuMode.NATIVE, platform, CpuTestSupport.cost());
        runScript(cpu, platform);
        final CpuCounters c = cpu.counters();
        assertEquals(0, c.exits());
        assertEquals(0, c.calls());
        assertEquals(0, c.hypervisorEntries());
        assertEquals(0, c.bounces());
        assertEquals(0, c.injected());
        assertTrue(platform.hypercalls.isEmpty());
        assertEquals(2, c.exceptions());
        assertEquals(1, c.syscalls());
        assertEquals(2 * EXCEPTION_DELIVERY, c.modeledCycles(), "only the two IDT deliveries are priced");
    }

    @Test
    void shouldExitOncePerPrivilegedOperationInFullMode()
    {
        final FakePlatform platform = new FakePlatform();
        final GuestCpu cpu = GuestCpu.create(CpuMode.FULL, platform, CpuTestSupport.cost());
        runScript(cpu, platform);
        final CpuCounters c = cpu.counters();
        final Map<ExitReason, Long> expected = new EnumMap<>(ExitReason.class);
        expected.put(ExitReason.CR_ACCESS, 1L);
        expected.put(ExitReason.INVLPG, 1L);
        expected.put(ExitReason.IO_INSTRUCTION, 2L);
        expected.put(ExitReason.EPT_VIOLATION, 2L);
        expected.put(ExitReason.EXCEPTION, 2L);
        expected.put(ExitReason.MSR_WRITE, 1L);
        expected.put(ExitReason.HLT, 1L);
        for (final ExitReason reason : ExitReason.values())
        {
            assertEquals(expected.getOrDefault(reason, 0L), c.exits(reason), reason.toString());
        }
        assertEquals(10, c.exits(), "cli, sti, yield and the system call do not exit");
        assertEquals(0, c.calls());
        assertTrue(platform.hypercalls.isEmpty());
        assertEquals(2, c.injected(), "both exceptions reflected into the guest's IDT");
        assertEquals(11, c.hypervisorEntries(), "ten exits and the monitor's system-call work");
        assertEquals(10 * VM_EXIT + 4 * PORT_EMULATION + 2 * EXCEPTION_DELIVERY + SYSCALL_EMULATION,
            c.modeledCycles());
    }

    @Test
    void shouldMakeOneHypercallPerPrivilegedOperationInParaModeAndNoneOnTheFastPaths()
    {
        final FakePlatform platform = new FakePlatform();
        final GuestCpu cpu = GuestCpu.create(CpuMode.PARA, platform, CpuTestSupport.cost());
        runScript(cpu, platform);
        final CpuCounters c = cpu.counters();
        final Map<PvCall, Long> expected = new EnumMap<>(PvCall.class);
        expected.put(PvCall.SET_TRAP_TABLE, 1L);
        expected.put(PvCall.MMUEXT_OP, 2L);
        expected.put(PvCall.EMULATE_PRIV_OP, 2L);
        expected.put(PvCall.IRET, 2L);
        expected.put(PvCall.SET_TIMER_OP, 1L);
        expected.put(PvCall.SCHEDOP_YIELD, 1L);
        expected.put(PvCall.SCHEDOP_BLOCK, 1L);
        for (final PvCall call : PvCall.values())
        {
            assertEquals(expected.getOrDefault(call, 0L), c.calls(call), call.toString());
        }
        assertEquals(10, c.calls(), "cli, sti, MMIO and the system call are fast paths");
        assertEquals(10, platform.hypercalls.size(), "every hypercall reaches the platform: " + platform.hypercalls);
        assertEquals(0, c.exits());
        assertEquals(2, c.bounces(), "both exceptions bounced to the trap table");
        assertEquals(12, c.hypervisorEntries());
        assertEquals(12 * HYPERCALL + 2 * PORT_EMULATION + 2 * EXCEPTION_DELIVERY, c.modeledCycles());
    }

    @ParameterizedTest
    @EnumSource(value = CpuMode.class, names = {"NATIVE", "FULL"})
    void shouldTakeAnInterruptPostedWhileRunningOnTheNextEntry(final CpuMode mode)
    {
        final FakePlatform platform = new FakePlatform();
        final GuestCpu cpu = GuestCpu.create(mode, platform, CpuTestSupport.cost());
        final Recorder recorder = new Recorder();
        cpu.setHandler(DEVICE_VECTOR, recorder);
        platform.running = true;
        cpu.postInterrupt(DEVICE_VECTOR);
        assertEquals(1, platform.kicks);
        assertTrue(recorder.seen.isEmpty(), "delivery waits for the vCPU's own entry");
        assertTrue(cpu.hasDeliverable());
        assertEquals(1, cpu.enterGuest());
        assertEquals(List.of(new Seen(DEVICE_VECTOR, 0, 0, false, 1)), recorder.seen,
            "through the IDT handler with interrupts off");
        assertTrue(cpu.interruptsEnabled(), "iret restores IF");
        assertFalse(cpu.hasDeliverable());
        assertEquals(0, cpu.enterGuest(), "delivered once");
        final CpuCounters c = cpu.counters();
        assertEquals(1, c.interrupts());
        if (CpuMode.FULL == mode)
        {
            assertEquals(1, c.injected());
            assertEquals(1, c.exits(ExitReason.EXTERNAL_INTERRUPT));
            assertEquals(1, c.exits(ExitReason.MSR_WRITE), "the EOI");
            assertEquals(2, c.exits());
            assertEquals(2 * VM_EXIT + EXCEPTION_DELIVERY, c.modeledCycles());
        }
        else
        {
            assertEquals(0, c.exits());
            assertEquals(0, c.injected());
            assertEquals(EXCEPTION_DELIVERY, c.modeledCycles());
        }
        assertEquals(0, c.calls());
    }

    @ParameterizedTest
    @EnumSource(value = CpuMode.class, names = {"NATIVE", "FULL"})
    void shouldHoldAnInterruptBehindIfClearAndTakeItAfterSti(final CpuMode mode)
    {
        final FakePlatform platform = new FakePlatform();
        final GuestCpu cpu = GuestCpu.create(mode, platform, CpuTestSupport.cost());
        final Recorder recorder = new Recorder();
        cpu.setHandler(DEVICE_VECTOR, recorder);
        cpu.disableInterrupts();
        cpu.postInterrupt(DEVICE_VECTOR);
        assertFalse(cpu.hasDeliverable());
        assertEquals(0, cpu.enterGuest(), "IF clear: held");
        cpu.loadCr3(0x9000); // an exit and re-entry in full mode must not inject either
        assertTrue(recorder.seen.isEmpty());
        cpu.enableInterrupts();
        assertEquals(List.of(new Seen(DEVICE_VECTOR, 0, 0, false, 1)), recorder.seen, "taken at sti");
        assertEquals(0, cpu.enterGuest());
        assertEquals(1, recorder.seen.size());
        final CpuCounters c = cpu.counters();
        if (CpuMode.FULL == mode)
        {
            assertEquals(1, c.exits(ExitReason.INTERRUPT_WINDOW));
            assertEquals(1, c.injected());
            assertEquals(0, c.exits(ExitReason.EXTERNAL_INTERRUPT), "posted while not running: no IPI exit");
        }
        else
        {
            assertEquals(0, c.exits());
        }
    }

    @Test
    void shouldHoldTheParaUpcallWhileMaskedAndDeliverItOnUnmask()
    {
        final FakePlatform platform = new FakePlatform();
        final GuestCpu cpu = GuestCpu.create(CpuMode.PARA, platform, CpuTestSupport.cost());
        final List<Boolean> maskedInCallback = new ArrayList<>();
        cpu.setEventCallback(() ->
        {
            maskedInCallback.add(platform.upcallMasked);
            platform.upcallPending = false; // the callback consumes the pending bits
        });
        assertThrows(IllegalStateException.class, () -> cpu.postInterrupt(DEVICE_VECTOR),
            "para mode has no interrupt controller");
        final CpuCounters before = cpu.counters().snapshot();

        cpu.disableInterrupts();
        platform.upcallPending = true;
        cpu.eventsPending();
        assertEquals(1, platform.kicks);
        assertFalse(cpu.hasDeliverable());
        assertEquals(0, cpu.enterGuest(), "masked: held");
        assertTrue(maskedInCallback.isEmpty());
        assertEquals(0, cpu.counters().minus(before).calls(), "masking is a byte in vcpu_info, no hypercall");

        cpu.enableInterrupts();
        assertEquals(List.of(true), maskedInCallback, "delivered once on unmask, with events masked inside");
        assertFalse(platform.upcallMasked, "the mask is back to clear after the callback's iret");
        final CpuCounters d = cpu.counters().minus(before);
        assertEquals(1, d.upcalls());
        assertEquals(1, d.calls(PvCall.FORCE_EVTCHN_CALLBACK));
        assertEquals(1, d.calls(PvCall.IRET));
        assertEquals(2, d.calls());
        assertEquals(0, d.exits());
        assertEquals(2 * HYPERCALL + UPCALL, d.modeledCycles());
        assertEquals(0, cpu.enterGuest(), "nothing left");

        platform.upcallPending = true;
        assertEquals(1, cpu.enterGuest(), "unmasked: the next entry upcalls");
        assertEquals(2, maskedInCallback.size());
        assertEquals(1, cpu.counters().minus(before).calls(PvCall.FORCE_EVTCHN_CALLBACK), "no forcing hypercall");
    }
}
