package io.pvio.bench.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;

import io.pvio.bench.scenario.Scenario;
import io.pvio.bench.scenario.ScenarioException;
import io.pvio.bench.scenario.ScenarioParser;
import io.pvio.bench.scenario.ScenarioReport;
import io.pvio.bench.scenario.ScenarioRunner;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code pvio run [FILE] [--json PATH]}: runs a scenario (the built-in default without FILE) and prints its report.
 * A bad file exits with {@link PvioCommand#EXIT_USAGE} and a message naming the field, before anything starts; a run
 * whose verification failed exits with {@link PvioCommand#EXIT_FAILURE}.
 */
@Command(
    name = "run",
    description = {
        "Boot a machine (dom0 + guests with PV disks), run the scenario's block workloads, and report IOPS, " +
            "latency percentiles, notifications per request, grant operations and hypercalls beside the same " +
            "workload run natively on the image.",
        "Without FILE, runs the built-in default: two guests, each with a 256 MiB temporary disk, verified random " +
            "4 KiB reads and writes at queue depth 32 for about 10 s. Example scenarios are in scenarios/."})
final class RunCommand implements Callable<Integer>
{
    @Parameters(
        index = "0",
        arity = "0..1",
        paramLabel = "FILE",
        description = "A scenario in YAML or JSON (.json).")
    private Path file;

    @Option(
        names = "--json",
        paramLabel = "PATH",
        description = "Also write the report as JSON to PATH.")
    private Path json;

    /**
     * {@inheritDoc}
     */
    @Override
    public Integer call() throws IOException, InterruptedException
    {
        final Scenario scenario;
        try
        {
            scenario = null == file ? ScenarioParser.defaultScenario() : ScenarioParser.parse(file);
        }
        catch (final ScenarioException ex)
        {
            System.err.println("pvio run: " + (null == file ? "" : file + ": ") + ex.getMessage());
            return PvioCommand.EXIT_USAGE;
        }
        System.out.println("scenario: " + (null == file ? "built-in default" : file.toString()));
        final ScenarioReport report = new ScenarioRunner(scenario, System.out, null != System.console()).run();
        ScenarioRunner.print(report, System.out);
        if (null != json)
        {
            ScenarioRunner.writeJson(report, json);
            System.out.println("report written to " + json);
        }
        if (!report.isClean())
        {
            System.err.println("pvio run: verification failed or I/O errors: see the report");
            return PvioCommand.EXIT_FAILURE;
        }
        return PvioCommand.EXIT_OK;
    }
}
