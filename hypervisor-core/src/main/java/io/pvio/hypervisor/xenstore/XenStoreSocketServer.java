package io.pvio.hypervisor.xenstore;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.function.Consumer;

import org.agrona.concurrent.UnsafeBuffer;

/**
 * Serves a {@link XenStore} on a Unix domain socket in the {@code xs_wire} protocol, as {@code xenstored} serves
 * {@code /var/run/xenstored/socket}, so Xen's own tools ({@code xenstore-ls}, {@code -read}, {@code -write},
 * {@code -rm}, {@code -chmod}, {@code -watch} from {@code xenstore-utils}, pointed at the socket with
 * {@code XENSTORED_PATH}) work against the store unchanged.
 * <p>
 * <b>Privilege.</b> The socket is the control domain's: every connection acts as domain 0, as a process that can
 * open xenstored's socket does. The socket file is created owner-only ({@code rw-------}); put it in a directory only
 * its owner can enter to close the moment between bind and chmod.
 * <p>
 * <b>Framing.</b> A message is the 16-byte {@link XsWireDescriptor header} and {@code len} payload bytes; replies
 * carry the request's {@code req_id} and {@code tx_id}, in request order, and watch events ({@code XS_WATCH_EVENT},
 * {@code req_id} 0) are interleaved between replies as they fire.
 * <p>
 * <b>Hostile clients.</b> What arrives on a connection is copied into that connection's private reassembly buffer
 * before it is looked at. A message the server cannot frame or type ends its connection: a {@code len} over
 * {@value XsWireDescriptor#PAYLOAD_MAX} gets an {@link XsError#E2BIG} error reply; an unknown type code, or a type
 * only a server sends ({@code XS_WATCH_EVENT}, {@code XS_ERROR}, {@code XS_INVALID}), gets {@link XsError#EINVAL};
 * then the connection's watches and transactions are dropped and it is closed. A well-framed request with bad
 * arguments (a malformed path, a missing NUL, a wrong permission) is an ordinary error reply and the connection
 * carries on, as with xenstored. A client that stops reading stops being read once
 * {@value #OUTPUT_LIMIT} bytes of replies are queued for it (its watch events wait in its connection's bounded
 * queue); the store and the other connections carry on in every case. Each closing is reported to the log with the
 * connection's number and the reason.
 * <p>
 * <b>Threads.</b> One thread ({@value #THREAD_NAME}) runs a selector over the listening socket and every
 * connection; the store's watch wake-up wakes it. {@link #close()} stops it, closes every connection and removes
 * the socket file.
 */
public final class XenStoreSocketServer implements AutoCloseable
{
    /** Name of the serving thread. */
    public static final String THREAD_NAME = "xenstored-socket";

    /** Reply bytes queued for one connection beyond which the server stops reading that connection's requests. */
    public static final int OUTPUT_LIMIT = 64 * 1024;

    /** Connections served at once by default; more are accepted and closed at once, with a log line. */
    public static final int MAX_CONNECTIONS_DEFAULT = 64;

    /** The domain every socket connection acts as. */
    public static final int DOMAIN_ID = 0;

    private static final int S_IFMT = 0170000;
    private static final int S_IFSOCK = 0140000;
    private static final int INPUT_CAPACITY = 2 * XsWireDescriptor.MAX_MESSAGE_LENGTH;

    private final XenStore store;
    private final Path path;
    private final Consumer<String> log;
    private final int maxConnections;
    private final XsRequestProcessor processor;
    private final ServerSocketChannel listener;
    private final Selector selector;
    private final List<Connection> connections = new ArrayList<>();
    private final Thread thread;
    private volatile boolean running = true;
    private volatile Throwable failure;
    private volatile long accepted;
    private volatile long refused;
    private volatile long closedForProtocolErrors;
    private volatile long requestsProcessed;
    private volatile long watchEventsSent;
    private int nextConnectionNumber = 1;

    private XenStoreSocketServer(
        final XenStore store,
        final Path path,
        final Consumer<String> log,
        final int maxConnections,
        final ServerSocketChannel listener,
        final Selector selector)
    {
        this.store = store;
        this.path = path;
        this.log = log;
        this.maxConnections = maxConnections;
        this.processor = new XsRequestProcessor(store);
        this.listener = listener;
        this.selector = selector;
        this.thread = new Thread(this::serve, THREAD_NAME);
        this.thread.setDaemon(true);
    }

    /**
     * Binds the socket and starts serving, with up to {@value #MAX_CONNECTIONS_DEFAULT} connections.
     *
     * @param store the store to serve.
     * @param path  the socket file to create; its directory must exist.
     * @param log   receives one line per connection closed for a reason other than the client hanging up; called on
     *              the serving thread, must not block.
     * @return the running server.
     * @throws IOException if the socket cannot be bound, the path is taken by a live socket, or exists and is not a
     *                     socket.
     */
    public static XenStoreSocketServer start(final XenStore store, final Path path, final Consumer<String> log)
        throws IOException
    {
        return start(store, path, log, MAX_CONNECTIONS_DEFAULT);
    }

    /**
     * Binds the socket and starts serving.
     *
     * @param store          the store to serve.
     * @param path           the socket file to create; its directory must exist.
     * @param log            receives one line per connection closed for a reason other than the client hanging up;
     *                       called on the serving thread, must not block.
     * @param maxConnections connections served at once, at least 1.
     * @return the running server.
     * @throws IOException if the socket cannot be bound, the path is taken by a live socket, or exists and is not a
     *                     socket.
     * @throws IllegalArgumentException if {@code maxConnections} is less than 1.
     */
    public static XenStoreSocketServer start(
        final XenStore store, final Path path, final Consumer<String> log, final int maxConnections)
        throws IOException
    {
        if (maxConnections < 1)
        {
            throw new IllegalArgumentException("maxConnections must be at least 1: maxConnections=" +
                maxConnections);
        }
        final Path socketPath = path.toAbsolutePath();
        removeStaleSocket(socketPath);
        final ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        Selector selector = null;
        try
        {
            listener.bind(UnixDomainSocketAddress.of(socketPath));
            Files.setPosixFilePermissions(socketPath, PosixFilePermissions.fromString("rw-------"));
            listener.configureBlocking(false);
            selector = Selector.open();
            listener.register(selector, SelectionKey.OP_ACCEPT);
        }
        catch (final IOException | RuntimeException ex)
        {
            listener.close();
            if (null != selector)
            {
                selector.close();
            }
            Files.deleteIfExists(socketPath);
            throw ex;
        }
        final XenStoreSocketServer server =
            new XenStoreSocketServer(store, socketPath, log, maxConnections, listener, selector);
        server.thread.start();
        return server;
    }

    /**
     * A socket left behind by a server that died is removed; a live one, or any other kind of file, is refused.
     */
    private static void removeStaleSocket(final Path path) throws IOException
    {
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS))
        {
            return;
        }
        final int mode = (Integer)Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        if ((mode & S_IFMT) != S_IFSOCK)
        {
            throw new IOException("cannot serve XenStore on " + path + ": the path exists and is not a socket");
        }
        boolean live;
        try (SocketChannel probe = SocketChannel.open(UnixDomainSocketAddress.of(path)))
        {
            live = probe.isConnected();
        }
        catch (final IOException ex)
        {
            live = false;
        }
        if (live)
        {
            throw new IOException("cannot serve XenStore on " + path + ": a server is already listening there");
        }
        Files.deleteIfExists(path);
    }

    /**
     * The socket file.
     *
     * @return its absolute path.
     */
    public Path path()
    {
        return path;
    }

    /**
     * The store served.
     *
     * @return the store.
     */
    public XenStore store()
    {
        return store;
    }

    /**
     * Connections accepted and served since start.
     *
     * @return the count.
     */
    public long acceptedConnections()
    {
        return accepted;
    }

    /**
     * Connections closed at once because {@code maxConnections} were already open.
     *
     * @return the count.
     */
    public long refusedConnections()
    {
        return refused;
    }

    /**
     * Connections closed because they sent a message that could not be framed or typed.
     *
     * @return the count.
     */
    public long closedForProtocolErrors()
    {
        return closedForProtocolErrors;
    }

    /**
     * Requests processed, whatever their outcome.
     *
     * @return the count.
     */
    public long requestsProcessed()
    {
        return requestsProcessed;
    }

    /**
     * Watch events written to connections.
     *
     * @return the count.
     */
    public long watchEventsSent()
    {
        return watchEventsSent;
    }

    /**
     * Connections open now; read it from any thread, an estimate while connections come and go.
     *
     * @return the count.
     */
    public int openConnections()
    {
        synchronized (connections)
        {
            return connections.size();
        }
    }

    /**
     * Whether the serving thread stopped on an error of its own (not a client's).
     *
     * @return the error, or null while it runs or after a clean close.
     */
    public Throwable failure()
    {
        return failure;
    }

    /**
     * Stops serving: closes every connection (dropping their watches and transactions) and the socket, and removes the
     * socket file. Closing twice does nothing.
     */
    @Override
    public void close()
    {
        if (!running)
        {
            return;
        }
        running = false;
        selector.wakeup();
        try
        {
            thread.join();
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
        finally
        {
            try
            {
                Files.deleteIfExists(path);
            }
            catch (final IOException ignore)
            {
                // the directory may be gone already; nothing else refers to the file
            }
        }
    }

    private void serve()
    {
        try
        {
            while (running)
            {
                selector.select();
                final Iterator<SelectionKey> keys = selector.selectedKeys().iterator();
                while (keys.hasNext())
                {
                    final SelectionKey key = keys.next();
                    keys.remove();
                    if (!key.isValid())
                    {
                        continue;
                    }
                    if (key.isAcceptable())
                    {
                        accept();
                    }
                    else
                    {
                        ((Connection)key.attachment()).readable = key.isReadable();
                    }
                }
                final Connection[] current;
                synchronized (connections)
                {
                    current = connections.toArray(new Connection[0]);
                }
                for (final Connection connection : current)
                {
                    connection.service();
                }
            }
        }
        catch (final IOException | RuntimeException ex)
        {
            failure = ex;
            log.accept("xenstore socket " + path + ": server stopped: " + ex);
        }
        finally
        {
            final Connection[] current;
            synchronized (connections)
            {
                current = connections.toArray(new Connection[0]);
            }
            for (final Connection connection : current)
            {
                connection.close(null);
            }
            closeQuietly();
        }
    }

    private void accept() throws IOException
    {
        final SocketChannel channel = listener.accept();
        if (null == channel)
        {
            return;
        }
        final int number = nextConnectionNumber++;
        synchronized (connections)
        {
            if (connections.size() >= maxConnections)
            {
                refused++;
                channel.close();
                log.accept("xenstore socket: connection " + number + " refused: " + maxConnections +
                    " connections already open");
                return;
            }
        }
        channel.configureBlocking(false);
        final Connection connection = new Connection(number, channel, store.connect(DOMAIN_ID, selector::wakeup));
        connection.key = channel.register(selector, SelectionKey.OP_READ, connection);
        synchronized (connections)
        {
            connections.add(connection);
        }
        accepted++;
    }

    private void closeQuietly()
    {
        try
        {
            listener.close();
        }
        catch (final IOException ignore)
        {
            // closing; nothing to recover
        }
        try
        {
            selector.close();
        }
        catch (final IOException ignore)
        {
            // closing; nothing to recover
        }
    }

    /**
     * One client: its private input and output buffers, its frame decoder and its store connection. Used only by the
     * serving thread.
     */
    private final class Connection
    {
        private final int number;
        private final SocketChannel channel;
        private final XenStoreConnection store;
        private final ByteBuffer input = ByteBuffer.allocate(INPUT_CAPACITY);
        private final UnsafeBuffer inputView = new UnsafeBuffer(input);
        private final XsFrameDecoder decoder = new XsFrameDecoder();
        private final ByteBuffer output = ByteBuffer.allocate(OUTPUT_LIMIT + XsWireDescriptor.MAX_MESSAGE_LENGTH);
        private final UnsafeBuffer outputView = new UnsafeBuffer(output);
        private SelectionKey key;
        private boolean readable;
        private boolean endOfInput;
        private String protocolError;
        private boolean closed;

        Connection(final int number, final SocketChannel channel, final XenStoreConnection store)
        {
            this.number = number;
            this.channel = channel;
            this.store = store;
        }

        /**
         * Moves everything that can move: pending output, new input, the requests it completes, watch events.
         */
        void service()
        {
            if (closed)
            {
                return;
            }
            try
            {
                flush();
                if (readable)
                {
                    readable = false;
                    if (channel.read(input) < 0)
                    {
                        endOfInput = true;
                    }
                }
                processInput();
                sendWatchEvents();
                flush();
                if (null != protocolError)
                {
                    // the error reply has been handed to the socket if the client reads at all; it is cut off now
                    close(protocolError);
                    return;
                }
                if (endOfInput && 0 == input.position() && 0 == output.position())
                {
                    close(decoder.position() > 0 ? "hung up in the middle of a message (" + decoder.position() +
                        " bytes of it received)" : null);
                    return;
                }
                final boolean room = output.position() <= OUTPUT_LIMIT;
                key.interestOps((room && !endOfInput ? SelectionKey.OP_READ : 0) |
                    (output.position() > 0 ? SelectionKey.OP_WRITE : 0));
            }
            catch (final IOException ex)
            {
                close("i/o error: " + ex.getMessage());
            }
            catch (final RuntimeException ex)
            {
                close("server failed on this connection: " + ex);
            }
        }

        private void processInput()
        {
            input.flip();
            try
            {
                while (input.hasRemaining() && output.position() <= OUTPUT_LIMIT && null == protocolError)
                {
                    final int taken;
                    try
                    {
                        taken = decoder.offer(inputView, input.position(), input.remaining());
                    }
                    catch (final XenStoreProtocolException ex)
                    {
                        refuse(XsWireDescriptor.reqId(decoder.buffer(), 0), XsWireDescriptor.txId(decoder.buffer(), 0),
                            XsError.E2BIG, ex.getMessage());
                        break;
                    }
                    input.position(input.position() + taken);
                    if (decoder.isComplete())
                    {
                        handle(decoder.take());
                    }
                }
            }
            finally
            {
                input.compact();
            }
        }

        private void handle(final XsMessage request)
        {
            final XsMessageType type = request.messageType();
            if (null == type || type.serverOnly())
            {
                refuse(request.reqId(), request.txId(), XsError.EINVAL, (null == type ? "unknown message type" :
                    "a type only a server sends") + ": type=" + Integer.toUnsignedString(request.type()) +
                    ", reqId=" + Integer.toUnsignedString(request.reqId()));
                return;
            }
            requestsProcessed++;
            queue(processor.process(store, request));
        }

        private void refuse(final int reqId, final int txId, final XsError error, final String reason)
        {
            queue(XsMessage.error(reqId, txId, error));
            protocolError = "protocol error, replied " + error.wireName() + " and closed: " + reason;
            closedForProtocolErrors++;
        }

        private void sendWatchEvents()
        {
            while (null == protocolError && output.position() <= OUTPUT_LIMIT)
            {
                final WatchEvent event = store.pollWatchEvent();
                if (null == event)
                {
                    return;
                }
                queue(XsMessage.watchEvent(event));
                watchEventsSent++;
            }
        }

        private void queue(final XsMessage message)
        {
            final int length = message.encode(outputView, output.position());
            output.position(output.position() + length);
        }

        private void flush() throws IOException
        {
            if (output.position() == 0)
            {
                return;
            }
            output.flip();
            try
            {
                channel.write(output);
            }
            finally
            {
                output.compact();
            }
        }

        /**
         * Closes the socket and the store connection; logs {@code reason} unless it is null (a clean hang-up).
         */
        void close(final String reason)
        {
            if (closed)
            {
                return;
            }
            closed = true;
            synchronized (connections)
            {
                connections.remove(this);
            }
            store.close();
            try
            {
                channel.close();
            }
            catch (final IOException ignore)
            {
                // the peer is gone either way
            }
            if (null != reason)
            {
                log.accept("xenstore socket: connection " + number + " closed: " + reason);
            }
        }
    }
}
