package io.pvio.ring;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;

import org.agrona.BufferUtil;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Pins the memory-ordering protocol: which accessor each operation uses on which shared index, and in what order,
 * by recording every index access made through a proxy of {@link AtomicBuffer}.
 */
class RingOrderingTest
{
    private static final RingGeometry GEOMETRY = RingGeometry.ofPages(1, 64, 64);

    private final UnsafeBuffer target = new UnsafeBuffer(BufferUtil.allocateDirectAligned(4096, 64));
    private final List<String> calls = new ArrayList<>();
    private final AtomicBuffer recording = (AtomicBuffer)Proxy.newProxyInstance(
        AtomicBuffer.class.getClassLoader(),
        new Class<?>[] { AtomicBuffer.class },
        (proxy, method, args) ->
        {
            final String name = method.getName();
            if ((name.startsWith("getInt") || name.startsWith("putInt") || name.startsWith("getLong")) &&
                null != args && (int)args[0] < SharedRingDescriptor.HEADER_LENGTH)
            {
                calls.add(name + "(" + field((int)args[0]) + ")");
            }
            else if (name.startsWith("getLong") || name.startsWith("putBytes") || name.startsWith("getBytes"))
            {
                calls.add(name + "(entry)");
            }
            try
            {
                return method.invoke(target, args);
            }
            catch (final InvocationTargetException ex)
            {
                throw ex.getCause();
            }
        });

    private static String field(final int offset)
    {
        switch (offset)
        {
            case SharedRingDescriptor.REQ_PROD_OFFSET:
                return "req_prod";
            case SharedRingDescriptor.REQ_EVENT_OFFSET:
                return "req_event";
            case SharedRingDescriptor.RSP_PROD_OFFSET:
                return "rsp_prod";
            case SharedRingDescriptor.RSP_EVENT_OFFSET:
                return "rsp_event";
            default:
                return "header+" + offset;
        }
    }

    @Test
    void shouldPublishRequestsWithReleaseAndCheckNotifyBehindVolatilePair()
    {
        final FrontRing front = FrontRing.init(recording, GEOMETRY);
        calls.clear();

        front.claimRequest();
        front.pushRequests();
        assertEquals(List.of("putIntRelease(req_prod)"), calls);

        calls.clear();
        front.claimRequest();
        front.pushRequestsAndCheckNotify();
        assertEquals(List.of("putIntVolatile(req_prod)", "getIntVolatile(req_event)"), calls,
            "the event index is read after req_prod is stored, with a full fence between (mb)");
    }

    @Test
    void shouldReadRequestProducerWithAcquireBeforeEntries()
    {
        final FrontRing front = FrontRing.init(target, GEOMETRY);
        final BackRing back = BackRing.attach(recording, GEOMETRY);
        target.putLong(front.claimRequest(), 42);
        front.pushRequests();
        calls.clear();

        back.readRequests((buffer, offset) -> ((AtomicBuffer)buffer).getLong(offset), 1);
        assertEquals(List.of("getIntAcquire(req_prod)", "getLong(entry)"), calls, "rmb between index and entries");
    }

    @Test
    void shouldArmEventIndexBeforeRereadingProducerInFinalCheck()
    {
        FrontRing.init(target, GEOMETRY);
        final BackRing back = BackRing.attach(recording, GEOMETRY);
        calls.clear();

        back.finalCheckForRequests();
        assertEquals(
            List.of("getIntAcquire(req_prod)", "putIntVolatile(req_event)", "getIntVolatile(req_prod)"), calls);
    }

    @Test
    void shouldPublishResponsesWithReleaseAndCheckNotifyBehindVolatilePair()
    {
        final FrontRing front = FrontRing.init(target, GEOMETRY);
        front.claimRequest();
        front.claimRequest();
        front.pushRequests();
        final BackRing back = BackRing.attach(recording, GEOMETRY);
        back.readRequests((buffer, offset) -> {}, 2);
        calls.clear();

        back.claimResponse();
        back.pushResponses();
        back.claimResponse();
        back.pushResponsesAndCheckNotify();
        assertEquals(
            List.of("putIntRelease(rsp_prod)", "putIntVolatile(rsp_prod)", "getIntVolatile(rsp_event)"), calls);
    }

    @Test
    void shouldArmResponseEventBeforeRereadingResponseProducer()
    {
        final FrontRing front = FrontRing.init(recording, GEOMETRY);
        calls.clear();

        front.finalCheckForResponses();
        assertEquals(
            List.of("getIntAcquire(rsp_prod)", "putIntVolatile(rsp_event)", "getIntVolatile(rsp_prod)"), calls);
    }
}
