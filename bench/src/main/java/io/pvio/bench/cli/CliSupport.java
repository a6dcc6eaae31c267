package io.pvio.bench.cli;

import java.io.PrintWriter;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

import io.pvio.bench.scenario.ScenarioException;
import io.pvio.bench.scenario.ScenarioParser;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

/**
 * What the long-running commands share: a bad option value reported as picocli does, a line printed whole from any
 * thread, and the serve loop that prints a status line whenever it changes.
 */
final class CliSupport
{
    /** Most often a serving command prints its status line, in seconds. */
    static final int STATUS_INTERVAL_SECONDS = 5;

    private CliSupport()
    {
    }

    /**
     * A bad option value, in picocli's words, naming what was expected.
     *
     * @param spec     the command.
     * @param option   the option's name.
     * @param value    the value given.
     * @param expected what a good value looks like.
     * @return the exception to throw.
     */
    static ParameterException badValue(
        final CommandSpec spec, final String option, final String value, final String expected)
    {
        return new ParameterException(spec.commandLine(),
            "Invalid value for option '" + option + "': " + value + " (expected: " + expected + ")");
    }

    /**
     * A duration option's value, such as {@code 30s} or {@code 5m}.
     *
     * @param spec   the command.
     * @param option the option's name.
     * @param text   the value given.
     * @return nanoseconds.
     * @throws ParameterException naming the value and what a duration looks like.
     */
    static long duration(final CommandSpec spec, final String option, final String text)
    {
        try
        {
            return ScenarioParser.checkDuration(option, text);
        }
        catch (final ScenarioException ex)
        {
            final String message = ex.getMessage();
            throw badValue(spec, option, text,
                message.substring(message.indexOf(": expected ") + 11, message.lastIndexOf(", got ")));
        }
    }

    /**
     * Prints one line and flushes, whole even when other threads print.
     *
     * @param out  where.
     * @param line what.
     */
    static void printLine(final PrintWriter out, final String line)
    {
        synchronized (out)
        {
            out.println(line);
            out.flush();
        }
    }

    /**
     * Waits until {@code stopped} opens, {@code durationNanos} pass (0: no limit) or {@code healthy} turns false,
     * printing {@code prefix + status} whenever the status has changed, at most every
     * {@value #STATUS_INTERVAL_SECONDS} s.
     *
     * @param stopped       opened to stop (Ctrl-C).
     * @param durationNanos how long to serve, 0 for no limit.
     * @param healthy       false ends the wait early (a failed server).
     * @param status        the current status line.
     * @param prefix        printed before each status line.
     * @param out           where.
     * @throws InterruptedException if interrupted.
     */
    static void serveUntilStopped(
        final CountDownLatch stopped, final long durationNanos, final BooleanSupplier healthy,
        final Supplier<String> status, final String prefix, final PrintWriter out) throws InterruptedException
    {
        final long deadline = 0 == durationNanos ? Long.MAX_VALUE : System.nanoTime() + durationNanos;
        String last = status.get();
        while (healthy.getAsBoolean())
        {
            final long left = deadline - System.nanoTime();
            if (left <= 0 || stopped.await(Math.min(left, TimeUnit.SECONDS.toNanos(STATUS_INTERVAL_SECONDS)),
                TimeUnit.NANOSECONDS))
            {
                return;
            }
            final String now = status.get();
            if (!now.equals(last))
            {
                printLine(out, prefix + now);
                last = now;
            }
        }
    }
}
