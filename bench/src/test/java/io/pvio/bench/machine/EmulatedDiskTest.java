package io.pvio.bench.machine;

import io.pvio.backend.block.MemoryBlockStore;
import io.pvio.frontend.block.BlockFrontException;
import io.pvio.frontend.block.BlockIo;
import io.pvio.frontend.block.BlockIoCallback;
import io.pvio.hypervisor.HypercallKind;
import io.pvio.hypervisor.sched.Vcpu;
import io.pvio.hypervisor.sched.VcpuTask;
import io.pvio.machine.cpu.CpuCounters;
import io.pvio.machine.cpu.ExitReason;
import io.pvio.machine.device.Ahci;
import io.pvio.machine.vm.PagingMode;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Random;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The emulated AHCI disk end to end on a machine with physical CPUs: the guest's unmodified driver on its vCPU, the
 * device model on the hardware (native) or in dom0 behind an ioreq server (full), data checked against the image,
 * the documented register count as exits in full mode and none natively, interrupts delivered in both, and a
 * hostile guest's commands answered with error statuses while another guest's disk carries on.
 */
class EmulatedDiskTest
{
    private static final int DISK_BYTES = 8 << 20;
    private static final long TIMEOUT_SECONDS = 30;

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = PagingMode.class, names = {"NATIVE", "FULL"})
    void writesAndReadsMatchTheImageAtDepthOneAndThirtyTwo(final PagingMode mode) throws Exception
    {
        try (PvMachine machine = PvMachine.start(16_384, 2048, new MachineOptions());
            MemoryBlockStore store = new MemoryBlockStore(DISK_BYTES))
        {
            final PvGuest guest = machine.createGuest("g", 4096, new GuestOptions().mode(mode));
            final int pagesBefore = guest.pages().inUse();
            try (EmulatedDisk disk = EmulatedDisk.attach(machine, guest, store))
            {
                assertEquals(DISK_BYTES / Ahci.SECTOR, disk.driver().capacitySectors());
                assertEquals(Ahci.SLOTS, disk.driver().queueDepth());
                final Random random = new Random(5);
                final Completions done = new Completions();
                final int ios = 64;
                final UnsafeBuffer[] written = new UnsafeBuffer[ios];
                final BlockIo[] slots = new BlockIo[ios];
                for (int i = 0; i < ios; i++)
                {
                    final int length = (1 + random.nextInt(32)) * 4096;
                    written[i] = new UnsafeBuffer(new byte[length]);
                    random.nextBytes(written[i].byteArray());
                    slots[i] = new BlockIo().callback(done).tag(i);
                }
                // depth 1: one write at a time, each checked in the image
                for (int i = 0; i < ios; i++)
                {
                    slots[i].write(sectorOf(i), written[i], 0, written[i].capacity());
                    disk.driver().submit(slots[i]);
                    done.await(1);
                    final UnsafeBuffer image = new UnsafeBuffer(new byte[written[i].capacity()]);
                    store.read(sectorOf(i), image, 0, image.capacity());
                    assertEquals(written[i], image, "image after write " + i);
                }
                // depth 32: reads in flight together, each checked against what was written
                final UnsafeBuffer[] read = new UnsafeBuffer[ios];
                for (int i = 0; i < ios; i++)
                {
                    read[i] = new UnsafeBuffer(new byte[written[i].capacity()]);
                    slots[i].read(sectorOf(i), read[i], 0, read[i].capacity());
                }
                for (int i = 0; i < ios; i += 32)
                {
                    for (int j = i; j < i + 32; j++)
                    {
                        disk.driver().submit(slots[j]);
                    }
                    done.await(32);
                }
                for (int i = 0; i < ios; i++)
                {
                    assertEquals(written[i], read[i], "read " + i);
                }
                final BlockIo flush = new BlockIo().callback(done).flush();
                disk.driver().submit(flush);
                done.await(1);
                assertEquals(2L * ios + 1, disk.driver().completed());
                assertEquals(0, disk.driver().failed());
                assertEquals(0, disk.device().errors());
                assertTrue(disk.driver().interrupts() > 0, "completions came by interrupt");
                final CpuCounters counters = guest.domain().vcpu(0).cpu().counters();
                if (PagingMode.FULL == mode)
                {
                    assertEquals(disk.driver().ioAccesses(), disk.mmioExits(), "every register access exits");
                    assertEquals(disk.driver().ioAccesses(), disk.ioreqs(), "and goes to dom0's model");
                    assertTrue(counters.injected() >= disk.driver().interrupts(), "interrupts were injected");
                    assertTrue(machine.dom0().counters().get(HypercallKind.DM_OP) >= disk.driver().interrupts(),
                        "each interrupt is a dm_op");
                }
                else
                {
                    assertEquals(0, counters.exits(), "natively nothing exits");
                    assertEquals(0, disk.ioreqs());
                }
            }
            assertEquals(pagesBefore, guest.pages().inUse(), "the driver gave its DMA pages back");
        }
    }

    @Test
    void oneIoAtATimeCostsTheDocumentedSevenExitsEachInFullMode() throws Exception
    {
        try (PvMachine machine = PvMachine.start(16_384, 2048, new MachineOptions());
            MemoryBlockStore store = new MemoryBlockStore(DISK_BYTES))
        {
            final PvGuest guest = machine.createGuest("hvm", 4096, new GuestOptions().mode(PagingMode.FULL));
            try (EmulatedDisk disk = EmulatedDisk.attach(machine, guest, store))
            {
                final Completions done = new Completions();
                final BlockIo io = new BlockIo().callback(done);
                final UnsafeBuffer buffer = new UnsafeBuffer(new byte[4096]);
                final int n = 200;
                for (int i = 0; i < n; i++)
                {
                    io.read(8L * i, buffer, 0, 4096);
                    disk.driver().submit(io);
                    done.await(1);
                }
                assertEquals((long)Ahci.ACCESSES_PER_LONE_IO * n, disk.mmioExits());
                assertEquals((long)Ahci.ACCESSES_PER_LONE_IO * n, disk.ioreqs());
                assertEquals(n, disk.driver().interrupts(), "one interrupt per lone I/O");
                assertEquals(1.0, disk.driver().completionsPerInterrupt(), 1e-9);
            }
        }
    }

    @Test
    void misalignedDiscardAndOversizedIoAreRefusedByTheDriver() throws Exception
    {
        try (PvMachine machine = PvMachine.start(16_384, 2048, new MachineOptions());
            MemoryBlockStore store = new MemoryBlockStore(DISK_BYTES, 4096, false))
        {
            final PvGuest guest = machine.createGuest("g", 4096, new GuestOptions().mode(PagingMode.NATIVE));
            try (EmulatedDisk disk = EmulatedDisk.attach(machine, guest, store))
            {
                final Completions done = new Completions();
                final UnsafeBuffer buffer = new UnsafeBuffer(new byte[256 << 10]);
                final BlockIo io = new BlockIo().callback(done);
                disk.driver().submit(io.read(1, buffer, 0, 4096));
                assertEquals(BlockFrontException.Reason.INVALID_REQUEST, done.awaitError().reason());
                disk.driver().submit(io.read(0, buffer, 0, 256 << 10));
                assertEquals(BlockFrontException.Reason.INVALID_REQUEST, done.awaitError().reason());
                disk.driver().submit(io.discard(0, 8));
                assertEquals(BlockFrontException.Reason.NOT_SUPPORTED, done.awaitError().reason());
                disk.driver().submit(io.read(8, buffer, 0, 4096));
                done.await(1);
                assertEquals(0, disk.device().errors(), "nothing malformed reached the device");
            }
        }
    }

    @Test
    void paraGuestsAndThreadMachinesHaveNoEmulatedDisks()
    {
        try (PvMachine machine = PvMachine.start(16_384, 2048, new MachineOptions());
            MemoryBlockStore store = new MemoryBlockStore(DISK_BYTES))
        {
            final PvGuest para = machine.createGuest("pv", 2048, new GuestOptions().mode(PagingMode.PARA));
            final IllegalArgumentException ex =
                assertThrows(IllegalArgumentException.class, () -> EmulatedDisk.attach(machine, para, store));
            assertTrue(ex.getMessage().contains("para guest"), ex.getMessage());
        }
        try (PvMachine machine = PvMachine.start(16_384, 2048,
            new MachineOptions().execution(MachineOptions.Execution.THREADS));
            MemoryBlockStore store = new MemoryBlockStore(DISK_BYTES))
        {
            final PvGuest guest = machine.createGuest("t", 2048, new GuestOptions().mode(PagingMode.FULL));
            final IllegalArgumentException ex =
                assertThrows(IllegalArgumentException.class, () -> EmulatedDisk.attach(machine, guest, store));
            assertTrue(ex.getMessage().contains("execution: threads"), ex.getMessage());
        }
    }

    @Test
    void aHostileGuestsCommandsGetErrorStatusesAndTheOtherGuestsDiskCarriesOn() throws Exception
    {
        try (PvMachine machine = PvMachine.start(32_768, 2048, new MachineOptions());
            MemoryBlockStore goodStore = new MemoryBlockStore(DISK_BYTES);
            MemoryBlockStore badStore = new MemoryBlockStore(DISK_BYTES))
        {
            final PvGuest good = machine.createGuest("good", 4096, new GuestOptions().mode(PagingMode.FULL));
            final PvGuest bad = machine.createGuest("bad", 4096, new GuestOptions().mode(PagingMode.FULL));
            try (EmulatedDisk goodDisk = EmulatedDisk.attach(machine, good, goodStore);
                EmulatedDisk badDisk = EmulatedDisk.attach(machine, bad, badStore))
            {
                // the hostile guest's kernel writes garbage into its command list and tables and pokes the registers
                final long listGfn = badDisk.device().read(true, EmulatedDisk.ABAR + Ahci.PX_CLB, 4) >>> 12;
                final Random random = new Random(3);
                final AtomicInteger rounds = new AtomicInteger();
                final Vcpu vcpu = bad.domain().vcpu(0);
                final int total = 300;
                vcpu.addTask(new HostileKernel(bad, vcpu, listGfn, random, rounds, total));

                // meanwhile the good guest's verified I/O
                final Completions done = new Completions();
                final UnsafeBuffer data = new UnsafeBuffer(new byte[65536]);
                final UnsafeBuffer back = new UnsafeBuffer(new byte[65536]);
                final BlockIo io = new BlockIo().callback(done);
                for (int i = 0; i < 50; i++)
                {
                    random.nextBytes(data.byteArray());
                    goodDisk.driver().submit(io.write(128L * i, data, 0, data.capacity()));
                    done.await(1);
                    goodDisk.driver().submit(io.read(128L * i, back, 0, back.capacity()));
                    done.await(1);
                    assertEquals(data, back, "good guest's I/O " + i);
                }
                final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS);
                while (rounds.get() < total && System.nanoTime() < deadline)
                {
                    Thread.sleep(5);
                }
                assertEquals(total, rounds.get(), "the hostile program ran to its end");
                assertTrue(badDisk.device().errors() > 0, "the garbage produced error statuses");
                assertEquals(0, goodDisk.device().errors());
                assertEquals(0, goodDisk.driver().failed());
                final long mmio = bad.domain().vcpu(0).cpu().counters().exits(ExitReason.EPT_VIOLATION);
                assertTrue(mmio > total, "the hostile accesses trapped: " + mmio);
            }
        }
    }

    private static long sectorOf(final int i)
    {
        return 256L * i; // 128 KiB apart, each I/O at most 128 KiB
    }

    /**
     * A guest kernel gone bad, on its vCPU in the driver's place: scribbles over the command list and tables and
     * issues commands, one register write per pass (re-issued after each trap).
     */
    private static final class HostileKernel implements VcpuTask
    {
        private static final int[] OFFSETS = {Ahci.PX_CI, Ahci.PX_SACT, Ahci.PX_CMD, Ahci.PX_IS, Ahci.IS,
            Ahci.PX_CLBU, Ahci.GHC};

        private final PvGuest guest;
        private final Vcpu vcpu;
        private final long listGfn;
        private final Random random;
        private final AtomicInteger rounds;
        private final int total;
        private int offset = -1;
        private int value;

        HostileKernel(final PvGuest guest, final Vcpu vcpu, final long listGfn, final Random random,
            final AtomicInteger rounds, final int total)
        {
            this.guest = guest;
            this.vcpu = vcpu;
            this.listGfn = listGfn;
            this.random = new Random(random.nextLong());
            this.rounds = rounds;
            this.total = total;
        }

        @Override
        public int doWork()
        {
            if (rounds.get() >= total)
            {
                return 0;
            }
            if (offset < 0)
            {
                // scribble: the list, and a "table" anywhere the headers may point (including outside the guest)
                final UnsafeBuffer list = guest.domain().guestFrame(listGfn);
                for (int i = 0; i < 16; i++)
                {
                    list.putInt(random.nextInt(1024 / 4) * 4, random.nextInt(3) == 0 ? random.nextInt() :
                        (int)((listGfn + 1 + random.nextInt(64)) << 12));
                }
                final int pick = random.nextInt(OFFSETS.length + 4);
                offset = pick < OFFSETS.length ? OFFSETS[pick] : Ahci.PX_CI;
                value = Ahci.PX_CMD == offset ? (random.nextBoolean() ? 0 : Ahci.PX_CMD_ST | Ahci.PX_CMD_FRE) :
                    Ahci.PX_CLBU == offset ? 0 : Ahci.GHC == offset ? Ahci.GHC_AE | Ahci.GHC_IE :
                    1 << random.nextInt(32);
            }
            // may stop for the device model: the retry re-issues this same write
            vcpu.cpu().mmioWrite(EmulatedDisk.ABAR + offset, 4, value & 0xFFFF_FFFFL);
            offset = -1;
            rounds.incrementAndGet();
            return 1;
        }

        @Override
        public String roleName()
        {
            return "hostile-kernel";
        }
    }

    /** Completion counting for the test thread. */
    private static final class Completions implements BlockIoCallback
    {
        private final BlockingQueue<Object> results = new ArrayBlockingQueue<>(1024);

        @Override
        public void onComplete(final BlockIo io, final BlockFrontException errorOrNull)
        {
            results.add(null == errorOrNull ? io : errorOrNull);
        }

        void await(final int n) throws InterruptedException
        {
            for (int i = 0; i < n; i++)
            {
                final Object result = results.poll(TIMEOUT_SECONDS, TimeUnit.SECONDS);
                assertNotNull(result, "I/O " + i + " of " + n + " did not complete");
                if (result instanceof BlockFrontException)
                {
                    throw (BlockFrontException)result;
                }
            }
        }

        BlockFrontException awaitError() throws InterruptedException
        {
            final Object result = results.poll(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            assertNotNull(result, "the I/O did not complete");
            assertTrue(result instanceof BlockFrontException, "expected an error, got " + result);
            return (BlockFrontException)result;
        }
    }
}
