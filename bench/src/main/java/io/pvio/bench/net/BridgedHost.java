package io.pvio.bench.net;

import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import org.agrona.BufferUtil;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.MessageHandler;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;

import io.pvio.backend.net.Bridge;
import io.pvio.backend.net.BridgePort;
import io.pvio.frontend.inet.Ipv4Host;
import io.pvio.frontend.inet.UdpHandler;

/**
 * A host with pvio's {@link Ipv4Host} stack plugged straight into a port of dom0's {@link Bridge}, on a thread of its
 * own: the bridge's deliveries are copied into a bounded queue (full: dropped and counted) and the host's thread
 * takes them from it, so the host's answers enter the bridge from that thread and never from inside a delivery.
 * The host answers ARP and ping, and echoes UDP datagrams on its echo port back to their sender.
 */
public final class BridgedHost implements BridgePort, AutoCloseable
{
    private static final int QUEUE_BYTES = 1 << 20;
    private static final int FRAME_TYPE = 1;

    private final Bridge bridge;
    private final Ipv4Host host;
    private final int portId;
    private final ByteBuffer queueMemory;
    private final ManyToOneRingBuffer inbound;
    private final Thread thread;
    private volatile boolean running = true;
    private volatile long queueDrops;

    private BridgedHost(final Bridge bridge, final long mac, final int ip, final int echoPort, final String name)
    {
        this.bridge = bridge;
        this.queueMemory = ByteBuffer.allocateDirect(QUEUE_BYTES + RingBufferDescriptor.TRAILER_LENGTH);
        this.inbound = new ManyToOneRingBuffer(new UnsafeBuffer(queueMemory));
        final int[] port = new int[1];
        this.host = new Ipv4Host(mac, ip, (frame, offset, length) ->
        {
            bridge.receive(port[0], frame, offset, length, System.nanoTime());
            return true;
        });
        final UdpHandler echo = (h, sourceIp, sourcePort, payload, offset, length) ->
            h.sendUdp(sourceIp, echoPort, sourcePort, payload, offset, length);
        host.bindUdp(echoPort, echo);
        this.portId = bridge.addPort(name, this);
        port[0] = portId;
        this.thread = new Thread(this::run, "pvio-host-" + name);
        thread.setDaemon(true);
        thread.start();
    }

    /**
     * Plugs a host into the bridge and starts its thread.
     *
     * @param bridge   the bridge.
     * @param mac      its MAC address (low 48 bits, unicast).
     * @param ip       its IPv4 address.
     * @param echoPort the UDP port it echoes on.
     * @param name     the bridge port's name.
     * @return the running host.
     */
    public static BridgedHost start(
        final Bridge bridge, final long mac, final int ip, final int echoPort, final String name)
    {
        return new BridgedHost(bridge, mac, ip, echoPort, name);
    }

    @Override
    public void deliver(final DirectBuffer frame, final int offset, final int length)
    {
        if (!inbound.write(FRAME_TYPE, frame, offset, length))
        {
            queueDrops = queueDrops + 1; // only the bridge's caller, under its lock, writes this
        }
    }

    private void run()
    {
        final MessageHandler toHost = (type, buffer, index, length) -> host.receive(buffer, index, length);
        int idle = 0;
        while (running)
        {
            final int read = inbound.read(toHost);
            if (read > 0)
            {
                idle = 0;
            }
            else if (++idle < 100)
            {
                Thread.onSpinWait();
            }
            else
            {
                LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(50));
            }
        }
    }

    /**
     * The stack. Read its counters from any thread (they may be a few frames late); do not drive it.
     *
     * @return the host's stack.
     */
    public Ipv4Host stack()
    {
        return host;
    }

    /**
     * Frames the bridge delivered while the host's queue was full.
     *
     * @return the count.
     */
    public long queueDrops()
    {
        return queueDrops;
    }

    /** Unplugs the host and stops its thread. */
    @Override
    public void close()
    {
        bridge.removePort(portId);
        running = false;
        try
        {
            thread.join(TimeUnit.SECONDS.toMillis(5));
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
        if (!thread.isAlive())
        {
            BufferUtil.free(queueMemory);
        }
    }
}
