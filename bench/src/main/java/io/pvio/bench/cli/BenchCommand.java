package io.pvio.bench.cli;

import picocli.CommandLine.Command;

/**
 * {@code pvio bench}: groups the benchmark suites.
 */
@Command(
    name = "bench",
    description = "Run benchmark suites.",
    subcommands = {
        BenchRingCommand.class, BenchBlockCommand.class, BenchNetCommand.class, BenchNbdCommand.class })
final class BenchCommand
{
}
