package io.pvio.bench.machine;

import java.lang.management.ManagementFactory;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import io.pvio.backend.net.Bridge;
import io.pvio.backend.net.NetBack;
import io.pvio.frontend.net.NetFront;
import io.pvio.frontend.net.NetFrontOptions;
import io.pvio.hypervisor.xenstore.XenbusDevice;
import io.pvio.ring.netif.NetifXenbusKeys;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Sustained traffic both ways between two guests: each keeps {@value #WINDOW} pings in flight to the other, answers
 * every ping with a pong from its receive callback (on its vCPU) and sends a new ping for every pong. Nothing waits but
 * the rings' notification suppression on both ends and both rings, so one lost wake-up anywhere stalls the exchange
 * and fails the test. Once warm, the threads that carry the frames (the physical CPUs, or with threads dom0's and the
 * guests' event loops and netback's agents) allocate nothing.
 */
class NetStressTest
{
    private static final int WINDOW = 16;
    private static final int PING = 0;
    private static final int PONG = 1;
    /**
     * One allocation of a 16-byte object per round trip would show as 1.6 MB over the 100,000 measured. The bound
     * leaves room for a one-off of about 4 KB on one physical CPU's thread, seen in the first case a JVM runs (the
     * JIT and lazy initialisation while the code is still being compiled), never in later cases.
     */
    private static final long ONE_OFF_TOLERANCE_BYTES = 8192;

    @ParameterizedTest(name = "size={0} execution={1}")
    @CsvSource({ "60,VCPUS", "1514,VCPUS", "9000,VCPUS", "1514,THREADS", "60,THREADS" })
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void pingsAndPongsBothWaysNeverStallAndAllocateNothing(final int size, final MachineOptions.Execution execution)
        throws Exception
    {
        final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        try (PvMachine machine = PvMachine.start(16_384, 2048, new MachineOptions().execution(execution)))
        {
            final Bridge bridge = new Bridge();
            final Peer a = new Peer(machine, bridge, "a", 1, 2, size);
            final Peer b = new Peer(machine, bridge, "b", 2, 1, size);
            try
            {
                a.start();
                b.start();
                await(a, b, 100_000);
                final Map<Long, Long> before = allocated(threads);
                final long from = a.pongs.get() + b.pongs.get();
                await(a, b, a.pongs.get() + 50_000);
                final Map<Long, Long> after = allocated(threads);
                long bytes = 0;
                final StringBuilder perThread = new StringBuilder();
                for (final Map.Entry<Long, Long> entry : after.entrySet())
                {
                    final long delta = entry.getValue() - before.getOrDefault(entry.getKey(), entry.getValue());
                    bytes += delta;
                    if (0 != delta)
                    {
                        perThread.append(' ').append(entry.getKey()).append('=').append(delta);
                    }
                }
                final long frames = a.pongs.get() + b.pongs.get() - from;
                a.stopping = true;
                b.stopping = true;
                assertEquals(0, a.errors.get() + b.errors.get(), "every echoed frame matched");
                assertEquals(0, a.back.counters().rxDroppedNoBuffer() + b.back.counters().rxDroppedNoBuffer());
                assertEquals(0, a.front.counters().txErrors() + b.front.counters().txErrors());
                assertTrue(after.size() >= 2, "found the data-path threads: " + after.size());
                assertTrue(bytes < ONE_OFF_TOLERANCE_BYTES, "bytes allocated by the data-path threads over " +
                    frames + " round trips:" + perThread);
                assertTrue(a.back.counters().notificationsReceived() < a.front.counters().txSlots(),
                    "notification suppression: " + a.back.counters() + " " + a.front.counters());
            }
            finally
            {
                a.close();
                b.close();
            }
        }
    }

    private static void await(final Peer a, final Peer b, final long pongs) throws InterruptedException
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (a.pongs.get() < pongs || b.pongs.get() < pongs)
        {
            if (System.nanoTime() - deadline > 0 || a.errors.get() + b.errors.get() > 0)
            {
                fail("stalled (a lost wake-up?) or corrupted: a " + a.pongs.get() + " pongs, b " + b.pongs.get() +
                    ", errors " + (a.errors.get() + b.errors.get()) + "; a " + a.front.counters() + " " +
                    a.back.counters() + "; b " + b.front.counters() + " " + b.back.counters());
            }
            Thread.sleep(1);
        }
    }

    private static Map<Long, Long> allocated(final com.sun.management.ThreadMXBean mx)
    {
        final Map<Long, Long> map = new HashMap<>();
        for (final Thread thread : Thread.getAllStackTraces().keySet())
        {
            final String name = thread.getName();
            if (name.startsWith("netback-") || name.startsWith("vcpu0-") || name.startsWith("pcpu"))
            {
                map.put(thread.getId(), mx.getThreadAllocatedBytes(thread.getId()));
            }
        }
        return map;
    }

    /** One guest: its vif, the ping it sends and the pong it answers with, built once. */
    private static final class Peer
    {
        final AtomicLong pongs = new AtomicLong();
        final AtomicLong errors = new AtomicLong();
        final XenbusDevice device;
        final NetBack back;
        final NetFront front;
        final PvMachine machine;
        final UnsafeBuffer ping;
        final UnsafeBuffer pong;
        final int size;
        volatile boolean stopping;

        Peer(final PvMachine machine, final Bridge bridge, final String name, final int self, final int peer,
            final int size)
        {
            this.machine = machine;
            this.size = size;
            final PvGuest guest = machine.createGuest(name, 1024);
            this.ping = new UnsafeBuffer(NetRig.frame(NetRig.mac(peer), NetRig.mac(self), size, 7));
            ping.putByte(size - 1, (byte)PING);
            this.pong = new UnsafeBuffer(NetRig.frame(NetRig.mac(peer), NetRig.mac(self), size, 7));
            pong.putByte(size - 1, (byte)PONG);
            this.device = XenbusDevice.create(machine.toolstack(), NetifXenbusKeys.DEVICE_TYPE, guest.domain().id(),
                machine.dom0().id(), 0, Map.of(NetifXenbusKeys.MAC, NetRig.macText(self)),
                Map.of(NetifXenbusKeys.MAC, NetRig.macText(self)));
            this.back = NetBack.start(machine.dom0(), machine.xenStore(), device.backendPath(), bridge);
            this.front = NetFront.start(guest.domain(), machine.xenStore(), device.frontendPath(),
                new NetFrontOptions(), this::onFrame);
            try
            {
                assertTrue(front.awaitConnected(30, TimeUnit.SECONDS));
                assertTrue(back.awaitConnected(30, TimeUnit.SECONDS));
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(ex);
            }
        }

        void start()
        {
            for (int i = 0; i < WINDOW; i++)
            {
                NetRig.await(() -> front.transmit(ping, 0, size), "room for the first pings");
            }
        }

        /** On the guest's vCPU: a ping is answered with a pong, a pong is counted and followed by a new ping. */
        private void onFrame(final DirectBuffer frame, final int offset, final int length)
        {
            if (length != size)
            {
                errors.incrementAndGet();
                return;
            }
            final int kind = frame.getByte(offset + length - 1);
            // the payload after the MACs is the same for a ping and a pong of the same size, but its last byte
            for (int i = 12; i < length - 1; i += 61)
            {
                if (frame.getByte(offset + i) != ping.getByte(i))
                {
                    errors.incrementAndGet();
                    return;
                }
            }
            if (PING == kind)
            {
                if (!front.transmit(pong, 0, size))
                {
                    errors.incrementAndGet();
                }
            }
            else
            {
                pongs.incrementAndGet();
                if (!stopping && !front.transmit(ping, 0, size))
                {
                    errors.incrementAndGet();
                }
            }
        }

        void close()
        {
            stopping = true;
            front.close();
            back.close();
            device.remove(machine.toolstack());
        }
    }
}
