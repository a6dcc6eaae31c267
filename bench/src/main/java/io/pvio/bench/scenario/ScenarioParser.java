package io.pvio.bench.scenario;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import io.pvio.backend.block.BlockDataPath;
import io.pvio.ring.blkif.BlkifRequestDescriptor;
import io.pvio.ring.blkif.BlkifXenbusKeys;

/**
 * Reads a scenario from YAML or JSON and checks every field before anything is built. The first error found is
 * thrown as a {@link ScenarioException} whose message names the field by its path (for example
 * {@code guests[1].disks[0].size}), what was found and what was expected. Unknown fields are errors.
 * <pre>
 * machine:   { memory: 512M, dom0-memory: 64M }
 * backend:   { data-path: grant-map, persistent-grants: true, max-indirect-segments: 256, max-queues: 4,
 *              max-ring-page-order: 4 }
 * guests:
 *   - name: guest1
 *     memory: 64M
 *     disks:
 *       - size: 256M                      # or image: /path/to/raw.img (size then defaults to the file's)
 *         read-only: false
 *         frontend: { persistent-grants: true, indirect-segments: 256, queues: 1, ring-pages: 1 }
 *         workload: { pattern: random, block-size: 4K, queue-depth: 32, read-share: 0.7,
 *                     duration: 10s,      # or count: 100000
 *                     warmup: 1s, verify: true, seed: 1, baseline: true }
 * </pre>
 */
public final class ScenarioParser
{
    /** The first virtual device number given to a guest's disks ({@code xvda}); the next disks get +16. */
    public static final long FIRST_DEVID = 51712;

    private static final Pattern SIZE = Pattern.compile("([0-9]+)\\s*([KMGT]?)(i?B)?", Pattern.CASE_INSENSITIVE);
    private static final Pattern DURATION = Pattern.compile("([0-9]+(?:\\.[0-9]+)?)\\s*(ms|s|m)",
        Pattern.CASE_INSENSITIVE);
    private static final long MAX_MEMORY = 64L << 30;

    private ScenarioParser()
    {
    }

    /**
     * Parses a file: YAML unless its name ends in {@code .json}.
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
        catch (final IOException ex)
        {
            throw new ScenarioException(file + ": cannot read: " + ex.getMessage());
        }
        return parse(text, file.toString().toLowerCase(Locale.ROOT).endsWith(".json"), file.toString());
    }

    /**
     * Parses the built-in default scenario.
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
     * @param origin where it came from, for messages.
     * @return the checked scenario.
     * @throws ScenarioException if it is malformed or a field is wrong.
     */
    public static Scenario parse(final String text, final boolean json, final String origin)
    {
        final JsonNode root;
        try
        {
            root = (json ? new ObjectMapper() : new ObjectMapper(new YAMLFactory())).readTree(text);
        }
        catch (final JsonProcessingException ex)
        {
            throw new ScenarioException(origin + ": not valid " + (json ? "JSON" : "YAML") + ": " +
                ex.getOriginalMessage() + (null == ex.getLocation() ? "" : " at line " +
                ex.getLocation().getLineNr()));
        }
        if (null == root || !root.isObject())
        {
            throw new ScenarioException(origin + ": expected a mapping with machine, backend and guests");
        }
        return scenario(new Fields(root, ""));
    }

    private static Scenario scenario(final Fields root)
    {
        root.allow("machine", "backend", "guests");
        final Fields machine = root.object("machine");
        machine.allow("memory", "dom0-memory");
        final long machineMemory = machine.size("memory", 512L << 20, 16L << 20, MAX_MEMORY);
        final long dom0Memory = machine.size("dom0-memory", 64L << 20, 4L << 20, machineMemory);

        final Fields backend = root.object("backend");
        backend.allow("data-path", "persistent-grants", "max-indirect-segments", "max-queues", "max-ring-page-order");
        final String path = backend.choice("data-path", "grant-map", "grant-map", "grant-copy");
        final Scenario.Backend back = new Scenario.Backend(
            "grant-map".equals(path) ? BlockDataPath.GRANT_MAP : BlockDataPath.GRANT_COPY,
            backend.bool("persistent-grants", true),
            backend.integer("max-indirect-segments", 256, 0, BlkifRequestDescriptor.MAX_INDIRECT_SEGMENTS),
            backend.integer("max-queues", 4, 1, BlkifXenbusKeys.MAX_QUEUES_LIMIT),
            backend.integer("max-ring-page-order", BlkifXenbusKeys.MAX_RING_PAGE_ORDER_LIMIT, 0,
                BlkifXenbusKeys.MAX_RING_PAGE_ORDER_LIMIT));

        final List<Fields> guestNodes = root.list("guests", 1, 32);
        final List<Scenario.Guest> guests = new ArrayList<>();
        final Set<String> names = new HashSet<>();
        long guestMemory = 0;
        for (int g = 0; g < guestNodes.size(); g++)
        {
            final Fields guest = guestNodes.get(g);
            guest.allow("name", "memory", "disks");
            final String name = guest.string("name", "guest" + (g + 1));
            if (!name.matches("[A-Za-z0-9_-]{1,32}"))
            {
                throw guest.error("name", "\"" + name + "\"", "1 to 32 letters, digits, '-' or '_'");
            }
            if (!names.add(name))
            {
                throw guest.error("name", "\"" + name + "\"", "a name no other guest has");
            }
            final long memory = guest.size("memory", 64L << 20, 4L << 20, MAX_MEMORY);
            guestMemory += memory;
            final List<Fields> diskNodes = guest.list("disks", 1, 8);
            final List<Scenario.Disk> disks = new ArrayList<>();
            for (int d = 0; d < diskNodes.size(); d++)
            {
                disks.add(disk(diskNodes.get(d), FIRST_DEVID + 16L * d));
            }
            guests.add(new Scenario.Guest(name, memory, List.copyOf(disks)));
        }
        if (dom0Memory + guestMemory > machineMemory)
        {
            throw machine.error("memory", (machineMemory >> 20) + "M", "at least dom0-memory + every guest's memory = " +
                ((dom0Memory + guestMemory) >> 20) + "M");
        }
        return new Scenario(machineMemory, dom0Memory, back, List.copyOf(guests));
    }

    private static Scenario.Disk disk(final Fields disk, final long defaultDevid)
    {
        disk.allow("devid", "size", "image", "read-only", "frontend", "workload");
        final long devid = disk.integer("devid", (int)defaultDevid, 0, Integer.MAX_VALUE);
        final String imageText = disk.string("image", null);
        final Path image = null == imageText ? null : Path.of(imageText);
        long size;
        if (null != image && !disk.has("size"))
        {
            if (!Files.isRegularFile(image))
            {
                throw disk.error("image", "\"" + imageText + "\"", "an existing raw image file (or give a size)");
            }
            try
            {
                size = Files.size(image);
            }
            catch (final IOException ex)
            {
                throw disk.error("image", "\"" + imageText + "\"", "a readable file: " + ex.getMessage());
            }
            if (size < 1 << 20 || 0 != size % 4096)
            {
                throw disk.error("image", size + " bytes", "a multiple of 4096 bytes, at least 1M");
            }
        }
        else
        {
            size = disk.size("size", 256L << 20, 1L << 20, 1L << 40);
            if (0 != size % 4096)
            {
                throw disk.error("size", Long.toString(size), "a multiple of 4K");
            }
        }
        final boolean readOnly = disk.bool("read-only", false);

        final Fields front = disk.object("frontend");
        front.allow("persistent-grants", "indirect-segments", "queues", "ring-pages");
        final int ringPages = front.integer("ring-pages", 1, 1, 1 << BlkifXenbusKeys.MAX_RING_PAGE_ORDER_LIMIT);
        if (Integer.bitCount(ringPages) != 1)
        {
            throw front.error("ring-pages", Integer.toString(ringPages), "1, 2, 4, 8 or 16");
        }
        final Scenario.Frontend frontend = new Scenario.Frontend(front.bool("persistent-grants", true),
            front.integer("indirect-segments", 256, 0, BlkifRequestDescriptor.MAX_INDIRECT_SEGMENTS),
            front.integer("queues", 1, 1, BlkifXenbusKeys.MAX_QUEUES_LIMIT), ringPages);

        final Fields work = disk.object("workload");
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
            throw work.error("read-share", Double.toString(readShare), "1 (or 100%) on a read-only disk");
        }
        if (work.has("duration") && work.has("count"))
        {
            throw work.error("count", work.text("count"), "either duration or count, not both");
        }
        final long count = work.has("count") ? work.longInteger("count", 0, 1, 1L << 40) : 0;
        final long duration = 0 == count ? work.duration("duration", 10_000_000_000L, 100_000_000L, 3_600_000_000_000L) :
            0;
        final long warmup = work.duration("warmup", 0 == count ? 1_000_000_000L : 0, 0, 600_000_000_000L);
        return new Scenario.Disk(devid, size, image, readOnly, frontend, new Scenario.Workload(random, blockSize, depth,
            readShare, duration, count, warmup, work.bool("verify", true), work.longInteger("seed", 1, 0,
            Long.MAX_VALUE), work.bool("baseline", true)));
    }

    /** An object node being read, with the path used in messages. */
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
                        String.join(", ", names) + ")");
                }
            }
        }

        boolean has(final String name)
        {
            return node.has(name) && !node.get(name).isNull();
        }

        String text(final String name)
        {
            return node.get(name).asText();
        }

        ScenarioException error(final String name, final String found, final String expected)
        {
            return new ScenarioException(where(name) + ": expected " + expected + ", got " + found);
        }

        Fields object(final String name)
        {
            if (!has(name))
            {
                return new Fields(com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode(),
                    where(name));
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
            if (!has(name))
            {
                throw new ScenarioException(where(name) + ": missing (expected a list of " + min + " to " + max + ")");
            }
            final JsonNode child = node.get(name);
            if (!child.isArray() || child.size() < min || child.size() > max)
            {
                throw error(name, describe(child), "a list of " + min + " to " + max + " entries");
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

        String string(final String name, final String fallback)
        {
            if (!has(name))
            {
                return fallback;
            }
            final JsonNode value = node.get(name);
            if (!value.isTextual() && !value.isNumber())
            {
                throw error(name, describe(value), "a string");
            }
            return value.asText();
        }

        String choice(final String name, final String fallback, final String... choices)
        {
            final String value = string(name, fallback);
            for (final String choice : choices)
            {
                if (choice.equals(value))
                {
                    return value;
                }
            }
            throw error(name, "\"" + value + "\"", "one of " + String.join(", ", choices));
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
            final String expected = "a size like 4K, 256M or 4G from " + min + " to " + max + " bytes";
            if (value.isIntegralNumber() && value.canConvertToLong())
            {
                return checked(name, value.longValue(), min, max, expected, describe(value));
            }
            final Matcher m = SIZE.matcher(value.asText().trim());
            if (!value.isTextual() || !m.matches() || m.group(1).length() > 15)
            {
                throw error(name, describe(value), expected);
            }
            final int shift;
            switch (m.group(2).toUpperCase(Locale.ROOT))
            {
                case "K":
                    shift = 10;
                    break;
                case "M":
                    shift = 20;
                    break;
                case "G":
                    shift = 30;
                    break;
                case "T":
                    shift = 40;
                    break;
                default:
                    shift = 0;
                    break;
            }
            final long number = Long.parseLong(m.group(1));
            if (number > (Long.MAX_VALUE >> shift))
            {
                throw error(name, describe(value), expected);
            }
            return checked(name, number << shift, min, max, expected, describe(value));
        }

        long duration(final String name, final long fallback, final long min, final long max)
        {
            if (!has(name))
            {
                return fallback;
            }
            final JsonNode value = node.get(name);
            final String expected = "a duration like 500ms, 10s or 2m";
            final Matcher m = DURATION.matcher(value.asText().trim());
            if (!value.isTextual() || !m.matches())
            {
                throw error(name, describe(value), expected);
            }
            final double number = Double.parseDouble(m.group(1));
            final String unit = m.group(2).toLowerCase(Locale.ROOT);
            final double nanos = number * ("ms".equals(unit) ? 1e6 : "s".equals(unit) ? 1e9 : 60e9);
            if (nanos < min || nanos > max)
            {
                throw error(name, describe(value), expected + " from " + min / 1_000_000 + "ms to " +
                    max / 1_000_000_000 + "s");
            }
            return (long)nanos;
        }

        double share(final String name, final double fallback)
        {
            if (!has(name))
            {
                return fallback;
            }
            final JsonNode value = node.get(name);
            final String expected = "a share from 0 to 1, or a percentage like 70%";
            double share;
            if (value.isNumber())
            {
                share = value.doubleValue();
            }
            else if (value.isTextual() && value.asText().trim().matches("[0-9]+(\\.[0-9]+)?%"))
            {
                final String text = value.asText().trim();
                share = Double.parseDouble(text.substring(0, text.length() - 1)) / 100.0;
            }
            else
            {
                throw error(name, describe(value), expected);
            }
            if (!(share >= 0.0 && share <= 1.0))
            {
                throw error(name, describe(value), expected);
            }
            return share;
        }

        private long checked(
            final String name, final long bytes, final long min, final long max, final String expected,
            final String found)
        {
            if (bytes < min || bytes > max)
            {
                throw error(name, found, expected);
            }
            return bytes;
        }

        private String where(final String name)
        {
            return path.isEmpty() ? name : path + '.' + name;
        }

        private static String describe(final JsonNode value)
        {
            return value.isTextual() ? "\"" + value.asText() + "\"" : value.isContainerNode() ?
                (value.isArray() ? "a list" : "a mapping") : value.toString();
        }
    }
}
