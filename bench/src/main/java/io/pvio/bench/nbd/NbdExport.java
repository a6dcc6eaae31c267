package io.pvio.bench.nbd;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.pvio.frontend.block.BlockFront;
import io.pvio.hypervisor.sched.Vcpu;
import io.pvio.hypervisor.sched.VcpuTask;
import org.jctools.queues.MpscArrayQueue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A guest's disk exported over NBD (fixed newstyle) on a loopback TCP port: a Netty server decodes each request on its
 * event loop and hands it to an application on the guest's vCPU 0, which submits it to the guest's blkfront, so every
 * NBD request travels blkfront, the ring, blkback and the image; the completion, on the guest's event loop, hands the
 * reply back to the connection, which writes a batch of replies with one flush.
 * <p>
 * The network side stands for the guest's NIC and TCP stack, which pvio does not model here: its threads are host
 * threads, outside the scheduler's accounting, as blkback's I/O workers are.
 * <p>
 * <b>Trust.</b> A client is outside the trust boundary: malformed negotiation or a request that cannot be framed (bad
 * magic, a write longer than {@link #MAX_REQUEST_BYTES}) closes that connection and is counted; a well-framed but
 * invalid request (unaligned, out of range, unknown command or flag, a write to a read-only export) gets an error
 * reply naming what was wrong and the connection goes on. No other connection is touched.
 */
public final class NbdExport implements AutoCloseable
{
    /** The largest READ or WRITE served (the maximum block size announced); 32 MiB as nbdkit's default. */
    public static final int MAX_REQUEST_BYTES = 32 << 20;
    /** Requests in flight per connection before the connection stops reading (back-pressure). */
    public static final int MAX_IN_FLIGHT = 128;
    /** Most connections at once. */
    public static final int MAX_CONNECTIONS = 16;
    private static final long CLOSE_WAIT_MILLIS = 10_000;

    private final BlockFront front;
    private final String name;
    private final String description;
    private final boolean readOnly;
    private final EventLoopGroup group;
    private final Channel server;
    private final Vcpu vcpu;
    private final MpscArrayQueue<NbdRequest> submissions;
    private final ExportTask task;
    final ChannelGroup channels;
    final AtomicLong connections = new AtomicLong();
    final AtomicLong openConnections = new AtomicLong();
    final AtomicLong requests = new AtomicLong();
    final AtomicLong errors = new AtomicLong();
    final AtomicLong cutOff = new AtomicLong();
    final AtomicLong inFlight = new AtomicLong();

    private NbdExport(
        final BlockFront front, final Vcpu vcpu, final String name, final String description, final boolean readOnly,
        final InetAddress address, final int port) throws InterruptedException
    {
        this.front = front;
        this.vcpu = vcpu;
        this.name = name;
        this.description = description;
        this.readOnly = readOnly || front.isReadOnly();
        this.submissions = new MpscArrayQueue<>(MAX_IN_FLIGHT * MAX_CONNECTIONS);
        this.group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        this.channels = new DefaultChannelGroup(group.next());
        Channel bound = null;
        try
        {
            bound = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>()
                {
                    @Override
                    protected void initChannel(final SocketChannel ch)
                    {
                        ch.pipeline().addLast(new NbdConnection(NbdExport.this));
                    }
                })
                .bind(new InetSocketAddress(address, port)).sync().channel();
        }
        finally
        {
            if (null == bound)
            {
                group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            }
        }
        this.server = bound;
        if (null != vcpu)
        {
            task = new ExportTask();
            vcpu.addTask(task);
        }
        else
        {
            task = null;
        }
    }

    /**
     * Exports a connected disk.
     *
     * @param front       the guest's block device.
     * @param vcpu        the guest vCPU the application runs on, or null to submit from the network thread (a machine
     *                    that runs domains on threads of their own).
     * @param name        the export's name (clients may also ask for the default, empty name).
     * @param readOnly    refuse writes even if the disk takes them.
     * @param address     where to listen: a loopback address.
     * @param port        TCP port, 0 for any free one.
     * @return the listening export.
     * @throws IllegalArgumentException if the address is not a loopback address, or the name is too long.
     * @throws IllegalStateException    if the port cannot be bound.
     */
    public static NbdExport start(
        final BlockFront front, final Vcpu vcpu, final String name, final boolean readOnly,
        final InetAddress address, final int port)
    {
        Objects.requireNonNull(front, "front");
        if (!address.isLoopbackAddress())
        {
            throw new IllegalArgumentException("NBD export address " + address.getHostAddress() +
                " is not a loopback address");
        }
        if (name.length() > NbdWire.MAX_STRING_LENGTH)
        {
            throw new IllegalArgumentException("export name of " + name.length() + " characters (at most " +
                NbdWire.MAX_STRING_LENGTH + ")");
        }
        try
        {
            return new NbdExport(front, vcpu, name, "pvio " + front + " through blkfront", readOnly, address, port);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while binding the NBD export", ex);
        }
        catch (final RuntimeException ex)
        {
            throw new IllegalStateException("cannot listen on " + address.getHostAddress() + ":" + port + ": " +
                ex.getMessage(), ex);
        }
    }

    /**
     * The TCP port the export listens on.
     *
     * @return the port.
     */
    public int port()
    {
        return ((InetSocketAddress)server.localAddress()).getPort();
    }

    /**
     * The export's name.
     *
     * @return the name.
     */
    public String name()
    {
        return name;
    }

    /**
     * Whether writes are refused.
     *
     * @return true if read-only.
     */
    public boolean isReadOnly()
    {
        return readOnly;
    }

    /**
     * Connections accepted so far.
     *
     * @return the count.
     */
    public long connections()
    {
        return connections.get();
    }

    /**
     * Connections open now.
     *
     * @return the count.
     */
    public long openConnections()
    {
        return openConnections.get();
    }

    /**
     * Transmission requests answered so far.
     *
     * @return the count.
     */
    public long requests()
    {
        return requests.get();
    }

    /**
     * Requests answered with an error.
     *
     * @return the count.
     */
    public long errors()
    {
        return errors.get();
    }

    /**
     * Connections closed for a protocol violation.
     *
     * @return the count.
     */
    public long cutOff()
    {
        return cutOff.get();
    }

    BlockFront front()
    {
        return front;
    }

    String description()
    {
        return description;
    }

    long size()
    {
        return front.sectors() * front.sectorSize();
    }

    /** On the network thread: a decoded request goes to the guest's application. */
    void hand(final NbdRequest request)
    {
        inFlight.incrementAndGet();
        if (null == vcpu)
        {
            request.submit();
            return;
        }
        if (!submissions.offer(request))
        {
            throw new IllegalStateException("NBD submission queue full: more than " + submissions.capacity() +
                " requests in flight");
        }
        vcpu.wake(); // the offer before the wake: the pass it causes polls the request
    }

    /** Stops listening, closes every connection and waits (bounded) for the requests in flight. Idempotent. */
    @Override
    public void close()
    {
        server.close().awaitUninterruptibly();
        channels.close().awaitUninterruptibly();
        // the requests in flight complete on the guest and release their buffers on the (still running) event loop
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(CLOSE_WAIT_MILLIS);
        while (inFlight.get() > 0 && System.nanoTime() - deadline < 0)
        {
            Thread.onSpinWait();
        }
        group.shutdownGracefully(0, CLOSE_WAIT_MILLIS, TimeUnit.MILLISECONDS).awaitUninterruptibly();
        if (null != task)
        {
            vcpu.removeTask(task);
        }
    }

    @Override
    public String toString()
    {
        return "NBD export '" + name + "' of " + front + " on 127.0.0.1:" + port();
    }

    /** The guest's application: takes decoded requests and submits them to blkfront, on the guest's vCPU. */
    private final class ExportTask implements VcpuTask
    {
        @Override
        public int doWork()
        {
            int work = 0;
            NbdRequest request;
            while (null != (request = submissions.poll()))
            {
                request.submit();
                work++;
            }
            return work;
        }

        @Override
        public boolean prepareToBlock()
        {
            // a request offered before this read is seen; one offered after comes with a wake (see hand)
            return !submissions.isEmpty();
        }

        @Override
        public String roleName()
        {
            return "nbd-export-" + name;
        }
    }
}
