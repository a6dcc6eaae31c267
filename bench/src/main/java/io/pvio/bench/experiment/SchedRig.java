package io.pvio.bench.experiment;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

import io.pvio.hypervisor.Domain;
import io.pvio.hypervisor.DomainId;
import io.pvio.hypervisor.Hypervisor;
import io.pvio.hypervisor.sched.CreditScheduler;
import io.pvio.hypervisor.sched.SchedulerConfig;
import io.pvio.hypervisor.sched.Vcpu;
import io.pvio.hypervisor.sched.VcpuTask;
import io.pvio.machine.memory.MachineMemory;
import io.pvio.machine.vm.PagingMode;

/**
 * A machine for the CPU-virtualization experiments: the hypervisor and a started credit scheduler whose physical CPUs
 * are host threads. Domains get one vCPU each; the experiment's own thread plays dom0 (it sends events and reads
 * figures) and is not scheduled. Closing stops the physical CPUs and frees the memory.
 */
final class SchedRig implements AutoCloseable
{
    private static final int DOMAIN_FRAMES = 64;

    final Hypervisor hypervisor;
    final CreditScheduler scheduler;

    SchedRig(final SchedulerConfig config, final int domains)
    {
        hypervisor = new Hypervisor(new MachineMemory((long)(domains + 4) * DOMAIN_FRAMES * MachineMemory.FRAME_SIZE),
            DOMAIN_FRAMES, 1);
        scheduler = new CreditScheduler(hypervisor, config);
        scheduler.start();
    }

    /** Creates a one-vCPU domain and gives it to the scheduler; returns its vCPU. */
    Vcpu domain(final String name, final PagingMode mode)
    {
        final Domain domain = hypervisor.dom0().hypercalls().createDomain(name, DOMAIN_FRAMES, 1, mode);
        scheduler.addDomain(domain);
        return scheduler.vcpu(domain, 0);
    }

    /** The toolstack's {@code sched-credit -w -c}. */
    void parameters(final Vcpu vcpu, final int weight, final int cap)
    {
        hypervisor.dom0().hypercalls().setSchedulerParameters(vcpu.domain().id(), weight, cap);
    }

    /** An event channel from dom0 to the vCPU's domain, handled there by {@code handler}; returns dom0's port. */
    int channelFromDom0(final Vcpu vcpu, final Runnable handler)
    {
        final Domain guest = vcpu.domain();
        final int dom0Port = hypervisor.dom0().hypercalls().eventChannelOp().allocUnbound(guest.id());
        final int guestPort = guest.hypercalls().eventChannelOp().bindInterdomain(DomainId.DOM0, dom0Port);
        guest.eventChannels().bindHandler(guestPort, (port) -> handler.run());
        return dom0Port;
    }

    /** dom0 notifies a port. */
    void send(final int dom0Port)
    {
        hypervisor.dom0().hypercalls().eventChannelOp().send(dom0Port);
    }

    @Override
    public void close()
    {
        hypervisor.close();
    }

    /** Sleeps about {@code nanos} without spinning (the physical CPUs need the host's cores). */
    static void pause(final long nanos)
    {
        LockSupport.parkNanos(nanos);
    }

    /** Waits for a condition, polling every 20 us; fails after 20 s. */
    static void await(final BooleanSupplier condition, final String what)
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() - deadline > 0)
            {
                throw new IllegalStateException("timed out waiting for " + what);
            }
            LockSupport.parkNanos(20_000);
        }
    }

    /**
     * A CPU-bound guest workload: each pass does a fixed amount of arithmetic (a few microseconds), counts it as
     * work units and asks for the CPU again, so the vCPU never blocks while it is on.
     */
    static final class Hog implements VcpuTask
    {
        /** Iterations of the arithmetic loop per unit. */
        static final int ITERATIONS = 2000;

        /** Units per pass: about 20 us of work, so a preemption waits at most about that long. */
        static final int UNITS_PER_PASS = 8;

        private volatile boolean on = true;
        private volatile long units;
        private long seed = 0x9E3779B97F4A7C15L;
        private volatile long sink;

        @Override
        public int doWork()
        {
            if (!on)
            {
                return 0;
            }
            long x = seed;
            for (int u = 0; u < UNITS_PER_PASS; u++)
            {
                for (int i = 0; i < ITERATIONS; i++)
                {
                    x ^= x << 13;
                    x ^= x >>> 7;
                    x ^= x << 17;
                }
            }
            seed = x;
            sink = x;
            // single writer (the vCPU runs on one physical CPU at a time); volatile for the readers
            units = units + UNITS_PER_PASS;
            return 1;
        }

        @Override
        public String roleName()
        {
            return "hog";
        }

        /** Work units done so far (measured work, not modeled). */
        long units()
        {
            return units;
        }

        /** Turns the workload on or off; off, the vCPU blocks once it finds nothing else to do. */
        void on(final boolean value)
        {
            on = value;
        }
    }
}
