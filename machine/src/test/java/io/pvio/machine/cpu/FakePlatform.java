package io.pvio.machine.cpu;

import java.util.ArrayList;
import java.util.List;

/**
 * A {@link CpuPlatform} for tests: one register file, a recorded device bus, and the shared-info upcall flags, with
 * every block, yield, kick, timer and hypercall recorded so a test can check what the CPU asked of its platform.
 */
final class FakePlatform implements CpuPlatform
{
    /** What a port or MMIO read returns. */
    static final long DEVICE_VALUE = 0x5A;

    final CpuRegisters registers = new CpuRegisters();
    final List<String> deviceAccesses = new ArrayList<>();
    final List<PvCall> hypercalls = new ArrayList<>();
    int blocks;
    int yields;
    int kicks;
    int timerEvents;
    long armedDeadline = -1;
    int timerArms;
    boolean running;
    boolean upcallPending;
    boolean upcallMasked;

    FakePlatform()
    {
        registers.interruptsEnabled(true);
    }

    @Override
    public CpuRegisters registers()
    {
        return registers;
    }

    @Override
    public long portRead(final int port, final int size)
    {
        deviceAccesses.add("in " + port + '/' + size);
        return DEVICE_VALUE;
    }

    @Override
    public void portWrite(final int port, final int size, final long value)
    {
        deviceAccesses.add("out " + port + '/' + size + '=' + value);
    }

    @Override
    public long mmioRead(final long address, final int size)
    {
        deviceAccesses.add("mmio read " + address + '/' + size);
        return DEVICE_VALUE;
    }

    @Override
    public void mmioWrite(final long address, final int size, final long value)
    {
        deviceAccesses.add("mmio write " + address + '/' + size + '=' + value);
    }

    @Override
    public void block()
    {
        blocks++;
    }

    @Override
    public void yield()
    {
        yields++;
    }

    @Override
    public void armTimer(final long deadlineNanos)
    {
        armedDeadline = deadlineNanos;
        timerArms++;
    }

    @Override
    public boolean isRunning()
    {
        return running;
    }

    @Override
    public void kick()
    {
        kicks++;
    }

    @Override
    public boolean upcallPending()
    {
        return upcallPending;
    }

    @Override
    public void upcallMask(final boolean masked)
    {
        upcallMasked = masked;
    }

    @Override
    public boolean upcallMasked()
    {
        return upcallMasked;
    }

    @Override
    public void sendTimerEvent()
    {
        timerEvents++;
    }

    @Override
    public void hypercall(final PvCall call)
    {
        hypercalls.add(call);
    }
}
