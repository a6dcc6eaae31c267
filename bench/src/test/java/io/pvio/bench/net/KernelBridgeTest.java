package io.pvio.bench.net;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import io.pvio.bench.ExternalTools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class KernelBridgeTest
{
    private static final String NET_DEV =
        "Inter-|   Receive                                                |  Transmit\n" +
        " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls\n" +
        "    lo:       0       0    0    0    0     0          0         0        0       0    0    0    0     0\n" +
        "    vb: 96000000 1500000    0    7    0     0          0         0      936      12    0    0    0     0\n";

    @Test
    void readsTheReceivedPacketsColumnOfTheNamedInterface()
    {
        assertEquals(1_500_000, KernelBridge.rxPackets(NET_DEV, "vb"));
        assertEquals(0, KernelBridge.rxPackets(NET_DEV, "lo"));
        assertEquals(-1, KernelBridge.rxPackets(NET_DEV, "va"));
        assertEquals(-1, KernelBridge.rxPackets(NET_DEV, "v"));
    }

    @Test
    void refusesAMalformedLine()
    {
        final IllegalStateException ex = assertThrows(IllegalStateException.class,
            () -> KernelBridge.rxPackets("  vb: 12 x 0\n", "vb"));
        assertTrue(ex.getMessage().contains("vb"), ex.getMessage());
    }

    @Test
    void refusesAFrameSizeOutsideEthernet()
    {
        assertThrows(IllegalArgumentException.class, () -> KernelBridge.create(59));
        assertThrows(IllegalArgumentException.class, () -> KernelBridge.create(1515));
    }

    @Test
    void theKernelBridgeForwardsTrafgensFramesAndLeavesNoNamespaceBehind() throws Exception
    {
        ExternalTools.requireTool(KernelBridge.TRAFGEN, "netsniff-ng");
        assumeTrue("root".equals(System.getProperty("user.name")), "network namespaces need root");
        final String probe = "pvio-kb-probe-" + ProcessHandle.current().pid();
        assumeTrue(0 == new ProcessBuilder("ip", "netns", "add", probe).redirectErrorStream(true).start().waitFor(),
            "this machine cannot create network namespaces");
        new ProcessBuilder("ip", "netns", "del", probe).start().waitFor();

        final long before;
        final long after;
        try (KernelBridge bridge = KernelBridge.create(128))
        {
            before = bridge.received();
            bridge.startLoad();
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (bridge.received() - before < 1000 && System.nanoTime() - deadline < 0)
            {
                Thread.sleep(10);
            }
            assertTrue(bridge.loadRunning(), "trafgen exited early");
            bridge.stopLoad();
            assertFalse(bridge.loadRunning());
            after = bridge.received();
        }
        assertTrue(after - before >= 1000, "B received " + (after - before) + " frames");
        final Process list = new ProcessBuilder("ip", "netns", "list").redirectErrorStream(true).start();
        final String namespaces = new String(list.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        list.waitFor();
        assertFalse(namespaces.contains("pvio-kb-a-" + ProcessHandle.current().pid()), namespaces);
    }
}
