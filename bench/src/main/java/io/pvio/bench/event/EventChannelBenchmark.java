package io.pvio.bench.event;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import org.agrona.concurrent.IdleStrategy;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import io.pvio.bench.ring.RingBenchJvm;
import io.pvio.hypervisor.Domain;
import io.pvio.hypervisor.HypercallKind;
import io.pvio.hypervisor.Hypercalls;
import io.pvio.hypervisor.Hypervisor;
import io.pvio.hypervisor.event.DomainEventLoop;
import io.pvio.hypervisor.event.EventChannelOps;
import io.pvio.hypervisor.event.EventChannels;
import io.pvio.hypervisor.sched.CreditScheduler;
import io.pvio.hypervisor.sched.SchedulerConfig;
import io.pvio.machine.memory.MachineMemory;

/**
 * What an event channel costs.
 * <ul>
 *   <li>{@link #roundTrip(RoundTrip)}: notify-to-wake latency, as a round trip. With {@code impl=evtchn} the
 *       benchmark thread is domain a's event loop: it sends on its port, then runs its loop (parking when idle)
 *       until a's handler has run; domain b's loop, on its own thread, wakes, runs b's handler, which sends back.
 *       Each round trip is two sends, two wake-ups and two handler calls. {@code impl=unpark} is the floor: the
 *       same ping-pong with a volatile sequence and plain {@link LockSupport#unpark(Thread)}/{@code park()} on each
 *       side. {@code spins} is how many idle polls each side makes before parking, the same for both.</li>
 *   <li>{@link #roundTripOnVcpus(VcpuRoundTrip)}: the same ping-pong between two domains' vCPUs run by the credit
 *       scheduler on two physical-CPU threads, as the machine runs by default: a's handler, on a's vCPU, sends again
 *       as soon as b's answer arrives, and the benchmark thread only waits (spinning, then parked) for
 *       {@value #BATCH} more round trips. {@code idle=poll} is the scheduler's defaults (an idle vCPU halt-polls,
 *       an idle physical CPU spins before parking); {@code idle=halt} blocks and parks at once. Compare it with
 *       {@code roundTrip} at {@code impl=evtchn} (thread per domain): spins 200 against poll, 0 against halt.</li>
 *   <li>{@link #sendToPendingPort(BusyPort)}: {@code EVTCHNOP_send} to a port that is already pending (the
 *       receiver has not run yet): the hypercall entry (counted), the port lookup and one read of the pending
 *       word. Must allocate nothing. {@link #hypercallEntry(BusyPort)} is the entry alone, the floor under it.</li>
 * </ul>
 * Run with {@code -prof gc} to see 0 B/op.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {
    RingBenchJvm.ADD_EXPORTS, RingBenchJvm.ADD_EXPORTS_VALUE, RingBenchJvm.NO_BOUNDS_CHECKS,
    RingBenchJvm.XMS, RingBenchJvm.XMX, RingBenchJvm.PRE_TOUCH})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class EventChannelBenchmark
{
    /** {@code impl} value: pvio event channels between two domains. */
    public static final String EVTCHN = "evtchn";

    /** {@code impl} value: a plain {@link LockSupport} ping-pong. */
    public static final String UNPARK = "unpark";

    /** Round trips per {@link #roundTripOnVcpus(VcpuRoundTrip)} invocation. */
    public static final int BATCH = 64;

    /** {@code idle} value: the scheduler's halt polling and idle spin. */
    public static final String POLL = "poll";

    /** {@code idle} value: a vCPU with nothing to do blocks at once, an idle physical CPU parks at once. */
    public static final String HALT = "halt";

    private static final long MEMORY_BYTES = 64 * MachineMemory.FRAME_SIZE;
    private static final int DOMAIN_FRAMES = 4;

    /**
     * For JMH.
     */
    public EventChannelBenchmark()
    {
    }

    /**
     * One round trip: notify, wake, handle, notify back, wake, handle.
     *
     * @param state the ping-pong.
     * @return the round trip's sequence number.
     */
    @Benchmark
    public long roundTrip(final RoundTrip state)
    {
        return state.pinger.ping();
    }

    /**
     * {@value #BATCH} round trips between two domains' vCPUs on physical CPUs.
     *
     * @param state the self-running ping-pong.
     * @return the round trips completed so far.
     */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long roundTripOnVcpus(final VcpuRoundTrip state)
    {
        return state.await(BATCH);
    }

    /**
     * One send to a port that is already pending.
     *
     * @param state the pending port.
     */
    @Benchmark
    public void sendToPendingPort(final BusyPort state)
    {
        state.ops.send(state.port);
    }

    /**
     * The floor under {@link #sendToPendingPort(BusyPort)}: the hypercall entry alone (count the call, check the
     * caller is alive), as every hypercall makes it.
     *
     * @param state the pending port, for its caller.
     */
    @Benchmark
    public void hypercallEntry(final BusyPort state)
    {
        state.hypercalls.enter(HypercallKind.EVTCHN_STATUS);
    }

    /**
     * A hypervisor with dom0 and two guests {@code a} and {@code b}, and a connected pair of ports.
     */
    abstract static class TwoDomains
    {
        Hypervisor hypervisor;
        Domain a;
        Domain b;
        int aPort;
        int bPort;

        void boot()
        {
            hypervisor = new Hypervisor(new MachineMemory(MEMORY_BYTES), DOMAIN_FRAMES, 1);
            a = hypervisor.dom0().hypercalls().createDomain("a", DOMAIN_FRAMES, 1);
            b = hypervisor.dom0().hypercalls().createDomain("b", DOMAIN_FRAMES, 1);
            bPort = b.hypercalls().eventChannelOp().allocUnbound(a.id());
            aPort = a.hypercalls().eventChannelOp().bindInterdomain(b.id(), bPort);
        }
    }

    /**
     * The ping-pong of {@link #roundTrip(RoundTrip)}.
     */
    @State(Scope.Thread)
    public static class RoundTrip extends TwoDomains
    {
        /** Implementation: {@value EventChannelBenchmark#EVTCHN} or {@value EventChannelBenchmark#UNPARK}. */
        @Param({EVTCHN, UNPARK})
        public String impl;

        /** Idle polls before parking, on both sides. */
        @Param({"0", "200"})
        public int spins;

        Pinger pinger;
        private Thread ponger;
        private UnparkPonger unparkPonger;

        /**
         * Boots the domains or the baseline and starts the answering thread.
         */
        @Setup(Level.Trial)
        public void setUp()
        {
            switch (impl)
            {
                case EVTCHN:
                {
                    boot();
                    final EventChannelOps opsB = b.hypercalls().eventChannelOp();
                    final int bPort = this.bPort;
                    b.eventChannels().bindHandler(bPort, (port) -> opsB.send(bPort));
                    final EventChannelPinger evtchn = new EventChannelPinger(a, aPort, spins);
                    pinger = evtchn;
                    final DomainEventLoop loopB = b.eventChannels().eventLoop();
                    ponger = new Thread(() -> loopB.run(loopB.idleStrategy(spins, 0)), loopB.roleName());
                    break;
                }
                case UNPARK:
                {
                    unparkPonger = new UnparkPonger(spins);
                    pinger = new UnparkPinger(unparkPonger, spins);
                    ponger = new Thread(unparkPonger, "unpark-ponger");
                    unparkPonger.pinger = Thread.currentThread();
                    break;
                }
                default:
                    throw new IllegalArgumentException("unknown impl: " + impl);
            }
            ponger.setDaemon(true);
            ponger.start();
        }

        /**
         * Stops the answering thread and frees the machine.
         *
         * @throws InterruptedException if interrupted while joining.
         */
        @TearDown(Level.Trial)
        public void tearDown() throws InterruptedException
        {
            if (null != hypervisor)
            {
                hypervisor.close();
            }
            if (null != unparkPonger)
            {
                unparkPonger.stop();
            }
            ponger.join(TimeUnit.SECONDS.toMillis(5));
        }
    }

    /**
     * A port of {@code b} made pending by one send from {@code a}; {@code b}'s loop never runs, so it stays pending.
     */
    @State(Scope.Thread)
    public static class BusyPort extends TwoDomains
    {
        EventChannelOps ops;
        Hypercalls hypercalls;
        int port;

        /**
         * Connects the ports and makes {@code b}'s end pending.
         */
        @Setup(Level.Trial)
        public void setUp()
        {
            boot();
            ops = a.hypercalls().eventChannelOp();
            hypercalls = a.hypercalls();
            port = aPort;
            ops.send(port);
            if (!b.eventChannels().isPending(bPort))
            {
                throw new IllegalStateException("port not pending after a send: " + bPort);
            }
        }

        /**
         * Frees the machine.
         */
        @TearDown(Level.Trial)
        public void tearDown()
        {
            if (!b.eventChannels().isPending(bPort))
            {
                throw new IllegalStateException("port stopped being pending: " + bPort);
            }
            hypervisor.close();
        }
    }

    /**
     * The ping-pong of {@link #roundTripOnVcpus(VcpuRoundTrip)}: domains {@code a} and {@code b}, one vCPU each,
     * under a started credit scheduler with two physical CPUs. a's handler counts b's answer and sends again; b's
     * handler answers. The benchmark thread is outside the machine and only waits.
     */
    @State(Scope.Thread)
    public static class VcpuRoundTrip extends TwoDomains
    {
        /** {@value EventChannelBenchmark#POLL} or {@value EventChannelBenchmark#HALT}. */
        @Param({POLL, HALT})
        public String idle;

        private CreditScheduler scheduler;
        private final CompletionCounter answers = new CompletionCounter();
        private volatile boolean running = true;

        /**
         * Boots the domains, starts the scheduler and the first ping.
         */
        @Setup(Level.Trial)
        public void setUp()
        {
            boot();
            final SchedulerConfig config = new SchedulerConfig().pcpus(2);
            if (HALT.equals(idle))
            {
                config.haltPollNanos(0).idleSpinNanos(0);
            }
            else if (!POLL.equals(idle))
            {
                throw new IllegalArgumentException("idle must be poll or halt: " + idle);
            }
            scheduler = new CreditScheduler(hypervisor, config);
            scheduler.addDomain(a);
            scheduler.addDomain(b);
            final EventChannelOps opsA = a.hypercalls().eventChannelOp();
            final EventChannelOps opsB = b.hypercalls().eventChannelOp();
            final int aPort = this.aPort;
            final int bPort = this.bPort;
            b.eventChannels().bindHandler(bPort, (port) -> opsB.send(bPort));
            a.eventChannels().bindHandler(aPort, (port) ->
            {
                if (running)
                {
                    opsA.send(aPort);
                }
                answers.complete();
            });
            scheduler.start();
            opsA.send(aPort);
        }

        long await(final int more)
        {
            return answers.awaitMore(more);
        }

        /**
         * Stops the ping-pong, the scheduler and frees the machine.
         */
        @TearDown(Level.Trial)
        public void tearDown()
        {
            running = false;
            if (null != scheduler)
            {
                scheduler.close();
            }
            hypervisor.close();
        }
    }

    abstract static class Pinger
    {
        abstract long ping();
    }

    /**
     * Domain a's side: send, then be a's event loop until a's handler has seen the answer.
     */
    static final class EventChannelPinger extends Pinger
    {
        private final EventChannelOps ops;
        private final int port;
        private final DomainEventLoop loop;
        private final IdleStrategy idle;
        private long sequence;
        private long answers;

        EventChannelPinger(final Domain a, final int port, final int spins)
        {
            this.ops = a.hypercalls().eventChannelOp();
            this.port = port;
            final EventChannels channels = a.eventChannels();
            this.loop = channels.eventLoop();
            this.idle = loop.idleStrategy(spins, 0);
            channels.bindHandler(port, (p) -> answers++);
            loop.doWork();
            this.answers = 0;
        }

        @Override
        long ping()
        {
            final long expected = sequence + 1;
            ops.send(port);
            final DomainEventLoop loop = this.loop;
            final IdleStrategy idle = this.idle;
            idle.reset();
            while (answers != expected)
            {
                idle.idle(loop.doWork());
            }
            sequence = expected;
            return expected;
        }
    }

    /**
     * The baseline's answering side: waits for a new ping (spinning, then parking), publishes it as the pong, and
     * unparks the pinger.
     */
    static final class UnparkPonger implements Runnable
    {
        private final int spins;
        volatile long ping;
        volatile long pong;
        volatile Thread pinger;
        private volatile boolean running = true;
        private volatile Thread thread;

        UnparkPonger(final int spins)
        {
            this.spins = spins;
        }

        @Override
        public void run()
        {
            thread = Thread.currentThread();
            while (running)
            {
                int spun = 0;
                long ping;
                while ((ping = this.ping) == pong)
                {
                    if (!running)
                    {
                        return;
                    }
                    if (spun < spins)
                    {
                        spun++;
                        Thread.onSpinWait();
                    }
                    else
                    {
                        LockSupport.park(this);
                    }
                }
                pong = ping;
                LockSupport.unpark(pinger);
            }
        }

        Thread thread()
        {
            Thread thread;
            while (null == (thread = this.thread))
            {
                Thread.onSpinWait();
            }
            return thread;
        }

        void stop()
        {
            running = false;
            LockSupport.unpark(thread);
        }
    }

    /**
     * The baseline's asking side.
     */
    static final class UnparkPinger extends Pinger
    {
        private final UnparkPonger ponger;
        private final int spins;
        private Thread pongerThread;
        private long sequence;

        UnparkPinger(final UnparkPonger ponger, final int spins)
        {
            this.ponger = ponger;
            this.spins = spins;
        }

        @Override
        long ping()
        {
            final UnparkPonger ponger = this.ponger;
            Thread pongerThread = this.pongerThread;
            if (null == pongerThread)
            {
                pongerThread = ponger.thread();
                this.pongerThread = pongerThread;
            }
            final long expected = sequence + 1;
            ponger.ping = expected;
            LockSupport.unpark(pongerThread);
            int spun = 0;
            while (ponger.pong != expected)
            {
                if (spun < spins)
                {
                    spun++;
                    Thread.onSpinWait();
                }
                else
                {
                    LockSupport.park(this);
                }
            }
            sequence = expected;
            return expected;
        }
    }
}
