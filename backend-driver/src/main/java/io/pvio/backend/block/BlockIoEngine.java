package io.pvio.backend.block;

/**
 * The host's block layer under one blkback ring: where the ring's agent hands the reads and writes it serves
 * asynchronously ({@link AsyncBlockIo}), and which answers each through {@link BlkbackQueue#complete} once its image
 * I/O is done. Its CPU time stands for the host kernel and the device, outside the scheduler's accounting.
 */
interface BlockIoEngine
{
    /** Starts the engine's threads; called once, before the first {@link #submit}. */
    void start();

    /**
     * Hands a job over. Called by the ring's agent only; allocates nothing.
     *
     * @param io the job, filled by the agent; the engine owns it until it passes it to {@link BlkbackQueue#complete}.
     */
    void submit(AsyncBlockIo io);

    /**
     * Stops the engine and waits for its threads; the jobs it holds finish first. Idempotent.
     *
     * @return true if nothing of the engine runs any more.
     */
    boolean stopAndJoin();

    /**
     * The most jobs the engine may hold answered and not yet handed back to the agent's pool, beyond one per ring
     * slot.
     *
     * @return a count, at least 0.
     */
    int extraJobs();
}
