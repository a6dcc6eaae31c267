package io.pvio.bench.cli;

import java.io.PrintWriter;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * The {@code pvio} command line. Subcommands:
 * <pre>
 *   pvio run               a scenario: guests with PV disks, their workloads, the native baseline, a report
 *   pvio experiment        memory and CPU virtualization experiments: tables, charts, checked results
 *   pvio ring front-send   front end of a ring shared through a file
 *   pvio ring back-echo    back end of a ring shared through a file
 *   pvio bench ring        ring benchmarks
 *   pvio xenstore serve    a XenStore on a Unix socket for Xen's xenstore-* tools
 * </pre>
 * Every command takes {@code --help} and {@code --version}. Exit codes: {@link #EXIT_OK}, {@link #EXIT_FAILURE},
 * {@link #EXIT_USAGE}. Bad arguments are reported one per line, followed by a pointer to {@code --help}. A failing
 * command prints one line naming the exception; set the system property {@link #STACK_TRACE_PROP_NAME} to
 * {@code true} (for example through {@code PVIO_JAVA_OPTS}) to also get the stack trace.
 */
@Command(
    name = "pvio",
    scope = ScopeType.INHERIT,
    mixinStandardHelpOptions = true,
    sortOptions = false,
    versionProvider = VersionProvider.class,
    description = "Xen split-driver paravirtual I/O: rings, grants, events and XenStore on a simulated machine.",
    subcommands = {
        RunCommand.class, ExperimentCommand.class, RingCommand.class, BenchCommand.class, XenstoreCommand.class,
        NbdCommand.class, NetCommand.class })
public final class PvioCommand
{
    /** Exit code of a command that did its work. */
    public static final int EXIT_OK = CommandLine.ExitCode.OK;

    /** Exit code of a command that failed, or of a JVM that lacks {@link AgronaAccess#REQUIRED_JVM_FLAG}. */
    public static final int EXIT_FAILURE = CommandLine.ExitCode.SOFTWARE;

    /** Exit code of a command given bad arguments. */
    public static final int EXIT_USAGE = CommandLine.ExitCode.USAGE;

    /** System property that, when {@code true}, makes a failing command print its stack trace. */
    public static final String STACK_TRACE_PROP_NAME = "pvio.stacktrace";

    private PvioCommand()
    {
    }

    /**
     * Builds the command line with pvio's error handling, ready for {@link CommandLine#execute(String...)}.
     *
     * @return a new command line; its output and error writers may be replaced before execution.
     */
    public static CommandLine newCommandLine()
    {
        final CommandLine commandLine = new CommandLine(new PvioCommand());
        commandLine.setParameterExceptionHandler(PvioCommand::onParameterException);
        commandLine.setExecutionExceptionHandler(PvioCommand::onExecutionException);
        return commandLine;
    }

    /**
     * Runs {@code pvio} and exits with its exit code. Checks first that Agrona can be used in this JVM, and exits
     * with {@link #EXIT_FAILURE} and {@link AgronaAccess#MISSING_FLAG_MESSAGE} if it cannot.
     *
     * @param args command-line arguments.
     */
    public static void main(final String[] args)
    {
        if (!AgronaAccess.checkAccess(System.err))
        {
            System.exit(EXIT_FAILURE);
        }
        System.exit(newCommandLine().execute(args));
    }

    private static int onParameterException(final ParameterException ex, final String[] args)
    {
        final CommandLine commandLine = ex.getCommandLine();
        final PrintWriter err = commandLine.getErr();
        err.println(ex.getMessage());
        UnmatchedArgumentException.printSuggestions(ex, err);
        err.println("Try '" + commandLine.getCommandSpec().qualifiedName() + " --help' for more information.");
        err.flush();
        return EXIT_USAGE;
    }

    private static int onExecutionException(
        final Exception ex, final CommandLine commandLine, final ParseResult parseResult)
    {
        final PrintWriter err = commandLine.getErr();
        err.println(commandLine.getCommandSpec().qualifiedName() + ": " + ex);
        if (Boolean.getBoolean(STACK_TRACE_PROP_NAME))
        {
            ex.printStackTrace(err);
        }
        err.flush();
        return EXIT_FAILURE;
    }
}
