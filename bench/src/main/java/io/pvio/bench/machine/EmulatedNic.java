package io.pvio.bench.machine;

import io.pvio.backend.e1000.E1000Device;
import io.pvio.backend.net.Bridge;
import io.pvio.frontend.e1000.E1000Nic;
import io.pvio.frontend.net.NetReceiver;
import io.pvio.hypervisor.Domain;
import io.pvio.hypervisor.ioreq.IoreqServer;
import io.pvio.hypervisor.sched.Vcpu;
import io.pvio.machine.cpu.CpuCounters;
import io.pvio.machine.cpu.CpuMode;
import io.pvio.machine.cpu.DeviceBus;
import io.pvio.machine.cpu.ExitReason;
import io.pvio.machine.device.E1000;
import org.agrona.DirectBuffer;

import java.util.Objects;

/**
 * An emulated e1000 NIC of a guest: the {@link E1000Device} as a port of dom0's {@link Bridge} and the guest's
 * {@link E1000Nic} driver on its vCPU 0, joined the way the guest's mode has it, as {@link EmulatedDisk} joins a
 * disk.
 * <ul>
 *   <li><b>Native</b>: the device is the hardware. The vCPU's accesses reach it directly, with no exit; a TDT write
 *       sends within the access; its interrupt goes straight to the vCPU's interrupt controller.</li>
 *   <li><b>Full</b>: the device is QEMU's model in dom0. An {@link IoreqServer} claims BAR 0, so every access the
 *       guest makes exits and waits for the model's answer on dom0's vCPU 0, where a TDT write also sends the
 *       frames into the bridge; the interrupt is a {@code dm_op} MSI injected on the guest's next VM entry.</li>
 * </ul>
 * The counters start when the driver is ready, so they hold the per-packet accesses only.
 */
public final class EmulatedNic implements AutoCloseable
{
    /** The controller's BAR 0 in the guest's physical address space (above RAM, below the AHCI disk's ABAR). */
    public static final long BAR = 0xFEB8_0000L;
    /** How long attaching waits for the driver to initialize the controller. */
    public static final long READY_TIMEOUT_MILLIS = 30_000;

    private final PvGuest guest;
    private final E1000Device device;
    private final E1000Nic driver;
    private final IoreqServer server;
    private final Vcpu guestVcpu;
    private final long exitsAtReady;
    private final long ioreqsAtReady;
    private boolean closed;

    private EmulatedNic(final PvGuest guest, final E1000Device device, final E1000Nic driver, final IoreqServer server)
    {
        this.guest = guest;
        this.device = device;
        this.driver = driver;
        this.server = server;
        this.guestVcpu = guest.domain().vcpu(0);
        final CpuCounters counters = guestVcpu.cpu().counters();
        this.exitsAtReady = counters.exits(ExitReason.EPT_VIOLATION);
        this.ioreqsAtReady = counters.deviceModelAccesses();
    }

    /**
     * Attaches an emulated NIC: creates the device model as a port of {@code bridge}, connects it for the guest's
     * mode, starts the guest's driver and waits until it has initialized the controller.
     *
     * @param machine  the machine.
     * @param guest    a native or full-mode guest of it.
     * @param bridge   dom0's bridge the NIC joins.
     * @param mac      the NIC's address (48 bits, first byte most significant), unicast.
     * @param receiver told of each frame the guest receives, on its vCPU 0.
     * @return the NIC, its driver ready.
     * @throws IllegalArgumentException if the guest is in para mode or the machine has no vCPUs.
     * @throws IllegalStateException    if the driver did not become ready.
     */
    public static EmulatedNic attach(
        final PvMachine machine, final PvGuest guest, final Bridge bridge, final long mac, final NetReceiver receiver)
    {
        Objects.requireNonNull(machine, "machine");
        Objects.requireNonNull(bridge, "bridge");
        Objects.requireNonNull(receiver, "receiver");
        final Domain domain = guest.domain();
        final Vcpu vcpu = domain.vcpu(0);
        if (null == vcpu)
        {
            throw new IllegalArgumentException("an emulated NIC needs vCPUs to trap; " + guest.name() +
                " runs on a plain thread (execution: threads)");
        }
        final CpuMode mode = vcpu.cpu().mode();
        if (CpuMode.PARA == mode)
        {
            throw new IllegalArgumentException(guest.name() + " is a para guest: it has no emulated devices, use " +
                "a vif (netfront)");
        }
        final InterruptLink link = new InterruptLink();
        final E1000Device device = new E1000Device(machine.hypervisor().memory(), domain, BAR, mac, bridge,
            "e1000-" + guest.name(), link);
        IoreqServer server = null;
        E1000Nic driver = null;
        try
        {
            if (CpuMode.NATIVE == mode)
            {
                link.connect(() -> vcpu.cpu().postInterrupt(E1000Nic.DEFAULT_VECTOR));
                vcpu.deviceBus(device);
            }
            else
            {
                final IoreqServer ioreq = new IoreqServer(machine.hypervisor(), machine.dom0(), domain, device);
                server = ioreq;
                ioreq.mapMmio(BAR, BAR + E1000.BAR_LENGTH - 1);
                link.connect(() -> ioreq.injectMsi(E1000Nic.DEFAULT_VECTOR));
                ioreq.enable();
            }
            driver = E1000Nic.start(vcpu, BAR, E1000Nic.DEFAULT_VECTOR, mac, receiver);
            driver.awaitReady(READY_TIMEOUT_MILLIS);
            return new EmulatedNic(guest, device, driver, server);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            teardown(vcpu, device, driver, server);
            throw new IllegalStateException("interrupted while the e1000 driver started", ex);
        }
        catch (final RuntimeException ex)
        {
            teardown(vcpu, device, driver, server);
            throw ex;
        }
    }

    /**
     * The guest's driver: transmit with it.
     *
     * @return the driver.
     */
    public E1000Nic driver()
    {
        return driver;
    }

    /**
     * Transmits a frame from offset 0 through the driver.
     *
     * @param frame  the frame.
     * @param length its bytes.
     * @return false if the ring is full.
     */
    public boolean transmitFrame(final DirectBuffer frame, final int length)
    {
        return driver.transmit(frame, 0, length);
    }

    /**
     * The device model.
     *
     * @return the device.
     */
    public E1000Device device()
    {
        return device;
    }

    /**
     * The guest.
     *
     * @return the guest using the NIC.
     */
    public PvGuest guest()
    {
        return guest;
    }

    /**
     * Whether the guest's accesses trap to dom0's device model.
     *
     * @return true in full mode, false natively.
     */
    public boolean isEmulated()
    {
        return null != server;
    }

    /**
     * MMIO exits of the guest's vCPU 0 since the driver became ready (every one of them the driver's, natively none).
     *
     * @return the count.
     */
    public long exits()
    {
        return guestVcpu.cpu().counters().exits(ExitReason.EPT_VIOLATION) - exitsAtReady;
    }

    /**
     * Accesses forwarded to dom0's device model as ioreqs since the driver became ready.
     *
     * @return the count.
     */
    public long ioreqs()
    {
        return guestVcpu.cpu().counters().deviceModelAccesses() - ioreqsAtReady;
    }

    /**
     * Register accesses the driver made since it became ready.
     *
     * @return the count.
     */
    public long registerAccesses()
    {
        return driver.packetAccesses();
    }

    /**
     * Interrupts the driver took since it became ready.
     *
     * @return the count.
     */
    public long interrupts()
    {
        return driver.interrupts();
    }

    /**
     * Frames sent and received by the driver since ready.
     *
     * @return the count.
     */
    public long packets()
    {
        return driver.framesSent() + driver.framesReceived();
    }

    /**
     * Exits per packet sent or received.
     *
     * @return the ratio, 0 before any packet.
     */
    public double exitsPerPacket()
    {
        final long packets = packets();
        return 0 == packets ? 0 : (double)exits() / packets;
    }

    /**
     * Register accesses per packet sent or received.
     *
     * @return the ratio, 0 before any packet.
     */
    public double accessesPerPacket()
    {
        final long packets = packets();
        return 0 == packets ? 0 : (double)registerAccesses() / packets;
    }

    /**
     * Interrupts per packet sent or received.
     *
     * @return the ratio, 0 before any packet.
     */
    public double interruptsPerPacket()
    {
        final long packets = packets();
        return 0 == packets ? 0 : (double)interrupts() / packets;
    }

    /**
     * What the driver and device are doing, for a stall's message.
     *
     * @return one line.
     */
    public String state()
    {
        return driver.state() + "; device " + device.state();
    }

    /**
     * Detaches: destroys the ioreq server (the vCPU gets its previous bus back), stops the driver and releases the
     * device (its bridge port goes with it). Idempotent.
     */
    @Override
    public void close()
    {
        synchronized (this)
        {
            if (closed)
            {
                return;
            }
            closed = true;
        }
        teardown(guestVcpu, device, driver, server);
    }

    private static void teardown(
        final Vcpu vcpu, final E1000Device device, final E1000Nic driver, final IoreqServer server)
    {
        if (null != server)
        {
            server.close();
        }
        else if (vcpu.deviceBus() == device)
        {
            vcpu.deviceBus(DeviceBus.NONE);
        }
        device.close();
        if (null != driver)
        {
            driver.close();
        }
    }

    @Override
    public String toString()
    {
        return "EmulatedNic{" + guest.name() + ", " + (isEmulated() ? "full" : "native") + ", " + state() + '}';
    }

    /** The device's interrupt, connected once the mode's path exists. */
    private static final class InterruptLink implements E1000Device.Host
    {
        private volatile Runnable interrupt = () -> { };

        void connect(final Runnable interrupt)
        {
            this.interrupt = interrupt;
        }

        @Override
        public void interrupt()
        {
            interrupt.run();
        }
    }
}
