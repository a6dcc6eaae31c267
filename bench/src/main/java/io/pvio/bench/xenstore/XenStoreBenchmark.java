package io.pvio.bench.xenstore;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import io.pvio.hypervisor.xenstore.WatchEventHandler;
import io.pvio.hypervisor.xenstore.XenStore;
import io.pvio.hypervisor.xenstore.XenStoreConnection;

/**
 * XenStore operation cost on one thread: a guest reading and writing its own device node (the handshake's
 * traffic), dom0 reading a guest's node through the permission check, and a write that fires a watch which the
 * watcher then drains. XenStore is a control path; these figures say how long a handshake step costs, not a data
 * path.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = { "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED" })
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class XenStoreBenchmark
{
    private static final int GUEST = 1;
    private static final String STATE = "/local/domain/1/device/vbd/51712/state";
    private static final byte[] CONNECTED = "4".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CLOSING = "5".getBytes(StandardCharsets.US_ASCII);

    private XenStore store;
    private XenStoreConnection guest;
    private XenStoreConnection dom0;
    private XenStoreConnection watcher;
    private final WatchEventHandler drain = (path, token) -> { };
    private boolean flip;

    /**
     * For JMH.
     */
    public XenStoreBenchmark()
    {
    }

    /**
     * Builds a store with a guest's device directory and a dom0 watch on it.
     */
    @Setup
    public void setUp()
    {
        store = new XenStore();
        store.introduceDomain(GUEST);
        dom0 = store.connect(0);
        guest = store.connect(GUEST);
        watcher = store.connect(0);
        guest.write(STATE, CONNECTED);
        watcher.watch("/local/domain/1/device", "front");
        watcher.pollWatchEvents(drain, Integer.MAX_VALUE);
    }

    /**
     * Closes the connections.
     */
    @TearDown
    public void tearDown()
    {
        guest.close();
        dom0.close();
        watcher.close();
    }

    /**
     * A guest reads its own node.
     *
     * @return the value, so the read is not dead code.
     */
    @Benchmark
    public byte[] guestRead()
    {
        return guest.read(STATE);
    }

    /**
     * Dom0 reads a guest's node (the back end reading the front's state).
     *
     * @return the value.
     */
    @Benchmark
    public byte[] dom0Read()
    {
        return dom0.read(STATE);
    }

    /**
     * A guest writes its own node while a watch covers it, and the watcher drains the event.
     *
     * @return events drained.
     */
    @Benchmark
    public int guestWriteWatched()
    {
        flip = !flip;
        guest.write(STATE, flip ? CLOSING : CONNECTED);
        return watcher.pollWatchEvents(drain, Integer.MAX_VALUE);
    }

    /**
     * A guest writes in a transaction and commits it, as front ends publish their ring keys.
     */
    @Benchmark
    public void guestTransaction()
    {
        final int tx = guest.transactionStart();
        guest.write(tx, "/local/domain/1/device/vbd/51712/ring-ref", CONNECTED);
        guest.write(tx, "/local/domain/1/device/vbd/51712/event-channel", CLOSING);
        guest.transactionEnd(tx, true);
        watcher.pollWatchEvents(drain, Integer.MAX_VALUE);
    }
}
