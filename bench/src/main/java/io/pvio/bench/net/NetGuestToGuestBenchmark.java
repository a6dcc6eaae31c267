package io.pvio.bench.net;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import io.pvio.backend.net.Bridge;
import io.pvio.bench.machine.PvGuest;
import io.pvio.bench.machine.PvMachine;
import io.pvio.bench.machine.PvVif;
import io.pvio.bench.ring.RingBenchJvm;
import io.pvio.frontend.net.NetFrontOptions;

/**
 * Guest-to-guest frames through the PV network: guest A's netfront grants each frame, dom0's netback for A
 * grant-copies it out, dom0's bridge forwards it to B's port, B's netback grant-copies it into a buffer B posted, and
 * B's netfront hands it to B's receiver on B's vCPU. The benchmark thread is A's application: it transmits
 * {@value #BATCH} frames per invocation (retrying while A's ring is full) and keeps at most {@value #WINDOW} frames
 * not yet received by B, so the score is frames delivered, not frames queued. Score: frames per second (multiply by
 * the size and 8 for bit/s). Run with {@code -prof gc} for B/op on the data path.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {
    RingBenchJvm.ADD_EXPORTS, RingBenchJvm.ADD_EXPORTS_VALUE, RingBenchJvm.XMS, RingBenchJvm.XMX})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@State(Scope.Thread)
public class NetGuestToGuestBenchmark
{
    /** Frames per invocation. */
    public static final int BATCH = 64;

    /** Most frames sent and not yet received. */
    public static final int WINDOW = 192;

    private static final long MAC_A = 0x00163e0000a1L;
    private static final long MAC_B = 0x00163e0000b2L;
    private static final long TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(10);

    /** Frame bytes, Ethernet header included. */
    @Param({"64", "1514"})
    public int size;

    private PvMachine machine;
    private PvVif a;
    private PvVif b;
    private UnsafeBuffer frame;
    private final AtomicLong received = new AtomicLong();
    private long sent;

    /** Boots the machine and plugs both guests' vifs into one bridge. */
    @Setup(Level.Trial)
    public void setUp()
    {
        machine = PvMachine.start(32_768, 4096);
        final Bridge bridge = new Bridge();
        final PvGuest guestA = machine.createGuest("a", 4096);
        final PvGuest guestB = machine.createGuest("b", 4096);
        a = machine.attachVif(guestA, bridge, 0, "00:16:3e:00:00:a1", new NetFrontOptions(), (f, o, l) -> { });
        b = machine.attachVif(guestB, bridge, 0, "00:16:3e:00:00:b2", new NetFrontOptions(),
            (f, o, l) -> received.lazySet(received.get() + 1)); // B's vCPU is the only writer
        frame = new UnsafeBuffer(new byte[size]);
        putMac(frame, 0, MAC_B);
        putMac(frame, 6, MAC_A);
        frame.putByte(12, (byte)0x88);
        frame.putByte(13, (byte)0xB5);
    }

    /**
     * Transmits {@value #BATCH} frames from A to B.
     *
     * @return frames B has received so far, so the work is not dead code.
     */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long transmit()
    {
        final long deadline = System.nanoTime() + TIMEOUT_NANOS;
        for (int i = 0; i < BATCH; i++)
        {
            while (!a.front().transmit(frame, 0, size))
            {
                Thread.onSpinWait();
                checkDeadline(deadline);
            }
            sent++;
            // frames B's netback dropped for want of a posted buffer are out of the window too, as on a real LAN
            while (sent - received.get() >= WINDOW && sent - received.get() - b.back().counters().rxDroppedNoBuffer()
                >= WINDOW)
            {
                Thread.onSpinWait();
                checkDeadline(deadline);
            }
        }
        return received.get();
    }

    private void checkDeadline(final long deadline)
    {
        if (System.nanoTime() - deadline > 0)
        {
            throw new IllegalStateException("frames stopped arriving: sent " + sent + ", received " + received.get() +
                ", dropped at B " + b.back().counters().rxDroppedNoBuffer());
        }
    }

    /** Prints how many frames B's netback dropped, then unplugs everything and frees the machine. */
    @TearDown(Level.Trial)
    public void tearDown()
    {
        System.out.printf("%n%d B frames: sent %d, received %d, dropped at B for want of a buffer %d%n", size, sent,
            received.get(), b.back().counters().rxDroppedNoBuffer());
        machine.close();
    }

    private static void putMac(final UnsafeBuffer buffer, final int offset, final long mac)
    {
        for (int i = 0; i < 6; i++)
        {
            buffer.putByte(offset + i, (byte)(mac >>> (40 - 8 * i)));
        }
    }
}
