package io.pvio.bench.mmu;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import io.pvio.machine.CostModel;
import io.pvio.machine.memory.MachineMemory;
import io.pvio.machine.vm.GuestKernel;
import io.pvio.machine.vm.GuestKernel.AddressSpace;
import io.pvio.machine.vm.GuestWorkloads;
import io.pvio.machine.vm.KernelOptions;
import io.pvio.machine.vm.PagingMode;

/**
 * Full walks per second in each paging mode, through the guest kernel's user-mode access path: a one-entry TLB and 64
 * pages touched in turn make every access a TLB miss, so each is a complete walk (native and para: 4 references of the
 * guest's tables; full: 4 of the shadow tables, filled once; nested: the 24-reference 2-D walk). Run with
 * {@code -prof gc}: 0 B/op.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {
    "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED", "-Dagrona.disable.bounds.checks=true",
    "-Xms1g", "-Xmx1g", "-XX:+AlwaysPreTouch"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class GuestWalkBenchmark
{
    private static final int PAGES = 64;

    /** The paging mode. */
    @Param({"NATIVE", "FULL", "PARA", "NESTED"})
    public PagingMode mode;

    private MachineMemory memory;
    private GuestKernel kernel;
    private int next;

    /**
     * For JMH, which instantiates the state.
     */
    public GuestWalkBenchmark()
    {
    }

    /**
     * Boots the kernel with one process of 64 touched pages.
     */
    @Setup(Level.Trial)
    public void setUp()
    {
        memory = new MachineMemory(8192L * MachineMemory.FRAME_SIZE);
        kernel = new GuestKernel(mode, memory, 1, 2048, new CostModel(), null, new KernelOptions().withTlbEntries(1));
        final AddressSpace space = GuestWorkloads.startProcess(kernel, PAGES);
        if (space.pages() != PAGES)
        {
            throw new IllegalStateException("process not set up");
        }
    }

    /**
     * Frees the kernel and the machine memory.
     */
    @TearDown(Level.Trial)
    public void tearDown()
    {
        kernel.close();
        memory.close();
    }

    /**
     * One user-mode read that misses the TLB.
     *
     * @return the machine address.
     */
    @Benchmark
    public long walk()
    {
        final int page = next++ & (PAGES - 1);
        return kernel.translate(GuestWorkloads.HEAP + ((long)page << 12), false);
    }
}
