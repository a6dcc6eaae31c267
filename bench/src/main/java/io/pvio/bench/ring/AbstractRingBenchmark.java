package io.pvio.bench.ring;

import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Fork, warm-up and measurement defaults shared by every ring benchmark; JMH reads these annotations from the
 * superclass. Command-line options ({@code -f}, {@code -wi}, {@code -i}, ...) override them; the JVM arguments of
 * {@link RingBenchJvm} are always appended.
 * <p>
 * Implementations under comparison are values of an {@code impl} parameter of one benchmark class, so they run side
 * by side in one JMH run with the same payload and ring bytes; see {@link Impl}.
 */
@Fork(value = 1, jvmArgsAppend = {
    RingBenchJvm.ADD_EXPORTS, RingBenchJvm.ADD_EXPORTS_VALUE, RingBenchJvm.NO_BOUNDS_CHECKS,
    RingBenchJvm.XMS, RingBenchJvm.XMX, RingBenchJvm.PRE_TOUCH})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public abstract class AbstractRingBenchmark
{
    /**
     * For subclasses, which JMH instantiates.
     */
    protected AbstractRingBenchmark()
    {
    }
}
