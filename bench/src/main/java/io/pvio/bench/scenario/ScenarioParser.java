package io.pvio.bench.scenario;

import java.io.IOException;
import java.math.BigDecimal;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import io.pvio.backend.block.BlockBackOptions;
import io.pvio.backend.block.BlockDataPath;
import io.pvio.frontend.net.NetFront;
import io.pvio.hypervisor.sched.CreditScheduler;
import io.pvio.hypervisor.sched.SchedulerConfig;
import io.pvio.machine.device.Ahci;
import io.pvio.machine.vm.PagingMode;
import io.pvio.ring.blkif.BlkifRequestDescriptor;
import io.pvio.ring.blkif.BlkifXenbusKeys;

/**
 * Reads a scenario from YAML or JSON and checks every field before anything is built. The first error found is
 * thrown as a {@link ScenarioException} whose message names the field by its path, says what was expected and what
 * was found, for example {@code guests[1].disks[0].size: expected a size like 4K, 256M or 4G from 1048576 to
 * 1099511627776 bytes, got "12X"}. Unknown fields and repeated keys are errors. Every field but {@code guests} has a
 * default:
 * <pre>
 * description: text                     # optional, printed before the run
 * machine:   { memory: 512M, dom0-memory: 64M,
 *              halt-poll: 0.2ms,        # the longest an idle vCPU polls before it blocks; 0ms blocks at once
 *              halt-poll-adaptive: true }  # adapt each vCPU's window up to halt-poll (KVM), or always poll it all
 * backend:   { data-path: grant-map,    # or grant-copy
 *              persistent-grants: true, max-indirect-segments: 256, max-queues: 4, max-ring-page-order: 4,
 *              o-direct: false,         # true: every image opened with O_DIRECT (blkback, native baseline)
 *              io-workers: 0,           # threads per ring serving reads and writes off the ring's agent
 *              io-uring: false }        # true: one io_uring per ring instead, and the native baseline on one too
 * guests:
 *   - name: guest1                      # default guest&lt;n&gt;
 *     memory: 64M
 *     disks:
 *       - devid: 51712                  # default 51712 (xvda) + 16 per disk
 *         size: 256M                    # without image: a temporary sparse image, deleted after the run
 *         image: /path/to/raw.img       # an existing image (size defaults to the file's), or a new one to create
 *                                       # (size required; the file is kept)
 *         read-only: false
 *         io: pv                        # the split driver, or emulated: an AHCI controller trapping to dom0's
 *                                       # device model (mode full) or driven directly (mode native)
 *         frontend: { persistent-grants: true, indirect-segments: 256, queues: 1, ring-pages: 1 }
 *         workload: { pattern: random,  # or sequential
 *                     block-size: 4K, queue-depth: 32, read-share: 0.7,   # or 70%
 *                     duration: 10s,    # or count: 100000 (I/Os); duration defaults to 10s
 *                     warmup: 1s,       # default 1s with a duration, 0 with a count
 *                     verify: true, seed: 1,
 *                     baseline: true }  # then natively at queue-depth: a thread per I/O (an io_uring with io-uring)
 *     nics:                             # beside or instead of disks (a guest needs one or the other)
 *       - io: pv                        # a vif (netfront; mode para), or emulated: an e1000 NIC (mode full or
 *                                       # native); network workloads use a guest's first NIC
 *         mac: 00:16:3e:00:01:01        # default 00:16:3e:00:&lt;guest&gt;:&lt;nic&gt;, counted from 1
 * network:                              # optional; run in turn after the disks' workloads
 *   - name: a-to-b                      # default FROM&gt;TO-KIND-PAYLOAD; a name given gets
 *                                       # -PAYLOAD only with payloads
 *     from: guest1                      # a guest with nics: the sender, or the requester
 *     to: guest2                        # another guest with nics, or uplink: the host behind dom0's VXLAN uplink
 *     kind: stream                      # UDP stream, or rr: request/response, each request echoed
 *     payload: 1472                     # UDP payload bytes, 18 to 1472; or payloads: [64, 1472], one run each
 *     duration: 5s                      # measured, after warmup (default 500ms)
 *     window: 32                        # stream: frames in flight (default 32, below an e1000's 64 receive
 *                                       # descriptors); rr: requests outstanding (default 1)
 *     verify: true                      # the receiver checks every payload byte
 * </pre>
 * Sizes are whole numbers with an optional binary unit (K, M, G, T; "KiB", "KB" and "K" all mean 1024); durations
 * are numbers with {@code ms}, {@code s} or {@code m}; a read share is a number from 0 to 1 or a percentage.
 */
public final class ScenarioParser
{
    /** The virtual device number of a guest's first disk ({@code xvda}); each next disk gets 16 more. */
    public static final int FIRST_DEVID = 51712;

    /** The most blocks a verified disk may have: verification keeps a 4-byte version per block. */
    public static final long MAX_VERIFIED_BLOCKS = 1L << 24;

    private static final String SIZE_EXPECTED = "a size like 4K, 256M or 4G";
    private static final String DURATION_EXPECTED = "a duration like 500ms, 10s or 2m";
    private static final Pattern SIZE = Pattern.compile("([0-9]{1,15})\\s*(?:([KMGT])(?:i?B)?|B)?",
        Pattern.CASE_INSENSITIVE);
    private static final Pattern DURATION = Pattern.compile("([0-9]{1,9}(?:\\.[0-9]{1,9})?)\\s*(ms|s|m)",
        Pattern.CASE_INSENSITIVE);
    private static final long MIN_DURATION_NANOS = 100_000_000L;
    private static final long MAX_DURATION_NANOS = 3_600_000_000_000L;
    private static final long MAX_MEMORY = 64L << 30;
    private static final int MAX_CPUS = 64;
    private static final int MAX_GUEST_VCPUS = 32;
    private static final long MAX_DISK = 1L << 40;
    private static final int MAX_NICS = 4;
    private static final long DEFAULT_MAC_BASE = 0x00163E000000L;

    /** The smallest UDP payload of a network workload: its sequence number and timestamp, and two pattern bytes. */
    public static final int MIN_PAYLOAD = 18;
    /** The largest UDP payload: a 1500-byte MTU less the IPv4 and UDP headers. */
    public static final int MAX_PAYLOAD = 1472;
    /** A stream's frames in flight unless {@code window} says otherwise: fewer than an e1000's receive descriptors. */
    public static final int DEFAULT_STREAM_WINDOW = 32;
    private static final int MAX_STREAM_WINDOW = 1024;
    private static final int MAX_RR_WINDOW = 64;

    private ScenarioParser()
    {
    }

    /**
     * Parses a file: JSON if its name ends in {@code .json}, YAML if in {@code .yaml} or {@code .yml}, otherwise
     * JSON if its first non-blank character is <code>{</code>, else YAML.
     *
     * @param file the scenario file.
     * @return the checked scenario.
     * @throws ScenarioException if the file cannot be read or a field is wrong.
     */
    public static Scenario parse(final Path file)
    {
        final String text;
        try
        {
            text = Files.readString(file, StandardCharsets.UTF_8);
        }
        catch (final NoSuchFileException ex)
        {
            throw new ScenarioException(file + ": cannot read: no such file");
        }
        catch (final IOException | RuntimeException ex)
        {
            throw new ScenarioException(file + ": cannot read: " + ex);
        }
        final String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        final boolean json = name.endsWith(".json") ||
            (!name.endsWith(".yaml") && !name.endsWith(".yml") && text.stripLeading().startsWith("{"));
        return parse(text, json, file.toString());
    }

    /**
     * Parses the built-in default scenario, the class-path resource {@code /scenarios/default.yaml}.
     *
     * @return the checked scenario.
     */
    public static Scenario defaultScenario()
    {
        try (InputStream in = ScenarioParser.class.getResourceAsStream("/scenarios/default.yaml"))
        {
            if (null == in)
            {
                throw new IllegalStateException("the default scenario is missing from the class path");
            }
            return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), false, "default scenario");
        }
        catch (final IOException ex)
        {
            throw new IllegalStateException("cannot read the default scenario", ex);
        }
    }

    /**
     * Parses text.
     *
     * @param text   the scenario.
     * @param json   true for JSON, false for YAML.
     * @param origin where it came from, for messages about the text as a whole.
     * @return the checked scenario.
     * @throws ScenarioException if it is malformed or a field is wrong.
     */
    public static Scenario parse(final String text, final boolean json, final String origin)
    {
        final JsonNode root;
        try
        {
            final JsonFactory factory = json ?
                JsonFactory.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build() :
                YAMLFactory.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();
            root = new ObjectMapper(factory).readTree(text);
        }
        catch (final JsonProcessingException ex)
        {
            final String detail = null == ex.getOriginalMessage() ? ex.getClass().getSimpleName() :
                ex.getOriginalMessage().strip().replaceAll("\\s*\\n\\s*", " ");
            throw new ScenarioException(origin + ": not valid " + (json ? "JSON" : "YAML") + ": " + detail +
                (null == ex.getLocation() ? "" : " (line " + ex.getLocation().getLineNr() + ')'));
        }
        if (null == root || !root.isObject())
        {
            throw new ScenarioException(origin + ": expected a mapping with machine, backend and guests, got " +
                (null == root || root.isMissingNode() ? "nothing" : Fields.describe(root)));
        }
        return scenario(new Fields(root, ""));
    }

    /**
     * Parses a size such as {@code 4K}, {@code 256M}, {@code 4G} or {@code 4096}.
     *
     * @param text the size.
     * @return bytes, or -1 if {@code text} is not a size.
     */
    public static long parseSize(final String text)
    {
        final Matcher m = SIZE.matcher(text.trim());
        if (!m.matches())
        {
            return -1;
        }
        final int shift = null == m.group(2) ? 0 : 10 * ("KMGT".indexOf(m.group(2).toUpperCase(Locale.ROOT)) + 1);
        final long number = Long.parseLong(m.group(1));
        return number > (Long.MAX_VALUE >> shift) ? -1 : number << shift;
    }

    /**
     * Parses a duration such as {@code 500ms}, {@code 10s}, {@code 1.5s} or {@code 2m}.
     *
     * @param text the duration.
     * @return nanoseconds, or -1 if {@code text} is not a duration.
     */
    public static long parseDuration(final String text)
    {
        final Matcher m = DURATION.matcher(text.trim());
        if (!m.matches())
        {
            return -1;
        }
        final String unit = m.group(2).toLowerCase(Locale.ROOT);
        final double scale = "ms".equals(unit) ? 1e6 : "s".equals(unit) ? 1e9 : 60e9;
        return Math.round(Double.parseDouble(m.group(1)) * scale);
    }

    /**
     * Checks a workload duration given on the command line, with the same rule as the {@code duration} field.
     *
     * @param name what to call it in the message, for example {@code --duration}.
     * @param text the duration.
     * @return nanoseconds.
     * @throws ScenarioException naming {@code name} if it is not a duration from 100 ms to one hour.
     */
    public static long checkDuration(final String name, final String text)
    {
        final long nanos = parseDuration(text);
        if (nanos < MIN_DURATION_NANOS || nanos > MAX_DURATION_NANOS)
        {
            throw new ScenarioException(name + ": expected " + durationExpected(MIN_DURATION_NANOS,
                MAX_DURATION_NANOS) + ", got \"" + text + '"');
        }
        return nanos;
    }

    private static String durationExpected(final long min, final long max)
    {
        return DURATION_EXPECTED + " from " + durationText(min) + " to " + durationText(max);
    }

    private static String durationText(final long nanos)
    {
        if (0 != nanos && 0 == nanos % 1_000_000_000L)
        {
            return nanos / 1_000_000_000L + "s";
        }
        return 0 == nanos % 1_000_000 ? nanos / 1_000_000 + "ms" : BigDecimal.valueOf(nanos, 6).stripTrailingZeros()
            .toPlainString() + "ms";
    }

    private static Scenario scenario(final Fields root)
    {
        root.allow("description", "machine", "backend", "guests", "network");
        final String description = root.string("description", "", false).strip();
        final Fields machine = root.object("machine");
        machine.allow("memory", "dom0-memory", "cpus", "dom0-vcpus", "execution", "slice", "tick", "halt-poll",
            "halt-poll-adaptive");
        final long machineMemory = machine.size("memory", 512L << 20, 16L << 20, MAX_MEMORY);
        final long dom0Memory = machine.size("dom0-memory", 64L << 20, 4L << 20, machineMemory);
        final Scenario.Cpus cpus = cpus(machine);

        final Fields backend = root.object("backend");
        backend.allow("data-path", "persistent-grants", "max-indirect-segments", "max-queues", "max-ring-page-order",
            "o-direct", "io-workers", "io-uring");
        final String path = backend.choice("data-path", "grant-map", "grant-map", "grant-copy");
        final Scenario.Backend back = new Scenario.Backend(
            "grant-map".equals(path) ? BlockDataPath.GRANT_MAP : BlockDataPath.GRANT_COPY,
            backend.bool("persistent-grants", true),
            backend.integer("max-indirect-segments", 256, 0, BlkifRequestDescriptor.MAX_INDIRECT_SEGMENTS),
            backend.integer("max-queues", 4, 1, BlkifXenbusKeys.MAX_QUEUES_LIMIT),
            backend.integer("max-ring-page-order", BlkifXenbusKeys.MAX_RING_PAGE_ORDER_LIMIT, 0,
                BlkifXenbusKeys.MAX_RING_PAGE_ORDER_LIMIT),
            backend.bool("o-direct", false),
            backend.integer("io-workers", 0, 0, 256),
            backend.bool("io-uring", false));
        final String uringRefused = back.ioUring() ? BlockBackOptions.ioUringUnavailableReason() : null;
        if (null != uringRefused)
        {
            throw backend.error("io-uring", "true", "io_uring on this machine (" + uringRefused + ")");
        }

        final List<Fields> guestNodes = root.list("guests", 1, 32);
        final List<Scenario.Guest> guests = new ArrayList<>();
        final Set<String> names = new HashSet<>();
        final Set<Path> images = new HashSet<>();
        final Set<Long> macs = new HashSet<>();
        long guestMemory = 0;
        for (int g = 0; g < guestNodes.size(); g++)
        {
            final Fields guest = guestNodes.get(g);
            guest.allow("name", "memory", "vcpus", "mode", "weight", "cap", "cpu-bound", "disks", "nics");
            final String name = guest.string("name", "guest" + (g + 1), true);
            if (!name.matches("[A-Za-z0-9_-]{1,32}"))
            {
                throw guest.error("name", '"' + name + '"', "1 to 32 letters, digits, '-' or '_'");
            }
            if (!names.add(name))
            {
                throw guest.error("name", '"' + name + '"', "a name no other guest has");
            }
            final long memory = guest.size("memory", 64L << 20, 4L << 20, MAX_MEMORY);
            guestMemory += memory;
            final int vcpus = guest.integer("vcpus", 1, 1, MAX_GUEST_VCPUS);
            final PagingMode mode = PagingMode.valueOf(guest.choice("mode", "para", "native", "full", "para",
                "nested").toUpperCase(Locale.ROOT));
            final int weight = guest.integer("weight", CreditScheduler.DEFAULT_WEIGHT, 1, CreditScheduler.MAX_WEIGHT);
            final int cap = guest.integer("cap", 0, 0, 100 * vcpus);
            final boolean cpuBound = guest.bool("cpu-bound", false);
            if (!cpus.vcpus() && (guest.has("weight") || guest.has("cap") || cpuBound))
            {
                final String field = guest.has("weight") ? "weight" : guest.has("cap") ? "cap" : "cpu-bound";
                throw guest.error(field, guest.text(field), "no " + field + " with machine.execution: threads " +
                    "(there is no scheduler)");
            }
            final List<Scenario.Nic> nics = nics(guest, g, mode, cpus, macs);
            final List<Fields> diskNodes = nics.isEmpty() || guest.has("disks") ?
                guest.list("disks", nics.isEmpty() ? 1 : 0, 8) : List.of();
            final List<Scenario.Disk> disks = new ArrayList<>();
            final Set<Integer> devids = new HashSet<>();
            for (int d = 0; d < diskNodes.size(); d++)
            {
                final Scenario.Disk disk = disk(diskNodes.get(d), FIRST_DEVID + 16 * d, images, mode, cpus);
                if (!devids.add(disk.devid()))
                {
                    throw diskNodes.get(d).error("devid", Integer.toString(disk.devid()),
                        "a device number no other disk of this guest has");
                }
                disks.add(disk);
            }
            guests.add(new Scenario.Guest(name, memory, vcpus, mode, weight, cap, cpuBound, List.copyOf(disks),
                nics));
        }
        if (dom0Memory + guestMemory > machineMemory)
        {
            throw machine.error("memory", (machineMemory >> 20) + "M", "at least dom0-memory + every guest's memory" +
                " = " + ((dom0Memory + guestMemory) >> 20) + "M");
        }
        return new Scenario(description, machineMemory, dom0Memory, cpus, back, List.copyOf(guests),
            network(root, guests));
    }

    private static List<Scenario.Nic> nics(
        final Fields guest, final int g, final PagingMode mode, final Scenario.Cpus cpus, final Set<Long> macs)
    {
        if (!guest.has("nics"))
        {
            return List.of();
        }
        final List<Fields> nodes = guest.list("nics", 1, MAX_NICS);
        final List<Scenario.Nic> nics = new ArrayList<>();
        for (int n = 0; n < nodes.size(); n++)
        {
            final Fields nic = nodes.get(n);
            nic.allow("io", "mac");
            final Scenario.Io io = Scenario.Io.valueOf(nic.choice("io", "pv", "pv", "emulated")
                .toUpperCase(Locale.ROOT));
            if (Scenario.Io.PV == io && PagingMode.PARA != mode)
            {
                throw nic.error("io", "pv", (PagingMode.NESTED == mode ? "a guest of mode para" : "emulated in a " +
                    mode.name().toLowerCase(Locale.ROOT) + " guest") +
                    " (a vif's netfront needs the guest's mode para)");
            }
            if (Scenario.Io.EMULATED == io)
            {
                if (PagingMode.NATIVE != mode && PagingMode.FULL != mode)
                {
                    throw nic.error("io", "emulated", (PagingMode.PARA == mode ? "pv in a para guest" :
                        "a guest of mode native or full") + " (an emulated e1000 NIC needs the guest's mode native " +
                        "or full)");
                }
                if (!cpus.vcpus())
                {
                    throw nic.error("io", "emulated", "pv with machine.execution: threads (an emulated NIC's " +
                        "driver and model run on vCPUs)");
                }
            }
            final long mac;
            if (nic.has("mac"))
            {
                final String text = nic.string("mac", null, false);
                long parsed;
                try
                {
                    parsed = NetFront.parseMac(text);
                }
                catch (final IllegalArgumentException ex)
                {
                    parsed = -1;
                }
                if (parsed < 0 || 0 != (parsed & (1L << 40)) || 0 == parsed)
                {
                    throw nic.error("mac", '"' + text + '"', "a unicast MAC address like 00:16:3e:00:01:01");
                }
                mac = parsed;
            }
            else
            {
                mac = DEFAULT_MAC_BASE | ((long)(g + 1) << 8) | (n + 1);
            }
            if (!macs.add(mac))
            {
                throw nic.error("mac", '"' + macText(mac) + '"', "a MAC address no other NIC has");
            }
            nics.add(new Scenario.Nic(io, mac));
        }
        return List.copyOf(nics);
    }

    /**
     * Formats a MAC address as {@code xx:xx:xx:xx:xx:xx}.
     *
     * @param mac 48 bits, first byte most significant.
     * @return the text.
     */
    public static String macText(final long mac)
    {
        final StringBuilder text = new StringBuilder(17);
        for (int i = 5; i >= 0; i--)
        {
            text.append(String.format(Locale.ROOT, "%02x", (mac >>> (8 * i)) & 0xFF));
            if (i > 0)
            {
                text.append(':');
            }
        }
        return text.toString();
    }

    private static List<Scenario.NetWorkload> network(final Fields root, final List<Scenario.Guest> guests)
    {
        if (!root.has("network"))
        {
            return List.of();
        }
        final List<String> withNics = new ArrayList<>();
        for (final Scenario.Guest guest : guests)
        {
            if (!guest.nics().isEmpty())
            {
                withNics.add(guest.name());
            }
        }
        final List<Fields> nodes = root.list("network", 1, 64);
        final List<Scenario.NetWorkload> workloads = new ArrayList<>();
        final Set<String> names = new HashSet<>();
        for (final Fields work : nodes)
        {
            work.allow("name", "from", "to", "kind", "payload", "payloads", "duration", "warmup", "window", "verify");
            final String from = endpoint(work, "from", withNics, false);
            final String to = endpoint(work, "to", withNics, true);
            if (from.equals(to))
            {
                throw work.error("to", '"' + to + '"', "a guest other than from (\"" + from + "\"), or uplink");
            }
            final Scenario.NetKind kind = Scenario.NetKind.valueOf(work.choice("kind", "stream", "stream", "rr")
                .toUpperCase(Locale.ROOT));
            final List<Integer> payloads = payloads(work);
            final long duration = work.duration("duration", 5_000_000_000L, MIN_DURATION_NANOS, MAX_DURATION_NANOS);
            final long warmup = work.duration("warmup", 500_000_000L, 0, 600_000_000_000L);
            final int window = Scenario.NetKind.STREAM == kind ?
                work.integer("window", DEFAULT_STREAM_WINDOW, 1, MAX_STREAM_WINDOW) :
                work.integer("window", 1, 1, MAX_RR_WINDOW);
            final boolean verify = work.bool("verify", true);
            final String given = work.string("name", null, false);
            if (null != given && !given.matches("[A-Za-z0-9_.>-]{1,40}"))
            {
                throw work.error("name", '"' + given + '"', "1 to 40 letters, digits, '-', '_', '.' or '>'");
            }
            for (final int payload : payloads)
            {
                final String base = null == given ? from + '>' + to + '-' + kind.name().toLowerCase(Locale.ROOT) :
                    given;
                final String name = null == given || payloads.size() > 1 ? base + '-' + payload : base;
                if (!names.add(name))
                {
                    throw work.error("name", '"' + name + '"', "a name no other network workload has");
                }
                workloads.add(new Scenario.NetWorkload(name, from, to, kind, payload, duration, warmup, window,
                    verify));
            }
        }
        return List.copyOf(workloads);
    }

    private static String endpoint(
        final Fields work, final String field, final List<String> withNics, final boolean uplink)
    {
        final String expected = "the name of a guest with nics (" + (withNics.isEmpty() ? "none has any" :
            "one of: " + String.join(", ", withNics)) + ')' + (uplink ? ", or uplink" : "");
        if (!work.has(field))
        {
            throw work.error(field, "nothing", expected);
        }
        final String name = work.string(field, null, true);
        if (withNics.contains(name) || (uplink && Scenario.UPLINK.equals(name)))
        {
            return name;
        }
        throw work.error(field, '"' + name + '"', expected);
    }

    private static List<Integer> payloads(final Fields work)
    {
        if (work.has("payload") && work.has("payloads"))
        {
            throw work.error("payloads", work.text("payloads"), "either payload or payloads, not both");
        }
        if (!work.has("payloads"))
        {
            return List.of(work.integer("payload", 1472, MIN_PAYLOAD, MAX_PAYLOAD));
        }
        final JsonNode list = work.node.get("payloads");
        if (!list.isArray() || list.isEmpty() || list.size() > 16)
        {
            throw work.error("payloads", work.text("payloads"), "a list of 1 to 16 payload sizes");
        }
        final List<Integer> payloads = new ArrayList<>();
        for (int i = 0; i < list.size(); i++)
        {
            final JsonNode value = list.get(i);
            if (!value.isIntegralNumber() || value.longValue() < MIN_PAYLOAD || value.longValue() > MAX_PAYLOAD)
            {
                throw work.error("payloads[" + i + ']', Fields.describe(value), "a whole number from " + MIN_PAYLOAD +
                    " to " + MAX_PAYLOAD + " (UDP payload bytes)");
            }
            if (payloads.contains(value.intValue()))
            {
                throw work.error("payloads[" + i + ']', value.toString(), "a size not already in the list");
            }
            payloads.add(value.intValue());
        }
        return payloads;
    }

    private static Scenario.Cpus cpus(final Fields machine)
    {
        final boolean vcpus = "vcpus".equals(machine.choice("execution", "vcpus", "vcpus", "threads"));
        final int cpus = machine.integer("cpus", Math.min(MAX_CPUS, Runtime.getRuntime().availableProcessors()), 1,
            MAX_CPUS);
        final int dom0Vcpus = machine.integer("dom0-vcpus", vcpus ? cpus : 1, 1, MAX_GUEST_VCPUS);
        final long slice = machine.duration("slice", SchedulerConfig.DEFAULT_SLICE_MILLIS * 1_000_000, 100_000,
            1_000_000_000);
        final long tick = machine.duration("tick", Math.min(slice, SchedulerConfig.DEFAULT_TICK_MILLIS * 1_000_000),
            100_000, slice);
        final long haltPoll = machine.duration("halt-poll", SchedulerConfig.DEFAULT_HALT_POLL_MICROS * 1_000, 0,
            10_000_000);
        final boolean haltPollAdaptive = machine.bool("halt-poll-adaptive", true);
        if (!vcpus)
        {
            for (final String field : new String[] { "cpus", "slice", "tick", "halt-poll", "halt-poll-adaptive" })
            {
                if (machine.has(field))
                {
                    throw machine.error(field, machine.text(field), "no " + field + " with execution: threads " +
                        "(there is no scheduler)");
                }
            }
        }
        return new Scenario.Cpus(vcpus, cpus, dom0Vcpus, slice, tick, haltPoll, haltPollAdaptive);
    }

    private static Scenario.Disk disk(
        final Fields disk, final int defaultDevid, final Set<Path> images, final PagingMode mode,
        final Scenario.Cpus cpus)
    {
        disk.allow("devid", "size", "image", "read-only", "io", "frontend", "workload");
        final Scenario.Io io = Scenario.Io.valueOf(disk.choice("io", "pv", "pv", "emulated").toUpperCase(Locale.ROOT));
        if (Scenario.Io.EMULATED == io)
        {
            if (PagingMode.PARA == mode)
            {
                throw disk.error("io", "emulated", "pv in a para guest (it has no emulated devices; an emulated " +
                    "disk needs the guest's mode native or full)");
            }
            if (!cpus.vcpus())
            {
                throw disk.error("io", "emulated", "pv with machine.execution: threads (an emulated device's " +
                    "driver and model run on vCPUs)");
            }
            if (disk.has("frontend"))
            {
                throw disk.error("frontend", disk.text("frontend"), "no frontend settings on an emulated disk " +
                    "(they configure the split driver)");
            }
        }
        final int devid = disk.integer("devid", defaultDevid, 1, Integer.MAX_VALUE);
        final String imageText = disk.string("image", null, false);
        final boolean readOnly = disk.bool("read-only", false);
        final Path image;
        final Scenario.ImageKind kind;
        final long size;
        if (null == imageText)
        {
            image = null;
            kind = Scenario.ImageKind.TEMPORARY;
            size = diskSize(disk, 256L << 20);
        }
        else
        {
            image = Path.of(imageText).toAbsolutePath().normalize();
            if (!images.add(image))
            {
                throw disk.error("image", '"' + imageText + '"', "an image no other disk uses");
            }
            if (Files.isRegularFile(image))
            {
                kind = Scenario.ImageKind.EXISTING;
                size = existingImageSize(disk, imageText, image, readOnly);
            }
            else if (Files.exists(image))
            {
                throw disk.error("image", '"' + imageText + '"', "a regular file");
            }
            else
            {
                kind = Scenario.ImageKind.CREATED;
                if (!disk.has("size"))
                {
                    throw disk.error("image", '"' + imageText + '"', "an existing raw image file, or a size to " +
                        "create it with");
                }
                if (readOnly)
                {
                    throw disk.error("image", '"' + imageText + '"', "an existing raw image file for a read-only " +
                        "disk");
                }
                if (null == image.getParent() || !Files.isDirectory(image.getParent()))
                {
                    throw disk.error("image", '"' + imageText + '"', "a path in an existing directory");
                }
                size = diskSize(disk, 0);
            }
        }

        final Fields front = disk.object("frontend");
        front.allow("persistent-grants", "indirect-segments", "queues", "ring-pages");
        final boolean persistent = front.bool("persistent-grants", true);
        final int indirect = front.integer("indirect-segments", 256, 0, BlkifRequestDescriptor.MAX_INDIRECT_SEGMENTS);
        final int queues = front.integer("queues", 1, 1, BlkifXenbusKeys.MAX_QUEUES_LIMIT);
        final int ringPages = front.integer("ring-pages", 1, 1, 1 << BlkifXenbusKeys.MAX_RING_PAGE_ORDER_LIMIT);
        if (1 != Integer.bitCount(ringPages))
        {
            throw front.error("ring-pages", Integer.toString(ringPages), "1, 2, 4, 8 or 16");
        }
        final Scenario.Workload workload = workload(disk.object("workload"), size, readOnly);
        if (Scenario.Io.EMULATED == io)
        {
            final Fields work = disk.object("workload");
            if (workload.queueDepth() > Ahci.SLOTS)
            {
                throw work.error("queue-depth", Integer.toString(workload.queueDepth()), "at most " + Ahci.SLOTS +
                    " on an emulated disk (the AHCI controller's command slots and NCQ tags)");
            }
            if (workload.blockSize() > Ahci.MAX_SECTORS * Ahci.SECTOR)
            {
                throw work.error("block-size", Integer.toString(workload.blockSize()), "at most " +
                    Ahci.MAX_SECTORS * Ahci.SECTOR + " on an emulated disk (the most one AHCI command moves here)");
            }
        }
        return new Scenario.Disk(devid, size, image, kind, readOnly, io,
            new Scenario.Frontend(persistent, indirect, queues, ringPages), workload);
    }

    private static long diskSize(final Fields disk, final long fallback)
    {
        final long size = disk.size("size", fallback, 1L << 20, MAX_DISK);
        if (0 != size % 4096)
        {
            throw disk.error("size", Long.toString(size), "a multiple of 4K");
        }
        return size;
    }

    private static long existingImageSize(
        final Fields disk, final String imageText, final Path image, final boolean readOnly)
    {
        final long size;
        try
        {
            size = Files.size(image);
        }
        catch (final IOException ex)
        {
            throw disk.error("image", '"' + imageText + '"', "a readable file (" + ex + ')');
        }
        if (!Files.isReadable(image) || (!readOnly && !Files.isWritable(image)))
        {
            throw disk.error("image", '"' + imageText + '"', readOnly ? "a readable file" : "a writable file " +
                "(or read-only: true)");
        }
        if (size < 1 << 20 || size > MAX_DISK || 0 != size % 4096)
        {
            throw disk.error("image", '"' + imageText + "\" of " + size + " bytes", "a multiple of 4K from 1M to 1T");
        }
        if (disk.has("size") && disk.size("size", size, 0, Long.MAX_VALUE) != size)
        {
            throw disk.error("size", disk.text("size"), "the image's size " + size + " bytes (or no size)");
        }
        return size;
    }

    private static Scenario.Workload workload(final Fields work, final long size, final boolean readOnly)
    {
        work.allow("pattern", "block-size", "queue-depth", "read-share", "duration", "count", "warmup", "verify",
            "seed", "baseline");
        final boolean random = "random".equals(work.choice("pattern", "random", "random", "sequential"));
        final int blockSize = (int)work.size("block-size", 4096, 512, 1L << 20);
        if (0 != blockSize % 512)
        {
            throw work.error("block-size", Integer.toString(blockSize), "a multiple of 512");
        }
        if (blockSize > size)
        {
            throw work.error("block-size", Integer.toString(blockSize), "at most the disk's size " + size);
        }
        final int depth = work.integer("queue-depth", 32, 1, 1024);
        final double readShare = work.share("read-share", 0.7);
        if (readOnly && readShare < 1.0)
        {
            throw work.error("read-share", work.has("read-share") ? work.text("read-share") : "0.7 (the default)",
                "1 (or 100%) on a read-only disk");
        }
        if (work.has("duration") && work.has("count"))
        {
            throw work.error("count", work.text("count"), "either duration or count, not both");
        }
        final long count = work.has("count") ? work.longInteger("count", 0, 1, 1L << 40) : 0;
        final long duration = 0 == count ?
            work.duration("duration", 10_000_000_000L, MIN_DURATION_NANOS, MAX_DURATION_NANOS) : 0;
        final long warmup = work.duration("warmup", 0 == count ? 1_000_000_000L : 0, 0, 600_000_000_000L);
        final boolean verify = work.bool("verify", true);
        if (verify && size / blockSize > MAX_VERIFIED_BLOCKS)
        {
            throw work.error("verify", "true for " + size / blockSize + " blocks", "at most " + MAX_VERIFIED_BLOCKS +
                " blocks (disk size / block-size) to verify; use a larger block-size or verify: false");
        }
        final long seed = work.longInteger("seed", 1, 0, Long.MAX_VALUE);
        return new Scenario.Workload(random, blockSize, depth, readShare, duration, count, warmup, verify, seed,
            work.bool("baseline", true));
    }

    /** An object node being read, with its path for messages. */
    private static final class Fields
    {
        private final JsonNode node;
        private final String path;

        Fields(final JsonNode node, final String path)
        {
            this.node = node;
            this.path = path;
        }

        void allow(final String... names)
        {
            final Set<String> allowed = Set.of(names);
            for (final Iterator<String> it = node.fieldNames(); it.hasNext();)
            {
                final String name = it.next();
                if (!allowed.contains(name))
                {
                    throw new ScenarioException(where(name) + ": unknown field (expected one of: " +
                        String.join(", ", names) + ')');
                }
            }
        }

        boolean has(final String name)
        {
            return node.has(name) && !node.get(name).isNull();
        }

        String text(final String name)
        {
            return describe(node.get(name));
        }

        ScenarioException error(final String name, final String found, final String expected)
        {
            return new ScenarioException(where(name) + ": expected " + expected + ", got " + found);
        }

        Fields object(final String name)
        {
            if (!has(name))
            {
                return new Fields(JsonNodeFactory.instance.objectNode(), where(name));
            }
            final JsonNode child = node.get(name);
            if (!child.isObject())
            {
                throw error(name, describe(child), "a mapping");
            }
            return new Fields(child, where(name));
        }

        List<Fields> list(final String name, final int min, final int max)
        {
            final String expected = "a list of " + min + " to " + max + " entries";
            if (!has(name))
            {
                throw error(name, "nothing", expected);
            }
            final JsonNode child = node.get(name);
            if (!child.isArray() || child.size() < min || child.size() > max)
            {
                throw error(name, describe(child), expected);
            }
            final List<Fields> list = new ArrayList<>();
            for (int i = 0; i < child.size(); i++)
            {
                final JsonNode element = child.get(i);
                final String elementPath = where(name) + '[' + i + ']';
                if (!element.isObject())
                {
                    throw new ScenarioException(elementPath + ": expected a mapping, got " + describe(element));
                }
                list.add(new Fields(element, elementPath));
            }
            return list;
        }

        String string(final String name, final String fallback, final boolean numbersToo)
        {
            if (!has(name))
            {
                return fallback;
            }
            final JsonNode value = node.get(name);
            if (!value.isTextual() && !(numbersToo && value.isIntegralNumber()))
            {
                throw error(name, describe(value), "a string");
            }
            return value.asText();
        }

        String choice(final String name, final String fallback, final String... choices)
        {
            if (!has(name))
            {
                return fallback;
            }
            final JsonNode value = node.get(name);
            for (final String choice : choices)
            {
                if (value.isTextual() && choice.equals(value.asText()))
                {
                    return choice;
                }
            }
            throw error(name, describe(value), "one of " + String.join(", ", choices));
        }

        boolean bool(final String name, final boolean fallback)
        {
            if (!has(name))
            {
                return fallback;
            }
            final JsonNode value = node.get(name);
            if (!value.isBoolean())
            {
                throw error(name, describe(value), "true or false");
            }
            return value.booleanValue();
        }

        int integer(final String name, final int fallback, final int min, final int max)
        {
            return (int)longInteger(name, fallback, min, max);
        }

        long longInteger(final String name, final long fallback, final long min, final long max)
        {
            if (!has(name))
            {
                return fallback;
            }
            final JsonNode value = node.get(name);
            if (!value.isIntegralNumber() || !value.canConvertToLong() || value.longValue() < min ||
                value.longValue() > max)
            {
                throw error(name, describe(value), "a whole number from " + min + " to " + max);
            }
            return value.longValue();
        }

        long size(final String name, final long fallback, final long min, final long max)
        {
            if (!has(name))
            {
                return fallback;
            }
            final JsonNode value = node.get(name);
            final long bytes;
            if (value.isIntegralNumber())
            {
                bytes = value.canConvertToLong() ? value.longValue() : -1;
            }
            else
            {
                bytes = value.isTextual() ? parseSize(value.asText()) : -1;
            }
            if (bytes < min || bytes > max)
            {
                throw error(name, describe(value), SIZE_EXPECTED + " from " + min + " to " + max + " bytes");
            }
            return bytes;
        }

        long duration(final String name, final long fallback, final long min, final long max)
        {
            if (!has(name))
            {
                return fallback;
            }
            final JsonNode value = node.get(name);
            final long nanos = value.isTextual() ? parseDuration(value.asText()) : -1;
            if (nanos < min || nanos > max)
            {
                throw error(name, describe(value), durationExpected(min, max));
            }
            return nanos;
        }

        double share(final String name, final double fallback)
        {
            if (!has(name))
            {
                return fallback;
            }
            final JsonNode value = node.get(name);
            double share = -1;
            if (value.isNumber())
            {
                share = value.doubleValue();
            }
            else if (value.isTextual() && value.asText().trim().matches("[0-9]{1,3}(\\.[0-9]{1,9})?%"))
            {
                final String text = value.asText().trim();
                share = Double.parseDouble(text.substring(0, text.length() - 1)) / 100.0;
            }
            if (!(share >= 0.0 && share <= 1.0))
            {
                throw error(name, describe(value), "a share from 0 to 1, or a percentage like 70%");
            }
            return share;
        }

        private String where(final String name)
        {
            return path.isEmpty() ? name : path + '.' + name;
        }

        static String describe(final JsonNode value)
        {
            if (value.isTextual())
            {
                return '"' + value.asText() + '"';
            }
            if (value.isArray())
            {
                return "a list of " + value.size() + (1 == value.size() ? " entry" : " entries");
            }
            return value.isObject() ? "a mapping" : value.toString();
        }
    }
}
