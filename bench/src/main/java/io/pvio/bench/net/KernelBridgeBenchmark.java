package io.pvio.bench.net;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import io.pvio.bench.ring.RingBenchJvm;

/**
 * The Linux kernel bridging two network namespaces ({@link KernelBridge}): trafgen sends frames of one size into A's
 * veth for the whole trial, and each benchmark call waits {@value #SAMPLE_MICROS} µs and adds what B's veth received
 * meanwhile to the {@link Frames#frames} counter, so the score to read is {@code frames}, in frames per second (the
 * primary score only counts samples). It has the same sizes as {@link NetGuestToGuestBenchmark}, its pvio
 * counterpart; {@code pvio bench net} runs both in one run and prints the ratios. Needs root, iproute2 and
 * netsniff-ng; elsewhere its setup fails with the reason.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {
    RingBenchJvm.ADD_EXPORTS, RingBenchJvm.ADD_EXPORTS_VALUE, RingBenchJvm.XMS, RingBenchJvm.XMX})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@State(Scope.Benchmark)
public class KernelBridgeBenchmark
{
    /** How long one call waits before sampling the counter. */
    public static final long SAMPLE_MICROS = 10_000;

    /** Frame bytes, Ethernet header included. */
    @Param({"64", "1514"})
    public int size;

    private KernelBridge bridge;

    /**
     * Frames B received during the iteration, reported by JMH as a rate.
     */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Frames
    {
        /** Frames received during this iteration's calls. */
        public long frames;
        private long last;

        /**
         * Starts the iteration's count at B's current counter.
         *
         * @param benchmark the benchmark state.
         */
        @Setup(Level.Iteration)
        public void reset(final KernelBridgeBenchmark benchmark)
        {
            frames = 0;
            last = benchmark.bridge.received();
        }
    }

    /** Builds the namespaces and the bridge and starts trafgen. */
    @Setup(Level.Trial)
    public void setUp()
    {
        bridge = KernelBridge.create(Math.max(60, size));
        bridge.startLoad();
    }

    /**
     * Waits one sample period and counts the frames B received.
     *
     * @param counter the iteration's count.
     * @return B's counter.
     */
    @Benchmark
    public long sample(final Frames counter)
    {
        LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(SAMPLE_MICROS));
        if (!bridge.loadRunning())
        {
            throw new IllegalStateException("trafgen stopped");
        }
        final long now = bridge.received();
        counter.frames += now - counter.last;
        counter.last = now;
        return now;
    }

    /** Stops trafgen and deletes the namespaces. */
    @TearDown(Level.Trial)
    public void tearDown()
    {
        bridge.close();
    }
}
