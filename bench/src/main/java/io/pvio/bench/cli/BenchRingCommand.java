package io.pvio.bench.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code pvio bench ring}: the command for a JMH pass over the ring benchmarks. Its options are parsed; the pass
 * itself is not built, so the command says so and exits with {@link PvioCommand#EXIT_FAILURE}.
 */
@Command(
    name = "ring",
    description = "Benchmark the pvio ring beside Agrona and JCTools with JMH.")
final class BenchRingCommand implements Callable<Integer>
{
    @Spec
    private CommandSpec spec;

    @Option(
        names = "--quick",
        description = "Short pass: fewer forks, warm-up and measurement iterations.")
    private boolean quick;

    @Option(
        names = "--json",
        paramLabel = "PATH",
        description = "Also write the JMH results as JSON to PATH.")
    private Path json;

    /**
     * {@inheritDoc}
     */
    @Override
    public Integer call()
    {
        spec.commandLine().getErr().println(
            spec.qualifiedName() + ": not built yet (quick=" + quick + ", json=" + json + ")");
        return PvioCommand.EXIT_FAILURE;
    }
}
