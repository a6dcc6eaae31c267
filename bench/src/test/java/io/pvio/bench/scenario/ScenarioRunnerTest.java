package io.pvio.bench.scenario;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.pvio.backend.block.FileBlockStore;
import io.pvio.backend.block.UringFile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Scenarios run end to end on a {@link io.pvio.bench.machine.PvMachine}: two guests with verified workloads through
 * the split driver and the native baseline, their counters, and images kept or deleted as the scenario says.
 */
class ScenarioRunnerTest
{
    private static final String TWO_GUESTS = String.join("\n",
        "machine: {memory: 256M}",
        "guests:",
        "  - name: one",
        "    memory: 32M",
        "    disks:",
        "      - size: 16M",
        "        frontend: {queues: 2}",
        "        workload: {block-size: 4K, queue-depth: 16, read-share: 0.5, count: 2000, seed: 3}",
        "  - name: two",
        "    memory: 32M",
        "    disks:",
        "      - size: 16M",
        "        frontend: {persistent-grants: false, indirect-segments: 0}",
        "        workload: {pattern: sequential, block-size: 64K, queue-depth: 4, read-share: 0.5, count: 400}",
        "");

    @TempDir
    Path dir;

    @Test
    void shouldRunTwoGuestsVerifiedAndReportSaneCounters() throws Exception
    {
        final List<Path> tempBefore = runDirectories();
        final StringWriter text = new StringWriter();
        final PrintWriter out = new PrintWriter(text, true);
        final ScenarioReport report =
            new ScenarioRunner(ScenarioParser.parse(TWO_GUESTS, false, "two"), "two", out, false).run();
        report.print(out);
        final String printed = text.toString();

        assertTrue(report.clean(), printed);
        assertEquals(2, report.guests().size());
        final ScenarioReport.DiskReport one = report.guests().get(0).disks().get(0);
        assertEquals("one/51712", one.disk());
        assertEquals(new ScenarioReport.Negotiated(2, 1, true, 256, "grant-map"), one.negotiated());
        assertEquals(2000, one.measured().ios(), "no warm-up with a count: every I/O is measured");
        assertEquals(16, one.measured().inFlight());
        assertTrue(one.measured().iops() > 0);
        assertTrue(one.measured().latency().p50Micros() > 0);
        assertTrue(one.measured().latency().p99Micros() >= one.measured().latency().p50Micros());
        assertEquals(2000, one.counted().ios());
        assertEquals(2000, one.counted().requests(), "a 4 KiB I/O is one request");
        assertEquals(1.0, one.derived().requestsPerIo());
        assertTrue(one.counted().notificationsFrontToBack() <= one.counted().requests());
        assertTrue(one.counted().notificationsBackToFront() >= 1);
        assertTrue(one.counted().notificationsBackToFront() <= one.counted().requests());
        assertEquals(0, one.counted().frontGrantsEnded(), "persistent grants stay granted");
        assertEquals(0, one.counted().backGrantUnmaps(), "persistent grants stay mapped");
        assertTrue(one.counted().frontPersistentGrants() > 0);
        assertTrue(one.verify().enabled());
        assertTrue(one.verify().readsChecked() > 500, "reads checked: " + one.verify().readsChecked());
        assertEquals(0, one.verify().mismatches());
        assertTrue(one.verify().imageBlocksChecked() > 500, "every written block is read back from the image");
        assertEquals(0, one.verify().imageMismatches());
        assertNotNull(one.nativeBaseline());
        assertEquals(16, one.nativeBaseline().inFlight(), "one native thread per I/O in flight at the queue depth");
        assertEquals(16, one.nativeBaseline().queueDepth());
        assertEquals(16, one.nativeBaseline().measured().inFlight());
        assertFalse(one.nativeBaseline().direct());
        assertEquals(2000, one.nativeBaseline().measured().ios());
        assertNotNull(one.nativeBaseline().before(), "native runs before the guests too");
        assertEquals(2000, one.nativeBaseline().before().ios());
        assertEquals(16, one.nativeBaseline().before().inFlight());
        assertTrue(one.nativeBaseline().verify().readsChecked() > 1000, "both native runs check their reads");
        assertTrue(one.derived().pvToNativeIops() > 0);
        assertEquals(one.measured().iops() / one.nativeBaseline().referenceIops(), one.derived().pvToNativeIops(),
            1e-9, "the ratio divides by the mean of the two native runs");

        final ScenarioReport.DiskReport two = report.guests().get(1).disks().get(0);
        assertEquals(new ScenarioReport.Negotiated(1, 1, false, 0, "grant-map"), two.negotiated());
        assertEquals(400, two.counted().ios());
        assertEquals(800, two.counted().requests(), "64 KiB without indirect segments takes two requests");
        assertEquals(0, two.counted().indirectRequests());
        assertTrue(two.counted().frontGrantsIssued() >= 400 * 16, "a grant per page per request");
        assertEquals(two.counted().frontGrantsIssued(), two.counted().frontGrantsEnded());
        assertEquals(two.counted().backGrantMaps(), two.counted().backGrantUnmaps());
        assertTrue(two.counted().backGrantMaps() >= 400 * 16);
        assertEquals(0, two.verify().mismatches());
        assertEquals(4, two.nativeBaseline().inFlight(), "queue depth 4, whatever the queue count");

        assertTrue(report.dom0().byKind().getOrDefault("GRANT_MAP", 0L) >= 400 * 16, report.dom0().toString());
        assertTrue(report.dom0().total() > 0);
        assertTrue(report.dom0().perRequest() > 0);
        assertEquals(report.guests().get(0).hypercalls().total(),
            report.guests().get(0).hypercalls().byKind().values().stream().mapToLong(Long::longValue).sum());

        assertTrue(printed.contains("one/51712"), printed);
        assertTrue(printed.contains("] split driver:"), printed);
        assertTrue(printed.contains("] native (before):"), printed);
        assertTrue(printed.contains("] native (after):"), printed);
        assertTrue(printed.contains("Result: clean"), printed);
        assertTrue(printed.contains("native, depth 16 (16 threads, one synchronous I/O each), page cache"), printed);
        assertEquals(tempBefore, runDirectories(), "temporary images are deleted");

        final Path json = dir.resolve("report.json");
        report.writeJson(json);
        assertEquals(report, ScenarioReport.readJson(json));
    }

    @ParameterizedTest(name = "{0} guest")
    @ValueSource(strings = {"full", "native"})
    void shouldRunAnEmulatedDiskBesideTheSplitDriverAndPutThePathsSideBySide(final String mode) throws Exception
    {
        final String yaml = String.join("\n",
            "machine: {memory: 256M}",
            "guests:",
            "  - name: pv",
            "    mode: para",
            "    memory: 32M",
            "    disks: [{size: 16M, workload: {queue-depth: 8, read-share: 0.5, count: 1500, seed: 4}}]",
            "  - name: emu",
            "    mode: " + mode,
            "    memory: 32M",
            "    disks: [{size: 16M, io: emulated, workload: {queue-depth: 8, read-share: 0.5, count: 1500, seed: 5}}]",
            "");
        final StringWriter text = new StringWriter();
        final PrintWriter out = new PrintWriter(text, true);
        final ScenarioReport report =
            new ScenarioRunner(ScenarioParser.parse(yaml, false, "side"), "side", out, false).run();
        report.print(out);
        final String printed = text.toString();

        assertTrue(report.clean(), printed);
        assertNotNull(report.emulatedCpu(), "the emulated phase has its own CPU table");
        final ScenarioReport.DiskReport pv = report.guests().get(0).disks().get(0);
        final ScenarioReport.DiskReport emu = report.guests().get(1).disks().get(0);
        assertEquals("pv/para", pv.path());
        assertEquals("emulated/" + mode, emu.path());
        assertNull(emu.counted(), "no split-driver counters for an emulated disk");
        final ScenarioReport.Emulated e = emu.emulated();
        assertEquals(1500, e.ios());
        assertEquals(0, e.deviceErrors());
        assertTrue(e.interrupts() >= 1 && e.interrupts() <= e.ios(), e.toString());
        // 2 accesses to issue each I/O, 5 per interrupt handled: between a lone I/O's 7 and depth 8's 2 + 5/8
        assertTrue(e.mmioAccesses() >= 2 * e.ios() + 5 * e.interrupts() / 2, e.toString());
        assertTrue(e.mmioAccesses() <= 7 * e.ios(), e.toString());
        if ("full".equals(mode))
        {
            assertEquals(e.mmioAccesses(), e.mmioExits(), "in full mode every access exits");
            assertEquals(e.mmioAccesses(), e.ioreqs(), "and is an ioreq to dom0");
            assertTrue(emu.cost().exitsPerIo() >= (double)e.mmioExits() / e.ios(), emu.cost().toString());
            assertEquals(2.0 * e.ioreqs() / e.ios(), emu.cost().notificationsPerIo(), 1e-9);
        }
        else
        {
            assertEquals(0, e.mmioExits(), "natively the accesses reach the device");
            assertEquals(0, e.ioreqs());
            assertEquals(0.0, emu.cost().exitsPerIo());
        }
        assertEquals(0.0, pv.cost().exitsPerIo(), "a para guest makes hypercalls, not exits");
        assertTrue(pv.cost().notificationsPerIo() > 0 && pv.cost().notificationsPerIo() <= 2.0, pv.cost().toString());
        assertTrue(emu.verify().readsChecked() > 300, "the emulated disk's reads are verified");
        assertEquals(0, emu.verify().mismatches());
        assertEquals(0, emu.verify().imageMismatches());
        assertNotNull(emu.nativeBaseline());
        assertTrue(printed.contains("] emulated:"), printed);
        assertTrue(printed.contains("I/O paths side by side, per I/O"), printed);
        assertTrue(printed.contains("emulated/" + mode), printed);
        assertTrue(printed.contains("Emulated AHCI controller counters"), printed);

        final Path json = dir.resolve("side.json");
        report.writeJson(json);
        assertEquals(report, ScenarioReport.readJson(json));
    }

    @Test
    void shouldKeepACreatedImageAndCheckOnlyKnownBlocksWhenReusingIt() throws Exception
    {
        final Path image = dir.resolve("kept.img");
        final String scenario = String.join("\n",
            "machine: {memory: 128M}",
            "guests:",
            "  - name: keeper",
            "    memory: 16M",
            "    disks:",
            "      - image: " + image,
            "        SIZE",
            "        workload: {block-size: 8K, queue-depth: 8, read-share: 0.3, count: 1500, baseline: false}",
            "");
        final ScenarioReport first = new ScenarioRunner(ScenarioParser.parse(scenario.replace("SIZE", "size: 4M"),
            false, "first"), "first", new PrintWriter(new StringWriter()), false).run();
        assertTrue(first.clean());
        final long firstChecked = first.guests().get(0).disks().get(0).verify().readsChecked();
        assertTrue(Files.exists(image), "a created image is kept");
        assertEquals(4 << 20, Files.size(image));
        final ScenarioReport.DiskReport created = first.guests().get(0).disks().get(0);
        assertEquals(image.toString(), created.image());
        assertNull(created.nativeBaseline());
        assertNull(created.derived().pvToNativeIops());
        assertTrue(created.verify().readsChecked() > 0, "a created image starts as zeros");

        final ScenarioReport second = new ScenarioRunner(ScenarioParser.parse(scenario.replace("SIZE",
            "read-only: false"), false, "second"), "second", new PrintWriter(new StringWriter()), false).run();
        assertTrue(second.clean());
        final ScenarioReport.DiskReport existing = second.guests().get(0).disks().get(0);
        // the same seed makes the same reads; on the created (zeroed) image every one was checked
        assertTrue(existing.verify().readsChecked() < firstChecked,
            "reads of blocks not written in this run are not checked: " + existing.verify());
        assertTrue(existing.verify().imageBlocksChecked() > 0);
    }

    @Test
    void shouldRunEveryImageWithODirectAndTheBaselineAtTheQueueDepth() throws Exception
    {
        final Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        assumeTrue(FileBlockStore.supportsDirectIo(tmp) || FileBlockStore.supportsDirectIo(Path.of("/var/tmp")),
            "neither " + tmp + " nor /var/tmp accepts O_DIRECT, so temporary images cannot use it");
        final Path imageDir = FileBlockStore.supportsDirectIo(dir) ? dir : Files.createTempDirectory(
            Path.of("target").toAbsolutePath(), "pvio-runner-direct-");
        assumeTrue(FileBlockStore.supportsDirectIo(imageDir), "no directory for a created image accepts O_DIRECT");
        final Path image = imageDir.resolve("direct.img");
        final String yaml = String.join("\n",
            "machine: {memory: 128M}",
            "backend: {o-direct: true}",
            "guests:",
            "  - name: temp",
            "    memory: 16M",
            "    disks: [{size: 8M, workload: {queue-depth: 8, read-share: 0.5, count: 2000, seed: 4}}]",
            "  - name: kept",
            "    memory: 16M",
            "    disks: [{image: " + image + ", size: 8M, frontend: {queues: 2},",
            "             workload: {block-size: 8K, queue-depth: 12, read-share: 0.5, count: 1500, seed: 5}}]",
            "");
        final List<Path> tempBefore = runDirectories();
        final StringWriter text = new StringWriter();
        final PrintWriter out = new PrintWriter(text, true);
        final ScenarioReport report = new ScenarioRunner(ScenarioParser.parse(yaml, false, "direct"), "direct", out,
            false).run();
        report.print(out);
        final String printed = text.toString();

        assertTrue(report.clean(), printed);
        final int alignment = FileBlockStore.directAlignment(imageDir);
        assertTrue(printed.contains("images opened O_DIRECT"), printed);
        assertTrue(printed.contains("temporary image (O_DIRECT, "), printed);
        assertTrue(printed.contains("image " + image + " (O_DIRECT, " + alignment + "-byte sectors)"), printed);
        final ScenarioReport.DiskReport temp = report.guests().get(0).disks().get(0);
        final ScenarioReport.DiskReport kept = report.guests().get(1).disks().get(0);
        for (final ScenarioReport.DiskReport disk : List.of(temp, kept))
        {
            assertTrue(disk.nativeBaseline().direct(), disk.toString());
            assertEquals(disk.measured().inFlight(), disk.nativeBaseline().inFlight(),
                "the baseline keeps as many I/Os in flight as the split driver");
            assertEquals(0, disk.verify().mismatches());
            assertTrue(disk.verify().imageBlocksChecked() > 0, "written blocks read back with O_DIRECT");
            assertTrue(disk.nativeBaseline().verify().readsChecked() > 0);
            assertEquals(0, disk.nativeBaseline().verify().errors(), disk.nativeBaseline().verify().firstError());
        }
        assertEquals(8, temp.nativeBaseline().inFlight());
        assertEquals(12, kept.nativeBaseline().inFlight(), "the queue depth, not the 2 queues");
        assertTrue(printed.contains("native, depth 12 (12 threads, one synchronous I/O each), O_DIRECT"), printed);
        assertEquals(tempBefore, runDirectories(), "temporary images are deleted");
        Files.delete(image);
        if (!imageDir.equals(dir))
        {
            Files.delete(imageDir);
        }
    }

    @Test
    void shouldRunTheBaselineOnAnIoUringWhenTheBackEndUsesOne() throws Exception
    {
        final String reason = UringFile.unavailableReason();
        assumeTrue(null == reason || "1".equals(System.getenv("PVIO_REQUIRE_TOOLS")), reason);
        final String yaml = String.join("\n",
            "machine: {memory: 128M}",
            "backend: {io-uring: true}",
            "guests:",
            "  - name: g",
            "    memory: 16M",
            "    disks: [{size: 8M, workload: {queue-depth: 8, read-share: 0.5, count: 3000, seed: 6}}]",
            "");
        final StringWriter text = new StringWriter();
        final PrintWriter out = new PrintWriter(text, true);
        final ScenarioReport report = new ScenarioRunner(ScenarioParser.parse(yaml, false, "uring"), "uring", out,
            false).run();
        report.print(out);
        final String printed = text.toString();

        assertTrue(report.clean(), printed);
        final ScenarioReport.DiskReport disk = report.guests().get(0).disks().get(0);
        assertTrue(disk.nativeBaseline().ioUring(), "like for like: the host engine blkback used");
        assertEquals(8, disk.nativeBaseline().inFlight());
        assertEquals(3000, disk.nativeBaseline().measured().ios());
        assertEquals(3000, disk.nativeBaseline().before().ios());
        assertTrue(disk.nativeBaseline().verify().readsChecked() > 1000, "both native runs check their reads");
        assertTrue(disk.counted().backAsyncRequests() > 2000, "blkback served through its io_uring: " +
            disk.counted().backAsyncRequests());
        assertTrue(disk.verify().imageBlocksChecked() > 500);
        assertEquals(0, disk.verify().imageMismatches());
        assertTrue(printed.contains("native, depth 8 (io_uring, one thread), page cache"), printed);
        assertTrue(printed.contains("an io_uring per ring"), printed);
    }

    @Test
    void shouldNameTheImageWhenItsFileSystemRefusesODirect() throws Exception
    {
        final Path tmpfs = Path.of("/dev/shm");
        assumeTrue(Files.isDirectory(tmpfs) && Files.isWritable(tmpfs), tmpfs + " is not a writable directory");
        assumeTrue(!FileBlockStore.supportsDirectIo(tmpfs), "tmpfs at " + tmpfs + " accepts O_DIRECT on this " +
            "kernel (Linux 6.6 or later), so there is no refusal to report");
        final Path image = tmpfs.resolve("pvio-runner-" + ProcessHandle.current().pid() + ".img");
        final String yaml = "machine: {memory: 128M}\nbackend: {o-direct: true}\n" +
            "guests: [{memory: 16M, disks: [{image: " + image + ", size: 8M, workload: {count: 100}}]}]\n";
        try
        {
            final ScenarioException ex = assertThrows(ScenarioException.class, () -> new ScenarioRunner(
                ScenarioParser.parse(yaml, false, "tmpfs"), "tmpfs", new PrintWriter(new StringWriter()), false)
                .run());
            assertTrue(ex.getMessage().startsWith("guests[0].disks[0].image: " + image + ": the file system (tmpfs) " +
                "does not support O_DIRECT"), ex.getMessage());
            assertTrue(ex.getMessage().endsWith("put the image on a file system that supports O_DIRECT, or set " +
                "backend.o-direct: false"), ex.getMessage());
            assertFalse(Files.exists(image), "the image it could not open is not left behind");
        }
        finally
        {
            Files.deleteIfExists(image);
        }
    }

    @Test
    void shouldRefuseABlockSizeODirectCannotUse() throws Exception
    {
        final Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        assumeTrue(FileBlockStore.supportsDirectIo(tmp), tmp + " does not accept O_DIRECT");
        final int alignment = FileBlockStore.directAlignment(tmp);
        assumeTrue(alignment > 512, "the file system's block is 512 bytes: every block size suits O_DIRECT");
        final String yaml = "machine: {memory: 128M}\nbackend: {o-direct: true}\n" +
            "guests: [{memory: 16M, disks: [{size: 8M}, {size: 8M, workload: {block-size: 512, count: 100}}]}]\n";
        final List<Path> tempBefore = runDirectories();
        final ScenarioException ex = assertThrows(ScenarioException.class, () -> new ScenarioRunner(
            ScenarioParser.parse(yaml, false, "small"), "small", new PrintWriter(new StringWriter()), false).run());
        assertTrue(ex.getMessage().startsWith("guests[0].disks[1].workload.block-size: expected a multiple of " +
            alignment + " (the block size of the file system of "), ex.getMessage());
        assertTrue(ex.getMessage().endsWith(", which backend.o-direct needs), got 512"), ex.getMessage());
        assertEquals(tempBefore, runDirectories(), "nothing is left behind");
    }

    private static List<Path> runDirectories() throws Exception
    {
        try (Stream<Path> files = Files.list(Path.of(System.getProperty("java.io.tmpdir"))))
        {
            return new ArrayList<>(files.filter((p) -> p.getFileName().toString().startsWith("pvio-run-")).sorted()
                .collect(Collectors.toList()));
        }
    }

    @Test
    void shouldShowTheWarmupAndStopAtTheDuration() throws Exception
    {
        final String scenario = String.join("\n",
            "machine: {memory: 128M}",
            "guests:",
            "  - memory: 16M",
            "    disks:",
            "      - size: 8M",
            "        workload: {queue-depth: 4, read-share: 0.5, warmup: 2500ms, duration: 500ms}",
            "");
        final StringWriter text = new StringWriter();
        final ScenarioReport report = new ScenarioRunner(ScenarioParser.parse(scenario, false, "timed"), "timed",
            new PrintWriter(text, true), false).run();
        assertTrue(report.clean(), text.toString());
        final ScenarioReport.DiskReport disk = report.guests().get(0).disks().get(0);
        assertTrue(disk.measured().ios() > 0);
        assertTrue(disk.counted().ios() > disk.measured().ios(), "warm-up I/Os are counted, not measured");
        assertTrue(text.toString().contains("(warm-up)"), text.toString());
        assertFalse(text.toString().contains("MISMATCHES"), text.toString());
    }

    @Test
    void shouldReportEachDomainsCpuWithExitsForFullAndUpcallsForPara() throws Exception
    {
        final String yaml = String.join("\n",
            "machine: {memory: 256M, cpus: 2, dom0-vcpus: 1}",
            "guests:",
            "  - {name: pv, memory: 32M, mode: para, disks: [{size: 16M, workload: {count: 3000, seed: 1}}]}",
            "  - {name: hvm, memory: 32M, mode: full, weight: 512, cap: 150, vcpus: 2,",
            "     disks: [{size: 16M, workload: {count: 3000, seed: 2}}]}",
            "");
        final StringWriter text = new StringWriter();
        final ScenarioReport report =
            new ScenarioRunner(ScenarioParser.parse(yaml, false, "cpu"), "cpu", new PrintWriter(text, true), false)
            .run();
        report.print(new PrintWriter(text, true));
        final String printed = text.toString();
        assertTrue(report.clean(), printed);
        final ScenarioReport.Cpu cpu = report.cpu();
        assertNotNull(cpu, printed);
        assertEquals(2, cpu.cpus());
        assertEquals(List.of("dom0", "pv", "hvm"),
            cpu.domains().stream().map(ScenarioReport.DomainCpu::domain).collect(Collectors.toList()));
        final ScenarioReport.DomainCpu dom0 = cpu.domains().get(0);
        final ScenarioReport.DomainCpu pv = cpu.domains().get(1);
        final ScenarioReport.DomainCpu hvm = cpu.domains().get(2);
        assertEquals(1, dom0.vcpus());
        assertEquals("para", pv.mode());
        assertEquals("full", hvm.mode());
        assertEquals(2, hvm.vcpus());
        assertEquals(512, hvm.weight());
        assertEquals(150, hvm.cap());
        double share = 0;
        for (final ScenarioReport.DomainCpu d : cpu.domains())
        {
            assertTrue(d.cpuSeconds() > 0, d.toString());
            assertTrue(d.cpuSeconds() <= cpu.wallSeconds() * d.vcpus() * 1.05, d.toString());
            share += d.machineShare();
        }
        assertTrue(share > 0 && share <= 1.05, "the domains' shares add up to at most the machine: " + share);
        // the para guest takes its events as upcalls and never exits; the full guest exits and has them injected
        assertEquals(0, pv.exits());
        assertTrue(pv.upcalls() > 0, pv.toString());
        assertEquals(0, pv.injected());
        assertTrue(hvm.exits() > 0, hvm.toString());
        assertEquals(hvm.exits(), hvm.exitsByReason().values().stream().mapToLong(Long::longValue).sum());
        assertTrue(hvm.injected() > 0, hvm.toString());
        assertEquals(0, hvm.upcalls());
        assertEquals(0, hvm.cpuHypercalls());
        assertTrue(pv.wakeups() > 0 && pv.wakeP99Micros() >= pv.wakeP50Micros() && pv.wakeP50Micros() > 0,
            pv.toString());
        assertTrue(hvm.modeledCycles() > 0 && pv.modeledCycles() > 0);
        assertTrue(printed.contains("exits of hvm:"), printed);
    }

    @Test
    void shouldReportNoCpuWhenDomainsRunOnThreads() throws Exception
    {
        final String yaml = "machine: {memory: 128M, execution: threads}\n" +
            "guests: [{memory: 32M, disks: [{size: 16M, workload: {count: 500}}]}]\n";
        final ScenarioReport report = new ScenarioRunner(ScenarioParser.parse(yaml, false, "threads"), "threads",
            new PrintWriter(new StringWriter(), true), false).run();
        assertTrue(report.clean());
        assertNull(report.cpu());
    }
}
