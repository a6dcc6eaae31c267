package io.pvio.hypervisor.xenstore;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

import org.agrona.BufferUtil;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static io.pvio.hypervisor.xenstore.XenStoreRingDescriptor.REQ_CONS_OFFSET;
import static io.pvio.hypervisor.xenstore.XenStoreRingDescriptor.REQ_PROD_OFFSET;
import static io.pvio.hypervisor.xenstore.XenStoreRingDescriptor.RSP_CONS_OFFSET;
import static io.pvio.hypervisor.xenstore.XenStoreRingDescriptor.RSP_PROD_OFFSET;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The byte streams of the XenStore ring page on their own: layout, free-running indexes across 2^32, wrap-around
 * of the 1024-byte arrays, hostile indexes, and the order of the shared accesses.
 */
class XenStoreRingTest
{
    private final UnsafeBuffer page = new UnsafeBuffer(BufferUtil.allocateDirectAligned(4096, 64));
    private final UnsafeBuffer source = new UnsafeBuffer(new byte[8192]);
    private final UnsafeBuffer sink = new UnsafeBuffer(new byte[8192]);

    private static byte pattern(final long streamPosition)
    {
        return (byte)(streamPosition * 31 + 7);
    }

    @Test
    void shouldMatchXenstoreDomainInterfaceOffsets()
    {
        assertEquals(0, XenStoreRingDescriptor.REQ_OFFSET);
        assertEquals(1024, XenStoreRingDescriptor.RSP_OFFSET);
        assertEquals(2048, REQ_CONS_OFFSET);
        assertEquals(2052, REQ_PROD_OFFSET);
        assertEquals(2056, RSP_CONS_OFFSET);
        assertEquals(2060, RSP_PROD_OFFSET);
        assertEquals(2064, XenStoreRingDescriptor.SERVER_FEATURES_OFFSET);
        assertEquals(2068, XenStoreRingDescriptor.CONNECTION_OFFSET);
        assertEquals(2072, XenStoreRingDescriptor.ERROR_OFFSET);
        assertEquals(2076, XenStoreRingDescriptor.LENGTH);
    }

    @Test
    void shouldPlaceStreamBytesAndIndexesWhereXenDoes()
    {
        XenStoreRingClient.initialise(page, 1020);
        final XsRingProducer requests = XsRingProducer.requests(page);
        source.putBytes(0, new byte[] { 1, 2, 3, 4, 5, 6 });
        assertEquals(6, requests.write(source, 0, 6));

        final ByteBuffer raw = page.byteBuffer().duplicate().order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(1, raw.get(1020), "byte x of the stream sits at x & 1023");
        assertEquals(4, raw.get(1023));
        assertEquals(5, raw.get(0), "and wraps to the start of req[]");
        assertEquals(6, raw.get(1));
        assertEquals(1026, raw.getInt(2052), "req_prod");
        assertEquals(1020, raw.getInt(2048), "req_cons untouched by the producer");
    }

    @Test
    void shouldRejectPageThatIsTooSmall()
    {
        final UnsafeBuffer small = new UnsafeBuffer(BufferUtil.allocateDirectAligned(2048, 64));
        final IllegalArgumentException ex =
            assertThrows(IllegalArgumentException.class, () -> XsRingProducer.requests(small));
        assertEquals("ring page too small: capacity=2048 (expected: >= 2076)", ex.getMessage());
    }

    @ParameterizedTest
    @ValueSource(ints = { 0, 1000, 0x7FFF_FF00, 0xFFFF_FF00, 0xFFFF_FFFF })
    void shouldStreamBytesAcrossArrayEndAndIndexWrap(final int startIndex)
    {
        XenStoreRingClient.initialise(page, startIndex);
        final XsRingProducer producer = XsRingProducer.requests(page);
        final XsRingConsumer consumer = XsRingConsumer.requests(page);
        final int[] chunks = { 1, 16, 1023, 1024, 7, 500, 333, 1000, 3 };
        long written = 0;
        long read = 0;
        for (int round = 0; round < 20; round++)
        {
            final int chunk = chunks[round % chunks.length];
            for (int i = 0; i < chunk; i++)
            {
                source.putByte(i, pattern(written + i));
            }
            final int count = producer.write(source, 0, chunk);
            assertTrue(count == Math.min(chunk, 1024 - (int)(written - read)), "round " + round);
            written += count;

            final int got = consumer.read(sink, 0, 4096);
            for (int i = 0; i < got; i++)
            {
                assertEquals(pattern(read + i), sink.getByte(i), "stream byte " + (read + i));
            }
            read += got;
            assertEquals(written, read);
        }
        assertEquals(startIndex + (int)written, producer.producerIndex());
        assertEquals(startIndex + (int)read, consumer.consumerIndex());
        assertEquals(startIndex + (int)read, page.getInt(REQ_CONS_OFFSET));
    }

    @Test
    void shouldFillToExactly1024BytesAndNoMore()
    {
        XenStoreRingClient.initialise(page, 0xFFFF_FE00);
        final XsRingProducer producer = XsRingProducer.responses(page);
        final XsRingConsumer consumer = XsRingConsumer.responses(page);
        assertEquals(1024, producer.freeSpace());
        assertEquals(1000, producer.write(source, 0, 1000));
        assertEquals(24, producer.write(source, 0, 1000));
        assertEquals(0, producer.write(source, 0, 1000));
        assertEquals(1024, consumer.available());
        assertEquals(100, consumer.read(sink, 0, 100));
        assertEquals(100, producer.freeSpace());
        assertEquals(924, consumer.read(sink, 0, 4096));
        assertEquals(0, consumer.read(sink, 0, 4096));
    }

    @Test
    void shouldRejectProducerIndexMoreThanRingSizeAhead()
    {
        XenStoreRingClient.initialise(page, 0xFFFF_FFF0);
        final XsRingConsumer consumer = XsRingConsumer.requests(page);
        page.putInt(REQ_PROD_OFFSET, 0xFFFF_FFF0 + 1024);
        assertEquals(1024, consumer.available(), "exactly full is fine");
        page.putInt(REQ_PROD_OFFSET, 0xFFFF_FFF0 + 1025);
        final XenStoreProtocolException ex =
            assertThrows(XenStoreProtocolException.class, () -> consumer.read(sink, 0, 10));
        assertEquals(XenStoreRingDescriptor.ERROR_RING_INDEX, ex.ringError());
        assertEquals("producer index out of range: prod=1009, cons=4294967280 (expected: 0 <= prod - cons <= 1024)",
            ex.getMessage());
        assertEquals(0xFFFF_FFF0, page.getInt(REQ_CONS_OFFSET), "nothing consumed");
    }

    @Test
    void shouldRejectProducerIndexMovingBackwards()
    {
        XenStoreRingClient.initialise(page, 100);
        final XsRingConsumer consumer = XsRingConsumer.requests(page);
        page.putInt(REQ_PROD_OFFSET, 99);
        assertEquals(XenStoreRingDescriptor.ERROR_RING_INDEX,
            assertThrows(XenStoreProtocolException.class, consumer::available).ringError());
    }

    @Test
    void shouldRejectConsumerIndexAheadOfProducer()
    {
        XenStoreRingClient.initialise(page, 0);
        final XsRingProducer producer = XsRingProducer.responses(page);
        page.putInt(RSP_CONS_OFFSET, 1);
        final XenStoreProtocolException ex =
            assertThrows(XenStoreProtocolException.class, () -> producer.write(source, 0, 10));
        assertEquals("consumer index out of range: cons=1, prod=0 (expected: 0 <= prod - cons <= 1024)",
            ex.getMessage());
        assertEquals(0, page.getInt(RSP_PROD_OFFSET), "nothing produced");
    }

    @Test
    void shouldIgnoreWritesByThePeerToOurOwnIndex()
    {
        XenStoreRingClient.initialise(page, 0);
        final XsRingConsumer consumer = XsRingConsumer.requests(page);
        final XsRingProducer producer = XsRingProducer.requests(page);
        producer.write(source, 0, 10);
        page.putInt(REQ_CONS_OFFSET, 5000);
        assertEquals(10, consumer.read(sink, 0, 100), "the consumer keeps its private index");
        assertEquals(10, page.getInt(REQ_CONS_OFFSET));
    }

    @Test
    void shouldPublishWithReleaseAfterDataAndReadWithAcquireBeforeData()
    {
        XenStoreRingClient.initialise(page, 1020);
        final List<String> calls = new ArrayList<>();
        final AtomicBuffer recording = recordingPage(calls);
        final XsRingProducer producer = XsRingProducer.requests(recording);
        final XsRingConsumer consumer = XsRingConsumer.requests(recording);
        calls.clear();

        producer.write(source, 0, 8);
        assertEquals(List.of("getIntAcquire(req_cons)", "putBytes(req)", "putBytes(req)",
            "putIntRelease(req_prod)"), calls);
        calls.clear();

        consumer.read(sink, 0, 8);
        assertEquals(List.of("getIntAcquire(req_prod)", "getBytes(req)", "getBytes(req)",
            "putIntRelease(req_cons)"), calls);
    }

    private AtomicBuffer recordingPage(final List<String> calls)
    {
        return (AtomicBuffer)Proxy.newProxyInstance(
            AtomicBuffer.class.getClassLoader(),
            new Class<?>[] { AtomicBuffer.class },
            (proxy, method, args) ->
            {
                final String name = method.getName();
                if ((name.startsWith("getInt") || name.startsWith("putInt")) && null != args &&
                    (int)args[0] >= REQ_CONS_OFFSET)
                {
                    calls.add(name + "(" + field((int)args[0]) + ")");
                }
                else if ((name.equals("putBytes") || name.equals("getBytes")) && null != args)
                {
                    calls.add(name + ((int)args[0] < XenStoreRingDescriptor.RSP_OFFSET ? "(req)" : "(rsp)"));
                }
                try
                {
                    return method.invoke(page, args);
                }
                catch (final InvocationTargetException ex)
                {
                    throw ex.getCause();
                }
            });
    }

    private static String field(final int offset)
    {
        switch (offset)
        {
            case REQ_CONS_OFFSET:
                return "req_cons";
            case REQ_PROD_OFFSET:
                return "req_prod";
            case RSP_CONS_OFFSET:
                return "rsp_cons";
            case RSP_PROD_OFFSET:
                return "rsp_prod";
            default:
                return Integer.toString(offset);
        }
    }
}
