package io.pvio.bench.cli;

import picocli.CommandLine.Command;

/**
 * {@code pvio nbd}: groups the NBD tools. {@code serve} exports a guest's PV disk over NBD on loopback.
 */
@Command(
    name = "nbd",
    description = "NBD tools: export a guest's PV disk over NBD on 127.0.0.1 for qemu-img, nbdcopy and fio.",
    subcommands = { NbdServeCommand.class })
final class NbdCommand
{
}
