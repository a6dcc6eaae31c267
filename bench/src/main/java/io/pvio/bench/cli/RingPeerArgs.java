package io.pvio.bench.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import io.pvio.bench.ring.RingPeerOptions;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/**
 * Options shared by {@code pvio ring front-send} and {@code pvio ring back-echo}, and their validation. Every
 * rejected value is reported as {@code Invalid value for option '--name': value (expected: ...)}, all of them at
 * once, and makes the command exit with {@link PvioCommand#EXIT_USAGE}.
 */
final class RingPeerArgs
{
    @Spec(Spec.Target.MIXEE)
    private CommandSpec mixee;

    @Option(
        names = "--file",
        required = true,
        paramLabel = "PATH",
        description = "File that holds the shared ring pages.")
    private Path file;

    @Option(
        names = "--pages",
        required = true,
        paramLabel = "N",
        description = "Ring size in 4 KiB pages: " + RingPeerOptions.VALID_PAGES + ".")
    private int pages;

    @Option(
        names = "--request-bytes",
        required = true,
        paramLabel = "BYTES",
        description = "Size of one request in bytes.")
    private int requestBytes;

    @Option(
        names = "--response-bytes",
        required = true,
        paramLabel = "BYTES",
        description = "Size of one response in bytes.")
    private int responseBytes;

    @Option(
        names = "--count",
        required = true,
        paramLabel = "N",
        description = "Number of request/response round trips, at least 1.")
    private long count;

    @Option(
        names = "--start-index",
        paramLabel = "INDEX",
        defaultValue = "0",
        converter = RingIndexConverter.class,
        description = "Ring index both ends start from, decimal or 0x-prefixed hex, 0 to 0xffffffff " +
            "(default: ${DEFAULT-VALUE}).")
    private int startIndex;

    @Option(
        names = "--timeout-s",
        paramLabel = "SECONDS",
        defaultValue = "30",
        description = "How long to wait for the other end before giving up (default: ${DEFAULT-VALUE}).")
    private int timeoutSeconds;

    /**
     * Checks every option and builds the options object.
     *
     * @return the validated options.
     * @throws ParameterException listing every rejected value.
     */
    RingPeerOptions toOptions()
    {
        final List<String> errors = new ArrayList<>();
        final boolean validPages = RingPeerOptions.isValidPages(pages);
        if (!validPages)
        {
            errors.add(invalid("--pages", pages, "one of " + RingPeerOptions.VALID_PAGES));
        }
        checkEntryBytes("--request-bytes", requestBytes, validPages, errors);
        checkEntryBytes("--response-bytes", responseBytes, validPages, errors);
        if (count < 1)
        {
            errors.add(invalid("--count", count, "a positive number of round trips"));
        }
        if (timeoutSeconds < 1)
        {
            errors.add(invalid("--timeout-s", timeoutSeconds, "at least 1 second"));
        }
        if (!errors.isEmpty())
        {
            throw new ParameterException(mixee.commandLine(), String.join(System.lineSeparator(), errors));
        }

        return new RingPeerOptions(file, pages, requestBytes, responseBytes, count, startIndex, timeoutSeconds);
    }

    private void checkEntryBytes(
        final String option, final int bytes, final boolean validPages, final List<String> errors)
    {
        if (bytes < RingPeerOptions.MIN_ENTRY_BYTES)
        {
            errors.add(invalid(option, bytes,
                "at least " + RingPeerOptions.MIN_ENTRY_BYTES + " bytes, room for the 64-bit sequence number"));
        }
        else if (validPages && bytes > RingPeerOptions.maxEntryBytes(pages))
        {
            errors.add(invalid(
                option,
                bytes,
                "at most " + RingPeerOptions.maxEntryBytes(pages) + " bytes, so that one entry fits a ring of --pages=" +
                pages));
        }
    }

    private static String invalid(final String option, final long value, final String expected)
    {
        return "Invalid value for option '" + option + "': " + value + " (expected: " + expected + ")";
    }

    /**
     * Parses an unsigned 32-bit ring index, decimal or {@code 0x}-prefixed hexadecimal, into its {@code int} bits.
     */
    static final class RingIndexConverter implements ITypeConverter<Integer>
    {
        /**
         * {@inheritDoc}
         */
        @Override
        public Integer convert(final String value)
        {
            final boolean hex = value.startsWith("0x") || value.startsWith("0X");
            final long index;
            try
            {
                index = hex ? Long.parseLong(value.substring(2), 16) : Long.parseLong(value);
            }
            catch (final NumberFormatException ex)
            {
                throw new TypeConversionException(
                    "'" + value + "' is not a ring index (expected: decimal or 0x-prefixed hex)");
            }
            if (index < 0 || index > RingPeerOptions.MAX_RING_INDEX)
            {
                throw new TypeConversionException(
                    "'" + value + "' is out of range (expected: 0 to " + RingPeerOptions.MAX_RING_INDEX +
                    ", or 0x0 to 0x" + Long.toHexString(RingPeerOptions.MAX_RING_INDEX) + ")");
            }
            return (int)index;
        }
    }
}
