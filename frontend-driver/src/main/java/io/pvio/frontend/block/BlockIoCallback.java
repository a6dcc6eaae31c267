package io.pvio.frontend.block;

/**
 * Told when a {@link BlockIo} completes: on the guest's event-loop thread, or on the submitting thread when the I/O
 * is refused at once. It must not block.
 */
@FunctionalInterface
public interface BlockIoCallback
{
    /**
     * The I/O completed.
     *
     * @param io          the I/O, free to be resubmitted from here.
     * @param errorOrNull null on success, else why it failed.
     */
    void onComplete(BlockIo io, BlockFrontException errorOrNull);
}
