package io.pvio.bench.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

import io.pvio.bench.experiment.Experiment;
import io.pvio.bench.experiment.ExperimentContext;
import io.pvio.bench.experiment.ExperimentOutput;
import io.pvio.bench.experiment.ExperimentResult;
import io.pvio.bench.experiment.Experiments;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code pvio experiment NAME [--out DIR] [--seed N] | --list}: runs one of the memory- and CPU-virtualization
 * experiments (or {@code all}), prints its table and the checks of its qualitative result, and with {@code --out}
 * writes CSV, JSON and a PNG and SVG chart. Exits 1 if a check failed, 2 on bad arguments.
 */
@Command(
    name = "experiment",
    description = {
        "Run an experiment on the simulated machine and print its table and the qualitative result it checks " +
            "(PASS/FAIL). Modeled cycles come from the cost model (its defaults cite their sources); wall time is " +
            "measured.",
        "",
        "NAME is one of the names --list prints, or all."},
    footer = {
        "",
        "Exit status: 0 every check passed; 1 a check failed; 2 bad arguments."})
final class ExperimentCommand implements Callable<Integer>
{
    @Spec
    private CommandSpec spec;

    @Parameters(index = "0", arity = "0..1", paramLabel = "NAME", description = "The experiment (see --list), or all.")
    private String name;

    @Option(names = "--list", description = "List the experiments, one line each.")
    private boolean list;

    @Option(names = "--out", paramLabel = "DIR",
        description = "Also write NAME.csv, NAME.json, NAME.png and NAME.svg into DIR (created if missing).")
    private Path out;

    @Option(names = "--seed", paramLabel = "N",
        description = "Seed of every random choice (default: ${DEFAULT-VALUE}).")
    private long seed = 1;

    @Option(names = "--quick", description = "A shorter run with less work per point (what the tests run).")
    private boolean quick;

    /**
     * {@inheritDoc}
     */
    @Override
    public Integer call() throws IOException
    {
        final PrintWriter stdout = spec.commandLine().getOut();
        final PrintWriter err = spec.commandLine().getErr();
        if (list)
        {
            for (final Experiment experiment : Experiments.all())
            {
                stdout.printf("%-5s %s%n", experiment.name(), experiment.summary());
            }
            stdout.flush();
            return PvioCommand.EXIT_OK;
        }
        if (null == name)
        {
            return usage(err, "missing NAME: give an experiment name or --list");
        }
        final List<Experiment> chosen = new ArrayList<>();
        if ("all".equals(name))
        {
            chosen.addAll(Experiments.all());
        }
        else
        {
            final Experiment experiment = Experiments.find(name);
            if (null == experiment)
            {
                final List<String> names = new ArrayList<>();
                Experiments.all().forEach((e) -> names.add(e.name()));
                return usage(err, "unknown experiment \"" + name + "\" (expected one of " + String.join(", ", names) +
                    ", all)");
            }
            chosen.add(experiment);
        }
        if (null != out && Files.exists(out) && !Files.isDirectory(out))
        {
            return usage(err, "--out: " + out + " exists and is not a directory");
        }
        boolean passed = true;
        for (final Experiment experiment : chosen)
        {
            final ExperimentResult result = Experiments.run(experiment,
                new ExperimentContext(seed, quick ? 0.25 : 1.0, err));
            ExperimentOutput.print(result, stdout);
            if (null != out)
            {
                for (final Path file : ExperimentOutput.write(result, out))
                {
                    stdout.println("wrote " + file);
                }
            }
            stdout.println();
            stdout.flush();
            passed &= result.passed();
        }
        if (!passed)
        {
            err.println("pvio experiment: a check failed: see FAIL above");
            err.flush();
            return PvioCommand.EXIT_FAILURE;
        }
        return PvioCommand.EXIT_OK;
    }

    private static int usage(final PrintWriter err, final String message)
    {
        err.println("pvio experiment: " + message);
        err.println("Try 'pvio experiment --help' for more information.");
        err.flush();
        return PvioCommand.EXIT_USAGE;
    }
}
