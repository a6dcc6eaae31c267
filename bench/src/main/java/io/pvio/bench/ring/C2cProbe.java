package io.pvio.bench.ring;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.infra.Control;

/**
 * Core-to-core round trip with nothing but two cache lines: {@code ping} stores a sequence into its slot with release
 * and spins (acquire) until {@code pong} has copied it into the other slot. The {@code ping} score is the hardware
 * round trip the ring benchmarks of the same run stand on; the {@code pong} score means nothing.
 * <p>
 * The two vCPUs of the test VM are sometimes on one CCX and sometimes further apart, which moves every figure of a run
 * by up to 4x; {@link #classify(double)} names the placement from the round trip so results are compared only within
 * one placement. Run it first and last.
 */
@State(Scope.Group)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class C2cProbe extends AbstractRingBenchmark
{
    /** Round trips at or below this are a near placement (the two vCPUs share a CCX). */
    public static final double NEAR_MAX_NS = 300.0;

    /** Round trips at or above this are a far placement (the two vCPUs sit on different CCDs). */
    public static final double FAR_MIN_NS = 400.0;

    private static final VarHandle SLOTS = MethodHandles.arrayElementVarHandle(long[].class);

    /** Longs between the slots and around them: 128 bytes, no slot shares a cache line with another or the header. */
    private static final int SPACING = 16;
    private static final int PING = SPACING;
    private static final int PONG = 2 * SPACING;

    private final long[] slots = new long[3 * SPACING];

    /**
     * Sends one sequence and waits for it to come back.
     *
     * @param control JMH control, to leave the spin when the iteration ends.
     * @return the sequence that came back.
     */
    @Benchmark
    @Group("c2c")
    @GroupThreads(1)
    public long ping(final Control control)
    {
        final long[] slots = this.slots;
        if (control.stopMeasurement)
        {
            return -1;
        }
        final long sequence = (long)SLOTS.getOpaque(slots, PING) + 1;
        SLOTS.setRelease(slots, PING, sequence);
        long echoed;
        while ((echoed = (long)SLOTS.getAcquire(slots, PONG)) != sequence)
        {
            if (control.stopMeasurement)
            {
                break;
            }
        }
        return echoed;
    }

    /**
     * Copies a new ping sequence, if there is one, into the pong slot.
     *
     * @return the sequence seen.
     */
    @Benchmark
    @Group("c2c")
    @GroupThreads(1)
    public long pong()
    {
        final long[] slots = this.slots;
        final long sequence = (long)SLOTS.getAcquire(slots, PING);
        if (sequence != (long)SLOTS.getOpaque(slots, PONG))
        {
            SLOTS.setRelease(slots, PONG, sequence);
        }
        return sequence;
    }

    /**
     * Names the placement a round trip indicates.
     *
     * @param roundTripNs the {@code ping} score in nanoseconds.
     * @return {@code "near"}, {@code "far"} or {@code "between"}.
     */
    public static String classify(final double roundTripNs)
    {
        if (roundTripNs <= NEAR_MAX_NS)
        {
            return "near";
        }
        return roundTripNs >= FAR_MIN_NS ? "far" : "between";
    }
}
