package io.pvio.bench.ring;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import org.agrona.BufferUtil;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import io.pvio.ring.BackRing;
import io.pvio.ring.EntryHandler;
import io.pvio.ring.FrontRing;
import io.pvio.ring.MappedRingFile;
import io.pvio.ring.RingEnd;
import io.pvio.ring.RingGeometry;
import io.pvio.ring.RingProtocolException;

/**
 * The two ends of the cross-process ring contract that {@code pvio ring front-send} and {@code pvio ring back-echo}
 * offer, and that a C peer built against Xen's {@code io/ring.h} speaks too.
 * <ul>
 *   <li>The ring file holds the ring pages only, from offset 0; request and response structs are byte arrays, so an
 *       entry is {@code max(R, S)} bytes.</li>
 *   <li>Request {@code i} (counting from 0 in each run): bytes 0..7 hold {@code i} as a little-endian 64-bit
 *       number, byte {@code j} ({@code 8 <= j < R}) holds {@code (i + j) & 0xff}.</li>
 *   <li>The response to a request carries the request's first {@code min(R, S)} bytes; any further bytes are 0.</li>
 *   <li>There is no event channel between processes: an idle side polls, spinning, then yielding, then sleeping
 *       50 us, but still re-arms its event index with the final check; "notifications" counts the pushes after
 *       which the ring said the peer must be notified.</li>
 * </ul>
 */
public final class RingPeer
{
    /** Exit status: every message checked. */
    public static final int OK = 0;

    /** Exit status: a mismatch, a timeout, a hostile index or an I/O failure. */
    public static final int FAILED = 1;

    /** Exit status: the arguments do not fit the ring file that is there. */
    public static final int USAGE = 2;

    private static final long IDLE_SLEEP_NS = TimeUnit.MICROSECONDS.toNanos(50);
    private static final long WARMUP_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(30);
    private static final int PAGE_ALIGNMENT = 4096;

    private RingPeer()
    {
    }

    /**
     * Runs the front end: creates (or attaches to) the ring file, sends {@code count} requests and checks every
     * response.
     *
     * @param options the run's settings, already validated.
     * @param out     where the summary line goes.
     * @param err     where a failure is described.
     * @return {@link #OK} or {@link #FAILED}.
     */
    public static int frontSend(final RingPeerOptions options, final PrintStream out, final PrintStream err)
    {
        final RingGeometry geometry = geometry(options);
        final String role = "front-send";
        final boolean existing = Files.exists(options.file());
        if (existing && 0 != options.startIndex())
        {
            err.println(role + ": --start-index applies only to a new ring, and " + options.file() + " exists");
            return USAGE;
        }
        try (MappedRingFile file = existing ?
            MappedRingFile.open(options.file(), geometry, 0) :
            MappedRingFile.create(options.file(), geometry, options.startIndex()))
        {
            final FrontRing front = FrontRing.attach(file.buffer(), geometry);
            if (front.freeRequests() != front.size())
            {
                err.println(role + ": " + (front.size() - front.freeRequests()) + " requests of an earlier run are " +
                    "still outstanding in " + options.file() + "; their responses would be taken for this run's");
                return FAILED;
            }
            final FrontSender sender = new FrontSender(front, geometry, options.count());
            final long startNs = System.nanoTime();
            final String failure = sender.run(TimeUnit.SECONDS.toNanos(options.timeoutSeconds()));
            return finish(role, failure, options.count(), geometry, sender.notifications, startNs, out, err);
        }
        catch (final RingProtocolException ex)
        {
            err.println(role + ": hostile back end: " + ex.getMessage());
            return FAILED;
        }
        catch (final IOException ex)
        {
            err.println(role + ": " + describe(ex));
            return FAILED;
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            err.println(role + ": interrupted");
            return FAILED;
        }
    }

    /**
     * Runs the back end: waits for the ring file, attaches without initialising, answers {@code count} requests
     * (each copied out of the ring and checked first) and exits.
     *
     * @param options the run's settings, already validated.
     * @param out     where the summary line goes.
     * @param err     where a failure is described.
     * @return {@link #OK} or {@link #FAILED}.
     */
    public static int backEcho(final RingPeerOptions options, final PrintStream out, final PrintStream err)
    {
        return backEcho(options, 0, out, err);
    }

    /**
     * The back end, after first echoing {@code warmupRequests} requests between two threads on a private ring of the
     * same geometry, so the JIT has compiled the echo loop before the shared ring's first request: a long-running back
     * end's steady state, which a run of a few million requests (well under a second) would otherwise spend partly in
     * the interpreter. Every check of the measured run is the same.
     *
     * @param options        the run's settings.
     * @param warmupRequests requests echoed on the private ring first; 0 for none.
     * @param out            where the summary goes.
     * @param err            where failures go.
     * @return the exit code.
     */
    public static int backEcho(
        final RingPeerOptions options, final long warmupRequests, final PrintStream out, final PrintStream err)
    {
        final RingGeometry geometry = geometry(options);
        final String role = "back-echo";
        final long timeoutNs = TimeUnit.SECONDS.toNanos(options.timeoutSeconds());
        if (warmupRequests > 0)
        {
            final String failure = warmUp(geometry, warmupRequests);
            if (null != failure)
            {
                err.println(role + ": warm-up on a private ring failed: " + failure);
                return FAILED;
            }
            out.println(role + ": warmed up with " + warmupRequests + " requests on a private ring; attaching " +
                options.file());
            out.flush();
        }
        try (MappedRingFile file = MappedRingFile.open(options.file(), geometry, timeoutNs))
        {
            final BackRing back = BackRing.attach(file.buffer(), geometry);
            final BackEchoer echoer = new BackEchoer(back, geometry, options.count());
            final long startNs = System.nanoTime();
            final String failure = echoer.run(timeoutNs);
            return finish(role, failure, options.count(), geometry, echoer.notifications, startNs, out, err);
        }
        catch (final RingProtocolException ex)
        {
            err.println(role + ": hostile front end: " + ex.getMessage());
            return FAILED;
        }
        catch (final IOException ex)
        {
            err.println(role + ": " + describe(ex));
            return FAILED;
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            err.println(role + ": interrupted");
            return FAILED;
        }
    }

    /** Echoes {@code requests} between a front-end thread and this one on a private ring; null or what failed. */
    private static String warmUp(final RingGeometry geometry, final long requests)
    {
        // one spare page so the ring starts on a page boundary, as a mapped file's does; freed whole below
        final ByteBuffer memory = ByteBuffer.allocateDirect(geometry.ringBytes() + PAGE_ALIGNMENT);
        final long base = BufferUtil.address(memory);
        final long aligned = (base + PAGE_ALIGNMENT - 1) & -PAGE_ALIGNMENT;
        final AtomicBuffer buffer = new UnsafeBuffer(aligned, geometry.ringBytes());
        final FrontSender sender = new FrontSender(FrontRing.init(buffer, geometry), geometry, requests);
        final BackEchoer echoer = new BackEchoer(BackRing.attach(buffer, geometry), geometry, requests);
        final String[] frontFailure = new String[1];
        final Thread front = new Thread(() -> frontFailure[0] = sender.run(WARMUP_TIMEOUT_NANOS),
            "back-echo-warmup-front");
        front.setDaemon(true);
        front.start();
        String failure;
        try
        {
            failure = echoer.run(WARMUP_TIMEOUT_NANOS);
            front.join(TimeUnit.NANOSECONDS.toMillis(WARMUP_TIMEOUT_NANOS));
        }
        catch (final RingProtocolException ex)
        {
            failure = ex.getMessage();
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            failure = "interrupted";
        }
        if (front.isAlive())
        {
            // the front thread may still touch the ring: leave the page to the GC rather than free it under it
            return null == failure ? "the front end did not finish" : failure;
        }
        BufferUtil.free(memory);
        // join: the front thread's write of frontFailure happens-before this read
        return null != failure ? failure : frontFailure[0];
    }

    /**
     * The ring geometry both peers derive from the options: byte-array structs, so alignment 1.
     *
     * @param options the run's settings.
     * @return the geometry.
     */
    public static RingGeometry geometry(final RingPeerOptions options)
    {
        return RingGeometry.ofPages(options.pages(), options.requestBytes(), options.responseBytes(), 1);
    }

    private static int finish(
        final String role,
        final String failure,
        final long count,
        final RingGeometry geometry,
        final long notifications,
        final long startNs,
        final PrintStream out,
        final PrintStream err)
    {
        if (null != failure)
        {
            err.println(role + ": " + failure);
            return FAILED;
        }
        final long elapsedNs = Math.max(1, System.nanoTime() - startNs);
        final long rate = (long)(count * 1e9 / elapsedNs);
        out.println(role + ": count=" + count + " entries=" + geometry.size() + " notifications=" + notifications +
            " elapsed_ms=" + TimeUnit.NANOSECONDS.toMillis(elapsedNs) + " rate=" + rate);
        return OK;
    }

    private static String describe(final IOException ex)
    {
        if (ex instanceof NoSuchFileException && null != ex.getMessage())
        {
            return ex.getMessage();
        }
        return ex.getClass().getSimpleName() + ": " + ex.getMessage();
    }

    /**
     * The message pattern. Byte {@code j} of request {@code i} is {@code (i + j) & 0xff}, so bytes 8.. of any request
     * are a window of one precomputed ramp starting at {@code (i & 0xff) + 8}.
     */
    static final class MessagePattern
    {
        private final UnsafeBuffer ramp;

        MessagePattern(final int requestBytes)
        {
            ramp = new UnsafeBuffer(new byte[256 + requestBytes]);
            for (int k = 0; k < ramp.capacity(); k++)
            {
                ramp.putByte(k, (byte)k);
            }
        }

        void writeRequest(final AtomicBuffer buffer, final int offset, final long sequence, final int bytes)
        {
            buffer.putLong(offset, sequence, ByteOrder.LITTLE_ENDIAN);
            buffer.putBytes(offset + 8, ramp, (int)(sequence & 0xff) + 8, bytes - 8);
        }

        /**
         * Compares {@code length} bytes of a message with request {@code sequence}; bytes at or past
         * {@code patternBytes} must be zero. Eight bytes at a time against the ramp while they match, byte by byte
         * from the first word that does not (and for the tail).
         *
         * @return the first differing byte index, or -1 if all match.
         */
        int mismatch(
            final DirectBuffer buffer, final int offset, final long sequence, final int patternBytes, final int length)
        {
            final int pattern = Math.min(patternBytes, length);
            int j = 0;
            if (pattern >= Long.BYTES && buffer.getLong(offset, ByteOrder.LITTLE_ENDIAN) == sequence)
            {
                j = Long.BYTES;
                final int base = (int)(sequence & 0xff);
                while (j + Long.BYTES <= pattern && buffer.getLong(offset + j) == ramp.getLong(base + j))
                {
                    j += Long.BYTES;
                }
            }
            for (; j < length; j++)
            {
                if ((buffer.getByte(offset + j) & 0xff) != expectedByte(sequence, j, patternBytes))
                {
                    return j;
                }
            }
            return -1;
        }

        /**
         * Checks one message against request {@code sequence}'s pattern.
         *
         * @return null if it matches, otherwise which byte differs and how (allocates only then).
         */
        String check(
            final String kind,
            final DirectBuffer buffer,
            final int offset,
            final long sequence,
            final int patternBytes,
            final int length)
        {
            final int at = mismatch(buffer, offset, sequence, patternBytes, length);
            if (at < 0)
            {
                return null;
            }
            return kind + " " + sequence + " mismatch at byte " + at + ": expected 0x" +
                Integer.toHexString(expectedByte(sequence, at, patternBytes)) + " got 0x" +
                Integer.toHexString(buffer.getByte(offset + at) & 0xff);
        }

        static int expectedByte(final long sequence, final int j, final int patternBytes)
        {
            if (j < 8)
            {
                return (int)(sequence >>> (8 * j)) & 0xff;
            }
            return j < patternBytes ? (int)((sequence + j) & 0xff) : 0;
        }
    }

    /** Polls with a short spin, then yields, then sleeps: the only wait across processes without an event channel. */
    static final class Poller
    {
        private int idleRounds;

        void idle()
        {
            final int rounds = ++idleRounds;
            if (rounds < 100)
            {
                Thread.onSpinWait();
            }
            else if (rounds < 120)
            {
                Thread.yield();
            }
            else
            {
                LockSupport.parkNanos(IDLE_SLEEP_NS);
            }
        }

        void reset()
        {
            idleRounds = 0;
        }
    }

    private static final class FrontSender implements EntryHandler
    {
        private final FrontRing front;
        private final AtomicBuffer buffer;
        private final int requestBytes;
        private final int responseBytes;
        private final int echoedBytes;
        private final long count;
        private final Poller poller = new Poller();
        private final MessagePattern pattern;
        private long sent;
        private long received;
        private long notifications;
        private String mismatch;

        FrontSender(final FrontRing front, final RingGeometry geometry, final long count)
        {
            this.front = front;
            this.buffer = front.buffer();
            this.requestBytes = geometry.requestBytes();
            this.responseBytes = geometry.responseBytes();
            this.echoedBytes = Math.min(requestBytes, responseBytes);
            this.count = count;
            this.pattern = new MessagePattern(requestBytes);
        }

        String run(final long timeoutNs)
        {
            long lastProgressNs = System.nanoTime();
            while (received < count && null == mismatch)
            {
                int slot;
                while (sent < count && RingEnd.RING_FULL != (slot = front.claimRequest()))
                {
                    pattern.writeRequest(buffer, slot, sent++, requestBytes);
                }
                if (front.pushRequestsAndCheckNotify())
                {
                    notifications++;
                }
                final int n = front.copyResponses(this, Integer.MAX_VALUE);
                if (n > 0)
                {
                    poller.reset();
                    lastProgressNs = System.nanoTime();
                }
                else if (!front.finalCheckForResponses())
                {
                    if (System.nanoTime() - lastProgressNs > timeoutNs)
                    {
                        return "timeout: no response for " + TimeUnit.NANOSECONDS.toSeconds(timeoutNs) +
                            " s; sent=" + sent + " received=" + received + " req_prod_pvt=" +
                            Integer.toUnsignedString(front.requestProducerIndex()) + " rsp_cons=" +
                            Integer.toUnsignedString(front.responseConsumerIndex());
                    }
                    poller.idle();
                }
            }
            return mismatch;
        }

        @Override
        public void onEntry(final DirectBuffer response, final int offset)
        {
            final long sequence = received++;
            if (null == mismatch)
            {
                mismatch = pattern.check("response", response, offset, sequence, echoedBytes, responseBytes);
            }
        }
    }

    private static final class BackEchoer implements EntryHandler
    {
        private final BackRing back;
        private final AtomicBuffer buffer;
        private final int requestBytes;
        private final int responseBytes;
        private final int echoedBytes;
        private final long count;
        private final Poller poller = new Poller();
        private final MessagePattern pattern;
        private long answered;
        private long notifications;
        private String mismatch;

        BackEchoer(final BackRing back, final RingGeometry geometry, final long count)
        {
            this.back = back;
            this.buffer = back.buffer();
            this.requestBytes = geometry.requestBytes();
            this.responseBytes = geometry.responseBytes();
            this.echoedBytes = Math.min(requestBytes, responseBytes);
            this.count = count;
            this.pattern = new MessagePattern(requestBytes);
        }

        String run(final long timeoutNs)
        {
            long lastProgressNs = System.nanoTime();
            while (answered < count && null == mismatch)
            {
                final long remaining = count - answered;
                final int n = back.copyRequests(this, (int)Math.min(remaining, Integer.MAX_VALUE));
                if (back.pushResponsesAndCheckNotify())
                {
                    notifications++;
                }
                if (n > 0)
                {
                    poller.reset();
                    lastProgressNs = System.nanoTime();
                }
                else if (!back.finalCheckForRequests())
                {
                    if (System.nanoTime() - lastProgressNs > timeoutNs)
                    {
                        return "timeout: no request for " + TimeUnit.NANOSECONDS.toSeconds(timeoutNs) +
                            " s; answered=" + answered + " of " + count + " req_cons=" +
                            Integer.toUnsignedString(back.requestConsumerIndex());
                    }
                    poller.idle();
                }
            }
            return mismatch;
        }

        @Override
        public void onEntry(final DirectBuffer request, final int offset)
        {
            final long sequence = answered++;
            if (null == mismatch)
            {
                mismatch = pattern.check("request", request, offset, sequence, requestBytes, requestBytes);
            }
            final int slot = back.claimResponse();
            buffer.putBytes(slot, request, offset, echoedBytes);
            if (responseBytes > echoedBytes)
            {
                buffer.setMemory(slot + echoedBytes, responseBytes - echoedBytes, (byte)0);
            }
        }
    }
}
