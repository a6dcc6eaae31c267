package io.pvio.frontend.block;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import io.pvio.ring.blkif.BlkifOp;
import io.pvio.ring.blkif.BlkifStatus;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BlockFrontShadowTest
{
    private static final int CAPACITY = 32;
    private static final int READ = BlkifOp.READ.value();
    private static final int WRITE = BlkifOp.WRITE.value();
    private static final int OKAY = BlkifStatus.OKAY.value();

    private final BlockFrontShadow shadow = new BlockFrontShadow(CAPACITY);
    private final List<String> completions = new ArrayList<>();
    private final BlockFrontShadow.CompletionHandler recorder =
        (slot, status) -> completions.add(slot.id() + ":" + slot.cookie() + ":" + status);

    private int submit(final BlkifOp operation, final long cookie)
    {
        final int id = shadow.acquire();
        shadow.slot(id).operation(operation).sectorNumber(cookie * 8).segmentCount(1).addGrantRef(100 + id)
            .cookie(cookie).completion(recorder);
        return id;
    }

    private List<Integer> inFlightIds()
    {
        final List<Integer> ids = new ArrayList<>();
        shadow.forEachInFlight(slot -> ids.add(slot.id()));
        return ids;
    }

    @Test
    void shouldHandOutEveryIdOnceThenNoIdWhenAllInFlight()
    {
        final boolean[] seen = new boolean[CAPACITY];
        for (int i = 0; i < CAPACITY; i++)
        {
            final int id = shadow.acquire();
            assertTrue(id >= 0 && id < CAPACITY, "id " + id);
            assertFalse(seen[id], "id handed out twice: " + id);
            seen[id] = true;
        }
        assertEquals(CAPACITY, shadow.inFlight());
        assertEquals(BlockFrontShadow.NO_ID, shadow.acquire());
        assertEquals(CAPACITY, shadow.inFlight());
    }

    @Test
    void shouldFreeIdAndCallHandlerWhenResponseMatches()
    {
        final int id = submit(BlkifOp.READ, 7);
        final long[] seen = new long[4];
        shadow.slot(id).completion((slot, status) ->
        {
            seen[0] = slot.sectorNumber();
            seen[1] = slot.grantRef(0);
            seen[2] = slot.cookie();
            seen[3] = status;
        });

        assertEquals(ResponseVerdict.OK, shadow.complete(id, READ, OKAY));

        assertEquals(56, seen[0]);
        assertEquals(100 + id, seen[1]);
        assertEquals(7, seen[2]);
        assertEquals(OKAY, seen[3]);
        assertEquals(0, shadow.inFlight());
        assertFalse(shadow.isInFlight(id));
        for (int i = 0; i < CAPACITY; i++)
        {
            assertNotEquals(BlockFrontShadow.NO_ID, shadow.acquire());
        }
    }

    @Test
    void shouldRejectDuplicateResponseWhenIdAlreadyCompleted()
    {
        final int id = submit(BlkifOp.WRITE, 1);
        submit(BlkifOp.READ, 2);
        assertEquals(ResponseVerdict.OK, shadow.complete(id, WRITE, OKAY));

        assertEquals(ResponseVerdict.NOT_IN_FLIGHT, shadow.complete(id, WRITE, OKAY));

        assertEquals(List.of(id + ":1:0"), completions);
        assertEquals(1, shadow.inFlight());
    }

    @Test
    void shouldRejectDuplicateResponseWhenSentFromInsideHandler()
    {
        final int id = submit(BlkifOp.READ, 1);
        final ResponseVerdict[] inner = new ResponseVerdict[1];
        shadow.slot(id).completion((slot, status) -> inner[0] = shadow.complete(slot.id(), READ, OKAY));

        assertEquals(ResponseVerdict.OK, shadow.complete(id, READ, OKAY));

        assertEquals(ResponseVerdict.NOT_IN_FLIGHT, inner[0]);
        assertEquals(0, shadow.inFlight());
        assertEquals(CAPACITY, countAcquirable());
    }

    @Test
    void shouldRejectResponseWhenIdNeverAcquired()
    {
        final int id = submit(BlkifOp.READ, 1);

        assertEquals(ResponseVerdict.NOT_IN_FLIGHT, shadow.complete((id + 1) % CAPACITY, READ, OKAY));
        assertEquals(1, shadow.inFlight());
    }

    @Test
    void shouldRejectUnknownIdWhenOutOfRangeAsUnsigned64()
    {
        for (int i = 0; i < CAPACITY; i++)
        {
            submit(BlkifOp.READ, i);
        }
        final long[] hostileIds = {-1L, Long.MIN_VALUE, -CAPACITY, CAPACITY, CAPACITY + 1L, Long.MAX_VALUE,
            0xFFFF_FFFFL, 1L << 32, (1L << 32) + 1};
        for (final long hostileId : hostileIds)
        {
            assertEquals(ResponseVerdict.UNKNOWN_ID, shadow.complete(hostileId, READ, OKAY), "id " + hostileId);
            assertFalse(shadow.isInFlight(hostileId));
        }
        assertEquals(CAPACITY, shadow.inFlight());
        assertTrue(completions.isEmpty());
        assertEquals("response id out of range: id 18446744073709551615 not below ring size 32",
            shadow.describe(ResponseVerdict.UNKNOWN_ID, -1L, READ));
    }

    @Test
    void shouldRejectAndKeepStateWhenOperationMismatch()
    {
        final int first = submit(BlkifOp.READ, 1);
        final int second = submit(BlkifOp.WRITE, 2);

        assertEquals(ResponseVerdict.OPERATION_MISMATCH, shadow.complete(first, WRITE, OKAY));
        assertEquals(ResponseVerdict.OPERATION_MISMATCH, shadow.complete(first, 256 + READ, OKAY));
        assertEquals(ResponseVerdict.OPERATION_MISMATCH, shadow.complete(second, BlkifOp.INDIRECT.value(), OKAY));

        assertEquals(2, shadow.inFlight());
        assertEquals(List.of(first, second), inFlightIds());
        assertEquals(READ, shadow.slot(first).operation());
        assertEquals(1, shadow.slot(first).cookie());
        assertTrue(completions.isEmpty());
        assertEquals("response operation does not match request: id " + first +
            " operation 1 but request was sent with operation 0",
            shadow.describe(ResponseVerdict.OPERATION_MISMATCH, first, WRITE));
        assertEquals(ResponseVerdict.OK, shadow.complete(first, READ, OKAY));
    }

    @Test
    void shouldAcceptIndirectOrInnerOperationWhenRequestIndirect()
    {
        final int id = shadow.acquire();
        shadow.slot(id).indirect(BlkifOp.WRITE).segmentCount(300).addGrantRef(9).addGrantRef(10);
        final int other = shadow.acquire();
        shadow.slot(other).indirect(BlkifOp.READ);

        assertEquals(ResponseVerdict.OPERATION_MISMATCH, shadow.complete(id, READ, OKAY));
        assertEquals(ResponseVerdict.OK, shadow.complete(id, WRITE, OKAY));
        assertEquals(ResponseVerdict.OK, shadow.complete(other, BlkifOp.INDIRECT.value(), OKAY));
        assertThrows(IllegalArgumentException.class, () -> shadow.slot(shadow.acquire()).indirect(BlkifOp.DISCARD));
    }

    @Test
    void shouldVisitInSubmissionOrderWhenReissuing()
    {
        final int a = submit(BlkifOp.READ, 1);
        final int b = submit(BlkifOp.WRITE, 2);
        final int c = submit(BlkifOp.READ, 3);
        final int d = submit(BlkifOp.WRITE, 4);
        assertEquals(ResponseVerdict.OK, shadow.complete(b, WRITE, OKAY));
        final int e = submit(BlkifOp.READ, 5);
        assertEquals(ResponseVerdict.OK, shadow.complete(a, READ, OKAY));

        final List<Long> cookies = new ArrayList<>();
        assertEquals(3, shadow.forEachInFlight(slot -> cookies.add(slot.cookie())));

        assertEquals(List.of(3L, 4L, 5L), cookies);
        assertEquals(List.of(c, d, e), inFlightIds());
    }

    @Test
    void shouldFailEveryRequestInOrderWhenDeviceBroken()
    {
        for (int i = 0; i < 5; i++)
        {
            submit(BlkifOp.READ, i);
        }
        final int error = BlkifStatus.ERROR.value();

        assertEquals(5, shadow.failAll(error));

        assertEquals(5, completions.size());
        for (int i = 0; i < 5; i++)
        {
            assertTrue(completions.get(i).endsWith(":" + i + ":-1"), completions.get(i));
        }
        assertEquals(0, shadow.inFlight());
        assertTrue(inFlightIds().isEmpty());
        assertEquals(0, shadow.failAll(error));
        assertEquals(CAPACITY, countAcquirable());
    }

    @Test
    void shouldClearSlotWhenIdReused()
    {
        final int id = submit(BlkifOp.WRITE, 42);
        assertEquals(ResponseVerdict.OK, shadow.complete(id, WRITE, OKAY));
        int again = shadow.acquire();
        while (again != id)
        {
            again = shadow.acquire();
        }
        final BlockFrontShadow.Slot slot = shadow.slot(id);

        assertEquals(-1, slot.operation());
        assertEquals(0, slot.cookie());
        assertEquals(0, slot.grantRefCount());
        assertEquals(null, slot.completion());
        assertThrows(IndexOutOfBoundsException.class, () -> slot.grantRef(0));
    }

    @Test
    void shouldRejectBadArgumentsWhenConstructingOrFilling()
    {
        assertThrows(IllegalArgumentException.class, () -> new BlockFrontShadow(0));
        assertThrows(IllegalArgumentException.class, () -> new BlockFrontShadow(BlockFrontShadow.MAX_CAPACITY + 1));
        assertEquals(512, new BlockFrontShadow(BlockFrontShadow.MAX_CAPACITY).capacity());
        assertThrows(IllegalArgumentException.class, () -> shadow.slot(0));
        final BlockFrontShadow.Slot slot = shadow.slot(shadow.acquire());
        for (int i = 0; i < BlockFrontShadow.MAX_GRANT_REFS; i++)
        {
            slot.addGrantRef(i);
        }
        assertThrows(IllegalStateException.class, () -> slot.addGrantRef(99));
        assertThrows(IllegalArgumentException.class, () -> slot.segmentCount(-1));
    }

    @Test
    void shouldNotAllocateWhenAcquiringAndCompletingInSteadyState()
    {
        final BlockFrontShadow.CompletionHandler handler = (slot, status) -> {};
        final BlockFrontShadow.InFlightConsumer consumer = slot -> {};
        final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        assertTrue(threads.isThreadAllocatedMemorySupported() && threads.isThreadAllocatedMemoryEnabled(),
            "this JVM cannot count allocated bytes per thread");
        final long threadId = Thread.currentThread().getId();
        for (int i = 0; i < 20; i++)
        {
            steadyState(handler, consumer, 10_000);
        }

        final long probeBefore = threads.getThreadAllocatedBytes(threadId);
        final long probeAfter = threads.getThreadAllocatedBytes(threadId);
        final long before = threads.getThreadAllocatedBytes(threadId);
        steadyState(handler, consumer, 100_000);
        final long after = threads.getThreadAllocatedBytes(threadId);

        assertEquals(0, (after - before) - (probeAfter - probeBefore));
    }

    private void steadyState(
        final BlockFrontShadow.CompletionHandler handler,
        final BlockFrontShadow.InFlightConsumer consumer,
        final int iterations)
    {
        for (int i = 0; i < iterations; i++)
        {
            while (true)
            {
                final int id = shadow.acquire();
                if (id == BlockFrontShadow.NO_ID)
                {
                    break;
                }
                shadow.slot(id).operation(BlkifOp.READ).sectorNumber(i).segmentCount(1).addGrantRef(id)
                    .cookie(i).completion(handler);
            }
            shadow.forEachInFlight(consumer);
            for (int id = 0; id < CAPACITY; id += 2)
            {
                shadow.complete(id, READ, OKAY);
            }
            shadow.complete(-1L, READ, OKAY);
            shadow.complete(1, WRITE, OKAY);
            if ((i & 7) == 0)
            {
                shadow.failAll(BlkifStatus.ERROR.value());
            }
        }
    }

    @Test
    void shouldMatchModelWhenRandomAcquireAndCompleteSequences()
    {
        for (final int capacity : new int[]{1, 3, 32, 512})
        {
            final Random random = new Random(0x5EED_0000L + capacity);
            final BlockFrontShadow table = new BlockFrontShadow(capacity);
            final List<Integer> modelOrder = new ArrayList<>();
            final Map<Integer, Integer> modelOperation = new HashMap<>();
            for (int step = 0; step < 20_000; step++)
            {
                final int action = random.nextInt(10);
                if (action < 4)
                {
                    final int id = table.acquire();
                    if (modelOrder.size() == capacity)
                    {
                        assertEquals(BlockFrontShadow.NO_ID, id, "step " + step);
                        continue;
                    }
                    assertTrue(id >= 0 && id < capacity && !modelOperation.containsKey(id), "step " + step);
                    final BlkifOp operation = random.nextBoolean() ? BlkifOp.READ : BlkifOp.WRITE;
                    table.slot(id).operation(operation).cookie(step);
                    modelOrder.add(id);
                    modelOperation.put(id, (int)operation.value());
                }
                else if (action < 8)
                {
                    final long responseId = action < 7 && !modelOrder.isEmpty() ?
                        modelOrder.get(random.nextInt(modelOrder.size())) :
                        random.nextInt(capacity + 2) - 1L;
                    final int operation = random.nextInt(8) == 0 ? random.nextInt(256) : random.nextInt(2);
                    final ResponseVerdict expected;
                    if (responseId < 0 || responseId >= capacity)
                    {
                        expected = ResponseVerdict.UNKNOWN_ID;
                    }
                    else if (!modelOperation.containsKey((int)responseId))
                    {
                        expected = ResponseVerdict.NOT_IN_FLIGHT;
                    }
                    else if (modelOperation.get((int)responseId) != operation)
                    {
                        expected = ResponseVerdict.OPERATION_MISMATCH;
                    }
                    else
                    {
                        expected = ResponseVerdict.OK;
                        modelOrder.remove(Integer.valueOf((int)responseId));
                        modelOperation.remove((int)responseId);
                    }
                    assertEquals(expected, table.complete(responseId, operation, OKAY), "step " + step);
                }
                else if (action < 9)
                {
                    final long hostile = random.nextLong() | Long.MIN_VALUE;
                    assertEquals(ResponseVerdict.UNKNOWN_ID, table.complete(hostile, READ, OKAY), "step " + step);
                }
                else if (random.nextInt(50) == 0)
                {
                    assertEquals(modelOrder.size(), table.failAll(BlkifStatus.ERROR.value()));
                    modelOrder.clear();
                    modelOperation.clear();
                }
                assertEquals(modelOrder.size(), table.inFlight(), "step " + step);
            }
            final List<Integer> order = new ArrayList<>();
            table.forEachInFlight(slot -> order.add(slot.id()));
            assertEquals(modelOrder, order, "capacity " + capacity);
        }
    }

    private int countAcquirable()
    {
        int count = 0;
        while (shadow.acquire() != BlockFrontShadow.NO_ID)
        {
            count++;
        }
        return count;
    }
}
