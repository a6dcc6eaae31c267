package io.pvio.backend.net;

import java.util.ArrayList;
import java.util.List;

import org.agrona.DirectBuffer;
import org.agrona.collections.Long2LongHashMap;

/**
 * dom0's learning Ethernet bridge: the ports are netback vifs, emulated NICs and the uplink. A frame's source MAC is
 * learned against its ingress port; a frame to a known unicast MAC goes to that port only (or nowhere, if that is the
 * ingress port: no hairpin); a broadcast, multicast or unknown destination is flooded to every other port.
 * <pre>
 * Ethernet header, as read here (network byte order)
 *   0  destination MAC (6)   bit 0 of byte 0 set: group (broadcast or multicast)
 *   6  source MAC (6)        must be unicast
 *  12  EtherType (2)
 *  14  payload
 * </pre>
 * <b>Trust.</b> Frames come from guests: one shorter than a header or longer than {@link #MAX_FRAME_BYTES}, or with a
 * group source MAC, is dropped and counted against its ingress port, and nothing is learned from it. The MAC table is
 * bounded ({@link #MAX_MACS}): once full, new sources are not learned (their replies are flooded) until entries age
 * out after {@code agingNanos}, so a guest that sprays source MACs cannot grow dom0's memory or evict others'.
 * <p>
 * One lock orders forwarding, learning and port changes; the forwarding path allocates nothing.
 */
public final class Bridge
{
    /** Bytes of an Ethernet header. */
    public static final int HEADER_BYTES = 14;
    /** Longest frame forwarded: a 64 KiB GSO frame plus its header, the most a netif request chain can carry. */
    public static final int MAX_FRAME_BYTES = 65_535 + HEADER_BYTES;
    /** Most MAC addresses the table holds. */
    public static final int MAX_MACS = 4096;
    /** Linux's default bridge ageing time, 300 s. */
    public static final long DEFAULT_AGING_NANOS = 300_000_000_000L;

    private static final long NONE = -1;

    private final long agingNanos;
    private final List<Port> ports = new ArrayList<>();
    /** MAC (48 bits) to the id of the port it was learned on; seenAt holds when. */
    private final Long2LongHashMap portOfMac = new Long2LongHashMap(NONE);
    private final Long2LongHashMap seenAt = new Long2LongHashMap(NONE);
    private Port[] portArray = new Port[0];

    /** A bridge whose learned MACs age out after Linux's default of 300 s. */
    public Bridge()
    {
        this(DEFAULT_AGING_NANOS);
    }

    /**
     * A bridge.
     *
     * @param agingNanos how long a learned MAC lives without a frame from it; positive.
     */
    public Bridge(final long agingNanos)
    {
        if (agingNanos <= 0)
        {
            throw new IllegalArgumentException("agingNanos=" + agingNanos + " (expected > 0)");
        }
        this.agingNanos = agingNanos;
    }

    /**
     * Adds a port.
     *
     * @param name   for counters and messages, such as {@code vif1.0}.
     * @param output where frames for the port go.
     * @return the port's id, used with {@link #receive} and {@link #removePort}.
     */
    public synchronized int addPort(final String name, final BridgePort output)
    {
        final Port port = new Port(ports.size(), name, output);
        ports.add(port);
        portArray = ports.toArray(new Port[0]);
        return port.id;
    }

    /**
     * Removes a port (a vif unplugged): it gets no more frames and the MACs learned on it are forgotten.
     *
     * @param id the port's id.
     */
    public synchronized void removePort(final int id)
    {
        final Port port = port(id);
        port.removed = true;
        final Long2LongHashMap.KeyIterator keys = portOfMac.keySet().iterator();
        while (keys.hasNext())
        {
            final long mac = keys.nextValue();
            if (portOfMac.get(mac) == id)
            {
                keys.remove();
                seenAt.remove(mac);
            }
        }
    }

    /**
     * A frame arrives on a port: learn its source, forward or flood it. Allocates nothing.
     *
     * @param ingress  the port it arrived on.
     * @param frame    the buffer holding it; read once here, and lent to each output port for its call.
     * @param offset   where it starts.
     * @param length   its bytes.
     * @param nowNanos the time, for learning and ageing.
     * @return how many ports it was delivered to.
     */
    public synchronized int receive(
        final int ingress, final DirectBuffer frame, final int offset, final int length, final long nowNanos)
    {
        final Port in = port(ingress);
        if (in.removed)
        {
            return 0;
        }
        if (length < HEADER_BYTES || length > MAX_FRAME_BYTES)
        {
            in.dropped++;
            return 0;
        }
        final long destination = mac(frame, offset);
        final long source = mac(frame, offset + 6);
        if (isGroup(source))
        {
            in.dropped++;
            return 0;
        }
        in.received++;
        in.bytesReceived += length;
        learn(source, ingress, nowNanos);
        if (!isGroup(destination))
        {
            final long known = portOfMac.get(destination);
            if (NONE != known && nowNanos - seenAt.get(destination) < agingNanos)
            {
                if (known == ingress)
                {
                    in.filtered++;
                    return 0;
                }
                send(portArray[(int)known], frame, offset, length);
                return 1;
            }
        }
        in.flooded++;
        int delivered = 0;
        for (final Port out : portArray)
        {
            if (out.id != ingress && !out.removed)
            {
                send(out, frame, offset, length);
                delivered++;
            }
        }
        return delivered;
    }

    /**
     * The port a MAC was learned on.
     *
     * @param mac      the address, as a 48-bit number (first byte most significant).
     * @param nowNanos the time, for ageing.
     * @return the port's id, or -1 if unknown or aged out.
     */
    public synchronized int portOf(final long mac, final long nowNanos)
    {
        final long port = portOfMac.get(mac);
        return NONE == port || nowNanos - seenAt.get(mac) >= agingNanos ? -1 : (int)port;
    }

    /**
     * MACs in the table, aged-out ones included until they are replaced.
     *
     * @return the count.
     */
    public synchronized int learnedMacs()
    {
        return portOfMac.size();
    }

    /**
     * A port's counters.
     *
     * @param id the port's id.
     * @return a snapshot.
     */
    public synchronized PortCounters counters(final int id)
    {
        final Port p = port(id);
        return new PortCounters(p.name, p.received, p.bytesReceived, p.sent, p.bytesSent, p.flooded, p.filtered,
            p.dropped);
    }

    private void learn(final long source, final int ingress, final long nowNanos)
    {
        final long known = portOfMac.get(source);
        if (NONE == known && portOfMac.size() >= MAX_MACS && !evictOneAged(nowNanos))
        {
            return; // full of live entries: do not learn, the source's replies are flooded
        }
        portOfMac.put(source, ingress); // a MAC that moved to another port (a migrated guest) follows it
        seenAt.put(source, nowNanos);
    }

    private boolean evictOneAged(final long nowNanos)
    {
        final Long2LongHashMap.KeyIterator keys = seenAt.keySet().iterator();
        while (keys.hasNext())
        {
            final long mac = keys.nextValue();
            if (nowNanos - seenAt.get(mac) >= agingNanos)
            {
                keys.remove();
                portOfMac.remove(mac);
                return true;
            }
        }
        return false;
    }

    private static void send(final Port out, final DirectBuffer frame, final int offset, final int length)
    {
        out.sent++;
        out.bytesSent += length;
        out.output.deliver(frame, offset, length);
    }

    private Port port(final int id)
    {
        if (id < 0 || id >= portArray.length)
        {
            throw new IllegalArgumentException("no bridge port " + id + " (ports 0.." + (portArray.length - 1) + ")");
        }
        return portArray[id];
    }

    /** The 48-bit MAC at {@code offset}, first byte most significant. */
    static long mac(final DirectBuffer frame, final int offset)
    {
        long mac = 0;
        for (int i = 0; i < 6; i++)
        {
            mac = (mac << 8) | (frame.getByte(offset + i) & 0xff);
        }
        return mac;
    }

    private static boolean isGroup(final long mac)
    {
        return 0 != (mac & (1L << 40));
    }

    /**
     * A port's counters: frames and bytes received from it and sent to it, frames it flooded (broadcast, multicast or
     * unknown destination), frames filtered (destination on the same port) and frames dropped as malformed.
     *
     * @param name          the port's name.
     * @param received      frames accepted from the port.
     * @param bytesReceived their bytes.
     * @param sent          frames delivered to the port.
     * @param bytesSent     their bytes.
     * @param flooded       frames from the port that were flooded.
     * @param filtered      frames from the port to a MAC on the same port.
     * @param dropped       malformed frames from the port.
     */
    public record PortCounters(
        String name, long received, long bytesReceived, long sent, long bytesSent, long flooded, long filtered,
        long dropped)
    {
    }

    private static final class Port
    {
        final int id;
        final String name;
        final BridgePort output;
        boolean removed;
        long received;
        long bytesReceived;
        long sent;
        long bytesSent;
        long flooded;
        long filtered;
        long dropped;

        Port(final int id, final String name, final BridgePort output)
        {
            this.id = id;
            this.name = name;
            this.output = output;
        }
    }
}
