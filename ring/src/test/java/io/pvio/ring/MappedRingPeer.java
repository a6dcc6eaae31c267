package io.pvio.ring;

import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import org.agrona.DirectBuffer;
import org.agrona.IoUtil;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * One end of a ring in a memory-mapped file, shared between two JVMs by {@link MappedFileRingTest}: the test runs one
 * end in its own process and starts this class's {@link #main(String[])} in a child JVM for the other.
 * <p>
 * The file holds the ring, then one control page whose first int the front end sets to {@link #READY_MAGIC} once it
 * has initialised the ring, so the back end attaches only to a complete header. There are no notifications across
 * the processes: each end polls, and when it runs out of work it calls its final check (which re-arms its event
 * index, as a real peer waiting for an event would) and backs off only if the check finds nothing.
 */
final class MappedRingPeer
{
    static final int CONTROL_BYTES = 4096;
    static final int READY_OFFSET = 0;
    static final int READY_MAGIC = 0x4F49_5650;

    private static final int SPINS_BEFORE_YIELD = 64;
    private static final int IDLE_PASSES_BETWEEN_PEER_CHECKS = 1024;

    private MappedRingPeer()
    {
    }

    /**
     * Runs one end against a ring file the parent created.
     *
     * @param args {@code front|back file pages requestBytes responseBytes messages batch startIndex timeoutMs}.
     */
    public static void main(final String[] args)
    {
        if (args.length != 9)
        {
            System.err.println("usage: front|back file pages requestBytes responseBytes messages batch startIndex" +
                " timeoutMs");
            System.exit(2);
        }
        final String role = args[0];
        final Path file = Path.of(args[1]);
        final RingGeometry geometry = RingGeometry.ofPages(
            Integer.parseInt(args[2]), Integer.parseInt(args[3]), Integer.parseInt(args[4]), 8);
        final long messages = Long.parseLong(args[5]);
        final int batch = Integer.parseInt(args[6]);
        final int startIndex = Integer.parseUnsignedInt(args[7]);
        final long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(Long.parseLong(args[8]));
        final ProcessHandle parent = ProcessHandle.current().parent().orElseThrow();

        try
        {
            final MappedByteBuffer mapped = map(file, geometry);
            try
            {
                final AtomicBuffer ring = ringView(mapped, geometry);
                final AtomicBuffer control = controlView(mapped, geometry);
                final String summary;
                if ("front".equals(role))
                {
                    final FrontRing front = FrontRing.init(ring, geometry, startIndex);
                    control.putIntVolatile(READY_OFFSET, READY_MAGIC); // the header is complete before this
                    summary = runFront(front, messages, batch, deadlineNs, parent::isAlive);
                }
                else
                {
                    awaitReady(control, deadlineNs, parent::isAlive);
                    summary = runBack(BackRing.attach(ring, geometry), messages, batch, deadlineNs, parent::isAlive);
                }
                System.out.println(role + " done: " + summary);
            }
            finally
            {
                IoUtil.unmap(mapped);
            }
        }
        catch (final Throwable ex)
        {
            System.out.println(role + " failed");
            ex.printStackTrace(System.out);
            System.out.flush();
            System.exit(1);
        }
        System.exit(0);
    }

    static MappedByteBuffer map(final Path file, final RingGeometry geometry) throws IOException
    {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE))
        {
            return channel.map(FileChannel.MapMode.READ_WRITE, 0, geometry.ringBytes() + CONTROL_BYTES);
        }
    }

    static AtomicBuffer ringView(final MappedByteBuffer mapped, final RingGeometry geometry)
    {
        return new UnsafeBuffer(mapped, 0, geometry.ringBytes());
    }

    static AtomicBuffer controlView(final MappedByteBuffer mapped, final RingGeometry geometry)
    {
        return new UnsafeBuffer(mapped, geometry.ringBytes(), CONTROL_BYTES);
    }

    static void awaitReady(final AtomicBuffer control, final long deadlineNs, final BooleanSupplier peerAlive)
    {
        int idlePasses = 0;
        // volatile: pairs with the front end's volatile store after FrontRing.init
        while (READY_MAGIC != control.getIntVolatile(READY_OFFSET))
        {
            idlePasses = backOff(idlePasses);
            final String trouble = trouble(idlePasses, deadlineNs, peerAlive);
            if (null != trouble)
            {
                throw new IllegalStateException(trouble + ": back waiting for the front end to initialise the ring");
            }
        }
    }

    /**
     * Sends requests {@code 0..messages-1} in batches and checks every response in order.
     *
     * @return counters for the log.
     */
    static String runFront(final FrontRing ring, final long messages, final int batch, final long deadlineNs,
        final BooleanSupplier peerAlive)
    {
        final ResponseChecker checker = new ResponseChecker(ring);
        final AtomicBuffer buffer = ring.buffer();
        final int requestBytes = ring.geometry().requestBytes();
        long sent = 0;
        long pushes = 0;
        long notifyAsked = 0;
        int idlePasses = 0;
        while (checker.received < messages)
        {
            int claimed = 0;
            int offset;
            while (claimed < batch && sent < messages && RingEnd.RING_FULL != (offset = ring.claimRequest()))
            {
                MessagePattern.writeRequest(buffer, offset, requestBytes, sent++);
                claimed++;
            }
            if (claimed > 0)
            {
                pushes++;
                if (ring.pushRequestsAndCheckNotify())
                {
                    notifyAsked++; // nobody to notify across processes: the back end polls
                }
            }
            final int consumed = ring.copyResponses(checker, Integer.MAX_VALUE);
            if (claimed + consumed > 0)
            {
                idlePasses = 0;
            }
            else if (!ring.finalCheckForResponses())
            {
                idlePasses = backOff(idlePasses);
                final String trouble = trouble(idlePasses, deadlineNs, peerAlive);
                if (null != trouble)
                {
                    throw new IllegalStateException(trouble + ": front waiting for responses, sent=" + sent +
                        " received=" + checker.received + " " + indexes(ring));
                }
            }
        }
        return "received=" + checker.received + " pushes=" + pushes + " notifyAsked=" + notifyAsked;
    }

    /**
     * Checks requests in order and answers each into the slot it claims, pushing once per batch consumed.
     *
     * @return counters for the log.
     */
    static String runBack(final BackRing ring, final long messages, final int batch, final long deadlineNs,
        final BooleanSupplier peerAlive)
    {
        final RequestAnswerer answerer = new RequestAnswerer(ring);
        long pushes = 0;
        long notifyAsked = 0;
        int idlePasses = 0;
        while (answerer.answered < messages)
        {
            if (ring.copyRequests(answerer, batch) > 0)
            {
                idlePasses = 0;
                pushes++;
                if (ring.pushResponsesAndCheckNotify())
                {
                    notifyAsked++; // nobody to notify across processes: the front end polls
                }
            }
            else if (!ring.finalCheckForRequests())
            {
                idlePasses = backOff(idlePasses);
                final String trouble = trouble(idlePasses, deadlineNs, peerAlive);
                if (null != trouble)
                {
                    throw new IllegalStateException(trouble + ": back waiting for requests, answered=" +
                        answerer.answered + " " + indexes(ring));
                }
            }
        }
        return "answered=" + answerer.answered + " pushes=" + pushes + " notifyAsked=" + notifyAsked;
    }

    private static int backOff(final int idlePasses)
    {
        if (idlePasses < SPINS_BEFORE_YIELD)
        {
            Thread.onSpinWait();
        }
        else
        {
            Thread.yield();
        }
        return idlePasses + 1;
    }

    /**
     * Every so many idle passes, whether to give up waiting.
     *
     * @return why to give up, or null to keep waiting.
     */
    private static String trouble(final int idlePasses, final long deadlineNs, final BooleanSupplier peerAlive)
    {
        if (0 != idlePasses % IDLE_PASSES_BETWEEN_PEER_CHECKS)
        {
            return null;
        }
        if (System.nanoTime() - deadlineNs > 0)
        {
            return "deadline passed";
        }
        return peerAlive.getAsBoolean() ? null : "peer process gone";
    }

    private static String indexes(final RingEnd ring)
    {
        final AtomicBuffer buffer = ring.buffer();
        return "req_prod=" + Integer.toUnsignedString(buffer.getIntVolatile(SharedRingDescriptor.REQ_PROD_OFFSET)) +
            " req_event=" + Integer.toUnsignedString(buffer.getIntVolatile(SharedRingDescriptor.REQ_EVENT_OFFSET)) +
            " rsp_prod=" + Integer.toUnsignedString(buffer.getIntVolatile(SharedRingDescriptor.RSP_PROD_OFFSET)) +
            " rsp_event=" + Integer.toUnsignedString(buffer.getIntVolatile(SharedRingDescriptor.RSP_EVENT_OFFSET));
    }

    private static final class ResponseChecker implements EntryHandler
    {
        private final int responseBytes;
        long received;

        ResponseChecker(final FrontRing ring)
        {
            this.responseBytes = ring.geometry().responseBytes();
        }

        @Override
        public void onEntry(final DirectBuffer buffer, final int offset)
        {
            final int wrong = MessagePattern.responseMismatch(buffer, offset, responseBytes, received);
            if (MessagePattern.MATCH != wrong)
            {
                throw new AssertionError(
                    MessagePattern.describeResponseMismatch(buffer, offset, responseBytes, received, wrong));
            }
            received++;
        }
    }

    private static final class RequestAnswerer implements EntryHandler
    {
        private final BackRing ring;
        private final int requestBytes;
        private final int responseBytes;
        long answered;

        RequestAnswerer(final BackRing ring)
        {
            this.ring = ring;
            this.requestBytes = ring.geometry().requestBytes();
            this.responseBytes = ring.geometry().responseBytes();
        }

        @Override
        public void onEntry(final DirectBuffer buffer, final int offset)
        {
            final int wrong = MessagePattern.requestMismatch(buffer, offset, requestBytes, answered);
            if (MessagePattern.MATCH != wrong)
            {
                throw new AssertionError(
                    MessagePattern.describeRequestMismatch(buffer, offset, requestBytes, answered, wrong));
            }
            MessagePattern.writeResponse(ring.buffer(), ring.claimResponse(), responseBytes, buffer.getLong(offset));
            answered++;
        }
    }
}
