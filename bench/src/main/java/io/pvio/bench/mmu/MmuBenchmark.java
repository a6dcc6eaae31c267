package io.pvio.bench.mmu;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import io.pvio.machine.memory.MachineMemory;
import io.pvio.machine.paging.Mmu;
import io.pvio.machine.paging.NestedMmu;
import io.pvio.machine.paging.PageTableBuilder;
import io.pvio.machine.paging.PageTableEntry;

/**
 * Translations per second of the simulated MMU (target on the TLB-hit path: at least 50 M/s): {@code tlbHit} cycles
 * over 32 pages that stay in a 64-entry TLB; {@code pageWalk} drops the translation before each access, so every
 * translation is a full 4-level walk through tables in machine memory (4 references, accessed bits already set);
 * {@code nestedWalk} does the same through guest and host tables (the 2-D walk, 24 references).
 * Run with {@code -prof gc}: both should show 0 B/op.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {
    "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED", "-Dagrona.disable.bounds.checks=true",
    "-Xms1g", "-Xmx1g", "-XX:+AlwaysPreTouch"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class MmuBenchmark
{
    private static final long BASE = 0x0000_7F00_0000_0000L;
    private static final int PAGES = 32;

    private MachineMemory memory;
    private PageTableBuilder tables;
    private Mmu mmu;
    private NestedMmu nested;
    private int next;

    /**
     * For JMH, which instantiates the state.
     */
    public MmuBenchmark()
    {
    }

    /**
     * Maps the pages and loads CR3.
     */
    @Setup(Level.Trial)
    public void setUp()
    {
        memory = new MachineMemory(1024L * MachineMemory.FRAME_SIZE);
        tables = new PageTableBuilder(memory, 1);
        for (int i = 0; i < PAGES; i++)
        {
            tables.map(BASE + (long)i * 4096, memory.allocate(1), PageTableEntry.WRITABLE | PageTableEntry.USER);
        }
        mmu = new Mmu(memory, 64);
        mmu.loadCr3(tables.root());

        // nested: guest tables in guest frames 0..4 (gfns), data in gfns 8..39; host tables map every gfn
        final long[] p2m = new long[64];
        final PageTableBuilder host = new PageTableBuilder(memory, 0);
        for (int gfn = 0; gfn < p2m.length; gfn++)
        {
            p2m[gfn] = memory.allocate(2);
            memory.frame(p2m[gfn]).setMemory(0, MachineMemory.FRAME_SIZE, (byte)0);
            host.map((long)gfn << 12, p2m[gfn], PageTableEntry.WRITABLE | PageTableEntry.USER);
        }
        final long flags = PageTableEntry.PRESENT | PageTableEntry.WRITABLE | PageTableEntry.USER;
        for (int level = 4; level > 1; level--)
        {
            memory.frame(p2m[4 - level]).putLong(PageTableEntry.index(BASE, level) * 8,
                PageTableEntry.make(5 - level, flags));
        }
        for (int i = 0; i < PAGES; i++)
        {
            memory.frame(p2m[3]).putLong(PageTableEntry.index(BASE + (long)i * 4096, 1) * 8,
                PageTableEntry.make(8 + i, flags));
        }
        nested = new NestedMmu(memory, 64);
        nested.setHostRoot(host.root());
        nested.loadGuestCr3(0);
    }

    /**
     * Frees the machine memory.
     */
    @TearDown(Level.Trial)
    public void tearDown()
    {
        memory.close();
    }

    /**
     * One translation that hits the TLB.
     *
     * @return the machine address.
     */
    @Benchmark
    public long tlbHit()
    {
        final int page = next++ & (PAGES - 1);
        return mmu.translate(BASE + ((long)page << 12) + 8, Mmu.ACCESS_USER);
    }

    /**
     * One translation by a full two-dimensional walk (24 references).
     *
     * @return the machine address.
     */
    @Benchmark
    public long nestedWalk()
    {
        final int page = next++ & (PAGES - 1);
        final long va = BASE + ((long)page << 12);
        nested.invlpg(va);
        return nested.translate(va + 8, Mmu.ACCESS_USER);
    }

    /**
     * One translation by a full walk.
     *
     * @return the machine address.
     */
    @Benchmark
    public long pageWalk()
    {
        final int page = next++ & (PAGES - 1);
        final long va = BASE + ((long)page << 12);
        mmu.invlpg(va);
        return mmu.translate(va + 8, Mmu.ACCESS_USER);
    }
}
