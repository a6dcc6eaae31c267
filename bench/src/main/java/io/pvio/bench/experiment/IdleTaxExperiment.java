package io.pvio.bench.experiment;

import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

import io.pvio.bench.experiment.MemoryRig.Guest;
import io.pvio.hypervisor.memory.AllocationPolicy;
import io.pvio.hypervisor.memory.MemoryManager;
import io.pvio.hypervisor.memory.MemoryScheduler;
import io.pvio.hypervisor.memory.MemoryScheduler.Client;
import io.pvio.machine.CostModel;

/**
 * E9: the idle memory tax. Two guests with equal shares and 1000 pages each share 1200 pages of host memory. VM1 is
 * idle (it touches 60 pages) for the first phase, then runs a 900-page working set like VM2 does throughout. Every
 * period the hypervisor samples each guest's active fraction (100 pages), the scheduler computes targets, the
 * toolstack writes them to {@code memory/target} and the balloon drivers move toward them (at most 50 pages a
 * period). Pure shares (tau = 0) split memory evenly whatever the idleness; with the tax most of the idle guest's
 * memory moves to the busy one, and comes back when it wakes.
 */
final class IdleTaxExperiment implements Experiment
{
    private static final int PAGES = 1000;
    private static final int HOST = 1200;
    private static final int IDLE_SET = 60;
    private static final int BUSY_SET = 900;
    private static final int PHASE = 40;
    private static final int STEP = 50;
    private static final int SAMPLES = 100;

    @Override
    public String name()
    {
        return "e9";
    }

    @Override
    public String summary()
    {
        return "idle memory tax: allocations of an idle and a busy guest over time for tau 0, 0.5, 0.75, 0.95";
    }

    @Override
    public ExperimentResult run(final ExperimentContext context)
    {
        final ExperimentResult result = new ExperimentResult(name(),
            "Idle memory tax: pages held by an idle (then busy) VM1 and a busy VM2",
            "policy", "period", "vm1_pages", "vm2_pages", "vm1_active_estimate", "vm2_active_estimate",
            "vm2_ops_per_mcycle", "vm2_page_ins");
        final int touches = 4000; // enough that a period touches nearly all of a 900-page working set (not scaled)
        final String[] policies = {"tau=0", "tau=0.5", "tau=0.75", "tau=0.95", "working-set"};
        final double[][] phaseEnd = new double[policies.length][4];
        for (int p = 0; p < policies.length; p++)
        {
            context.progress("e9: " + policies[p]);
            final AllocationPolicy policy = policies[p].startsWith("tau") ? AllocationPolicy.IDLE_TAX :
                AllocationPolicy.WORKING_SET;
            final double tau = policies[p].startsWith("tau") ? Double.parseDouble(policies[p].substring(4)) : 0;
            phaseEnd[p] = run(result, policies[p], policy, tau, touches, context.seed());
        }
        final double[] shares = phaseEnd[0];
        final double[] taxed = phaseEnd[2];
        result.check("tau = 0 splits memory by shares regardless of idleness",
            Math.abs(shares[0] - HOST / 2.0) <= 60 && Math.abs(shares[1] - HOST / 2.0) <= 60,
            String.format(Locale.ROOT, "idle VM1 %.0f, busy VM2 %.0f pages", shares[0], shares[1]));
        result.check("tau = 0.75 moves most of the idle VM's idle memory to the busy one",
            (HOST / 2.0 - taxed[0]) > 0.5 * (HOST / 2.0 - IDLE_SET) && taxed[1] > 850,
            String.format(Locale.ROOT, "VM1 %.0f, VM2 %.0f pages", taxed[0], taxed[1]));
        boolean monotone = true;
        for (int p = 1; p < 4; p++)
        {
            monotone &= phaseEnd[p][1] >= phaseEnd[p - 1][1] - 10;
        }
        result.check("a higher tax gives the busy VM more", monotone, String.format(Locale.ROOT,
            "VM2 at tau 0/0.5/0.75/0.95: %.0f/%.0f/%.0f/%.0f", phaseEnd[0][1], phaseEnd[1][1], phaseEnd[2][1],
            phaseEnd[3][1]));
        result.check("the busy VM's throughput rises by more than 30% with tau = 0.75", taxed[2] > 1.3 * shares[2],
            String.format(Locale.ROOT, "%.2f vs %.2f ops/Mcycle", taxed[2], shares[2]));
        result.check("the idle VM grows back to its share when it wakes", Math.abs(taxed[3] - HOST / 2.0) <= 60,
            String.format(Locale.ROOT, "VM1 at the end: %.0f pages", taxed[3]));
        result.note("pages held = each balloon's current size; active estimates from " + SAMPLES +
            " sampled pages per period (max of fast and slow averages and the latest sample)");
        result.note("throughput modeled: " + MemoryRig.OP_CYCLES + " cycles per operation plus " +
            new CostModel().diskPageIo() + " cycles per page I/O");
        result.chart(new ExperimentResult.Chart(ExperimentResult.Chart.Kind.LINE, "period",
            List.of("vm1_pages", "vm2_pages"), "policy", "period", "pages held", false));
        return result;
    }

    /** Runs both phases; returns VM1 and VM2 pages and VM2 throughput at the end of phase 1, VM1 at the end. */
    private static double[] run(
        final ExperimentResult result, final String name, final AllocationPolicy policy, final double tau,
        final int touches, final long seed)
    {
        try (MemoryRig rig = new MemoryRig(2 * PAGES + 256))
        {
            final Guest vm1 = rig.guest("vm1", PAGES, PAGES, 64);
            final Guest vm2 = rig.guest("vm2", PAGES, PAGES, 64);
            final Guest[] vms = {vm1, vm2};
            final MemoryManager manager = rig.memoryManager();
            final SplittableRandom random = new SplittableRandom(seed);
            for (final Guest vm : vms)
            {
                vm.target(HOST / 2);
                vm.settle();
            }
            final double[] out = new double[4];
            double throughputSum = 0;
            int throughputPeriods = 0;
            for (int period = 0; period < 2 * PHASE; period++)
            {
                final int vm1Set = period < PHASE ? IDLE_SET : BUSY_SET;
                for (final Guest vm : vms)
                {
                    manager.startSamplingPeriod(vm.domain, SAMPLES, random);
                }
                final long ios = vm2.pageIos();
                final long pageIns = vm2.pager.pageIns();
                touch(vm1, vm1Set, touches, random);
                touch(vm2, BUSY_SET, touches, random);
                final double opsPerMcycle = 1e6 * touches / rig.modeledCycles(touches, vm2.pageIos() - ios);
                final double[] estimate = new double[2];
                final Client[] clients = new Client[2];
                for (int i = 0; i < 2; i++)
                {
                    estimate[i] = manager.endSamplingPeriod(vms[i].domain);
                    clients[i] = new Client(1000, 64, PAGES, estimate[i] * vms[i].balloon.currentPages());
                }
                final long[] targets = MemoryScheduler.targets(policy, tau, HOST, clients);
                // shrink first so the host never holds more than it has
                for (int i = 0; i < 2; i++)
                {
                    if (targets[i] < vms[i].balloon.currentPages())
                    {
                        vms[i].target(targets[i]);
                        vms[i].balloon.step(STEP);
                    }
                }
                for (int i = 0; i < 2; i++)
                {
                    final long room = HOST - vms[0].balloon.currentPages() - vms[1].balloon.currentPages();
                    if (targets[i] > vms[i].balloon.currentPages() && room > 0)
                    {
                        vms[i].target(Math.min(targets[i], vms[i].balloon.currentPages() + room));
                        vms[i].balloon.step(STEP);
                    }
                }
                result.row(name, period, vm1.balloon.currentPages(), vm2.balloon.currentPages(), estimate[0],
                    estimate[1], opsPerMcycle, vm2.pager.pageIns() - pageIns);
                if (period >= PHASE - 10 && period < PHASE)
                {
                    out[0] += vm1.balloon.currentPages() / 10.0;
                    out[1] += vm2.balloon.currentPages() / 10.0;
                    throughputSum += opsPerMcycle;
                    throughputPeriods++;
                }
            }
            out[2] = throughputSum / throughputPeriods;
            out[3] = vm1.balloon.currentPages();
            return out;
        }
    }

    private static void touch(final Guest vm, final int set, final int touches, final SplittableRandom random)
    {
        for (int i = 0; i < touches; i++)
        {
            vm.pager.touch(random.nextInt(set), random.nextInt(4) == 0);
        }
    }
}
