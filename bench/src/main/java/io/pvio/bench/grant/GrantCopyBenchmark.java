package io.pvio.bench.grant;

import java.util.concurrent.TimeUnit;

import org.agrona.concurrent.UnsafeBuffer;
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

import io.pvio.hypervisor.Domain;
import io.pvio.hypervisor.Hypervisor;
import io.pvio.hypervisor.grant.GrantCopyBatch;
import io.pvio.hypervisor.grant.GrantStatus;
import io.pvio.hypervisor.grant.GrantTableOps;
import io.pvio.machine.memory.MachineMemory;

/**
 * What the hypervisor's checks add to moving 4 KiB: a one-operation {@code GNTTABOP_copy} batch out of a guest's
 * grant into dom0's frame ({@code grantCopyFromGrant}) and back into the grant ({@code grantCopyToGrant}), beside a
 * plain {@link UnsafeBuffer} copy between two frames of the same machine memory ({@code plainCopy}) and the raw
 * frame copy the hypervisor ends with ({@code frameCopy}). A grant copy counts the hypercall, enters both domains'
 * teardown guards, reads and pins the grant entry with CASes, translates GFNs to MFNs, copies, and unpins.
 * {@code mapUnmap} is one map and one unmap of the same grant.
 * <p>
 * Run with {@code -prof gc}: every benchmark here should show 0 B/op.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {
    "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED", "-Dagrona.disable.bounds.checks=true",
    "-Xms1g", "-Xmx1g", "-XX:+AlwaysPreTouch"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class GrantCopyBenchmark
{
    /** Bytes moved per copy: one frame. */
    public static final int LENGTH = MachineMemory.FRAME_SIZE;

    private static final long GRANTED_GFN = 1;
    private static final long PLAIN_SOURCE_GFN = 2;
    private static final long LOCAL_GFN = 3;
    private static final long PLAIN_DEST_GFN = 4;

    private Hypervisor hypervisor;
    private MachineMemory memory;
    private GrantTableOps backOps;
    private int guestId;
    private int ref;
    private long plainSourceMfn;
    private long plainDestMfn;
    private final GrantCopyBatch fromGrant = new GrantCopyBatch(1);
    private final GrantCopyBatch toGrant = new GrantCopyBatch(1);
    private final UnsafeBuffer plainSource = new UnsafeBuffer(0, 0);
    private final UnsafeBuffer plainDest = new UnsafeBuffer(0, 0);
    private final UnsafeBuffer view = new UnsafeBuffer(0, 0);

    /**
     * For JMH, which instantiates the state.
     */
    public GrantCopyBenchmark()
    {
    }

    /**
     * Boots a hypervisor with dom0 as the back end and one guest that grants dom0 write access to one frame.
     */
    @Setup(Level.Trial)
    public void setUp()
    {
        memory = new MachineMemory(256L * MachineMemory.FRAME_SIZE);
        hypervisor = new Hypervisor(memory, 32, 1);
        final Domain dom0 = hypervisor.dom0();
        final Domain guest = dom0.hypercalls().createDomain("guest", 32, 1);
        dom0.hypercalls().unpauseDomain(guest.id());
        guestId = guest.id();
        guest.guestFrame(GRANTED_GFN).setMemory(0, LENGTH, (byte)0x5A);
        ref = guest.grantTable().grantAccess(dom0.id(), GRANTED_GFN, false);
        backOps = dom0.hypercalls().grantTableOp();
        fromGrant.clear().addFromGrant(guestId, ref, 0, LOCAL_GFN, 0, LENGTH);
        toGrant.clear().addToGrant(LOCAL_GFN, 0, guestId, ref, 0, LENGTH);
        plainSourceMfn = guest.mfnOf(PLAIN_SOURCE_GFN);
        plainDestMfn = dom0.mfnOf(PLAIN_DEST_GFN);
        memory.wrapFrame(plainSourceMfn, plainSource);
        memory.wrapFrame(plainDestMfn, plainDest);
        if (0 != backOps.copy(fromGrant) || 0 != backOps.copy(toGrant))
        {
            throw new IllegalStateException("grant copy refused: " + GrantStatus.name(fromGrant.status(0)) + ", " +
                GrantStatus.name(toGrant.status(0)));
        }
    }

    /**
     * Destroys the machine.
     */
    @TearDown(Level.Trial)
    public void tearDown()
    {
        hypervisor.close();
    }

    /**
     * The baseline: 4 KiB between two frames through Agrona, no checks.
     */
    @Benchmark
    public void plainCopy()
    {
        plainDest.putBytes(0, plainSource, 0, LENGTH);
    }

    /**
     * The raw frame-to-frame copy that a grant copy ends with.
     */
    @Benchmark
    public void frameCopy()
    {
        memory.copy(plainSourceMfn, 0, plainDestMfn, 0, LENGTH);
    }

    /**
     * 4 KiB out of a guest's grant into dom0's own frame.
     *
     * @return failed operations, 0.
     */
    @Benchmark
    public int grantCopyFromGrant()
    {
        return backOps.copy(fromGrant);
    }

    /**
     * 4 KiB from dom0's own frame into a guest's writable grant.
     *
     * @return failed operations, 0.
     */
    @Benchmark
    public int grantCopyToGrant()
    {
        return backOps.copy(toGrant);
    }

    /**
     * Maps the grant read-only and unmaps it.
     *
     * @return the unmap status, 0.
     */
    @Benchmark
    public int mapUnmap()
    {
        final int handle = backOps.map(guestId, ref, true, view);
        return backOps.unmap(handle);
    }
}
