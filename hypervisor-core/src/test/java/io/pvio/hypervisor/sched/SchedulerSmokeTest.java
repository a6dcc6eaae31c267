package io.pvio.hypervisor.sched;

import io.pvio.hypervisor.Domain;
import io.pvio.hypervisor.event.EventChannelOps;
import io.pvio.machine.vm.PagingMode;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SchedulerSmokeTest
{
    @Test
    void shouldNameNoPhysicalCpuThreadBeforeStart()
    {
        try (SchedFixture f = new SchedFixture(new SchedulerConfig().pcpus(2)))
        {
            assertEquals(0, f.scheduler.physicalCpuThreadIds().length);
            f.start();
            assertEquals(2, f.scheduler.physicalCpuThreadIds().length);
        }
    }

    @Test
    void shouldPingPongEventsBetweenTwoDomainsVcpus()
    {
        try (SchedFixture f = new SchedFixture(new SchedulerConfig().pcpus(2)).start())
        {
            final Domain a = f.domain("a", 1, PagingMode.PARA);
            final Domain b = f.domain("b", 1, PagingMode.FULL);
            final EventChannelOps opsA = a.hypercalls().eventChannelOp();
            final EventChannelOps opsB = b.hypercalls().eventChannelOp();
            final int portA = opsA.allocUnbound(b.id());
            final int portB = opsB.bindInterdomain(a.id(), portA);
            final AtomicLong pongs = new AtomicLong();
            final AtomicLong pings = new AtomicLong();
            final Thread[] ranOnB = new Thread[1];
            b.eventChannels().bindHandler(portB, p ->
            {
                ranOnB[0] = Thread.currentThread();
                pings.incrementAndGet();
                opsB.send(portB);
            });
            a.eventChannels().bindHandler(portA, p ->
            {
                if (pongs.incrementAndGet() < 10_000)
                {
                    opsA.send(portA);
                }
            });
            opsA.send(portA);
            SchedFixture.await(() -> pongs.get() >= 10_000, "10000 round trips");
            assertTrue(ranOnB[0].getName().startsWith("pcpu"), ranOnB[0].getName());
            final long[] pcpuIds = f.scheduler.physicalCpuThreadIds();
            assertEquals(2, pcpuIds.length);
            assertTrue(pcpuIds[0] != pcpuIds[1], "one thread per physical CPU");
            assertTrue(ranOnB[0].getId() == pcpuIds[0] || ranOnB[0].getId() == pcpuIds[1],
                "the vCPU ran on a physical CPU's thread");
            final Vcpu vb = f.vcpu0(b);
            assertTrue(vb.cpu().counters().injected() > 0, vb.cpu().counters().toString());
            final Vcpu va = f.vcpu0(a);
            assertTrue(va.cpu().counters().upcalls() > 0, va.cpu().counters().toString());
            System.out.println(va.stats());
            System.out.println(vb.stats());
            System.out.println(va.cpu().counters());
            System.out.println(vb.cpu().counters());
            assertEquals(10_000, pongs.get());
        }
    }
}
