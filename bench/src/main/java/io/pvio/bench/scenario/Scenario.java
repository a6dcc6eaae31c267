package io.pvio.bench.scenario;

import java.nio.file.Path;
import java.util.List;

import io.pvio.backend.block.BlockDataPath;

/**
 * A checked scenario. Sizes are bytes, durations nanoseconds.
 *
 * @param machineMemory bytes of machine memory.
 * @param dom0Memory    bytes given to dom0.
 * @param backend       the back end's offer, the same for every disk.
 * @param guests        the guests, at least one.
 */
public record Scenario(long machineMemory, long dom0Memory, Backend backend, List<Guest> guests)
{
    /**
     * What every back end offers.
     *
     * @param dataPath            grant map or grant copy.
     * @param persistentGrants    whether persistent grants are offered.
     * @param maxIndirectSegments {@code feature-max-indirect-segments}, 0 for none.
     * @param maxQueues           {@code multi-queue-max-queues}.
     * @param maxRingPageOrder    {@code max-ring-page-order}.
     */
    public record Backend(
        BlockDataPath dataPath, boolean persistentGrants, int maxIndirectSegments, int maxQueues, int maxRingPageOrder)
    {
    }

    /**
     * A guest.
     *
     * @param name   its domain name.
     * @param memory bytes of memory.
     * @param disks  its disks, at least one.
     */
    public record Guest(String name, long memory, List<Disk> disks)
    {
    }

    /**
     * A virtual disk and the workload run on it.
     *
     * @param devid    the virtual device number.
     * @param size     bytes.
     * @param image    the image file, or null for a temporary sparse image deleted after the run.
     * @param readOnly whether the disk refuses writes.
     * @param frontend what the front end asks for.
     * @param workload the workload.
     */
    public record Disk(long devid, long size, Path image, boolean readOnly, Frontend frontend, Workload workload)
    {
    }

    /**
     * What a front end asks for.
     *
     * @param persistentGrants whether to use persistent grants.
     * @param indirectSegments the most indirect segments, 0 for none.
     * @param queues           queues wanted.
     * @param ringPages        pages per ring wanted: 1, 2, 4, 8 or 16.
     */
    public record Frontend(boolean persistentGrants, int indirectSegments, int queues, int ringPages)
    {
    }

    /**
     * A workload.
     *
     * @param random        random offsets rather than sequential.
     * @param blockSize     bytes per I/O.
     * @param queueDepth    I/Os in flight.
     * @param readShare     share of reads, 0 to 1.
     * @param durationNanos how long to run, or 0 when {@code count} is set.
     * @param count         how many I/Os, or 0 when {@code durationNanos} is set.
     * @param warmupNanos   time run before measuring.
     * @param verify        whether every read is checked against the last acknowledged write.
     * @param seed          seed of the offsets, the read/write choice and the data.
     * @param baseline      whether to run the same workload natively on the image afterwards.
     */
    public record Workload(
        boolean random, int blockSize, int queueDepth, double readShare, long durationNanos, long count,
        long warmupNanos, boolean verify, long seed, boolean baseline)
    {
    }
}
