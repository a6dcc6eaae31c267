package io.pvio.ring;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.agrona.IoUtil;
import org.agrona.concurrent.AtomicBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Two JVMs share a ring through a memory-mapped file: this process runs one end and a child JVM, started from the
 * same java binary and class path, runs the other ({@link MappedRingPeer}). Every request and response is checked in
 * order on the receiving side, in both roles. Both ends poll; neither can notify the other.
 * <p>
 * {@value #MESSAGES_PROP_NAME} sets the requests per role.
 */
class MappedFileRingTest
{
    static final String MESSAGES_PROP_NAME = "pvio.mapped.messages";
    static final long MESSAGES_DEFAULT = 4_000_000;

    private static final long TIMEOUT_MS = 60_000;
    private static final String AGRONA_EXPORTS = "java.base/jdk.internal.misc=ALL-UNNAMED";

    private final long messages = Long.getLong(MESSAGES_PROP_NAME, MESSAGES_DEFAULT);

    @TempDir
    Path dir;

    @Test
    void shouldVerifyEveryResponseWhenThisProcessIsFrontAndChildIsBack() throws Exception
    {
        final RingGeometry geometry = RingGeometry.ofPages(4, 112, 16, 8);
        final int startIndex = 0xFFFF_F000;
        final Path file = createRingFile(geometry);
        final MappedByteBuffer mapped = MappedRingPeer.map(file, geometry);
        try
        {
            final AtomicBuffer ring = MappedRingPeer.ringView(mapped, geometry);
            ring.setMemory(0, geometry.ringBytes(), (byte)0xA5);
            final FrontRing front = FrontRing.init(ring, geometry, startIndex);
            // volatile: the child's back end attaches only after it sees this, so after the complete header
            MappedRingPeer.controlView(mapped, geometry).putIntVolatile(MappedRingPeer.READY_OFFSET,
                MappedRingPeer.READY_MAGIC);

            final Process child = startPeer("back", file, geometry, 5, startIndex);
            final long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(TIMEOUT_MS);
            try
            {
                MappedRingPeer.runFront(front, messages, 16, deadlineNs, child::isAlive);
            }
            catch (final Throwable ex)
            {
                child.destroyForcibly().waitFor();
                fail("front end (this process) failed; child back end said:\n" + output(), ex);
            }
            final String childSaid = awaitExit(child);
            assertTrue(childSaid.contains("back done: answered=" + messages + " "), childSaid);

            final int end = startIndex + (int)messages;
            assertEquals(end, front.requestProducerIndex(), "req_prod_pvt");
            assertEquals(end, front.responseConsumerIndex(), "rsp_cons");
            assertEquals(end, ring.getIntVolatile(SharedRingDescriptor.RSP_PROD_OFFSET), "rsp_prod");
        }
        finally
        {
            IoUtil.unmap(mapped);
        }
    }

    @Test
    void shouldAnswerEveryRequestWhenThisProcessIsBackAndChildIsFront() throws Exception
    {
        final RingGeometry geometry = RingGeometry.ofPages(1, 64, 64, 8);
        final Path file = createRingFile(geometry);
        final MappedByteBuffer mapped = MappedRingPeer.map(file, geometry);
        try
        {
            final AtomicBuffer ring = MappedRingPeer.ringView(mapped, geometry);
            ring.setMemory(0, geometry.ringBytes(), (byte)0xA5);

            final Process child = startPeer("front", file, geometry, 1, 0);
            final long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(TIMEOUT_MS);
            BackRing back = null;
            try
            {
                MappedRingPeer.awaitReady(MappedRingPeer.controlView(mapped, geometry), deadlineNs, child::isAlive);
                back = BackRing.attach(ring, geometry);
                MappedRingPeer.runBack(back, messages, Integer.MAX_VALUE, deadlineNs, child::isAlive);
            }
            catch (final Throwable ex)
            {
                child.destroyForcibly().waitFor();
                fail("back end (this process) failed; child front end said:\n" + output(), ex);
            }
            final String childSaid = awaitExit(child);
            assertTrue(childSaid.contains("front done: received=" + messages + " "), childSaid);

            assertEquals((int)messages, back.requestConsumerIndex(), "req_cons");
            assertEquals((int)messages, back.responseProducerIndex(), "rsp_prod_pvt");
            assertEquals((int)messages, ring.getIntVolatile(SharedRingDescriptor.REQ_PROD_OFFSET), "req_prod");
        }
        finally
        {
            IoUtil.unmap(mapped);
        }
    }

    private Path createRingFile(final RingGeometry geometry) throws IOException
    {
        final Path file = dir.resolve("ring");
        try (FileChannel channel = FileChannel.open(
            file, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE))
        {
            channel.write(ByteBuffer.allocate(1), geometry.ringBytes() + MappedRingPeer.CONTROL_BYTES - 1);
        }
        return file;
    }

    private Process startPeer(
        final String role, final Path file, final RingGeometry geometry, final int batch, final int startIndex)
        throws IOException
    {
        final String java = ProcessHandle.current().info().command()
            .orElseThrow(() -> new IllegalStateException("cannot tell which java binary runs this test"));
        final List<String> command = new ArrayList<>(List.of(
            java,
            "--add-exports", AGRONA_EXPORTS,
            "-Xmx64m",
            "-XX:+UseSerialGC",
            "-cp", System.getProperty("java.class.path"),
            MappedRingPeer.class.getName(),
            role,
            file.toString(),
            Integer.toString(geometry.ringBytes() / SharedRingDescriptor.PAGE_SIZE),
            Integer.toString(geometry.requestBytes()),
            Integer.toString(geometry.responseBytes()),
            Long.toString(messages),
            Integer.toString(batch),
            Integer.toUnsignedString(startIndex),
            Long.toString(TIMEOUT_MS)));
        return new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("child.log").toFile())
            .start();
    }

    private String awaitExit(final Process child) throws IOException, InterruptedException
    {
        if (!child.waitFor(TIMEOUT_MS, TimeUnit.MILLISECONDS))
        {
            child.destroyForcibly().waitFor();
            fail("child did not exit within " + TIMEOUT_MS + " ms; it said:\n" + output());
        }
        final String said = output();
        assertEquals(0, child.exitValue(), "child exit status; it said:\n" + said);
        return said;
    }

    private String output() throws IOException
    {
        final Path log = dir.resolve("child.log");
        return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "(no output)";
    }
}
