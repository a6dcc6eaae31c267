package io.pvio.bench.machine;

import java.util.List;

import org.junit.jupiter.api.Test;

import io.pvio.backend.block.BlockBackOptions;
import io.pvio.backend.block.MemoryBlockStore;
import io.pvio.frontend.block.BlockFrontOptions;
import io.pvio.hypervisor.xenstore.XenStoreConnection;
import io.pvio.hypervisor.xenstore.XenStoreException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The XenStore keys of the handshake, exactly as Xen's blkif.h names them: the back end's disk and features, and the
 * front end's transport keys for one queue and one page, one queue and four pages, and four queues.
 */
class BlockHandshakeKeysTest
{
    @Test
    void theBackEndPublishesTheDiskAndEveryFeature()
    {
        try (PvMachine machine = PvMachine.start(8192, 2048))
        {
            final PvDisk disk = machine.attachDisk(machine.createGuest("g", 1024), 51712,
                new MemoryBlockStore(8L << 20), new BlockBackOptions().maxQueues(3).maxRingPageOrder(2)
                    .maxIndirectSegments(128), new BlockFrontOptions());
            final XenStoreConnection xs = machine.toolstack();
            final String back = disk.device().backendPath();
            assertEquals("16384", xs.readString(back + "/sectors"));
            assertEquals("512", xs.readString(back + "/sector-size"));
            assertEquals("512", xs.readString(back + "/physical-sector-size"));
            assertEquals("0", xs.readString(back + "/info"));
            assertEquals("1", xs.readString(back + "/feature-flush-cache"));
            assertEquals("0", xs.readString(back + "/feature-barrier"));
            assertEquals("1", xs.readString(back + "/feature-discard"));
            assertEquals("512", xs.readString(back + "/discard-granularity"));
            assertEquals("1", xs.readString(back + "/feature-persistent"));
            assertEquals("128", xs.readString(back + "/feature-max-indirect-segments"));
            assertEquals("3", xs.readString(back + "/multi-queue-max-queues"));
            assertEquals("2", xs.readString(back + "/max-ring-page-order"));
            assertEquals("4", xs.readString(back + "/state"));
            assertEquals("4", xs.readString(disk.device().frontendPath() + "/state"));
        }
    }

    @Test
    void oneQueueOnePageUsesTheTopLevelKeys()
    {
        final List<String> keys = frontKeys(1, 0);
        assertTrue(keys.containsAll(List.of("ring-ref", "event-channel", "protocol", "feature-persistent")), keys::toString);
        assertFalse(keys.contains("ring-page-order"), keys::toString);
        assertFalse(keys.contains("multi-queue-num-queues"), keys::toString);
        assertFalse(keys.contains("queue-0"), keys::toString);
        assertFalse(keys.contains("ring-ref0"), keys::toString);
    }

    @Test
    void oneQueueFourPagesNumbersItsRingRefs()
    {
        final List<String> keys = frontKeys(1, 2);
        assertTrue(keys.containsAll(List.of("ring-ref0", "ring-ref1", "ring-ref2", "ring-ref3", "ring-page-order",
            "event-channel")), keys::toString);
        assertFalse(keys.contains("ring-ref"), keys::toString);
        assertFalse(keys.contains("ring-ref4"), keys::toString);
    }

    @Test
    void fourQueuesWriteNoTopLevelRingKeys()
    {
        try (PvMachine machine = PvMachine.start(8192, 2048))
        {
            final PvDisk disk = machine.attachDisk(machine.createGuest("g", 1024), 51712,
                new MemoryBlockStore(8L << 20), new BlockBackOptions(), new BlockFrontOptions().queues(4));
            final XenStoreConnection xs = machine.toolstack();
            final String front = disk.device().frontendPath();
            final List<String> keys = xs.directory(front);
            assertEquals("4", xs.readString(front + "/multi-queue-num-queues"));
            assertFalse(keys.contains("ring-ref"), keys::toString);
            assertFalse(keys.contains("event-channel"), keys::toString);
            for (int q = 0; q < 4; q++)
            {
                final List<String> queue = xs.directory(front + "/queue-" + q);
                assertTrue(queue.containsAll(List.of("ring-ref", "event-channel")), queue::toString);
            }
            assertEquals(4, disk.back().connectedQueues());
            try
            {
                xs.readString(front + "/queue-4/ring-ref");
                throw new AssertionError("queue-4 must not exist");
            }
            catch (final XenStoreException expected)
            {
                assertTrue(expected.getMessage().contains("ENOENT") || expected.error().name().equals("ENOENT"));
            }
        }
    }

    private static List<String> frontKeys(final int queues, final int order)
    {
        try (PvMachine machine = PvMachine.start(8192, 2048))
        {
            final PvDisk disk = machine.attachDisk(machine.createGuest("g", 1024), 51712,
                new MemoryBlockStore(8L << 20), new BlockBackOptions(),
                new BlockFrontOptions().queues(queues).ringPageOrder(order));
            assertEquals(1 << order, disk.front().ringPages());
            return machine.toolstack().directory(disk.device().frontendPath());
        }
    }
}
