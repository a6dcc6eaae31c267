package io.pvio.bench.experiment;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Wall time of each full experiment run, as {@code ./pvio experiment NAME} does it (single shot, after one warm-up
 * run). Every experiment must take under a minute on the 2-core machine.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED", "-Xmx2g"})
@Warmup(iterations = 1)
@Measurement(iterations = 3)
public class ExperimentBenchmark
{
    /** The experiment. */
    @Param({"e4", "e5", "e6", "e7", "e8", "e9", "e10"})
    public String name;

    /**
     * For JMH, which instantiates the state.
     */
    public ExperimentBenchmark()
    {
    }

    /**
     * One full run.
     *
     * @return whether its checks passed.
     */
    @Benchmark
    public boolean run()
    {
        final ExperimentResult result = Experiments.run(Experiments.find(name), new ExperimentContext(1, 1.0, null));
        if (!result.passed())
        {
            throw new IllegalStateException(name + " failed a check");
        }
        return result.passed();
    }
}
