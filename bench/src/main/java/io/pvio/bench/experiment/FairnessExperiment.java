package io.pvio.bench.experiment;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

import io.pvio.bench.experiment.SchedRig.Hog;
import io.pvio.hypervisor.sched.CreditScheduler;
import io.pvio.hypervisor.sched.PhysicalCpu;
import io.pvio.hypervisor.sched.SchedulerConfig;
import io.pvio.hypervisor.sched.Vcpu;
import io.pvio.machine.CostModel;
import io.pvio.machine.cpu.CpuCounters;
import io.pvio.machine.vm.PagingMode;

/**
 * E13: proportional share and caps in the credit scheduler, on one physical CPU (a host thread). Three CPU-bound
 * domains with weights 1:2:4 should get 1/7, 2/7 and 4/7 of the CPU; a domain capped at 25% of one CPU beside an
 * uncapped one gets 25%, and alone still only 25% (a cap is a ceiling even when the CPU would idle); when the
 * heaviest domain idles the other two split the whole CPU 1:2 (work-conserving). Shares are measured CPU time on the
 * physical CPU (the scheduler's own accounting of wall time); modeled cycles (context switches, hypercalls, from the
 * cost model) are reported beside them, labeled.
 */
final class FairnessExperiment implements Experiment
{
    private static final long SLICE_NANOS = TimeUnit.MILLISECONDS.toNanos(3);
    private static final long TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final long WARMUP_NANOS = TimeUnit.MILLISECONDS.toNanos(200);
    private static final int CAP = 25;
    private static final double TOLERANCE = 0.05;

    @Override
    public String name()
    {
        return "e13";
    }

    @Override
    public String summary()
    {
        return "credit-scheduler fairness: weights 1:2:4, a 25% cap (with and without a competitor), an idle domain";
    }

    @Override
    public ExperimentResult run(final ExperimentContext context)
    {
        final CostModel cost = new CostModel();
        final ExperimentResult result = new ExperimentResult(name(),
            "CPU shares under the credit scheduler (1 pCPU): measured vs ideal",
            "case", "scenario", "domain", "weight", "cap_pct", "ideal_pct", "cpu_pct", "error_rel_pct",
            "pcpu_busy_pct", "units_per_ms", "modeled_mcycles");
        final long window = TimeUnit.MILLISECONDS.toNanos(context.scaled(4000, 1000));
        final int w = CreditScheduler.DEFAULT_WEIGHT;
        context.progress("e13: weights 1:2:4");
        scenario(result, "weights", window, cost, new Spec("w1", w, 0, true, 100.0 / 7),
            new Spec("w2", 2 * w, 0, true, 200.0 / 7), new Spec("w4", 4 * w, 0, true, 400.0 / 7));
        context.progress("e13: cap 25% beside an uncapped domain");
        scenario(result, "cap", window, cost, new Spec("capped", w, CAP, true, CAP),
            new Spec("uncapped", w, 0, true, 100 - CAP));
        context.progress("e13: cap 25% alone");
        scenario(result, "cap-alone", window, cost, new Spec("capped", w, CAP, true, CAP));
        context.progress("e13: weights 1:2:4, the weight-4 domain idle");
        scenario(result, "idle", window, cost, new Spec("w1", w, 0, true, 100.0 / 3),
            new Spec("w2", 2 * w, 0, true, 200.0 / 3), new Spec("w4", 4 * w, 0, false, 0));
        check(result, window);
        result.note("measured: cpu_pct = the vCPU's time on the physical CPU over a " +
            TimeUnit.NANOSECONDS.toMillis(window) + " ms window after " +
            TimeUnit.NANOSECONDS.toMillis(WARMUP_NANOS) + " ms of warm-up; time is booked when a vCPU leaves the " +
            "CPU, so each share can be off by up to one slice at the window's ends; units_per_ms = CPU-bound work " +
            "done per ms of wall time");
        result.note("modeled: modeled_mcycles = the vCPU's CostModel cycles over the window (context switches at " +
            cost.contextSwitch() + " cycles each (assumption), hypercalls); not measured time");
        result.note("scheduler: slice " + TimeUnit.NANOSECONDS.toMillis(SLICE_NANOS) + " ms (the Xen 2003 paper's " +
            "default), tick " + TimeUnit.NANOSECONDS.toMillis(TICK_NANOS) + " ms, accounting every 3 ticks (one " +
            "slice, as Xen accounts); weights 256, 512, 1024; cap in percent of one CPU");
        result.note("error_rel_pct = (cpu_pct - ideal_pct) / ideal_pct");
        result.chart(new ExperimentResult.Chart(ExperimentResult.Chart.Kind.BAR, "case",
            List.of("ideal_pct", "cpu_pct"), null, "scenario / domain", "share of one pCPU (%)", false));
        return result;
    }

    private static void scenario(
        final ExperimentResult result, final String name, final long window, final CostModel cost,
        final Spec... specs)
    {
        final SchedulerConfig config = new SchedulerConfig().pcpus(1).sliceNanos(SLICE_NANOS).tickNanos(TICK_NANOS)
            .ticksPerAccounting(3).cost(cost);
        try (SchedRig rig = new SchedRig(config, specs.length))
        {
            final List<Vcpu> vcpus = new ArrayList<>();
            final List<Hog> hogs = new ArrayList<>();
            for (final Spec spec : specs)
            {
                final Vcpu vcpu = rig.domain(spec.name, PagingMode.PARA);
                rig.parameters(vcpu, spec.weight, spec.cap);
                final Hog hog = new Hog();
                if (spec.busy)
                {
                    vcpu.addTask(hog);
                }
                vcpus.add(vcpu);
                hogs.add(hog);
            }
            SchedRig.pause(WARMUP_NANOS);
            final PhysicalCpu pcpu = rig.scheduler.pcpus()[0];
            final long[] run0 = new long[specs.length];
            final long[] units0 = new long[specs.length];
            final CpuCounters[] counters0 = new CpuCounters[specs.length];
            final long busy0 = pcpu.busyNanos();
            final long t0 = System.nanoTime();
            for (int i = 0; i < specs.length; i++)
            {
                run0[i] = vcpus.get(i).runNanos();
                units0[i] = hogs.get(i).units();
                counters0[i] = vcpus.get(i).cpu().counters().snapshot();
            }
            SchedRig.pause(window);
            final long elapsed = System.nanoTime() - t0;
            final double busy = 100.0 * (pcpu.busyNanos() - busy0) / elapsed;
            for (int i = 0; i < specs.length; i++)
            {
                final Spec spec = specs[i];
                final double pct = 100.0 * (vcpus.get(i).runNanos() - run0[i]) / elapsed;
                final long cycles = vcpus.get(i).cpu().counters().minus(counters0[i]).modeledCycles();
                result.row(name + "/" + spec.name, name, spec.name, spec.weight, spec.cap, spec.ideal, pct,
                    0 == spec.ideal ? 0.0 : 100 * (pct - spec.ideal) / spec.ideal, busy,
                    (hogs.get(i).units() - units0[i]) / (elapsed / 1e6), cycles / 1e6);
            }
        }
    }

    private static void check(final ExperimentResult result, final long window)
    {
        final String span = String.format(Locale.ROOT, "%.1f s", window / 1e9);
        boolean weights = true;
        final StringBuilder detail = new StringBuilder();
        for (final String domain : List.of("w1", "w2", "w4"))
        {
            final int r = result.find("case", "weights/" + domain);
            weights &= Math.abs(result.number(r, "error_rel_pct")) <= 100 * TOLERANCE;
            detail.append(String.format(Locale.ROOT, "%s %.2f%% (ideal %.2f%%); ", domain, result.number(r, "cpu_pct"),
                result.number(r, "ideal_pct")));
        }
        result.check("weights 1:2:4 give CPU shares within 5% (relative) of 1/7, 2/7, 4/7 over " + span, weights,
            detail.toString());
        final int capped = result.find("case", "cap/capped");
        final int uncapped = result.find("case", "cap/uncapped");
        result.check("a 25% cap holds within 5% (relative) beside an uncapped domain, which gets the rest",
            Math.abs(result.number(capped, "error_rel_pct")) <= 100 * TOLERANCE &&
                Math.abs(result.number(uncapped, "error_rel_pct")) <= 100 * TOLERANCE,
            String.format(Locale.ROOT, "capped %.2f%%, uncapped %.2f%%", result.number(capped, "cpu_pct"),
                result.number(uncapped, "cpu_pct")));
        final int alone = result.find("case", "cap-alone/capped");
        result.check("alone, the capped domain still gets 25% (within 5% relative) and the CPU idles the rest",
            Math.abs(result.number(alone, "error_rel_pct")) <= 100 * TOLERANCE &&
                result.number(alone, "pcpu_busy_pct") < 100 * (CAP / 100.0) * (1 + TOLERANCE),
            String.format(Locale.ROOT, "capped %.2f%%, CPU busy %.2f%%", result.number(alone, "cpu_pct"),
                result.number(alone, "pcpu_busy_pct")));
        final int i1 = result.find("case", "idle/w1");
        final int i2 = result.find("case", "idle/w2");
        final double sum = result.number(i1, "cpu_pct") + result.number(i2, "cpu_pct");
        result.check("with the weight-4 domain idle the others take the whole CPU 1:2 (work-conserving; within 5%)",
            sum >= 95 && Math.abs(result.number(i1, "error_rel_pct")) <= 100 * TOLERANCE &&
                Math.abs(result.number(i2, "error_rel_pct")) <= 100 * TOLERANCE,
            String.format(Locale.ROOT, "w1 %.2f%%, w2 %.2f%%, together %.2f%%", result.number(i1, "cpu_pct"),
                result.number(i2, "cpu_pct"), sum));
    }

    /** One domain of a scenario. */
    private record Spec(String name, int weight, int cap, boolean busy, double ideal)
    {
    }
}
