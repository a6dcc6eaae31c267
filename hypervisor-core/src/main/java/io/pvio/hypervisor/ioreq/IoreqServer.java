package io.pvio.hypervisor.ioreq;

import io.pvio.hypervisor.Domain;
import io.pvio.hypervisor.HypercallKind;
import io.pvio.hypervisor.Hypervisor;
import io.pvio.hypervisor.event.EventChannelOps;
import io.pvio.hypervisor.sched.Vcpu;
import io.pvio.machine.cpu.CpuMode;
import io.pvio.machine.cpu.DeviceBus;
import io.pvio.machine.cpu.IoPending;
import io.pvio.machine.memory.MachineMemory;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An ioreq server: the accesses of a full-mode (HVM) guest to the port and MMIO ranges claimed for a device model
 * in another domain, forwarded to that model one at a time per vCPU, as Xen's {@code hvm_send_ioreq} and a QEMU-style
 * device model do it:
 * <ol>
 *   <li>the guest's access exits; the hypervisor finds the range claimed by this server, fills the vCPU's slot in the
 *       ioreq page ({@link IoreqLayout}), sets it READY and raises the model's port for that vCPU
 *       ({@code notify_via_xen_event_channel}); the vCPU stops inside the instruction ({@link IoPending});</li>
 *   <li>the model's event handler, on one of the model domain's vCPUs, takes the slot (INPROCESS), performs the access
 *       on the {@link DeviceBus} it emulates, writes the answer, sets IORESP_READY and notifies
 *       ({@code EVTCHNOP_send}, counted), which wakes the guest's vCPU;</li>
 *   <li>the vCPU runs the instruction again, finds the answer, frees the slot (NONE) and re-enters the guest.</li>
 * </ol>
 * Set-up and interrupts are the model's {@code HYPERVISOR_dm_op} calls, counted as {@link HypercallKind#DM_OP} in the
 * model domain's hypercalls: create, map each range, enable, and {@link #injectMsi(int)} for each interrupt.
 * <p>
 * The ioreq page is a machine frame of the model's domain, released by {@link #close()}. The slots are written by the
 * hypervisor and the model only, never by the guest, so the model trusts them; what the guest controls (address,
 * size, value) reaches the device model as plain arguments for the model to validate.
 */
public final class IoreqServer implements AutoCloseable
{
    /** Ranges a server can claim, of each kind. */
    public static final int MAX_RANGES = 8;

    private final Hypervisor hypervisor;
    private final Domain model;
    private final Domain target;
    private final DeviceBus device;
    private final long pageMfn;
    private final UnsafeBuffer page;
    private final Slot[] slots;
    private final long[] mmioRanges = new long[2 * MAX_RANGES];
    private final long[] portRanges = new long[2 * MAX_RANGES];
    private final AtomicLong modelErrors = new AtomicLong();
    private int mmioRangeCount;
    private int portRangeCount;
    private boolean enabled;
    private boolean closed;

    /**
     * {@code XEN_DMOP_create_ioreq_server}: a server of {@code model} for {@code target}, claiming nothing yet. Binds one
     * event channel per target vCPU in the model's domain; the model's handler for it runs {@link #service(int)}.
     *
     * @param hypervisor the hypervisor.
     * @param model      the domain running the device model (privileged, normally dom0).
     * @param target     the full-mode guest whose accesses it serves.
     * @param device     the emulated device, called on the model's vCPU.
     * @throws IllegalArgumentException if the model is not privileged, the target is the model, or the target's vCPUs
     *                                  are not in full mode (native accesses reach hardware, para guests use split
     *                                  drivers), or has more vCPUs than a page has slots.
     */
    public IoreqServer(final Hypervisor hypervisor, final Domain model, final Domain target, final DeviceBus device)
    {
        this.hypervisor = Objects.requireNonNull(hypervisor, "hypervisor");
        this.model = Objects.requireNonNull(model, "model");
        this.target = Objects.requireNonNull(target, "target");
        this.device = Objects.requireNonNull(device, "device");
        if (!model.isPrivileged())
        {
            throw new IllegalArgumentException("an ioreq server's device model must run in a privileged domain, not " +
                model.name() + " (d" + model.id() + ")");
        }
        if (model == target)
        {
            throw new IllegalArgumentException("a device model cannot serve its own domain d" + model.id());
        }
        final int vcpus = target.vcpus();
        if (vcpus < 1 || vcpus > MachineMemory.FRAME_SIZE / IoreqLayout.LENGTH)
        {
            throw new IllegalArgumentException("target d" + target.id() + " has " + vcpus + " vCPUs; an ioreq page " +
                "has slots for 1 to " + MachineMemory.FRAME_SIZE / IoreqLayout.LENGTH);
        }
        for (int i = 0; i < vcpus; i++)
        {
            final CpuMode mode = target.vcpu(i).cpu().mode();
            if (CpuMode.FULL != mode)
            {
                throw new IllegalArgumentException("ioreq servers serve full-mode guests; " + target.name() + " (d" +
                    target.id() + ") vCPU " + i + " is " + mode);
            }
        }
        model.counters().increment(HypercallKind.DM_OP);

        final MachineMemory memory = hypervisor.memory();
        pageMfn = memory.allocate(model.id());
        page = memory.frame(pageMfn);
        page.setMemory(0, MachineMemory.FRAME_SIZE, (byte)0);
        slots = new Slot[vcpus];
        final EventChannelOps ops = new EventChannelOps(hypervisor, model);
        for (int i = 0; i < vcpus; i++)
        {
            final int port = ops.allocUnbound(target.id());
            final Slot slot = new Slot(this, target.vcpu(i), i * IoreqLayout.LENGTH, port);
            slots[i] = slot;
            page.putInt(slot.offset + IoreqLayout.VP_EPORT_OFFSET, port);
            final int vcpu = i;
            model.eventChannels().bindHandler(port, p -> service(vcpu));
        }
    }

    /**
     * {@code XEN_DMOP_map_io_range_to_ioreq_server} for MMIO: claims guest-physical addresses {@code [start, end]}.
     *
     * @param start the first address.
     * @param end   the last address, inclusive.
     * @throws IllegalArgumentException if the range is empty or negative, overlaps one already claimed, or the server
     *                                  has {@link #MAX_RANGES} MMIO ranges.
     * @throws IllegalStateException    if the server is enabled or closed.
     */
    public synchronized void mapMmio(final long start, final long end)
    {
        mmioRangeCount = addRange(mmioRanges, mmioRangeCount, start, end, "MMIO");
    }

    /**
     * {@code XEN_DMOP_map_io_range_to_ioreq_server} for ports: claims ports {@code [start, end]}.
     *
     * @param start the first port.
     * @param end   the last port, inclusive, at most 0xFFFF.
     * @throws IllegalArgumentException if the range is empty or outside 0 to 0xFFFF, overlaps one already claimed, or
     *                                  the server has {@link #MAX_RANGES} port ranges.
     * @throws IllegalStateException    if the server is enabled or closed.
     */
    public synchronized void mapPorts(final int start, final int end)
    {
        if (end > 0xFFFF)
        {
            throw new IllegalArgumentException("port range [" + start + ", " + end + "] goes past 0xffff");
        }
        portRangeCount = addRange(portRanges, portRangeCount, start, end, "port");
    }

    /**
     * {@code XEN_DMOP_set_ioreq_server_state(enabled)}: from now on the target's accesses to the claimed ranges go to
     * the device model; others still reach the bus the vCPU had before.
     *
     * @throws IllegalStateException if already enabled, or closed.
     */
    public synchronized void enable()
    {
        checkOpen();
        if (enabled)
        {
            throw new IllegalStateException("ioreq server for d" + target.id() + " is already enabled");
        }
        model.counters().increment(HypercallKind.DM_OP);
        enabled = true;
        for (final Slot slot : slots)
        {
            slot.vcpu.deviceBus(slot);
        }
    }

    /**
     * {@code XEN_DMOP_inject_msi}: the device model raises an interrupt in the target, delivered to vCPU 0's virtual
     * interrupt controller and injected on its next VM entry. Any thread; allocates nothing.
     *
     * @param vector the MSI's vector, 16 to 255.
     * @throws IllegalArgumentException if the vector is out of range.
     */
    public void injectMsi(final int vector)
    {
        if (vector < 16 || vector > 255)
        {
            throw new IllegalArgumentException("MSI vector out of range: " + vector + " (expected 16 to 255)");
        }
        model.counters().increment(HypercallKind.DM_OP);
        target.vcpu(0).cpu().postInterrupt(vector);
    }

    /**
     * The model domain's port that signals requests of one target vCPU.
     *
     * @param vcpu the target's vCPU index.
     * @return the port.
     */
    public int port(final int vcpu)
    {
        return slots[vcpu].port;
    }

    /**
     * Requests of one target vCPU the model answered (an approximate, recent value from other threads).
     *
     * @param vcpu the target's vCPU index.
     * @return the count.
     */
    public long answered(final int vcpu)
    {
        return slots[vcpu].answered;
    }

    /**
     * Requests the device model failed on (it threw): answered all ones for a read, dropped for a write, and counted
     * here so the guest's vCPU is never left waiting.
     *
     * @return the count.
     */
    public long modelErrors()
    {
        return modelErrors.get();
    }

    /**
     * The target domain.
     *
     * @return the guest served.
     */
    public Domain target()
    {
        return target;
    }

    /**
     * The model's side: takes the slot of {@code vcpu} if it holds a request, performs it on the device, answers, and
     * notifies the vCPU. Run by the model's event handler for the vCPU's port; a call that finds no READY request (the
     * event collapsed with an earlier one) does nothing. Allocates nothing.
     *
     * @param vcpu the target's vCPU index.
     */
    public void service(final int vcpu)
    {
        final Slot slot = slots[vcpu];
        final int base = slot.offset;
        // volatile load of the state first: the hypervisor's field writes before its READY store are visible after it
        if (IoreqLayout.STATE_READY != IoreqLayout.stateAcquire(page, base))
        {
            return;
        }
        final long addr = page.getLong(base + IoreqLayout.ADDR_OFFSET);
        final long data = page.getLong(base + IoreqLayout.DATA_OFFSET);
        final int size = page.getInt(base + IoreqLayout.SIZE_OFFSET);
        final int bits = page.getByte(base + IoreqLayout.BITS_OFFSET);
        final int type = page.getByte(base + IoreqLayout.TYPE_OFFSET);
        final int dir = (bits >>> IoreqLayout.DIR_SHIFT) & 1;
        page.putByteVolatile(base + IoreqLayout.BITS_OFFSET, IoreqLayout.bits(IoreqLayout.STATE_INPROCESS, dir));

        final boolean mmio = IoreqLayout.TYPE_COPY == type;
        long answer = data;
        try
        {
            if (IoreqLayout.DIR_READ == dir)
            {
                answer = device.read(mmio, addr, size);
            }
            else
            {
                device.write(mmio, addr, size, data);
            }
        }
        catch (final IoPending pending)
        {
            throw new IllegalStateException("a device model cannot itself wait for a device model", pending);
        }
        catch (final RuntimeException ex)
        {
            modelErrors.incrementAndGet();
            answer = allOnes(size);
        }
        page.putLong(base + IoreqLayout.DATA_OFFSET, answer);
        slot.answered++;
        // volatile store: the answer above is visible to whoever sees IORESP_READY (Slot.answered())
        page.putByteVolatile(base + IoreqLayout.BITS_OFFSET, IoreqLayout.bits(IoreqLayout.STATE_IORESP_READY, dir));
        // the model's EVTCHNOP_send on the vCPU's port, which Xen's end turns into the vCPU's wake-up
        model.counters().increment(HypercallKind.EVTCHN_SEND);
        slot.vcpu.wake();
    }

    /**
     * {@code XEN_DMOP_destroy_ioreq_server}: gives the vCPUs back their previous bus, closes the ports and frees the
     * ioreq page. Destroy the server only while the target is paused or dead (no access in flight). Idempotent.
     */
    @Override
    public synchronized void close()
    {
        if (closed)
        {
            return;
        }
        closed = true;
        if (enabled)
        {
            for (final Slot slot : slots)
            {
                slot.vcpu.deviceBus(slot.previous);
            }
        }
        if (model.isAlive())
        {
            final EventChannelOps ops = new EventChannelOps(hypervisor, model);
            for (final Slot slot : slots)
            {
                ops.close(slot.port);
            }
        }
        hypervisor.memory().free(pageMfn, model.id());
    }

    @Override
    public String toString()
    {
        return "IoreqServer{model=d" + model.id() + ", target=d" + target.id() + ", mmioRanges=" + mmioRangeCount +
            ", portRanges=" + portRangeCount + ", enabled=" + enabled + '}';
    }

    private int addRange(final long[] ranges, final int count, final long start, final long end, final String kind)
    {
        checkOpen();
        if (enabled)
        {
            throw new IllegalStateException("map " + kind + " ranges before enabling the ioreq server");
        }
        if (start < 0 || end < start)
        {
            throw new IllegalArgumentException(kind + " range [" + start + ", " + end + "] is empty or negative");
        }
        if (count == MAX_RANGES)
        {
            throw new IllegalArgumentException("ioreq server already has " + MAX_RANGES + ' ' + kind + " ranges");
        }
        for (int i = 0; i < count; i++)
        {
            if (start <= ranges[2 * i + 1] && ranges[2 * i] <= end)
            {
                throw new IllegalArgumentException(kind + " range [" + start + ", " + end + "] overlaps [" +
                    ranges[2 * i] + ", " + ranges[2 * i + 1] + ']');
            }
        }
        model.counters().increment(HypercallKind.DM_OP);
        ranges[2 * count] = start;
        ranges[2 * count + 1] = end;
        return count + 1;
    }

    private void checkOpen()
    {
        if (closed)
        {
            throw new IllegalStateException("ioreq server for d" + target.id() + " is closed");
        }
    }

    private boolean claims(final boolean mmio, final long address)
    {
        final long[] ranges = mmio ? mmioRanges : portRanges;
        final int count = mmio ? mmioRangeCount : portRangeCount;
        for (int i = 0; i < count; i++)
        {
            if (address >= ranges[2 * i] && address <= ranges[2 * i + 1])
            {
                return true;
            }
        }
        return false;
    }

    private static long allOnes(final int size)
    {
        return size >= Long.BYTES ? -1L : (1L << (size * Byte.SIZE)) - 1;
    }

    /**
     * The hypervisor's side for one target vCPU: its bus while the server is enabled. Called on the vCPU's thread.
     */
    private static final class Slot implements DeviceBus, Vcpu.DeviceWait
    {
        private final IoreqServer server;
        private final Vcpu vcpu;
        private final int offset;
        private final int port;
        private final DeviceBus previous;
        // owned by the vCPU's thread: the access in flight, to check the retry re-issues the same one
        private boolean inFlight;
        private boolean flightMmio;
        private long flightAddress;
        private int flightSize;
        private int flightDir;
        private long flightValue;
        // written by the model's handler only (one at a time per port); other threads read an approximate value
        long answered;

        Slot(final IoreqServer server, final Vcpu vcpu, final int offset, final int port)
        {
            this.server = server;
            this.vcpu = vcpu;
            this.offset = offset;
            this.port = port;
            this.previous = vcpu.deviceBus();
        }

        @Override
        public long read(final boolean mmio, final long address, final int size)
        {
            if (!inFlight && !server.claims(mmio, address))
            {
                return previous.read(mmio, address, size);
            }
            return forward(mmio, address, size, IoreqLayout.DIR_READ, 0);
        }

        @Override
        public void write(final boolean mmio, final long address, final int size, final long value)
        {
            if (!inFlight && !server.claims(mmio, address))
            {
                previous.write(mmio, address, size, value);
                return;
            }
            forward(mmio, address, size, IoreqLayout.DIR_WRITE, value);
        }

        @Override
        public boolean answered()
        {
            return IoreqLayout.STATE_IORESP_READY == IoreqLayout.stateAcquire(server.page, offset);
        }

        private long forward(
            final boolean mmio, final long address, final int size, final int dir, final long value)
        {
            final UnsafeBuffer page = server.page;
            if (inFlight)
            {
                if (mmio != flightMmio || address != flightAddress || size != flightSize || dir != flightDir ||
                    value != flightValue)
                {
                    throw new IllegalStateException("vCPU " + vcpu + " re-issued a different access while one was " +
                        "with the device model (IoPending's retry contract): in flight " + describe(flightMmio,
                        flightAddress, flightSize, flightDir) + ", re-issued " + describe(mmio, address, size, dir));
                }
                // volatile load: the model's answer written before IORESP_READY is visible after it
                if (IoreqLayout.STATE_IORESP_READY != IoreqLayout.stateAcquire(page, offset))
                {
                    vcpu.awaitDevice(this);
                    throw IoPending.INSTANCE;
                }
                final long answer = page.getLong(offset + IoreqLayout.DATA_OFFSET);
                page.putByteVolatile(offset + IoreqLayout.BITS_OFFSET,
                    IoreqLayout.bits(IoreqLayout.STATE_NONE, IoreqLayout.DIR_WRITE));
                inFlight = false;
                return IoreqLayout.DIR_READ == dir ? answer : 0;
            }
            page.putLong(offset + IoreqLayout.ADDR_OFFSET, address);
            page.putLong(offset + IoreqLayout.DATA_OFFSET, IoreqLayout.DIR_READ == dir ? 0 : value);
            page.putInt(offset + IoreqLayout.COUNT_OFFSET, 1);
            page.putInt(offset + IoreqLayout.SIZE_OFFSET, size);
            page.putByte(offset + IoreqLayout.TYPE_OFFSET, (byte)(mmio ? IoreqLayout.TYPE_COPY : IoreqLayout.TYPE_PIO));
            // volatile store of READY last: the model's volatile load of the state sees the fields above
            page.putByteVolatile(offset + IoreqLayout.BITS_OFFSET, IoreqLayout.bits(IoreqLayout.STATE_READY, dir));
            inFlight = true;
            flightMmio = mmio;
            flightAddress = address;
            flightSize = size;
            flightDir = dir;
            flightValue = value;
            vcpu.awaitDevice(this);
            server.model.eventChannels().raiseFromHypervisor(port);
            throw IoPending.INSTANCE;
        }

        private static String describe(final boolean mmio, final long address, final int size, final int dir)
        {
            return (IoreqLayout.DIR_READ == dir ? "read " : "write ") + (mmio ? "mmio 0x" : "port 0x") +
                Long.toHexString(address) + '/' + size;
        }
    }
}
