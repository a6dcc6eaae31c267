package io.pvio.hypervisor.xenstore;

import java.nio.charset.StandardCharsets;
import java.util.List;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class XsRequestProcessorTest
{
    private XenStore store;
    private XsRequestProcessor processor;
    private XenStoreConnection dom0;
    private XenStoreConnection guest;
    private int reqId;

    @BeforeEach
    void setUp()
    {
        store = new XenStore();
        processor = new XsRequestProcessor(store);
        dom0 = store.connect(0);
        store.introduceDomain(1);
        guest = store.connect(1);
    }

    private XsMessage call(final XenStoreConnection connection, final XsMessageType type, final int txId,
        final String... strings)
    {
        return call(connection, XsMessage.of(type, ++reqId, txId, strings));
    }

    private XsMessage call(final XenStoreConnection connection, final XsMessage request)
    {
        final XsMessage reply = processor.process(connection, request);
        assertEquals(request.reqId(), reply.reqId(), "req_id echoed");
        assertEquals(request.txId(), reply.txId(), "tx_id echoed");
        if (XsMessageType.ERROR.code() != reply.type())
        {
            assertEquals(request.type(), reply.type(), "type echoed");
        }
        return reply;
    }

    private static void assertOk(final XsMessage reply)
    {
        assertEquals("OK\0", reply.payloadString(), reply.toString());
    }

    private static void assertError(final XsError expected, final XsMessage reply)
    {
        assertEquals(XsMessageType.ERROR.code(), reply.type(), reply.toString());
        assertEquals(expected.wireName() + "\0", reply.payloadString());
        assertEquals(expected, reply.error());
    }

    @Test
    void shouldServeWriteReadDirectoryMkdirAndRm()
    {
        assertOk(call(guest, XsMessage.write(++reqId, 0, "dev/a", "v1".getBytes(StandardCharsets.US_ASCII))));
        assertEquals("v1", call(guest, XsMessageType.READ, 0, "dev/a").payloadString(), "raw, no NUL");
        assertOk(call(guest, XsMessageType.MKDIR, 0, "dev/b"));
        assertEquals("a\0b\0", call(guest, XsMessageType.DIRECTORY, 0, "dev").payloadString());
        assertEquals("", call(guest, XsMessageType.DIRECTORY, 0, "dev/b").payloadString());
        assertOk(call(guest, XsMessageType.RM, 0, "dev"));
        assertError(XsError.ENOENT, call(guest, XsMessageType.READ, 0, "dev/a"));
    }

    @Test
    void shouldWriteEmptyAndBinaryValues()
    {
        assertOk(call(guest, XsMessage.write(++reqId, 0, "empty", new byte[0])));
        assertEquals(0, call(guest, XsMessageType.READ, 0, "empty").payloadLength());
        final byte[] binary = { 0, 0, 7 };
        assertOk(call(guest, XsMessage.write(++reqId, 0, "bin", binary)));
        assertArrayEquals(binary, guest.read("bin"));
    }

    @Test
    void shouldServeGetAndSetPerms()
    {
        guest.write("n", "");
        assertOk(call(guest, XsMessageType.SET_PERMS, 0, "n", "n1", "r0", "b5"));
        assertEquals("n1\0r0\0b5\0", call(guest, XsMessageType.GET_PERMS, 0, "n").payloadString());
        assertError(XsError.EINVAL, call(guest, XsMessageType.SET_PERMS, 0, "n"));
        assertError(XsError.EINVAL, call(guest, XsMessageType.SET_PERMS, 0, "n", "q1"));
        assertError(XsError.EPERM, call(guest, XsMessageType.SET_PERMS, 0, "n", "n2"));
    }

    @Test
    void shouldServeWatchUnwatchAndQueueEvents()
    {
        assertOk(call(guest, XsMessageType.WATCH, 0, "dev", "tok"));
        assertEquals(new WatchEvent("dev", "tok"), guest.pollWatchEvent());
        assertError(XsError.EEXIST, call(guest, XsMessageType.WATCH, 0, "dev", "tok"));
        assertOk(call(guest, XsMessageType.UNWATCH, 0, "dev", "tok"));
        assertError(XsError.ENOENT, call(guest, XsMessageType.UNWATCH, 0, "dev", "tok"));
        assertOk(call(guest, XsMessageType.WATCH, 0, "@releaseDomain", "r"));
        assertOk(call(guest, XsMessageType.RESET_WATCHES, 0, ""));
        assertOk(call(guest, new XsMessage(XsMessageType.RESET_WATCHES.code(), ++reqId, 0, new byte[0])));
        assertEquals(0, store.watchCount(1));
    }

    @Test
    void shouldServeTransactions()
    {
        final XsMessage start = call(guest, XsMessageType.TRANSACTION_START, 0, "");
        final List<String> strings = start.strings();
        assertEquals(1, strings.size());
        final int txId = Integer.parseUnsignedInt(strings.get(0));
        assertOk(call(guest, XsMessage.write(++reqId, txId, "k", "v".getBytes(StandardCharsets.US_ASCII))));
        assertEquals("v", call(guest, XsMessageType.READ, txId, "k").payloadString());
        assertError(XsError.ENOENT, call(guest, XsMessageType.READ, 0, "k"));
        assertOk(call(guest, XsMessageType.TRANSACTION_END, txId, "T"));
        assertEquals("v", guest.readString("k"));
        assertError(XsError.ENOENT, call(guest, XsMessageType.TRANSACTION_END, txId, "F"));
    }

    @Test
    void shouldAnswerEagainOnConflictingCommit()
    {
        guest.write("k", "1");
        final int txId = Integer.parseUnsignedInt(call(guest, XsMessageType.TRANSACTION_START, 0, "").strings().get(0));
        call(guest, XsMessageType.READ, txId, "k");
        dom0.write("/local/domain/1/k", "2");
        assertError(XsError.EAGAIN, call(guest, XsMessageType.TRANSACTION_END, txId, "T"));
    }

    @Test
    void shouldRejectMalformedTransactionRequests()
    {
        final int txId = guest.transactionStart();
        assertError(XsError.EBUSY, call(guest, XsMessageType.TRANSACTION_START, txId, ""));
        assertError(XsError.EINVAL, call(guest, XsMessageType.TRANSACTION_START, 0, "x"));
        assertError(XsError.EINVAL, call(guest, XsMessageType.TRANSACTION_END, txId, "yes"));
        assertError(XsError.EINVAL, call(guest, XsMessageType.TRANSACTION_END, txId));
        assertError(XsError.ENOENT, call(guest, XsMessageType.TRANSACTION_END, 0, "T"));
        assertError(XsError.ENOENT, call(guest, XsMessageType.READ, txId + 1, "k"));
    }

    @Test
    void shouldServeGetDomainPathToAnyDomain()
    {
        assertEquals("/local/domain/7\0", call(guest, XsMessageType.GET_DOMAIN_PATH, 0, "7").payloadString());
        assertError(XsError.EINVAL, call(guest, XsMessageType.GET_DOMAIN_PATH, 0, "07"));
        assertError(XsError.EINVAL, call(guest, XsMessageType.GET_DOMAIN_PATH, 0, "-1"));
        assertError(XsError.EINVAL, call(guest, XsMessageType.GET_DOMAIN_PATH, 0, "x"));
    }

    @Test
    void shouldLetOnlyDomain0IntroduceReleaseAndQuery()
    {
        assertError(XsError.EACCES, call(guest, XsMessageType.INTRODUCE, 0, "5", "4096", "3"));
        assertError(XsError.EACCES, call(guest, XsMessageType.RELEASE, 0, "1"));
        assertError(XsError.EACCES, call(guest, XsMessageType.IS_DOMAIN_INTRODUCED, 0, "1"));

        assertEquals("F\0", call(dom0, XsMessageType.IS_DOMAIN_INTRODUCED, 0, "5").payloadString());
        assertOk(call(dom0, XsMessageType.INTRODUCE, 0, "5", "4096", "3"));
        assertEquals("T\0", call(dom0, XsMessageType.IS_DOMAIN_INTRODUCED, 0, "5").payloadString());
        assertEquals(List.of(), dom0.directory("/local/domain/5"));
        assertOk(call(dom0, XsMessageType.RELEASE, 0, "5"));
        assertFalse(store.isDomainIntroduced(5));
        assertError(XsError.ENOENT, call(dom0, XsMessageType.RELEASE, 0, "5"));
        assertError(XsError.EINVAL, call(dom0, XsMessageType.INTRODUCE, 0, "5", "x", "3"));
        assertError(XsError.EINVAL, call(dom0, XsMessageType.INTRODUCE, 0, "32752", "1", "3"));
        assertError(XsError.EINVAL, call(dom0, XsMessageType.INTRODUCE, 0, "5", "1"));
    }

    @Test
    void shouldAnswerEinvalToUnknownTypesAndServerOnlyTypes()
    {
        assertError(XsError.EINVAL, call(guest, new XsMessage(20, ++reqId, 0, new byte[0])));
        assertError(XsError.EINVAL, call(guest, new XsMessage(0x1234_5678, ++reqId, 0, new byte[0])));
        assertError(XsError.EINVAL, call(guest, XsMessageType.WATCH_EVENT, 0, "/a", "t"));
        assertError(XsError.EINVAL, call(guest, XsMessageType.ERROR, 0, "EINVAL"));
        assertError(XsError.EINVAL, call(guest, XsMessageType.INVALID, 0));
    }

    @Test
    void shouldAnswerEnosysToTypesNotServed()
    {
        assertError(XsError.ENOSYS, call(dom0, XsMessageType.CONTROL, 0, "print", "x"));
        assertError(XsError.ENOSYS, call(dom0, XsMessageType.RESUME, 0, "1"));
        assertError(XsError.ENOSYS, call(dom0, XsMessageType.SET_TARGET, 0, "1", "2"));
        assertError(XsError.ENOSYS, call(dom0, XsMessageType.DIRECTORY_PART, 0, "/", "0"));
    }

    @Test
    void shouldAnswerEinvalToMalformedPayloads()
    {
        final byte[] unterminated = "dev/a".getBytes(StandardCharsets.US_ASCII);
        assertError(XsError.EINVAL, call(guest, new XsMessage(XsMessageType.READ.code(), ++reqId, 0, unterminated)));
        assertError(XsError.EINVAL, call(guest, new XsMessage(XsMessageType.WRITE.code(), ++reqId, 0, unterminated)));
        assertError(XsError.EINVAL, call(guest, XsMessageType.READ, 0));
        assertError(XsError.EINVAL, call(guest, XsMessageType.READ, 0, "a", "b"));
        assertError(XsError.EINVAL, call(guest, XsMessageType.WATCH, 0, "a"));
        assertError(XsError.EINVAL, call(guest, XsMessageType.READ, 0, ""));
        assertError(XsError.EINVAL, call(guest, XsMessageType.READ, 0, "a b"));
        assertError(XsError.EINVAL, call(guest, XsMessageType.READ, 0, "/" + "a".repeat(3072)));
        assertError(XsError.EINVAL, call(guest, XsMessageType.MKDIR, 0, "a".repeat(2049)));
        assertError(XsError.EINVAL, call(guest, XsMessageType.WATCH, 0, "@foo", "t"));
    }

    @Test
    void shouldAnswerE2bigWhenDirectoryListingExceedsPayload()
    {
        final String longName = "n".repeat(1000);
        for (int i = 0; i < 5; i++)
        {
            dom0.write("/big/" + longName + i, "");
        }
        final XsMessage reply = call(dom0, XsMessageType.DIRECTORY, 0, "/big");
        assertError(XsError.E2BIG, reply);
        dom0.rm("/big/" + longName + "4");
        assertTrue(call(dom0, XsMessageType.DIRECTORY, 0, "/big").payloadLength() > 4000);
    }

    @Test
    void shouldAnswerEaccesAndEquotaFromTheStore()
    {
        assertError(XsError.EACCES, call(guest, XsMessageType.READ, 0, "/local/domain"));
        final XenStore small = new XenStore(XenStoreLimits.DEFAULT.withMaxNodesPerDomain(1));
        small.introduceDomain(1);
        final XsMessage reply = new XsRequestProcessor(small).process(small.connect(1), XsMessage.of(
            XsMessageType.MKDIR, 1, 0, "x"));
        assertError(XsError.EQUOTA, reply);
    }
}
