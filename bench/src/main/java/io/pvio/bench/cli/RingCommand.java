package io.pvio.bench.cli;

import picocli.CommandLine.Command;

/**
 * {@code pvio ring}: groups the two peers of a ring shared through a file. Run {@code back-echo} and
 * {@code front-send} in two processes with equal ring options.
 */
@Command(
    name = "ring",
    description = "Ring tools: an in-process demo, and the two ends of a ring shared through a file with another process.",
    subcommands = { RingDemoCommand.class, FrontSendCommand.class, BackEchoCommand.class })
final class RingCommand
{
}
