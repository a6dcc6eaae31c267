package io.pvio.bench.cli;

import picocli.CommandLine.Command;

/**
 * {@code pvio xenstore}: groups the XenStore tools. {@code serve} puts a store of its own on a Unix socket for Xen's
 * {@code xenstore-*} clients; {@code pvio run} serves a running machine's store the same way.
 */
@Command(
    name = "xenstore",
    description = "XenStore tools: serve a store on a Unix socket that Xen's xenstore-ls, -read, -write, -rm, " +
        "-chmod and -watch use through XENSTORED_PATH.",
    subcommands = { XenstoreServeCommand.class })
final class XenstoreCommand
{
}
