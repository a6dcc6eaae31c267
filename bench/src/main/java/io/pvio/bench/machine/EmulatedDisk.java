package io.pvio.bench.machine;

import io.pvio.backend.ahci.AhciDevice;
import io.pvio.backend.ahci.GuestDma;
import io.pvio.backend.block.BlockStore;
import io.pvio.frontend.ahci.AhciDisk;
import io.pvio.hypervisor.Domain;
import io.pvio.hypervisor.ioreq.IoreqServer;
import io.pvio.hypervisor.sched.Vcpu;
import io.pvio.hypervisor.sched.VcpuTask;
import io.pvio.machine.cpu.CpuCounters;
import io.pvio.machine.cpu.CpuMode;
import io.pvio.machine.cpu.DeviceBus;
import io.pvio.machine.cpu.ExitReason;
import io.pvio.machine.device.Ahci;

import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * An emulated AHCI disk of a guest: the {@link AhciDevice} on an image and the guest's {@link AhciDisk} driver on
 * its vCPU 0, joined the way the guest's mode has it.
 * <ul>
 *   <li><b>Native</b>: the device is the hardware. The vCPU's accesses reach it directly, with no exit; its command
 *       engine is a thread of its own (the HBA's silicon, outside every physical CPU's accounting); its interrupt
 *       goes straight to the vCPU's interrupt controller.</li>
 *   <li><b>Full</b>: the device is QEMU's model in dom0. An {@link IoreqServer} claims the ABAR, so every access the
 *       guest makes exits and waits for the model's answer on dom0's vCPU 0; the command engine is a task on dom0's
 *       last vCPU (an I/O thread); the interrupt is a {@code dm_op} MSI injected on the guest's next VM entry.</li>
 * </ul>
 * Para guests have no emulated devices here (they use the split driver), and a machine running domains on plain
 * threads has no vCPUs to trap.
 */
public final class EmulatedDisk implements AutoCloseable
{
    /** The controller's register window in the guest's physical address space (above RAM, below 4 GiB). */
    public static final long ABAR = 0xFEBF_0000L;
    /** How long attaching waits for the driver to initialize the controller. */
    public static final long READY_TIMEOUT_MILLIS = 30_000;

    private static final int ENGINE_BUDGET = 32;

    private final PvGuest guest;
    private final AhciDevice device;
    private final AhciDisk driver;
    private final IoreqServer server;
    private final Engine engine;
    private final Vcpu guestVcpu;
    private final long exitsAtReady;
    private final long ioreqsAtReady;
    private boolean closed;

    private EmulatedDisk(
        final PvGuest guest, final AhciDevice device, final AhciDisk driver, final IoreqServer server,
        final Engine engine)
    {
        this.guest = guest;
        this.device = device;
        this.driver = driver;
        this.server = server;
        this.engine = engine;
        this.guestVcpu = guest.domain().vcpu(0);
        final CpuCounters counters = guestVcpu.cpu().counters();
        this.exitsAtReady = counters.exits(ExitReason.EPT_VIOLATION);
        this.ioreqsAtReady = counters.deviceModelAccesses();
    }

    /**
     * Attaches an emulated disk with 32 command slots.
     *
     * @param machine the machine.
     * @param guest   a native or full-mode guest of it.
     * @param store   the image; the caller keeps ownership.
     * @return the disk, its driver ready.
     */
    public static EmulatedDisk attach(final PvMachine machine, final PvGuest guest, final BlockStore store)
    {
        return attach(machine, guest, store, Ahci.SLOTS);
    }

    /**
     * Attaches an emulated disk: creates the device model, connects it for the guest's mode, starts the guest's
     * driver and waits until it has identified the disk.
     *
     * @param machine the machine.
     * @param guest   a native or full-mode guest of it.
     * @param store   the image; the caller keeps ownership.
     * @param slots   command slots the driver uses, 1 to 32 (the most I/Os in flight).
     * @return the disk, its driver ready.
     * @throws IllegalArgumentException if the guest is in para mode or the machine has no vCPUs.
     * @throws IllegalStateException    if the driver did not become ready.
     */
    public static EmulatedDisk attach(
        final PvMachine machine, final PvGuest guest, final BlockStore store, final int slots)
    {
        Objects.requireNonNull(machine, "machine");
        Objects.requireNonNull(store, "store");
        final Domain domain = guest.domain();
        final Vcpu vcpu = domain.vcpu(0);
        if (null == vcpu)
        {
            throw new IllegalArgumentException("an emulated disk needs vCPUs to trap; " + guest.name() +
                " runs on a plain thread (execution: threads)");
        }
        final CpuMode mode = vcpu.cpu().mode();
        if (CpuMode.PARA == mode)
        {
            throw new IllegalArgumentException(guest.name() + " is a para guest: it has no emulated devices, use " +
                "the split driver (io: pv)");
        }
        final GuestDma dma = new GuestDma(machine.hypervisor().memory(), domain);
        final HostLink link = new HostLink();
        final AhciDevice device = new AhciDevice(store, dma, ABAR, link);
        IoreqServer server = null;
        Engine engine = null;
        AhciDisk driver = null;
        try
        {
            if (CpuMode.NATIVE == mode)
            {
                final HardwareEngine hardware = new HardwareEngine(device, guest.name());
                link.connect(() -> vcpu.cpu().postInterrupt(AhciDisk.DEFAULT_VECTOR), hardware::kick);
                engine = hardware;
                vcpu.deviceBus(device);
            }
            else
            {
                final Domain dom0 = machine.dom0();
                final IoreqServer ioreq = new IoreqServer(machine.hypervisor(), dom0, domain, device);
                server = ioreq;
                ioreq.mapMmio(ABAR, ABAR + Ahci.ABAR_LENGTH - 1);
                final ModelEngine model = new ModelEngine(device, dom0.vcpu(dom0.vcpus() - 1));
                link.connect(() -> ioreq.injectMsi(AhciDisk.DEFAULT_VECTOR), model::kick);
                engine = model;
                ioreq.enable();
            }
            engine.start();
            driver = AhciDisk.start(vcpu, ABAR, AhciDisk.DEFAULT_VECTOR, slots);
            driver.awaitReady(READY_TIMEOUT_MILLIS);
            return new EmulatedDisk(guest, device, driver, server, engine);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            teardown(vcpu, device, driver, server, engine);
            throw new IllegalStateException("interrupted while the AHCI driver started", ex);
        }
        catch (final RuntimeException ex)
        {
            teardown(vcpu, device, driver, server, engine);
            throw ex;
        }
    }

    /**
     * The guest's driver: submit I/O here.
     *
     * @return the driver.
     */
    public AhciDisk driver()
    {
        return driver;
    }

    /**
     * The device model.
     *
     * @return the device.
     */
    public AhciDevice device()
    {
        return device;
    }

    /**
     * The guest.
     *
     * @return the guest using the disk.
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
    public long mmioExits()
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
     * How it is attached, in words.
     *
     * @return one phrase.
     */
    public String describe()
    {
        return null == server ? "native, the controller is the hardware" :
            "full mode, every register access an exit to dom0's device model";
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
     * Detaches: stops the command engine, destroys the ioreq server (the vCPU gets its previous bus back), stops the
     * driver (failing whatever it still holds) and releases the device. Call it with no I/O in flight. Idempotent.
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
        teardown(guestVcpu, device, driver, server, engine);
    }

    private static void teardown(
        final Vcpu vcpu, final AhciDevice device, final AhciDisk driver, final IoreqServer server, final Engine engine)
    {
        if (null != engine)
        {
            engine.stop();
        }
        if (null != server)
        {
            server.close();
        }
        else if (vcpu.deviceBus() == device)
        {
            vcpu.deviceBus(DeviceBus.NONE);
        }
        if (null != driver)
        {
            driver.close();
        }
        device.close();
    }

    @Override
    public String toString()
    {
        return "EmulatedDisk{" + guest.name() + ", " + describe() + ", " + state() + '}';
    }

    /** The device's host, connected once the engine exists. */
    private static final class HostLink implements AhciDevice.Host
    {
        private volatile Runnable interrupt = () -> { };
        private volatile Runnable issued = () -> { };

        void connect(final Runnable interrupt, final Runnable issued)
        {
            this.interrupt = interrupt;
            this.issued = issued;
        }

        @Override
        public void interrupt()
        {
            interrupt.run();
        }

        @Override
        public void commandsIssued()
        {
            issued.run();
        }
    }

    /** What runs the device's command engine. */
    private interface Engine
    {
        void start();

        void stop();
    }

    /** Natively: the HBA's own engine, a thread that parks when no command is issued. */
    private static final class HardwareEngine implements Engine, Runnable
    {
        private final AhciDevice device;
        private final Thread thread;
        private volatile boolean running = true;

        HardwareEngine(final AhciDevice device, final String guestName)
        {
            this.device = device;
            this.thread = new Thread(this, "ahci-hba-" + guestName);
            this.thread.setDaemon(true);
        }

        @Override
        public void start()
        {
            thread.start();
        }

        void kick()
        {
            LockSupport.unpark(thread);
        }

        @Override
        public void run()
        {
            while (running)
            {
                if (0 == device.process(ENGINE_BUDGET) && !device.hasWork())
                {
                    // an unpark between the check and the park leaves a permit: the park returns at once
                    LockSupport.parkNanos(this, TimeUnit.MILLISECONDS.toNanos(10));
                }
            }
        }

        @Override
        public void stop()
        {
            running = false;
            LockSupport.unpark(thread);
            try
            {
                thread.join(TimeUnit.SECONDS.toMillis(10));
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
            if (thread.isAlive())
            {
                throw new IllegalStateException(thread.getName() + " did not stop");
            }
        }
    }

    /** In full mode: the device model's I/O thread, a task on one of dom0's vCPUs. */
    private static final class ModelEngine implements Engine, VcpuTask
    {
        private final AhciDevice device;
        private final Vcpu vcpu;

        ModelEngine(final AhciDevice device, final Vcpu vcpu)
        {
            this.device = device;
            this.vcpu = vcpu;
        }

        @Override
        public void start()
        {
            vcpu.addTask(this);
        }

        void kick()
        {
            vcpu.wake();
        }

        @Override
        public int doWork()
        {
            return device.process(ENGINE_BUDGET);
        }

        @Override
        public boolean prepareToBlock()
        {
            return device.hasWork();
        }

        @Override
        public String roleName()
        {
            return "ahci-model";
        }

        @Override
        public void stop()
        {
            vcpu.removeTask(this);
        }
    }
}
