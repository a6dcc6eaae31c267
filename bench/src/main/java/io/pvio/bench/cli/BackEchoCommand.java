package io.pvio.bench.cli;

import java.util.concurrent.Callable;

import io.pvio.bench.ring.RingPeer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * {@code pvio ring back-echo}: the back end of a ring shared through a file, which consumes requests and answers each
 * with a response. The work is {@link RingPeer#backEcho(io.pvio.bench.ring.RingPeerOptions)}.
 */
@Command(
    name = "back-echo",
    description = "Back end: answer --count requests from the ring in --file, one response each.")
final class BackEchoCommand implements Callable<Integer>
{
    @Mixin
    private RingPeerArgs peer;

    /**
     * {@inheritDoc}
     */
    @Override
    public Integer call()
    {
        return RingPeer.backEcho(peer.toOptions(), System.out, System.err);
    }
}
