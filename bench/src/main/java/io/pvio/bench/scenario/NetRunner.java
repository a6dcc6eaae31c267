package io.pvio.bench.scenario;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

import org.HdrHistogram.Histogram;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import io.pvio.backend.net.Bridge;
import io.pvio.backend.net.NetBackCounters;
import io.pvio.backend.net.VxlanUplink;
import io.pvio.bench.machine.EmulatedNic;
import io.pvio.bench.machine.PvGuest;
import io.pvio.bench.machine.PvMachine;
import io.pvio.bench.machine.PvVif;
import io.pvio.frontend.inet.DropReason;
import io.pvio.frontend.inet.Ipv4Host;
import io.pvio.frontend.net.NetFrontCounters;
import io.pvio.frontend.net.NetFrontOptions;
import io.pvio.frontend.net.NetReceiver;

/**
 * Runs a scenario's network workloads on a booted machine: plugs every guest's NICs into one bridge of dom0's (vifs
 * for {@code io: pv}, e1000 NICs for {@code io: emulated}), gives each guest with NICs pvio's IPv4 stack
 * ({@link Ipv4Host}) on its first NIC, on its vCPU, with a discard port, an echo port and a client port bound, and,
 * if a workload goes to the uplink, opens dom0's {@link VxlanUplink} on loopback with an {@link UplinkPeer} as its
 * remote end point. Then runs each workload in turn: a {@link NetGenerator}, the sending guest's application on
 * the vCPU that runs its NIC's driver, sends the datagrams through that driver, the receiver's stack checks and
 * counts them (and echoes requests), and the runner prints a progress line each second, drains what is in flight,
 * and reads every counter the drivers, devices, hypervisor and scheduler keep, before and after.
 */
final class NetRunner
{
    /** The UDP port stream datagrams go to (discard, RFC 863). */
    static final int DISCARD_PORT = 9;
    /** The UDP port requests go to (echo, RFC 862). */
    static final int ECHO_PORT = 7;
    /** The UDP port datagrams are sent from, where responses come back. */
    static final int CLIENT_PORT = 40_000;

    private static final long PROGRESS_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final long STALL_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(20);
    private static final long DRAIN_TIMEOUT_NANOS = TimeUnit.MILLISECONDS.toNanos(500);
    private static final int IP_BASE = Ipv4Host.parseIp("198.18.0.0");

    // indexes of the counters read before and after each workload
    private static final int NOTIFICATIONS = 0;
    private static final int EVENTS_TO_GUESTS = 1;
    private static final int GRANT_COPIES = 2;
    private static final int GUEST_COPIES = 3;
    private static final int EXITS = 4;
    private static final int INTERRUPTS = 5;
    private static final int IOREQS = 6;
    private static final int ACCESSES = 7;
    private static final int GUEST_CALLS = 8;
    private static final int DOM0_CALLS = 9;
    private static final int NO_BUFFER = 10;
    private static final int MISSED = 11;
    private static final int UPLINK_DROPS = 12;
    private static final int CHECKSUMS = 13;
    private static final int DEVICE_COPIES = 14;
    private static final int COUNTERS = 15;

    private final Scenario scenario;
    private final PvMachine machine;
    private final PrintWriter out;
    private final boolean interactive;
    private final Map<String, Endpoint> endpoints = new LinkedHashMap<>();
    private final Bridge bridge = new Bridge();
    private UplinkPeer peer;
    private VxlanUplink uplink;

    /**
     * A runner on a booted machine whose guests are {@code scenario}'s, in order.
     *
     * @param scenario    the scenario.
     * @param machine     the machine.
     * @param out         where progress goes.
     * @param interactive true to redraw the progress line in place.
     */
    NetRunner(final Scenario scenario, final PvMachine machine, final PrintWriter out, final boolean interactive)
    {
        this.scenario = scenario;
        this.machine = machine;
        this.out = out;
        this.interactive = interactive;
    }

    /**
     * Plugs the NICs in, runs every network workload and unplugs the uplink; the machine unplugs the NICs when it
     * closes.
     *
     * @return a report per workload, in scenario order.
     * @throws IOException          if the uplink's sockets fail.
     * @throws InterruptedException if interrupted.
     */
    List<ScenarioReport.NetReport> run() throws IOException, InterruptedException
    {
        try
        {
            plug();
            final List<ScenarioReport.NetReport> reports = new ArrayList<>();
            for (final Scenario.NetWorkload workload : scenario.network())
            {
                reports.add(runOne(workload));
            }
            return withRatios(reports);
        }
        finally
        {
            if (null != uplink)
            {
                uplink.close();
            }
            if (null != peer)
            {
                peer.close();
            }
        }
    }

    private void plug() throws IOException, InterruptedException
    {
        final List<PvGuest> guests = machine.guests();
        for (int g = 0; g < scenario.guests().size(); g++)
        {
            final Scenario.Guest spec = scenario.guests().get(g);
            if (spec.nics().isEmpty())
            {
                continue;
            }
            final Endpoint endpoint = new Endpoint(spec, guests.get(g), IP_BASE + g + 1);
            for (int n = 0; n < spec.nics().size(); n++)
            {
                final Scenario.Nic nic = spec.nics().get(n);
                final NetReceiver receiver = 0 == n ? endpoint.host::receive : (f, o, l) -> { };
                final String mac = ScenarioParser.macText(nic.mac());
                if (Scenario.Io.PV == nic.io())
                {
                    final PvVif vif = machine.attachVif(endpoint.guest, bridge, n, mac, new NetFrontOptions(),
                        receiver);
                    if (0 == n)
                    {
                        endpoint.vif = vif;
                    }
                    out.printf(Locale.ROOT, "  %s/eth%d: vif %s, split driver (netfront, netback on dom0's bridge)" +
                        "%s%n", spec.name(), n, mac, 0 == n ? ", " + Ipv4Host.formatIp(endpoint.ip) : "");
                }
                else
                {
                    final EmulatedNic emulated = machine.attachEmulatedNic(endpoint.guest, bridge, nic.mac(),
                        receiver);
                    if (0 == n)
                    {
                        endpoint.nic = emulated;
                    }
                    out.printf(Locale.ROOT, "  %s/eth%d: e1000 %s, %s%s%n", spec.name(), n, mac,
                        emulated.isEmulated() ? "emulated by dom0's device model (every register access exits)" :
                        "the hardware (native, no exits)", 0 == n ? ", " + Ipv4Host.formatIp(endpoint.ip) : "");
                }
            }
            endpoints.put(spec.name(), endpoint);
        }
        boolean toUplink = false;
        for (final Scenario.NetWorkload workload : scenario.network())
        {
            toUplink |= workload.toUplink();
        }
        if (toUplink)
        {
            peer = UplinkPeer.open();
            uplink = VxlanUplink.open(bridge, new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                peer.address(), UplinkPeer.VNI);
            peer.connect(uplink.localAddress());
            out.printf(Locale.ROOT, "  uplink: dom0's VXLAN uplink (VNI %d) on %s, its remote end point a host " +
                "socket on %s (%s, %s)%n", UplinkPeer.VNI, text(uplink.localAddress()), text(peer.address()),
                ScenarioParser.macText(UplinkPeer.MAC), Ipv4Host.formatIp(UplinkPeer.IP));
        }
        for (final Endpoint endpoint : endpoints.values())
        {
            endpoint.announce(); // the bridge learns every guest's port before anything is timed
        }
        final long settle = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(50);
        while (System.nanoTime() - settle < 0)
        {
            Thread.sleep(5);
        }
        out.flush();
    }

    private static String text(final InetSocketAddress address)
    {
        return address.getAddress().getHostAddress() + ':' + address.getPort();
    }

    private ScenarioReport.NetReport runOne(final Scenario.NetWorkload w) throws InterruptedException
    {
        final Endpoint from = endpoints.get(w.from());
        final Endpoint to = w.toUplink() ? null : endpoints.get(w.to());
        final boolean stream = Scenario.NetKind.STREAM == w.kind();
        final UdpFrames frames = new UdpFrames(from.mac, null == to ? UplinkPeer.MAC : to.mac, from.ip,
            null == to ? UplinkPeer.IP : to.ip, CLIENT_PORT, stream ? DISCARD_PORT : ECHO_PORT, w.payload());
        final NetSink arrivals = new NetSink(w.verify(), stream, frames.frameBytes());
        final NetSink responses = stream ? null : new NetSink(w.verify(), true, frames.frameBytes());
        final String path = path(from, to);
        out.printf(Locale.ROOT, "network %s: %s %s -> %s, %s, UDP payload %d B (frames of %d B), %s %d, " +
            "%s warm-up + %s%s%n", w.name(), path, w.from(), w.to(), stream ? "stream" : "request/response",
            w.payload(), frames.frameBytes(), stream ? "window" : "outstanding", w.window(),
            seconds(w.warmupNanos()), seconds(w.durationNanos()), w.verify() ? ", verified" : "");
        out.flush();

        final List<Endpoint> ends = null == to ? List.of(from) : List.of(from, to);
        final long[] before = counters(ends);
        final List<CpuSample> cpuBefore = ScenarioRunner.sampleCpus(machine);
        final long start = System.nanoTime();
        final long measureFrom = start + w.warmupNanos();
        final long stopAt = measureFrom + w.durationNanos();
        arrivals.window(measureFrom, stopAt);
        if (null != responses)
        {
            responses.window(measureFrom, stopAt);
        }
        if (null == to)
        {
            peer.sinks(stream ? arrivals : null, stream ? null : arrivals);
        }
        else
        {
            to.streamSink = stream ? arrivals : null;
            to.requestSink = stream ? null : arrivals;
        }
        from.responseSink = responses;
        final long droppedBefore = stream ? receiverDrops(to) : 0;
        final LongSupplier arrived = stream ? arrivals::received : responses::received;
        final LongSupplier dropped = stream ? () -> receiverDrops(to) - droppedBefore : () -> 0;
        final NetGenerator generator = new NetGenerator("net-" + w.name(), from.guest.domain().vcpu(0),
            from::transmit, frames, w.window(), arrived, dropped);
        (stream ? arrivals : responses).waiter(generator);
        generator.start();
        try
        {
            loop(w, generator, arrived, start, stopAt);
        }
        finally
        {
            generator.stop();
        }
        final long drainUntil = System.nanoTime() + DRAIN_TIMEOUT_NANOS;
        while (arrived.getAsLong() + dropped.getAsLong() < generator.sent() && System.nanoTime() - drainUntil < 0)
        {
            Thread.sleep(1);
        }
        Thread.sleep(5); // let a response to the last request reach the requester's counters
        final long end = System.nanoTime();
        final ScenarioReport.Cpu cpu = ScenarioRunner.cpuReport(machine, cpuBefore, end - start);
        final long[] after = counters(ends);
        if (null == to)
        {
            peer.sinks(null, null);
            if (null != peer.failure())
            {
                throw new IllegalStateException("network " + w.name() + ": the uplink's peer failed: " +
                    peer.failure(), peer.failure());
            }
        }
        else
        {
            to.streamSink = null;
            to.requestSink = null;
        }
        from.responseSink = null;
        progressLine(w, arrived.getAsLong(), 0, end - start, true);
        return report(w, path, frames, generator, arrivals, responses, before, after, cpu, ends);
    }

    private void loop(
        final Scenario.NetWorkload w, final NetGenerator generator, final LongSupplier arrived, final long start,
        final long stopAt) throws InterruptedException
    {
        long lastProgress = start;
        long lastCount = 0;
        long lastChange = start;
        long lastChangeCount = 0;
        while (true)
        {
            Thread.sleep(10);
            final long now = System.nanoTime();
            if (now - stopAt >= 0)
            {
                return;
            }
            if (generator.failed())
            {
                return; // stop() reports why
            }
            generator.wake(); // a full window's loss timeout is checked on the vCPU, which may be blocked
            final long count = arrived.getAsLong();
            if (count != lastChangeCount)
            {
                lastChangeCount = count;
                lastChange = now;
            }
            else if (now - lastChange > STALL_TIMEOUT_NANOS)
            {
                throw new IllegalStateException("network " + w.name() + ": nothing arrived for " +
                    TimeUnit.NANOSECONDS.toSeconds(STALL_TIMEOUT_NANOS) + " s; sent " + generator.sent() +
                    ", arrived " + count + "; " + endpoints.get(w.from()).state());
            }
            if (now - lastProgress >= PROGRESS_INTERVAL_NANOS)
            {
                progressLine(w, count - lastCount, now - lastProgress, now - start, false);
                lastProgress = now;
                lastCount = count;
            }
        }
    }

    private void progressLine(
        final Scenario.NetWorkload w, final long count, final long intervalNanos, final long elapsedNanos,
        final boolean last)
    {
        final String unit = Scenario.NetKind.STREAM == w.kind() ? "datagrams" : "round trips";
        final String line;
        if (last)
        {
            line = String.format(Locale.ROOT, "[%5.1f s] network %s: %,d %s", elapsedNanos / 1e9, w.name(), count,
                unit);
        }
        else
        {
            line = String.format(Locale.ROOT, "[%5.1f s of %.0f] network %s: %,.0f %s/s%s", elapsedNanos / 1e9,
                (w.warmupNanos() + w.durationNanos()) / 1e9, w.name(), count * 1e9 / Math.max(1, intervalNanos),
                unit, elapsedNanos < w.warmupNanos() ? " (warm-up)" : "");
        }
        if (interactive)
        {
            out.print('\r');
            out.print(line);
            out.print("        ");
            if (last)
            {
                out.println();
            }
        }
        else
        {
            out.println(line);
        }
        out.flush();
    }

    private static String path(final Endpoint from, final Endpoint to)
    {
        final String own = from.io() + '/' + from.spec.mode().name().toLowerCase(Locale.ROOT);
        if (null == to || to.io().equals(from.io()))
        {
            return own;
        }
        return from.io() + '>' + to.io();
    }

    private static long receiverDrops(final Endpoint to)
    {
        if (null == to)
        {
            return 0;
        }
        return null != to.vif ? to.vif.back().counters().rxDroppedNoBuffer() : to.nic.device().rxMissed();
    }

    private long[] counters(final List<Endpoint> ends)
    {
        final long[] c = new long[COUNTERS];
        for (final Endpoint e : ends)
        {
            if (null != e.vif)
            {
                final NetFrontCounters f = e.vif.front().counters();
                final NetBackCounters b = e.vif.back().counters();
                c[NOTIFICATIONS] += f.notificationsSent() + b.notificationsSent();
                c[EVENTS_TO_GUESTS] += f.notificationsReceived();
                c[GRANT_COPIES] += b.grantCopies();
                c[GUEST_COPIES] += f.copies();
                c[NO_BUFFER] += b.rxDroppedNoBuffer();
            }
            else
            {
                c[EXITS] += e.nic.exits();
                c[INTERRUPTS] += e.nic.interrupts();
                c[IOREQS] += e.nic.ioreqs();
                c[NOTIFICATIONS] += 2 * e.nic.ioreqs();
                c[ACCESSES] += e.nic.registerAccesses();
                c[GUEST_COPIES] += e.nic.driver().copies();
                c[DEVICE_COPIES] += e.nic.device().framesSent() + e.nic.device().framesReceived();
                c[MISSED] += e.nic.device().rxMissed();
            }
            c[GUEST_CALLS] += e.guest.domain().counters().total();
            c[CHECKSUMS] += e.host.drops(DropReason.BAD_UDP_CHECKSUM) + e.host.drops(DropReason.BAD_IP_CHECKSUM);
        }
        c[DOM0_CALLS] = machine.dom0().counters().total();
        if (null != uplink)
        {
            for (final VxlanUplink.Drop reason : VxlanUplink.Drop.values())
            {
                c[UPLINK_DROPS] += uplink.drops(reason);
            }
            c[CHECKSUMS] += peer.corrupt();
        }
        return c;
    }

    private ScenarioReport.NetReport report(
        final Scenario.NetWorkload w, final String path, final UdpFrames frames, final NetGenerator generator,
        final NetSink arrivals, final NetSink responses, final long[] before, final long[] after,
        final ScenarioReport.Cpu cpu, final List<Endpoint> ends)
    {
        final long[] d = new long[COUNTERS];
        for (int i = 0; i < COUNTERS; i++)
        {
            d[i] = after[i] - before[i];
        }
        final boolean stream = null == responses;
        final NetSink timed = stream ? arrivals : responses;
        final long delivered = arrivals.received() + (stream ? 0 : responses.received());
        final long sent = generator.sent();
        final long lost = Math.max(0, sent - timed.received());
        final long measuredPackets = arrivals.measured() + (stream ? 0 : responses.measured());
        final long measuredBytes = arrivals.measuredBytes() + (stream ? 0 : responses.measuredBytes());
        final double seconds = measuredSeconds(arrivals, responses);
        final Histogram latency = timed.latency();
        final long roundTrips = stream ? 0 : responses.measured();
        final ScenarioReport.NetLatency lat = 0 == latency.getTotalCount() ?
            new ScenarioReport.NetLatency(stream ? "one-way" : "round-trip", 0, 0, 0, 0, 0, 0) :
            new ScenarioReport.NetLatency(stream ? "one-way" : "round-trip", latency.getTotalCount(),
            latency.getValueAtPercentile(50) / 1e3, latency.getValueAtPercentile(90) / 1e3,
            latency.getValueAtPercentile(99) / 1e3, latency.getValueAtPercentile(99.9) / 1e3,
            latency.getMaxValue() / 1e3);
        final ScenarioReport.NetMeasured measured = new ScenarioReport.NetMeasured(seconds, measuredPackets,
            roundTrips, measuredBytes, ratio(measuredPackets, seconds), ratio(measuredBytes * 8.0, seconds) / 1e9,
            ratio((double)measuredPackets * frames.payload(), seconds) / 1e6, lat);
        final ScenarioReport.NetCounted counted = new ScenarioReport.NetCounted(sent, delivered, lost,
            d[NOTIFICATIONS], d[EVENTS_TO_GUESTS], d[GRANT_COPIES], d[GUEST_COPIES], d[DEVICE_COPIES], d[EXITS],
            d[INTERRUPTS],
            d[IOREQS], d[ACCESSES], d[GUEST_CALLS], d[DOM0_CALLS], d[NO_BUFFER], d[MISSED], d[UPLINK_DROPS]);
        double guestCpu = 0;
        double dom0Cpu = 0;
        long cycles = 0;
        if (null != cpu)
        {
            dom0Cpu = cpu.domains().get(0).cpuSeconds();
            cycles = cpu.domains().get(0).modeledCycles();
            for (final ScenarioReport.DomainCpu domain : cpu.domains())
            {
                for (final Endpoint e : ends)
                {
                    if (domain.domid() == e.guest.domain().id())
                    {
                        guestCpu += domain.cpuSeconds();
                        cycles += domain.modeledCycles();
                    }
                }
            }
        }
        final ScenarioReport.NetDerived derived = new ScenarioReport.NetDerived(
            ratio(d[NOTIFICATIONS], delivered), ratio(d[GRANT_COPIES], delivered),
            ratio(d[GUEST_COPIES] + d[GRANT_COPIES] + d[DEVICE_COPIES], delivered), ratio(d[EXITS], delivered),
            ratio(d[EVENTS_TO_GUESTS] + d[INTERRUPTS], delivered), ratio(d[GUEST_CALLS], delivered),
            ratio(d[DOM0_CALLS], delivered), ratio(cycles, delivered), ratio(guestCpu * 1e6, delivered),
            ratio(dom0Cpu * 1e6, delivered), null);
        final long checked = arrivals.checked() + (stream ? 0 : responses.checked());
        final long mismatches = arrivals.mismatches() + (stream ? 0 : responses.mismatches());
        final ScenarioReport.NetVerify verify = new ScenarioReport.NetVerify(w.verify(), checked, mismatches,
            d[CHECKSUMS]);
        return new ScenarioReport.NetReport(w.name(), w.from(), w.to(), stream ? "stream" : "rr", path,
            frames.payload(), frames.frameBytes(), w.window(), measured, counted, derived, verify, cpu);
    }

    /** From the measured window's start to the last measured arrival at either sink. */
    private static double measuredSeconds(final NetSink arrivals, final NetSink responses)
    {
        final long last = Math.max(arrivals.lastMeasuredNanos(),
            null == responses ? Long.MIN_VALUE : responses.lastMeasuredNanos());
        final long nanos = last - arrivals.measureFromNanos();
        return 0 == arrivals.measured() ? 0 : Math.max(1, nanos) / 1e9;
    }

    private static List<ScenarioReport.NetReport> withRatios(final List<ScenarioReport.NetReport> reports)
    {
        final List<ScenarioReport.NetReport> result = new ArrayList<>();
        for (final ScenarioReport.NetReport r : reports)
        {
            Double toPv = null;
            if (r.path().startsWith("emulated/"))
            {
                for (final ScenarioReport.NetReport pv : reports)
                {
                    if (pv.path().startsWith("pv/") && pv.kind().equals(r.kind()) &&
                        pv.payloadBytes() == r.payloadBytes() &&
                        Scenario.UPLINK.equals(pv.to()) == Scenario.UPLINK.equals(r.to()) &&
                        pv.measured().packetsPerSecond() > 0)
                    {
                        toPv = r.measured().packetsPerSecond() / pv.measured().packetsPerSecond();
                        break;
                    }
                }
            }
            if (null == toPv)
            {
                result.add(r);
                continue;
            }
            final ScenarioReport.NetDerived d = r.derived();
            result.add(new ScenarioReport.NetReport(r.name(), r.from(), r.to(), r.kind(), r.path(), r.payloadBytes(),
                r.frameBytes(), r.window(), r.measured(), r.counted(), new ScenarioReport.NetDerived(
                d.notificationsPerPacket(), d.grantCopiesPerPacket(), d.dataCopiesPerPacket(), d.exitsPerPacket(),
                d.interruptsPerPacket(), d.guestHypercallsPerPacket(), d.dom0HypercallsPerPacket(),
                d.modeledCyclesPerPacket(), d.guestCpuMicrosPerPacket(), d.dom0CpuMicrosPerPacket(), toPv), r.verify(),
                r.cpu()));
        }
        return List.copyOf(result);
    }

    private static double ratio(final double numerator, final double denominator)
    {
        return ScenarioRunner.ratio(numerator, denominator);
    }

    private static String seconds(final long nanos)
    {
        return 0 == nanos % 1_000_000_000L ? nanos / 1_000_000_000L + " s" : nanos / 1_000_000 + " ms";
    }

    /**
     * A guest's network end point: its first NIC and the IPv4 stack on it, whose ports hand datagrams to the sinks
     * of the workload running.
     */
    private static final class Endpoint
    {
        final Scenario.Guest spec;
        final PvGuest guest;
        final int ip;
        final long mac;
        final Ipv4Host host;
        PvVif vif;
        EmulatedNic nic;
        volatile NetSink streamSink;
        volatile NetSink requestSink;
        volatile NetSink responseSink;

        Endpoint(final Scenario.Guest spec, final PvGuest guest, final int ip)
        {
            this.spec = spec;
            this.guest = guest;
            this.ip = ip;
            this.mac = spec.nics().get(0).mac();
            this.host = new Ipv4Host(mac, ip, this::transmit);
            host.bindUdp(DISCARD_PORT, (h, sourceIp, sourcePort, payload, offset, length) ->
            {
                final NetSink sink = streamSink;
                if (null != sink)
                {
                    sink.onPayload(payload, offset, length);
                }
            });
            host.bindUdp(ECHO_PORT, (h, sourceIp, sourcePort, payload, offset, length) ->
            {
                final NetSink sink = requestSink;
                if (null != sink)
                {
                    sink.onPayload(payload, offset, length);
                    h.sendUdp(sourceIp, ECHO_PORT, sourcePort, payload, offset, length);
                }
            });
            host.bindUdp(CLIENT_PORT, (h, sourceIp, sourcePort, payload, offset, length) ->
            {
                final NetSink sink = responseSink;
                if (null != sink)
                {
                    sink.onPayload(payload, offset, length);
                }
            });
        }

        String io()
        {
            return Scenario.Io.PV == spec.nics().get(0).io() ? "pv" : "emulated";
        }

        /** Hands a frame to the first NIC's driver; any thread. */
        boolean transmit(final DirectBuffer frame, final int offset, final int length)
        {
            final PvVif vif = this.vif;
            if (null != vif)
            {
                return vif.front().transmit(frame, offset, length);
            }
            final EmulatedNic nic = this.nic;
            return null != nic && nic.driver().transmit(frame, offset, length);
        }

        /** Sends one broadcast frame from the first NIC (an EtherType nothing answers), for the bridge to learn. */
        void announce() throws InterruptedException
        {
            final UnsafeBuffer frame = new UnsafeBuffer(new byte[60]);
            UdpFrames.putMac(frame, 0, 0xFFFF_FFFF_FFFFL);
            UdpFrames.putMac(frame, 6, mac);
            frame.putShort(12, (short)0x88B5, ByteOrder.BIG_ENDIAN);
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!transmit(frame, 0, frame.capacity()))
            {
                if (System.nanoTime() - deadline > 0)
                {
                    throw new IllegalStateException(spec.name() + ": its NIC took no frame for 10 s: " + state());
                }
                Thread.sleep(1);
            }
        }

        String state()
        {
            if (null != vif)
            {
                return spec.name() + ": netfront " + vif.front().state() + ", " + vif.front().counters() +
                    "; netback " + vif.back().state() + ", " + vif.back().counters();
            }
            return spec.name() + ": e1000 " + nic.state();
        }
    }
}
