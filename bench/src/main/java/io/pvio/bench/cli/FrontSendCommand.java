package io.pvio.bench.cli;

import java.util.concurrent.Callable;

import io.pvio.bench.ring.RingPeer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * {@code pvio ring front-send}: the front end of a ring shared through a file, which sends requests and consumes
 * their responses. The work is {@link RingPeer#frontSend(io.pvio.bench.ring.RingPeerOptions)}.
 */
@Command(
    name = "front-send",
    description = "Front end: send --count requests over the ring in --file and consume the responses.")
final class FrontSendCommand implements Callable<Integer>
{
    @Mixin
    private RingPeerArgs peer;

    /**
     * {@inheritDoc}
     */
    @Override
    public Integer call()
    {
        return RingPeer.frontSend(peer.toOptions(), System.out, System.err);
    }
}
