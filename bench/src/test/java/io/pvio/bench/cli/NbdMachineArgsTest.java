package io.pvio.bench.cli;

import io.pvio.hypervisor.sched.SchedulerConfig;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.ParameterException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NbdMachineArgsTest
{
    @Command(name = "probe")
    static final class Probe
    {
        @Mixin
        NbdMachineArgs args;
    }

    private static NbdMachineArgs parse(final String... argv)
    {
        final Probe probe = new Probe();
        new CommandLine(probe).parseArgs(argv);
        return probe.args;
    }

    @Test
    void byDefaultNothingSpinsAndBlkbackServesInTurn()
    {
        final NbdMachineArgs args = parse();
        final SchedulerConfig scheduler = args.machine().scheduler();
        assertEquals(0, scheduler.haltPollNanos());
        assertEquals(0, scheduler.idleSpinNanos());
        assertEquals(0, args.back().ioWorkers());
        assertEquals("blkback serves in turn, halt-poll 0ms, idle-spin 0ms", args.describe());
    }

    @Test
    void theGivenSpinsAndWorkersReachTheSchedulerAndTheBackEnd()
    {
        final NbdMachineArgs args = parse("--halt-poll", "0.2ms", "--idle-spin", "10ms", "--io-workers", "3");
        final SchedulerConfig scheduler = args.machine().scheduler();
        assertEquals(200_000, scheduler.haltPollNanos());
        assertEquals(10_000_000, scheduler.idleSpinNanos());
        assertEquals(SchedulerConfig.DEFAULT_SLICE_MILLIS * 1_000_000, scheduler.sliceNanos());
        assertEquals(3, args.back().ioWorkers());
        assertEquals("blkback 3 I/O workers, halt-poll 0.2ms, idle-spin 10ms", args.describe());
    }

    @Test
    void outOfRangeOrMalformedValuesAreRefusedNamingTheOption()
    {
        for (final String[] bad : new String[][] {
            {"--halt-poll", "10.5ms"}, {"--halt-poll", "-1ms"}, {"--idle-spin", "200"}, {"--idle-spin", "1h"},
            {"--io-workers", "-1"}, {"--io-workers", "257"}})
        {
            final ParameterException ex = assertThrows(ParameterException.class, () -> parse(bad));
            assertTrue(ex.getMessage().startsWith("Invalid value for option '" + bad[0] + "': " + bad[1]),
                ex.getMessage());
        }
    }
}
