package io.pvio.bench.cli;

import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

import io.pvio.backend.net.Bridge;
import io.pvio.backend.net.VxlanUplink;
import io.pvio.bench.machine.PvGuest;
import io.pvio.bench.machine.PvMachine;
import io.pvio.bench.machine.PvVif;
import io.pvio.frontend.inet.DropReason;
import io.pvio.frontend.inet.Ipv4Host;
import io.pvio.frontend.inet.UdpHandler;
import io.pvio.frontend.net.NetFront;
import io.pvio.frontend.net.NetFrontOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code pvio net serve}: boots a machine with one para guest whose vif (netfront, netback) is a port of dom0's
 * learning bridge, beside a VXLAN uplink; the guest runs pvio's IPv4 stack (ARP, ping, UDP echo) on its vCPU. Until
 * interrupted or for {@code --duration}.
 */
@Command(
    name = "serve",
    description = {
        "Boot a machine with one para guest whose vif (netfront in the guest, netback in dom0) is a port of " +
            "dom0's learning bridge, beside a VXLAN (RFC 7348) uplink; the guest runs pvio's IPv4 stack on its " +
            "vCPU: it answers ARP and ping, and echoes UDP on --echo-port. A Linux vxlan interface whose remote " +
            "is --local joins the LAN.",
        "",
        "Runs until interrupted (Ctrl-C) or for --duration."},
    footer = {
        "",
        "Example (as root): two namespaces joined by a veth pair, no route out of either; Linux's vxlan",
        "interface in one, pvio in the other (Linux sends a VXLAN packet for a local address to its own",
        "sockets, so the two ends need separate namespaces):",
        "  ip netns add pvl && ip netns add pvp",
        "  ip link add vl netns pvl type veth peer name vp netns pvp",
        "  ip -n pvl addr add 198.19.0.1/30 dev vl && ip -n pvl link set vl up",
        "  ip -n pvp addr add 198.19.0.2/30 dev vp && ip -n pvp link set vp up",
        "  ip -n pvl link add vx0 type vxlan id 42 local 198.19.0.1 remote 198.19.0.2 dstport 4789 dev vl",
        "  ip -n pvl addr add 198.18.0.1/24 dev vx0 && ip -n pvl link set vx0 up",
        "  ip netns exec pvp ./pvio net serve --local 198.19.0.2:4789 --remote 198.19.0.1:4789 &",
        "  ip netns exec pvl ping -c 3 198.18.0.2",
        "",
        "Exit status: 0 served and stopped; 1 the uplink could not start; 2 bad arguments."})
final class NetServeCommand implements Callable<Integer>
{
    private static final int MACHINE_FRAMES = (int)((256L << 20) / 4096);
    private static final int DOM0_FRAMES = (int)((64L << 20) / 4096);
    private static final int GUEST_FRAMES = (int)((64L << 20) / 4096);

    @Spec
    private CommandSpec spec;

    private int vni = 42;
    private InetSocketAddress local = new InetSocketAddress(InetAddress.getLoopbackAddress(), 4790);
    private InetSocketAddress remote =
        new InetSocketAddress(InetAddress.getLoopbackAddress(), VxlanUplink.DEFAULT_PORT);
    private int ip = Ipv4Host.parseIp("198.18.0.2");
    private long mac = 0x00_16_3e_00_00_02L;
    private int echoPort = 7;
    private long durationNanos;
    private final CountDownLatch stopped = new CountDownLatch(1);

    @Option(names = "--vni", order = 1, paramLabel = "N", description = "VXLAN network identifier (default: 42).")
    void vni(final int value)
    {
        if (value < 0 || value > VxlanUplink.MAX_VNI)
        {
            throw bad("--vni", Integer.toString(value), "0 to " + VxlanUplink.MAX_VNI);
        }
        vni = value;
    }

    @Option(
        names = "--local",
        order = 2,
        paramLabel = "ADDR:PORT",
        description = "The uplink's UDP socket, loopback or in 198.18.0.0/15 (default: 127.0.0.1:4790).")
    void local(final String text)
    {
        local = endpoint("--local", text);
    }

    @Option(
        names = "--remote",
        order = 3,
        paramLabel = "ADDR:PORT",
        description = "The Linux vxlan end point, loopback or in 198.18.0.0/15 (default: 127.0.0.1:4789).")
    void remote(final String text)
    {
        remote = endpoint("--remote", text);
    }

    @Option(
        names = "--ip",
        order = 4,
        paramLabel = "A.B.C.D",
        description = "The guest's address (default: 198.18.0.2).")
    void ip(final String text)
    {
        try
        {
            ip = Ipv4Host.parseIp(text);
        }
        catch (final IllegalArgumentException ex)
        {
            throw bad("--ip", text, "a dotted IPv4 address such as 198.18.0.2");
        }
    }

    @Option(
        names = "--mac",
        order = 5,
        paramLabel = "MAC",
        description = "The guest's MAC address, six hex pairs, unicast (default: 00:16:3e:00:00:02).")
    void mac(final String text)
    {
        final String expected = "six hex pairs such as 00:16:3e:00:00:02, not a group address";
        final long value;
        try
        {
            value = NetFront.parseMac(text);
        }
        catch (final IllegalArgumentException ex)
        {
            throw bad("--mac", text, expected);
        }
        if ((value & (1L << 40)) != 0)
        {
            throw bad("--mac", text, expected);
        }
        mac = value;
    }

    @Option(names = "--echo-port", order = 6, paramLabel = "PORT", description = "UDP echo port (default: 7).")
    void echoPort(final int value)
    {
        if (value < 1 || value > 65535)
        {
            throw bad("--echo-port", Integer.toString(value), "1 to 65535");
        }
        echoPort = value;
    }

    @Option(
        names = "--duration",
        order = 7,
        paramLabel = "D",
        description = "Stop after D, e.g. 30s or 5m (default: serve until interrupted).")
    void duration(final String text)
    {
        durationNanos = CliSupport.duration(spec, "--duration", text);
    }

    /**
     * {@inheritDoc}
     */
    @Override
    public Integer call() throws Exception
    {
        final PrintWriter out = spec.commandLine().getOut();
        final PrintWriter err = spec.commandLine().getErr();
        final Bridge bridge = new Bridge();
        final VxlanUplink uplink;
        try
        {
            uplink = VxlanUplink.open(bridge, local, remote, vni);
        }
        catch (final RuntimeException ex)
        {
            err.println(spec.qualifiedName() + ": cannot bind " + local + ": " + ex.getMessage());
            err.flush();
            return PvioCommand.EXIT_FAILURE;
        }
        try (uplink; PvMachine machine = PvMachine.start(MACHINE_FRAMES, DOM0_FRAMES))
        {
            final PvGuest guest = machine.createGuest("net-guest", GUEST_FRAMES);
            final AtomicReference<NetFront> device = new AtomicReference<>();
            final Ipv4Host host = new Ipv4Host(mac, ip, (frame, offset, length) ->
            {
                final NetFront front = device.get();
                return null != front && front.transmit(frame, offset, length);
            });
            final UdpHandler echo = (h, sourceIp, sourcePort, payload, offset, length) ->
                h.sendUdp(sourceIp, echoPort, sourcePort, payload, offset, length);
            host.bindUdp(echoPort, echo);
            // the stack runs in the guest: netfront hands it each frame on the guest's vCPU, and it answers there
            final PvVif vif = machine.attachVif(guest, bridge, 0, macText(mac), new NetFrontOptions(), host::receive);
            device.set(vif.front());
            final Thread hook = new Thread(stopped::countDown, "pvio-net-stop");
            Runtime.getRuntime().addShutdownHook(hook);
            CliSupport.printLine(out, "net: guest " + Ipv4Host.formatIp(ip) + " (" + macText(mac) + ", " + vif +
                ") on VXLAN " + vni + " (uplink " + text(uplink.localAddress()) + " -> " + text(remote) +
                "), UDP echo on port " + echoPort + "; " +
                (0 == durationNanos ? "Ctrl-C stops" : "stopping after --duration"));
            CliSupport.serveUntilStopped(stopped, durationNanos, () -> vif.back().isConnected(),
                () -> status(uplink, host, vif), "net: ", out);
            try
            {
                Runtime.getRuntime().removeShutdownHook(hook);
            }
            catch (final IllegalStateException ignore)
            {
                // the JVM is shutting down
            }
            CliSupport.printLine(out, "net: stopped; " + status(uplink, host, vif));
        }
        return PvioCommand.EXIT_OK;
    }

    private static String macText(final long mac)
    {
        final StringBuilder text = new StringBuilder(17);
        for (int shift = 40; shift >= 0; shift -= 8)
        {
            text.append(String.format("%02x", mac >>> shift & 0xFF)).append(0 == shift ? "" : ":");
        }
        return text.toString();
    }

    private static String status(final VxlanUplink uplink, final Ipv4Host stack, final PvVif vif)
    {
        final StringBuilder drops = new StringBuilder();
        for (final DropReason reason : DropReason.values())
        {
            if (stack.drops(reason) > 0)
            {
                drops.append(0 == drops.length() ? " (" : ", ").append(reason.name().toLowerCase(Locale.ROOT)
                    .replace('_', ' ')).append(' ').append(stack.drops(reason));
            }
        }
        long uplinkDrops = 0;
        for (final VxlanUplink.Drop reason : VxlanUplink.Drop.values())
        {
            uplinkDrops += uplink.drops(reason);
        }
        return "uplink " + uplink.framesReceived() + " frames in, " + uplink.framesSent() + " out, " + uplinkDrops +
            " dropped; " + vif + " " + vif.front().counters().rxFrames() + " frames received, " +
            vif.front().counters().txFrames() + " sent; guest " + stack.arpReplies() + " ARP replies, " +
            stack.echoRepliesSent() + " pings answered, " +
            stack.datagramsSent() + " datagrams echoed, frames dropped" + (0 == drops.length() ? ": none" :
            drops.append(')'));
    }

    private static String text(final InetSocketAddress address)
    {
        return address.getAddress().getHostAddress() + ':' + address.getPort();
    }

    private InetSocketAddress endpoint(final String option, final String text)
    {
        final int colon = text.lastIndexOf(':');
        final String expected = "ADDR:PORT with ADDR loopback or in 198.18.0.0/15, such as 127.0.0.1:4790";
        // a dotted literal only, so nothing is looked up
        if (colon <= 0 || colon == text.length() - 1 ||
            !text.substring(0, colon).matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}"))
        {
            throw bad(option, text, expected);
        }
        final int port;
        final InetAddress address;
        try
        {
            port = Integer.parseInt(text.substring(colon + 1));
            address = InetAddress.getByName(text.substring(0, colon));
        }
        catch (final NumberFormatException | UnknownHostException ex)
        {
            throw bad(option, text, expected);
        }
        if (port < 0 || port > 65535 || !VxlanUplink.isAllowed(address))
        {
            throw bad(option, text, expected);
        }
        return new InetSocketAddress(address, port);
    }

    private ParameterException bad(final String option, final String value, final String expected)
    {
        return CliSupport.badValue(spec, option, value, expected);
    }
}
