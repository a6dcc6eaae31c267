package io.pvio.hypervisor.xenstore;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Xen's own {@code xenstore-utils} against a store served on a Unix socket, and hostile clients speaking raw
 * {@code xs_wire} beside a well-behaved one.
 * <p>
 * The tool tests are skipped where the tools are not installed, unless {@code PVIO_REQUIRE_TOOLS=1} (set by CI, which
 * installs them) makes their absence a failure.
 */
class XenStoreSocketServerTest
{
    private static final long TOOL_TIMEOUT_SECONDS = 20;

    @TempDir
    Path directory;

    private final List<String> log = new CopyOnWriteArrayList<>();
    private XenStore store;
    private XenStoreConnection dom0;
    private XenStoreSocketServer server;
    private Path socket;

    @BeforeEach
    void setUp() throws IOException
    {
        store = new XenStore();
        dom0 = store.connect(0);
        socket = directory.resolve("socket");
        server = XenStoreSocketServer.start(store, socket, log::add);
    }

    @AfterEach
    void tearDown()
    {
        server.close();
        assertNull(server.failure(), "the serving thread stopped on an error of its own");
        assertFalse(Files.exists(socket), "close leaves the socket file behind");
        dom0.close();
    }

    @Test
    void socketIsOwnerOnly() throws IOException
    {
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
    }

    @Test
    void xenstoreWriteReadLsAndRm() throws Exception
    {
        requireTools();
        tool("xenstore-write", "/local/domain/7/name", "guest-seven", "/local/domain/7/memory/target", "65536");
        assertEquals("guest-seven", dom0.readString("/local/domain/7/name"));
        assertEquals("65536", dom0.readString("/local/domain/7/memory/target"));

        dom0.write("/vm/uuid", "0b5e9f4c");
        assertEquals("0b5e9f4c\n", tool("xenstore-read", "/vm/uuid"));

        final String listing = tool("xenstore-ls", "/local/domain/7");
        assertTrue(listing.contains("name = \"guest-seven\""), listing);
        assertTrue(listing.contains("memory = \"\""), listing);
        assertTrue(listing.contains(" target = \"65536\""), listing);

        tool("xenstore-rm", "/local/domain/7/memory");
        assertThrows(XenStoreException.class, () -> dom0.read("/local/domain/7/memory/target"));
        assertEquals("guest-seven", dom0.readString("/local/domain/7/name"));

        final ToolResult missing = run("xenstore-read", "/no/such/node");
        assertTrue(missing.exitCode != 0, "reading a missing node succeeds: " + missing.output);
        assertTrue(server.requestsProcessed() >= 6, "requests counted: " + server.requestsProcessed());
        assertTrue(log.isEmpty(), "well-behaved tools were logged as misbehaving: " + log);
    }

    @Test
    void xenstoreChmodSetsPermissionsTheStoreEnforces() throws Exception
    {
        requireTools();
        store.introduceDomain(3);
        store.introduceDomain(4);
        dom0.write("/local/domain/3/device/vbd/51712/state", "1");
        tool("xenstore-chmod", "/local/domain/3/device/vbd/51712/state", "n3", "r4");

        final XsPermissions permissions = dom0.getPermissions("/local/domain/3/device/vbd/51712/state");
        assertEquals(3, permissions.owner());
        assertEquals(XsAccess.NONE, permissions.defaultAccess());
        assertEquals(XsAccess.READ, permissions.accessFor(4));

        try (XenStoreConnection four = store.connect(4); XenStoreConnection five = store.connect(5))
        {
            assertEquals("1", four.readString("/local/domain/3/device/vbd/51712/state"));
            assertThrows(XenStoreException.class, () -> four.write("/local/domain/3/device/vbd/51712/state", "2"));
            assertThrows(XenStoreException.class, () -> five.read("/local/domain/3/device/vbd/51712/state"));
        }
        final String listed = tool("xenstore-ls", "-p", "/local/domain/3/device/vbd/51712");
        assertTrue(listed.contains("n3,r4"), listed);
    }

    @Test
    void xenstoreWatchSeesWritesFromTheStore() throws Exception
    {
        requireTools();
        dom0.write("/local/domain/9/device/vif/0/state", "1");
        final Process watcher = toolProcess("xenstore-watch", "-n", "2", "/local/domain/9/device/vif/0/state");
        try (BufferedReader lines = new BufferedReader(
            new InputStreamReader(watcher.getInputStream(), StandardCharsets.UTF_8)))
        {
            // the first event is the one every new watch fires at once; write only once it has arrived
            assertEquals("/local/domain/9/device/vif/0/state", lines.readLine());
            dom0.write("/local/domain/9/device/vif/0/state", "4");
            assertEquals("/local/domain/9/device/vif/0/state", lines.readLine());
            assertTrue(watcher.waitFor(TOOL_TIMEOUT_SECONDS, TimeUnit.SECONDS), "xenstore-watch -n 2 did not exit");
            assertEquals(0, watcher.exitValue());
        }
        finally
        {
            watcher.destroyForcibly();
        }
        assertTrue(server.watchEventsSent() >= 2, "watch events: " + server.watchEventsSent());
    }

    @Test
    void oversizedMessageGetsE2bigAndOnlyItsConnectionIsClosed() throws Exception
    {
        try (SocketChannel good = connect(); SocketChannel hostile = connect())
        {
            dom0.write("/data/key", "value");
            assertEquals("value", stringOf(exchange(good, XsMessage.of(XsMessageType.READ, 1, 0, "/data/key"))));

            final ByteBuffer header = header(XsMessageType.WRITE.code(), 77, 0, XsWireDescriptor.PAYLOAD_MAX + 1);
            writeFully(hostile, header);
            final XsMessage reply = readMessage(hostile);
            assertEquals(XsMessageType.ERROR, reply.messageType());
            assertEquals(77, reply.reqId());
            assertEquals("E2BIG", stringOf(reply));
            assertEndOfStream(hostile);

            assertEquals("value", stringOf(exchange(good, XsMessage.of(XsMessageType.READ, 2, 0, "/data/key"))));
        }
        awaitLog("connection 2 closed: protocol error, replied E2BIG");
        assertEquals(1, server.closedForProtocolErrors());
    }

    @Test
    void unknownOrServerOnlyTypeGetsEinvalAndClose() throws Exception
    {
        for (final int type : new int[] {999, XsMessageType.WATCH_EVENT.code(), XsMessageType.ERROR.code()})
        {
            try (SocketChannel hostile = connect())
            {
                final ByteBuffer message = header(type, 5, 0, 4);
                message.position(XsWireDescriptor.HEADER_LENGTH);
                message.limit(XsWireDescriptor.HEADER_LENGTH + 4);
                message.put("abc\0".getBytes(StandardCharsets.US_ASCII)).flip();
                writeFully(hostile, message);
                final XsMessage reply = readMessage(hostile);
                assertEquals(XsMessageType.ERROR, reply.messageType(), "type " + type);
                assertEquals("EINVAL", stringOf(reply), "type " + type);
                assertEndOfStream(hostile);
            }
        }
        awaitLog("replied EINVAL and closed: unknown message type: type=999");
        assertEquals(3, server.closedForProtocolErrors());
        try (SocketChannel good = connect())
        {
            final XsMessage reply =
                exchange(good, XsMessage.write(3, 0, "/after", "ok".getBytes(StandardCharsets.US_ASCII)));
            assertEquals(XsMessageType.WRITE, reply.messageType());
            assertEquals("ok", dom0.readString("/after"));
        }
    }

    @Test
    void badArgumentsAreAnOrdinaryErrorAndTheConnectionCarriesOn() throws Exception
    {
        try (SocketChannel client = connect())
        {
            final XsMessage bad = exchange(client, XsMessage.of(XsMessageType.READ, 1, 0, "relative//path"));
            assertEquals(XsMessageType.ERROR, bad.messageType());
            final XsMessage missing = exchange(client, XsMessage.of(XsMessageType.READ, 2, 0, "/absent"));
            assertEquals("ENOENT", stringOf(missing));
            dom0.write("/present", "yes");
            assertEquals("yes", stringOf(exchange(client, XsMessage.of(XsMessageType.READ, 3, 0, "/present"))));
        }
        assertEquals(0, server.closedForProtocolErrors());
    }

    @Test
    void hangUpInTheMiddleOfAMessageIsLoggedAndLeavesNoTrace() throws Exception
    {
        try (SocketChannel hostile = connect())
        {
            final ByteBuffer partial = header(XsMessageType.WATCH.code(), 9, 0, 40);
            partial.limit(XsWireDescriptor.HEADER_LENGTH + 10);
            partial.position(XsWireDescriptor.HEADER_LENGTH);
            partial.put("/watched\0t".getBytes(StandardCharsets.US_ASCII)).flip();
            writeFully(hostile, partial);
        }
        awaitLog("hung up in the middle of a message (26 bytes of it received)");
        awaitOpenConnections(0);
        dom0.write("/watched", "x");
        assertEquals(0, server.watchEventsSent());
    }

    @Test
    void watchesOfAClosedConnectionAreDropped() throws Exception
    {
        try (SocketChannel client = connect())
        {
            assertEquals(XsMessageType.WATCH,
                exchange(client, XsMessage.of(XsMessageType.WATCH, 1, 0, "/w", "tok")).messageType());
            final XsMessage first = readMessage(client);
            assertEquals(XsMessageType.WATCH_EVENT, first.messageType());
            dom0.write("/w/child", "1");
            final XsMessage second = readMessage(client);
            assertEquals("/w/child\0tok\0", new String(second.payload(), StandardCharsets.US_ASCII));
        }
        awaitOpenConnections(0);
        final long sent = server.watchEventsSent();
        dom0.write("/w/child", "2");
        assertEquals(sent, server.watchEventsSent());
    }

    @Test
    void connectionsBeyondTheLimitAreRefusedAndTheRestServed() throws Exception
    {
        server.close();
        server = XenStoreSocketServer.start(store, socket, log::add, 2);
        try (SocketChannel one = connect(); SocketChannel two = connect())
        {
            exchange(one, XsMessage.write(1, 0, "/a", "1".getBytes(StandardCharsets.US_ASCII)));
            exchange(two, XsMessage.write(1, 0, "/b", "2".getBytes(StandardCharsets.US_ASCII)));
            try (SocketChannel three = connect())
            {
                assertEndOfStream(three);
            }
            assertEquals("1", stringOf(exchange(two, XsMessage.of(XsMessageType.READ, 2, 0, "/a"))));
        }
        assertEquals(1, server.refusedConnections());
        awaitLog("connection 3 refused: 2 connections already open");
    }

    @Test
    void staleSocketIsReplacedLiveSocketAndOtherFilesAreRefused() throws Exception
    {
        final IOException live = assertThrows(IOException.class,
            () -> XenStoreSocketServer.start(store, socket, log::add));
        assertTrue(live.getMessage().contains("already listening"), live.getMessage());

        final Path stale = directory.resolve("stale");
        final java.nio.channels.ServerSocketChannel dead =
            java.nio.channels.ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        dead.bind(UnixDomainSocketAddress.of(stale));
        dead.close();
        assertTrue(Files.exists(stale), "closing a bound unix socket removed its file");
        try (XenStoreSocketServer replacement = XenStoreSocketServer.start(store, stale, log::add);
            SocketChannel client = SocketChannel.open(UnixDomainSocketAddress.of(stale)))
        {
            dom0.write("/stale", "served");
            assertEquals("served", stringOf(exchange(client, XsMessage.of(XsMessageType.READ, 1, 0, "/stale"))));
            assertEquals(stale.toAbsolutePath(), replacement.path());
        }

        final Path regular = Files.writeString(directory.resolve("regular"), "not a socket");
        final IOException other = assertThrows(IOException.class,
            () -> XenStoreSocketServer.start(store, regular, log::add));
        assertTrue(other.getMessage().contains("is not a socket"), other.getMessage());
        assertEquals("not a socket", Files.readString(regular));
    }

    @Test
    void closeEndsOpenConnections() throws Exception
    {
        try (SocketChannel client = connect())
        {
            exchange(client, XsMessage.write(1, 0, "/c", "1".getBytes(StandardCharsets.US_ASCII)));
            server.close();
            assertEndOfStream(client);
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // raw xs_wire helpers

    private SocketChannel connect() throws IOException
    {
        return SocketChannel.open(UnixDomainSocketAddress.of(socket));
    }

    private static ByteBuffer header(final int type, final int reqId, final int txId, final int len)
    {
        final ByteBuffer buffer = ByteBuffer.allocate(XsWireDescriptor.HEADER_LENGTH + Math.max(0, Math.min(len,
            XsWireDescriptor.PAYLOAD_MAX))).order(ByteOrder.LITTLE_ENDIAN);
        buffer.putInt(type).putInt(reqId).putInt(txId).putInt(len).flip();
        return buffer;
    }

    private static XsMessage exchange(final SocketChannel channel, final XsMessage request) throws IOException
    {
        final UnsafeBuffer encoded = new UnsafeBuffer(new byte[XsWireDescriptor.MAX_MESSAGE_LENGTH]);
        final int length = request.encode(encoded, 0);
        writeFully(channel, ByteBuffer.wrap(encoded.byteArray(), 0, length));
        XsMessage reply = readMessage(channel);
        while (XsMessageType.WATCH_EVENT == reply.messageType())
        {
            reply = readMessage(channel);
        }
        assertEquals(request.reqId(), reply.reqId(), "reply out of order");
        return reply;
    }

    private static void writeFully(final SocketChannel channel, final ByteBuffer buffer) throws IOException
    {
        while (buffer.hasRemaining())
        {
            channel.write(buffer);
        }
    }

    private static XsMessage readMessage(final SocketChannel channel) throws IOException
    {
        final ByteBuffer head = ByteBuffer.allocate(XsWireDescriptor.HEADER_LENGTH);
        readFully(channel, head);
        final int len = head.order(ByteOrder.LITTLE_ENDIAN).getInt(12);
        final ByteBuffer whole = ByteBuffer.allocate(XsWireDescriptor.HEADER_LENGTH + len);
        whole.put(head.array());
        readFully(channel, whole);
        final UnsafeBuffer view = new UnsafeBuffer(whole.array());
        return XsMessage.decode(view, 0, whole.capacity());
    }

    private static void readFully(final SocketChannel channel, final ByteBuffer buffer) throws IOException
    {
        while (buffer.hasRemaining())
        {
            if (channel.read(buffer) < 0)
            {
                fail("the server closed the connection before a whole reply");
            }
        }
    }

    private static void assertEndOfStream(final SocketChannel channel) throws IOException
    {
        final ByteBuffer rest = ByteBuffer.allocate(64);
        int read;
        try
        {
            read = channel.read(rest);
        }
        catch (final IOException reset)
        {
            read = -1; // a reset is as final as an orderly end
        }
        assertEquals(-1, read, "the server kept the connection open");
    }

    private static String stringOf(final XsMessage message)
    {
        final String text = new String(message.payload(), StandardCharsets.UTF_8);
        return text.endsWith("\0") ? text.substring(0, text.length() - 1) : text;
    }

    private void awaitLog(final String fragment) throws InterruptedException
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline)
        {
            for (final String line : log)
            {
                if (line.contains(fragment))
                {
                    return;
                }
            }
            Thread.sleep(5);
        }
        fail("no log line contains \"" + fragment + "\": " + log);
    }

    private void awaitOpenConnections(final int count) throws InterruptedException
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (server.openConnections() != count && System.nanoTime() < deadline)
        {
            Thread.sleep(5);
        }
        assertEquals(count, server.openConnections());
    }

    // ------------------------------------------------------------------------------------------------------------
    // xenstore-utils

    private static void requireTools()
    {
        final boolean present = Files.isExecutable(Path.of("/usr/bin/xenstore-ls"));
        if (!present && "1".equals(System.getenv("PVIO_REQUIRE_TOOLS")))
        {
            fail("xenstore-utils is not installed and PVIO_REQUIRE_TOOLS=1 (apt-get install xenstore-utils)");
        }
        assumeTrue(present, "needs xenstore-utils (apt-get install xenstore-utils)");
    }

    private Process toolProcess(final String... command) throws IOException
    {
        final ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        final Map<String, String> environment = builder.environment();
        environment.put("XENSTORED_PATH", socket.toString());
        return builder.start();
    }

    private ToolResult run(final String... command) throws IOException, InterruptedException
    {
        final Process process = toolProcess(command);
        final String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(TOOL_TIMEOUT_SECONDS, TimeUnit.SECONDS))
        {
            process.destroyForcibly();
            fail(String.join(" ", command) + " did not finish");
        }
        return new ToolResult(process.exitValue(), output);
    }

    private String tool(final String... command) throws IOException, InterruptedException
    {
        final ToolResult result = run(command);
        assertEquals(0, result.exitCode, String.join(" ", command) + " failed: " + result.output);
        return result.output;
    }

    private record ToolResult(int exitCode, String output)
    {
    }
}
