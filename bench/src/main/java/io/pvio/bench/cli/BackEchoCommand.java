package io.pvio.bench.cli;

import java.util.concurrent.Callable;

import io.pvio.bench.ring.RingPeer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code pvio ring back-echo}: the back end of a ring shared through a file, which consumes requests and answers each
 * with a response, after warming its echo loop up on a private ring. The work is
 * {@link RingPeer#backEcho(io.pvio.bench.ring.RingPeerOptions, long, java.io.PrintStream, java.io.PrintStream)}.
 */
@Command(
    name = "back-echo",
    description = "Back end: answer --count requests from the ring in --file, one response each. It first echoes " +
        "--warmup requests between two threads on a private ring, so the measured run starts compiled, and prints " +
        "a line when it attaches.")
final class BackEchoCommand implements Callable<Integer>
{
    /** Most requests {@code --warmup} takes. */
    static final long MAX_WARMUP = 100_000_000L;

    @Spec
    private CommandSpec spec;

    @Mixin
    private RingPeerArgs peer;

    private long warmup = 2_000_000L;

    @Option(
        names = "--warmup",
        paramLabel = "N",
        description = "Requests echoed on a private ring before attaching, 0 to " + MAX_WARMUP + " (default: " +
            "2000000, about 0.2 s).")
    void warmup(final long value)
    {
        if (value < 0 || value > MAX_WARMUP)
        {
            throw CliSupport.badValue(spec, "--warmup", Long.toString(value), "0 to " + MAX_WARMUP);
        }
        warmup = value;
    }

    /**
     * {@inheritDoc}
     */
    @Override
    public Integer call()
    {
        return RingPeer.backEcho(peer.toOptions(), warmup, System.out, System.err);
    }
}
