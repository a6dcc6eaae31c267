package io.pvio.hypervisor.grant;

import static io.pvio.machine.memory.MachineMemory.FRAME_SIZE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Queue;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.pvio.hypervisor.Domain;
import io.pvio.hypervisor.DomainId;

/**
 * Front ends in several guests grant frames and revoke them as eagerly as they can, while back-end threads in dom0
 * map, copy into and out of, and unmap the same grants. The front ends only touch a frame after a successful end of
 * access, and check then that nobody wrote it if the grant was read-only, or after revocation at all; the back ends
 * check that the front end never writes a frame while they hold it mapped. A back end may serve a request whose
 * reference was revoked and handed out again meanwhile: it then uses the new grant, which is legitimate, so the checks
 * are made where such reuse cannot confuse them. Any violation of "revocation fails while in use" shows up as one of
 * those checks failing.
 */
class GrantConcurrencyTest
{
    private static final int GUESTS = 4;
    private static final int FRAMES_PER_FRONT = 8;
    private static final int BACK_THREADS = 2;
    private static final long RUN_NS = TimeUnit.MILLISECONDS.toNanos(1500);

    private final GrantFixture fixture = new GrantFixture(1024);
    private final Queue<Request> requests = new ConcurrentLinkedQueue<>();
    private final Queue<String> errors = new ConcurrentLinkedQueue<>();
    private volatile boolean backStop;

    @AfterEach
    void tearDown()
    {
        fixture.close();
    }

    @Test
    void shouldNeverRevokeInUseGrantWhenGrantingMappingCopyingAndEndingAtOnce() throws InterruptedException
    {
        final List<Front> fronts = startFronts();
        final List<Thread> backs = startBacks();

        sleepNs(RUN_NS);
        stopAll(fronts, backs);

        for (final Front front : fronts)
        {
            front.endAll();
            assertEquals(0, front.domain.grantTable().grantedCount());
            assertTrue(front.issued > 100, "front " + front.domain.id() + " made " + front.issued + " requests");
        }
        assertNoErrors();
        assertEquals(0, fixture.dom0.grantTable().mappingCount());
        for (final Front front : fronts)
        {
            fixture.destroy(front.domain);
        }
        assertEquals(0, fixture.framesHeldAfterFree());
        fixture.assertFramesAccounted();
    }

    @Test
    void shouldReleaseEveryFrameWhenGrantersDieDuringTraffic() throws InterruptedException
    {
        final List<Front> fronts = startFronts();
        final List<Thread> backs = startBacks();
        sleepNs(RUN_NS / 3);

        for (int i = 0; i < GUESTS / 2; i++)
        {
            final Front front = fronts.get(i);
            front.stop = true;
            front.thread.join();
            fixture.destroy(front.domain);
        }
        sleepNs(RUN_NS / 3);
        stopAll(fronts, backs);

        for (int i = GUESTS / 2; i < GUESTS; i++)
        {
            fronts.get(i).endAll();
        }
        assertNoErrors();
        assertEquals(0, fixture.dom0.grantTable().mappingCount());
        assertEquals(0, fixture.framesHeldAfterFree());
        fixture.assertFramesAccounted();
    }

    private List<Front> startFronts()
    {
        final List<Front> fronts = new ArrayList<>();
        for (int i = 0; i < GUESTS; i++)
        {
            final Front front = new Front(fixture.guest("front-" + i, FRAMES_PER_FRONT), 0x5EED + i);
            fronts.add(front);
            front.thread.start();
        }
        return fronts;
    }

    private List<Thread> startBacks()
    {
        final List<Thread> backs = new ArrayList<>();
        for (int i = 0; i < BACK_THREADS; i++)
        {
            final int index = i;
            final Thread thread = new Thread(() -> runBack(index), "back-" + i);
            backs.add(thread);
            thread.start();
        }
        return backs;
    }

    private void stopAll(final List<Front> fronts, final List<Thread> backs) throws InterruptedException
    {
        for (final Front front : fronts)
        {
            front.stop = true;
        }
        for (final Front front : fronts)
        {
            front.thread.join();
        }
        backStop = true;
        for (final Thread back : backs)
        {
            back.join();
        }
    }

    private void assertNoErrors()
    {
        assertTrue(errors.isEmpty(), () -> errors.size() + " errors, first: " + errors.peek());
    }

    private void runBack(final int index)
    {
        final SplittableRandom random = new SplittableRandom(0xBAC + index);
        final GrantTableOps ops = GrantFixture.ops(fixture.dom0);
        final long localGfn = 1 + index;
        final UnsafeBuffer local = fixture.dom0.guestFrame(localGfn);
        final UnsafeBuffer view = new UnsafeBuffer(0, 0);
        final GrantCopyBatch batch = new GrantCopyBatch(1);
        final byte[] snapshot = new byte[FRAME_SIZE];
        while (true)
        {
            final Request request = requests.poll();
            if (null == request)
            {
                if (backStop)
                {
                    return;
                }
                Thread.onSpinWait();
                continue;
            }
            try
            {
                serve(request, random, ops, local, view, batch, snapshot, localGfn);
            }
            catch (final RuntimeException | AssertionError ex)
            {
                errors.add("back " + index + ": " + ex);
            }
        }
    }

    private void serve(
        final Request request,
        final SplittableRandom random,
        final GrantTableOps ops,
        final UnsafeBuffer local,
        final UnsafeBuffer view,
        final GrantCopyBatch batch,
        final byte[] snapshot,
        final long localGfn)
    {
        final boolean useMap = random.nextBoolean();
        if (request.readOnly)
        {
            if (useMap)
            {
                final int handle = ops.map(request.domid, request.ref, true, view);
                if (handle >= 0)
                {
                    view.getBytes(0, snapshot);
                    for (int spin = 0; spin < 200; spin++)
                    {
                        Thread.onSpinWait();
                    }
                    if (!frontUntouched(view, snapshot))
                    {
                        errors.add("front wrote a frame while it was mapped: " + request);
                    }
                    expect(GrantStatus.OKAY, ops.unmap(handle), request);
                }
                else
                {
                    expectRefusal(handle, request);
                }
            }
            else
            {
                batch.clear().addFromGrant(request.domid, request.ref, 0, localGfn, 0, FRAME_SIZE);
                ops.copy(batch);
                if (GrantStatus.OKAY != batch.status(0))
                {
                    expectRefusal(batch.status(0), request);
                }
                batch.clear().addToGrant(localGfn, 0, request.domid, request.ref, 0, 16);
                ops.copy(batch);
                if (GrantStatus.OKAY != batch.status(0))
                {
                    expectRefusal(batch.status(0), request);
                }
            }
        }
        else if (useMap)
        {
            final int handle = ops.map(request.domid, request.ref, false, view);
            if (handle >= 0)
            {
                view.setMemory(0, FRAME_SIZE, backValue(request.seq));
                expect(GrantStatus.OKAY, ops.unmap(handle), request);
            }
            else
            {
                expectRefusal(handle, request);
            }
        }
        else
        {
            local.setMemory(0, FRAME_SIZE, backValue(request.seq));
            batch.clear().addToGrant(localGfn, 0, request.domid, request.ref, 0, FRAME_SIZE);
            ops.copy(batch);
            if (GrantStatus.OKAY != batch.status(0))
            {
                expectRefusal(batch.status(0), request);
            }
        }
        request.done = true;
    }

    /**
     * A back end may lose the race with revocation (bad_gntref), find the granter dead (bad_domain), or find the
     * reference re-granted read-only to it (permission_denied); nothing else.
     */
    private void expectRefusal(final int status, final Request request)
    {
        if (GrantStatus.BAD_GNTREF != status && GrantStatus.BAD_DOMAIN != status &&
            GrantStatus.PERMISSION_DENIED != status)
        {
            errors.add("unexpected " + GrantStatus.name(status) + " for " + request);
        }
    }

    private void expect(final int expected, final int status, final Request request)
    {
        if (expected != status)
        {
            errors.add("expected " + GrantStatus.name(expected) + " got " + GrantStatus.name(status) + " for " +
                request);
        }
    }

    private static void sleepNs(final long ns) throws InterruptedException
    {
        TimeUnit.NANOSECONDS.sleep(ns);
    }

    /**
     * Front ends write values below 0x80, back ends values from 0x80 up. A held mapping may see back-end writes (its
     * reference may have been revoked and re-granted writable, and another back end may write it), but no byte may
     * become a front-end value it did not hold when mapped: the front end writes only after a successful end of
     * access.
     */
    private static boolean frontUntouched(final UnsafeBuffer frame, final byte[] snapshot)
    {
        for (int i = 0; i < FRAME_SIZE; i++)
        {
            final byte value = frame.getByte(i);
            if (value >= 0 && value != snapshot[i])
            {
                return false;
            }
        }
        return true;
    }

    private static byte pattern(final long seq)
    {
        return (byte)((seq * 31 + 7) & 0x7F);
    }

    private static byte backValue(final long seq)
    {
        return (byte)(0x80 | (seq & 0x7F));
    }

    private static final class Request
    {
        final int domid;
        final int ref;
        final long gfn;
        final long seq;
        final boolean readOnly;
        volatile boolean done;

        Request(final int domid, final int ref, final long gfn, final long seq, final boolean readOnly)
        {
            this.domid = domid;
            this.ref = ref;
            this.gfn = gfn;
            this.seq = seq;
            this.readOnly = readOnly;
        }

        @Override
        public String toString()
        {
            return "Request{domid=" + domid + ", ref=" + ref + ", gfn=" + gfn + ", seq=" + seq + ", readOnly=" +
                readOnly + '}';
        }
    }

    private final class Front
    {
        final Domain domain;
        final GrantTable table;
        final SplittableRandom random;
        final Thread thread;
        final List<Long> freeGfns = new ArrayList<>();
        final List<Request> outstanding = new ArrayList<>();
        final byte[] scribbles = new byte[FRAMES_PER_FRONT];
        final boolean[] scribbled = new boolean[FRAMES_PER_FRONT];
        final UnsafeBuffer frame = new UnsafeBuffer(0, 0);
        volatile boolean stop;
        long seq;
        int issued;

        Front(final Domain domain, final long seed)
        {
            this.domain = domain;
            this.table = domain.grantTable();
            this.random = new SplittableRandom(seed);
            this.thread = new Thread(this::run, "front-" + domain.id());
            for (long gfn = 0; gfn < FRAMES_PER_FRONT; gfn++)
            {
                freeGfns.add(gfn);
            }
        }

        void run()
        {
            try
            {
                while (!stop)
                {
                    if (!freeGfns.isEmpty() && outstanding.size() < FRAMES_PER_FRONT - 2)
                    {
                        issue();
                    }
                    revokeSome();
                }
            }
            catch (final RuntimeException | AssertionError ex)
            {
                errors.add("front " + domain.id() + ": " + ex);
            }
        }

        void issue()
        {
            final long gfn = freeGfns.remove(random.nextInt(freeGfns.size()));
            domain.wrapGuestFrame(gfn, frame);
            if (scribbled[(int)gfn] && !GrantFixture.allBytes(frame, 0, FRAME_SIZE, scribbles[(int)gfn]))
            {
                errors.add("frame written after its grant was revoked: domain=" + domain.id() + " gfn=" + gfn);
            }
            final long seq = ++this.seq;
            frame.setMemory(0, FRAME_SIZE, pattern(seq));
            final boolean readOnly = random.nextBoolean();
            final int ref = table.grantAccess(DomainId.DOM0, gfn, readOnly);
            if (ref < 0)
            {
                errors.add("grantAccess refused: " + GrantStatus.name(ref));
                freeGfns.add(gfn);
                return;
            }
            final Request request = new Request(domain.id(), ref, gfn, seq, readOnly);
            outstanding.add(request);
            requests.add(request);
            issued++;
        }

        void revokeSome()
        {
            for (final Iterator<Request> it = outstanding.iterator(); it.hasNext(); )
            {
                final Request request = it.next();
                if ((request.done || 0 == random.nextInt(3)) && table.endAccess(request.ref))
                {
                    it.remove();
                    released(request);
                }
            }
        }

        void released(final Request request)
        {
            domain.wrapGuestFrame(request.gfn, frame);
            if (request.readOnly && !GrantFixture.allBytes(frame, 0, FRAME_SIZE, pattern(request.seq)))
            {
                errors.add("read-only grant was written: " + request);
            }
            final byte scribble = (byte)random.nextInt(0x80);
            frame.setMemory(0, FRAME_SIZE, scribble);
            scribbles[(int)request.gfn] = scribble;
            scribbled[(int)request.gfn] = true;
            freeGfns.add(request.gfn);
        }

        void endAll()
        {
            for (final Request request : outstanding)
            {
                assertTrue(table.endAccess(request.ref), "no back end holds " + request);
                released(request);
            }
            outstanding.clear();
        }
    }
}
