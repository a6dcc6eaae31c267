package io.pvio.machine.cpu;

/**
 * What a {@link GuestCpu} needs from whatever runs it: the hypervisor's vCPU in a virtualized domain, the bare machine
 * in native mode. Called on the vCPU's thread unless a method says otherwise.
 */
public interface CpuPlatform
{
    /**
     * The register file the vCPU sees now: the hardware registers of the physical CPU it runs on, into which the
     * hypervisor restored the vCPU's saved context.
     *
     * @return the live register file.
     */
    CpuRegisters registers();

    /**
     * A port read reaching the device behind the port (the device itself natively, its emulation otherwise).
     *
     * @param port 0 to 65535.
     * @param size 1, 2 or 4 bytes.
     * @return the value read; all ones if nothing answers.
     */
    long portRead(int port, int size);

    /**
     * A port write reaching the device behind the port.
     *
     * @param port  0 to 65535.
     * @param size  1, 2 or 4 bytes.
     * @param value the value.
     */
    void portWrite(int port, int size, long value);

    /**
     * A read of device memory.
     *
     * @param address guest-physical address.
     * @param size    1, 2, 4 or 8 bytes.
     * @return the value; all ones if nothing answers.
     */
    long mmioRead(long address, int size);

    /**
     * A write of device memory.
     *
     * @param address guest-physical address.
     * @param size    1, 2, 4 or 8 bytes.
     * @param value   the value.
     */
    void mmioWrite(long address, int size, long value);

    /**
     * Gives the physical CPU up until an interrupt or event arrives; takes effect when the code running now returns
     * to the vCPU's loop (vCPUs are cooperative).
     */
    void block();

    /**
     * Gives the physical CPU up for now but stays runnable; takes effect when the running code returns.
     */
    void yield();

    /**
     * Arms the vCPU's one-shot timer; on expiry the platform calls {@link GuestCpu#timerExpired()} (from any thread).
     *
     * @param deadlineNanos {@link System#nanoTime()} deadline, or 0 to cancel.
     */
    void armTimer(long deadlineNanos);

    /**
     * Whether the vCPU is in guest mode on a physical CPU right now. Any thread.
     *
     * @return true while running.
     */
    boolean isRunning();

    /**
     * Makes the vCPU runnable because an interrupt or event waits for it. Any thread.
     */
    void kick();

    /**
     * Para mode: whether {@code vcpu_info.evtchn_upcall_pending} is set.
     *
     * @return true if an upcall is pending.
     */
    boolean upcallPending();

    /**
     * Para mode: writes {@code vcpu_info.evtchn_upcall_mask}, the guest's "interrupts off", in shared memory.
     *
     * @param masked the new mask.
     */
    void upcallMask(boolean masked);

    /**
     * Para mode: reads {@code vcpu_info.evtchn_upcall_mask}.
     *
     * @return true if upcalls are masked.
     */
    boolean upcallMasked();

    /**
     * Para mode: the timer expired; send the vCPU's {@code VIRQ_TIMER} event. Any thread.
     */
    void sendTimerEvent();

    /**
     * A hypercall was made; the platform counts it for the domain.
     *
     * @param call the kind.
     */
    void hypercall(PvCall call);
}
