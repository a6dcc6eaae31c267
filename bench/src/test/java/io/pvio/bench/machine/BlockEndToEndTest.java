package io.pvio.bench.machine;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import io.pvio.backend.block.BlockBackOptions;
import io.pvio.backend.block.BlockDataPath;
import io.pvio.backend.block.FileBlockStore;
import io.pvio.frontend.block.BlockFront;
import io.pvio.frontend.block.BlockFrontOptions;
import io.pvio.hypervisor.event.PortState;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Random writes then reads through the whole split driver, over every combination of persistent grants, indirect
 * segments, queues and ring pages, checked three ways: the data read back through the guest, the image file's bytes
 * read with an independent channel after a flush, and the hypervisor's books (no grant, mapping or port left over).
 */
class BlockEndToEndTest
{
    private static final int DISK_BYTES = 8 << 20;
    private static final int WRITES = 160;
    private static final int MAX_SECTORS = 256;

    @TempDir
    Path dir;

    static Stream<Arguments> combinations()
    {
        final List<Arguments> list = new ArrayList<>();
        for (final boolean persistent : new boolean[] { true, false })
        {
            for (final int indirect : new int[] { 256, 0 })
            {
                for (final int queues : new int[] { 1, 4 })
                {
                    for (final int ringPageOrder : new int[] { 0, 2 })
                    {
                        list.add(Arguments.of(persistent, indirect, queues, ringPageOrder, 0));
                    }
                    if (persistent)
                    {
                        // asynchronous serving applies to persistent grants
                        list.add(Arguments.of(true, indirect, queues, 2, 4));
                    }
                }
            }
        }
        return list.stream();
    }

    @ParameterizedTest(name = "persistent={0} indirect={1} queues={2} ringPageOrder={3} ioWorkers={4}")
    @MethodSource("combinations")
    void randomWritesThenReadsMatchTheImage(
        final boolean persistent, final int indirect, final int queues, final int ringPageOrder, final int ioWorkers)
        throws Exception
    {
        final Path image = dir.resolve("disk.img");
        final byte[] expected = new byte[DISK_BYTES];
        final long seed = 31L * queues + ringPageOrder + (persistent ? 1000 : 0) + indirect;
        final Random random = new Random(seed);
        try (PvMachine machine = PvMachine.start(16_384, 2048))
        {
            final PvDisk disk = machine.attachDisk(machine.createGuest("guest", 4096), 51712,
                FileBlockStore.createSparse(image, DISK_BYTES),
                new BlockBackOptions().persistentGrants(persistent).maxIndirectSegments(indirect).maxQueues(4)
                    .dataPath(persistent ? BlockDataPath.GRANT_MAP : BlockDataPath.GRANT_COPY).ioWorkers(ioWorkers),
                new BlockFrontOptions().persistentGrants(persistent).maxIndirectSegments(indirect).queues(queues)
                    .ringPageOrder(ringPageOrder));
            final BlockFront front = disk.front();
            assertEquals(queues, front.queues());
            assertEquals(1 << ringPageOrder, front.ringPages());
            assertEquals(persistent, front.persistentGrants());
            assertEquals(DISK_BYTES / 512, front.sectors());

            final List<CompletableFuture<Void>> writes = new ArrayList<>();
            final List<UnsafeBuffer> keep = new ArrayList<>();
            final boolean[] touched = new boolean[DISK_BYTES / 512];
            for (int i = 0; i < WRITES; i++)
            {
                final int sectors = 1 + random.nextInt(MAX_SECTORS);
                final long sector = random.nextInt(DISK_BYTES / 512 - sectors);
                if (overlaps(touched, sector, sectors))
                {
                    continue; // writes in flight together must not overlap: their order is undefined
                }
                final byte[] data = new byte[sectors * 512];
                random.nextBytes(data);
                System.arraycopy(data, 0, expected, (int)sector * 512, data.length);
                final int offset = random.nextInt(3) * 512;
                final UnsafeBuffer source = new UnsafeBuffer(ByteBuffer.allocateDirect(offset + data.length));
                source.putBytes(offset, data);
                keep.add(source);
                writes.add(front.write(sector, source, offset, data.length));
            }
            CompletableFuture.allOf(writes.toArray(new CompletableFuture<?>[0])).get(60, TimeUnit.SECONDS);
            front.flushBlocking();

            assertArrayEquals(expected, readIndependently(image), "image bytes after flush");

            for (int i = 0; i < 64; i++)
            {
                final int sectors = 1 + random.nextInt(MAX_SECTORS);
                final long sector = random.nextInt(DISK_BYTES / 512 - sectors);
                final UnsafeBuffer target = new UnsafeBuffer(new byte[sectors * 512 + 512]);
                front.readBlocking(sector, target, 512, sectors * 512);
                final byte[] actual = new byte[sectors * 512];
                target.getBytes(512, actual);
                final byte[] want = new byte[sectors * 512];
                System.arraycopy(expected, (int)sector * 512, want, 0, want.length);
                assertArrayEquals(want, actual, "read of " + sectors + " sectors at " + sector);
            }
            assertEquals(0, front.counters().errors());
            assertEquals(0, disk.back().counters().errorsInvalid() + disk.back().counters().errorsIo() +
                disk.back().counters().errorsGrant() + disk.back().counters().protocolViolations());
            if (ioWorkers > 0)
            {
                assertTrue(disk.back().counters().asyncRequests() > 0, "the I/O workers served requests");
            }
            else
            {
                assertEquals(0, disk.back().counters().asyncRequests());
            }
            if (indirect > 0)
            {
                assertTrue(front.counters().indirectRequests() > 0, "large I/O used indirect requests");
            }
            else
            {
                assertEquals(0, front.counters().indirectRequests());
            }

            final PvGuest guest = disk.guest();
            final List<Integer> frontPorts = new ArrayList<>();
            final String front0 = disk.device().frontendPath();
            for (int q = 0; q < queues; q++)
            {
                frontPorts.add(Integer.parseInt(machine.toolstack().readString(
                    front0 + (1 == queues ? "" : "/queue-" + q) + "/event-channel")));
            }
            disk.close();
            for (final int port : frontPorts)
            {
                assertEquals(PortState.FREE, guest.domain().hypercalls().eventChannelOp().status(port).state(),
                    "front-end port " + port + " closed");
            }
            assertEquals(0, guest.domain().grantTable().grantedCount(), "every grant ended");
            assertEquals(0, guest.domain().grantTable().mappingCount(), "no grant stays mapped");
            assertEquals(0, guest.pages().inUse(), "every front-end page freed");
        }
    }

    private static boolean overlaps(final boolean[] touched, final long sector, final int sectors)
    {
        for (int s = 0; s < sectors; s++)
        {
            if (touched[(int)sector + s])
            {
                return true;
            }
        }
        for (int s = 0; s < sectors; s++)
        {
            touched[(int)sector + s] = true;
        }
        return false;
    }

    static byte[] readIndependently(final Path image) throws IOException
    {
        final byte[] bytes = new byte[(int)Files.size(image)];
        try (FileChannel channel = FileChannel.open(image, StandardOpenOption.READ))
        {
            final ByteBuffer buffer = ByteBuffer.wrap(bytes);
            while (buffer.hasRemaining() && channel.read(buffer, buffer.position()) >= 0)
            {
                assertTrue(buffer.position() > 0 || bytes.length == 0);
            }
        }
        return bytes;
    }
}
