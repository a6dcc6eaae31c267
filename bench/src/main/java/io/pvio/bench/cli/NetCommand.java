package io.pvio.bench.cli;

import picocli.CommandLine.Command;

/**
 * {@code pvio net}: groups the network tools. {@code serve} runs dom0's bridge with a VXLAN uplink and a host on it.
 */
@Command(
    name = "net",
    description = "Network tools: dom0's bridge with a VXLAN uplink that a Linux vxlan interface can join.",
    subcommands = { NetServeCommand.class })
final class NetCommand
{
}
