package io.pvio.bench.scenario;

import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The scenario file's network fields: guests' {@code nics} and the top-level {@code network} workloads, their
 * defaults, the expansion of {@code payloads}, and an error naming the field for every bad value.
 */
class ScenarioNetParserTest
{
    private static final String TWO_PV = "guests: [{name: a, nics: [{io: pv}]}, {name: b, nics: [{}]}]\n";
    private static final String PV_AND_FULL =
        "guests: [{name: a, nics: [{io: pv}]}, {name: f, mode: full, nics: [{io: emulated}]}]\n";

    @Test
    void shouldReadNicsAndNetworkWorkloadsWithTheirDefaults()
    {
        final Scenario s = ScenarioParser.parse(TWO_PV + "network: [{from: a, to: b}, {from: a, to: uplink, kind: rr," +
            " payloads: [64, 1472], window: 4, duration: 2s, warmup: 0ms, verify: false, name: up}]\n", false, "t");
        assertTrue(s.guests().get(0).disks().isEmpty(), "a guest with nics needs no disk");
        assertEquals(List.of(new Scenario.Nic(Scenario.Io.PV, 0x00163E000101L)), s.guests().get(0).nics());
        assertEquals(0x00163E000201L, s.guests().get(1).nics().get(0).mac());
        assertEquals(3, s.network().size());
        assertEquals(new Scenario.NetWorkload("a>b-stream-1472", "a", "b", Scenario.NetKind.STREAM, 1472,
            5_000_000_000L, 500_000_000L, ScenarioParser.DEFAULT_STREAM_WINDOW, true), s.network().get(0));
        assertEquals(new Scenario.NetWorkload("up-64", "a", "uplink", Scenario.NetKind.RR, 64, 2_000_000_000L, 0,
            4, false), s.network().get(1));
        assertEquals("up-1472", s.network().get(2).name());
        assertTrue(s.network().get(2).toUplink());
        assertFalse(s.network().get(0).toUplink());
    }

    @Test
    void shouldSetEveryNetworkDurationFromTheCommandLine()
    {
        final Scenario s = ScenarioParser.parse(TWO_PV + "network: [{from: a, to: b, duration: 9s}]\n", false, "t")
            .withDuration(200_000_000L);
        assertEquals(200_000_000L, s.network().get(0).durationNanos());
        assertEquals(500_000_000L, s.network().get(0).warmupNanos());
    }

    @Test
    void shouldAcceptAGivenMacAndEmulatedNicsInFullAndNativeGuests()
    {
        final Scenario s = ScenarioParser.parse("guests: [{name: f, mode: full, nics: [{io: emulated, mac: " +
            "\"02:00:00:00:00:0A\"}]}, {name: n, mode: native, nics: [{io: emulated}], disks: [{size: 8M}]}]\n" +
            "network: [{from: f, to: n, kind: rr}]\n", false, "t");
        assertEquals(new Scenario.Nic(Scenario.Io.EMULATED, 0x02000000000AL), s.guests().get(0).nics().get(0));
        assertEquals(1, s.guests().get(1).disks().size());
        assertEquals(1, s.network().get(0).window());
    }

    @Test
    void shouldParseTheShippedNetworkScenarios()
    {
        final Scenario g2g = ScenarioParser.parse(Path.of("..", "scenarios", "net-guest-to-guest.yaml"));
        assertEquals(6, g2g.network().size());
        assertEquals(4, g2g.guests().size());
        final Scenario up = ScenarioParser.parse(Path.of("..", "scenarios", "net-uplink.yaml"));
        assertTrue(up.network().stream().allMatch(Scenario.NetWorkload::toUplink));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "guests: [{name: a}]|guests[0].disks: expected a list of 1 to 8 entries, got nothing",
        "guests: [{name: a, nics: []}]|guests[0].nics: expected a list of 1 to 4 entries, got a list of 0 entries",
        "guests: [{name: a, nics: [{io: tap}]}]|guests[0].nics[0].io: expected one of pv, emulated, got \"tap\"",
        "guests: [{name: a, nics: [{io: pv, speed: 10}]}]|guests[0].nics[0].speed: unknown field (expected one " +
            "of: io, mac)",
        "guests: [{name: a, mode: full, nics: [{io: pv}]}]|guests[0].nics[0].io: expected emulated in a full " +
            "guest (a vif's netfront needs the guest's mode para), got pv",
        "guests: [{name: a, mode: nested, nics: [{io: pv}]}]|guests[0].nics[0].io: expected a guest of mode " +
            "para (a vif's netfront needs the guest's mode para), got pv",
        "guests: [{name: a, nics: [{io: emulated}]}]|guests[0].nics[0].io: expected pv in a para guest (an " +
            "emulated e1000 NIC needs the guest's mode native or full), got emulated",
        "machine: {execution: threads}\\nguests: [{mode: full, nics: [{io: emulated}]}]|guests[0].nics[0].io: " +
            "expected pv with machine.execution: threads (an emulated NIC's driver and model run on vCPUs), got " +
            "emulated",
        "guests: [{nics: [{mac: \"00:16:3e:00:00\"}]}]|guests[0].nics[0].mac: expected a unicast MAC address " +
            "like 00:16:3e:00:01:01, got \"00:16:3e:00:00\"",
        "guests: [{nics: [{mac: \"01:00:5e:00:00:01\"}]}]|guests[0].nics[0].mac: expected a unicast MAC address " +
            "like 00:16:3e:00:01:01, got \"01:00:5e:00:00:01\"",
        "guests: [{nics: [{mac: \"02:00:00:00:00:01\"}]}, {nics: [{mac: \"02:00:00:00:00:01\"}]}]|guests[1]." +
            "nics[0].mac: expected a MAC address no other NIC has, got \"02:00:00:00:00:01\"",
        "network: [{from: a, to: b, speed: 1}]|network[0].speed: unknown field (expected one of: name, from, to, " +
            "kind, payload, payloads, duration, warmup, window, verify)",
        "network: [{to: b}]|network[0].from: expected the name of a guest with nics (one of: a, b), got nothing",
        "network: [{from: c, to: b}]|network[0].from: expected the name of a guest with nics (one of: a, b), " +
            "got \"c\"",
        "network: [{from: a, to: c}]|network[0].to: expected the name of a guest with nics (one of: a, b), or " +
            "uplink, got \"c\"",
        "network: [{from: uplink, to: a}]|network[0].from: expected the name of a guest with nics (one of: a, " +
            "b), got \"uplink\"",
        "network: [{from: a, to: a}]|network[0].to: expected a guest other than from (\"a\"), or uplink, got \"a\"",
        "network: [{from: a, to: b, kind: tcp}]|network[0].kind: expected one of stream, rr, got \"tcp\"",
        "network: [{from: a, to: b, payload: 17}]|network[0].payload: expected a whole number from 18 to 1472, " +
            "got 17",
        "network: [{from: a, to: b, payload: 1473}]|network[0].payload: expected a whole number from 18 to 1472, " +
            "got 1473",
        "network: [{from: a, to: b, payload: 64B}]|network[0].payload: expected a whole number from 18 to 1472, " +
            "got \"64B\"",
        "network: [{from: a, to: b, payload: 64, payloads: [64]}]|network[0].payloads: expected either payload " +
            "or payloads, not both, got a list of 1 entry",
        "network: [{from: a, to: b, payloads: []}]|network[0].payloads: expected a list of 1 to 16 payload " +
            "sizes, got a list of 0 entries",
        "network: [{from: a, to: b, payloads: [64, 9000]}]|network[0].payloads[1]: expected a whole number " +
            "from 18 to 1472 (UDP payload bytes), got 9000",
        "network: [{from: a, to: b, payloads: [64, 64]}]|network[0].payloads[1]: expected a size not already " +
            "in the list, got 64",
        "network: [{from: a, to: b, duration: 50ms}]|network[0].duration: expected a duration like 500ms, 10s " +
            "or 2m from 100ms to 3600s, got \"50ms\"",
        "network: [{from: a, to: b, warmup: soon}]|network[0].warmup: expected a duration like 500ms, 10s or " +
            "2m from 0ms to 600s, got \"soon\"",
        "network: [{from: a, to: b, window: 0}]|network[0].window: expected a whole number from 1 to 1024, got 0",
        "network: [{from: a, to: b, kind: rr, window: 65}]|network[0].window: expected a whole number from 1 " +
            "to 64, got 65",
        "network: [{from: a, to: b, verify: yes please}]|network[0].verify: expected true or false, got " +
            "\"yes please\"",
        "network: [{from: a, to: b, name: \"a b\"}]|network[0].name: expected 1 to 40 letters, digits, '-', " +
            "'_', '.' or '>', got \"a b\"",
        "network: [{from: a, to: b}, {from: a, to: b}]|network[1].name: expected a name no other network " +
            "workload has, got \"a>b-stream-1472\"",
        "network: []|network: expected a list of 1 to 64 entries, got a list of 0 entries" })
    void shouldRefuseBadNetworkFieldsNamingTheFieldAndWhatWasExpected(final String yaml, final String message)
    {
        final String text = yaml.startsWith("network") ? TWO_PV + yaml : yaml;
        final ScenarioException ex = assertThrows(ScenarioException.class,
            () -> ScenarioParser.parse(text.replace("\\n", "\n"), false, "t"));
        assertEquals(message, ex.getMessage());
    }

    @Test
    void shouldNameOnlyGuestsWithNicsAsEndpoints()
    {
        final ScenarioException ex = assertThrows(ScenarioException.class, () -> ScenarioParser.parse(
            "guests: [{name: d, disks: [{size: 8M}]}]\nnetwork: [{from: d, to: uplink}]\n", false, "t"));
        assertEquals("network[0].from: expected the name of a guest with nics (none has any), got \"d\"",
            ex.getMessage());
        final ScenarioException mixed = assertThrows(ScenarioException.class, () -> ScenarioParser.parse(
            PV_AND_FULL + "network: [{from: a, to: x}]\n", false, "t"));
        assertTrue(mixed.getMessage().contains("(one of: a, f), or uplink"), mixed.getMessage());
    }
}
