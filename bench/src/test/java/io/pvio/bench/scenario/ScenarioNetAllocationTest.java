package io.pvio.bench.scenario;

import java.lang.management.ManagementFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.agrona.DirectBuffer;
import org.junit.jupiter.api.Test;

import io.pvio.backend.net.Bridge;
import io.pvio.bench.machine.PvGuest;
import io.pvio.bench.machine.PvMachine;
import io.pvio.bench.machine.PvVif;
import io.pvio.frontend.net.NetFrontOptions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A network workload's sending application, once warm, allocates nothing per datagram: stamping the frame, its
 * checksum, the window check and netfront's transmit all run on the sending guest's vCPU without allocating, and so
 * does the rest of the path on the physical CPUs' threads (netback, the receiver's netfront and the sink). Every
 * datagram arrives intact at a {@link NetSink}.
 */
class ScenarioNetAllocationTest
{
    private static final long MAC_A = 0x00163E0000A1L;
    private static final long MAC_B = 0x00163E0000B2L;

    @Test
    void shouldAllocateNothingPerDatagramOnTheSenderOnceWarm() throws Exception
    {
        final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        try (PvMachine machine = PvMachine.start(16_384, 2048))
        {
            final Bridge bridge = new Bridge();
            final PvGuest a = machine.createGuest("a", 2048);
            final PvGuest b = machine.createGuest("b", 2048);
            final UdpFrames frames = new UdpFrames(MAC_A, MAC_B, 1, 2, NetRunner.CLIENT_PORT, NetRunner.DISCARD_PORT,
                256);
            final NetSink sink = new NetSink(true, true, frames.frameBytes());
            sink.window(System.nanoTime(), Long.MAX_VALUE - 1);
            final AtomicLong bad = new AtomicLong();
            final PvVif vifA = machine.attachVif(a, bridge, 0, ScenarioParser.macText(MAC_A), new NetFrontOptions(),
                (f, o, l) -> { });
            final PvVif vifB = machine.attachVif(b, bridge, 0, ScenarioParser.macText(MAC_B), new NetFrontOptions(),
                (f, o, l) -> onFrame(sink, bad, f, o, l));
            final NetGenerator generator = new NetGenerator("alloc-gen", a.domain().vcpu(0), vifA.front()::transmit,
                frames, 64, sink::received, () -> vifB.back().counters().rxDroppedNoBuffer());
            sink.waiter(generator);
            generator.start();
            try
            {
                // warm until the sender's path is compiled: after 100,000 arrivals the first window could still
                // allocate 40-60 B a datagram
                awaitArrivals(sink, 300_000);
                final long[] ids = machine.scheduler().physicalCpuThreadIds();
                assertTrue(ids.length > 0, "the machine runs on physical CPU threads");
                final long[] before = threads.getThreadAllocatedBytes(ids);
                final long from = generator.sent();
                awaitArrivals(sink, sink.received() + 50_000);
                final long[] after = threads.getThreadAllocatedBytes(ids);
                final long sent = generator.sent() - from;
                long allocated = 0;
                for (int i = 0; i < ids.length; i++)
                {
                    allocated += after[i] - before[i];
                }
                // one 16-byte object per datagram would be 800 KB; the bound (4 B per datagram) leaves room for
                // one-off residue on threads that run the whole machine (a path compiled late, a histogram grown)
                assertTrue(allocated < 4L * sent, "bytes allocated by the physical CPUs, the sender's vCPU among " +
                    "them, over " + sent + " datagrams: " + allocated);
            }
            finally
            {
                generator.stop();
            }
            // datagrams in flight when the generator stopped still arrive: compare once the receiver is quiet
            long last = -1;
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (last != sink.received() && System.nanoTime() - deadline < 0)
            {
                last = sink.received();
                Thread.sleep(50);
            }
            assertEquals(0, bad.get());
            assertEquals(0, sink.mismatches());
            assertEquals(sink.received(), sink.checked());
        }
    }

    private static void onFrame(
        final NetSink sink, final AtomicLong bad, final DirectBuffer frame, final int offset, final int length)
    {
        final int udp = offset + UdpFrames.UDP;
        if (0 != UdpFrames.fold(UdpFrames.sum(frame, offset + 14, 20, 0)))
        {
            bad.incrementAndGet();
        }
        sink.onPayload(frame, udp + 8, length - UdpFrames.HEADERS);
    }

    private static void awaitArrivals(final NetSink sink, final long target) throws InterruptedException
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (sink.received() < target)
        {
            if (System.nanoTime() - deadline > 0)
            {
                throw new AssertionError("only " + sink.received() + " datagrams arrived of " + target);
            }
            Thread.sleep(5);
        }
    }
}
