package io.pvio.hypervisor;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.pvio.machine.memory.MachineMemory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HypervisorTest
{
    private final Hypervisor hypervisor = new Hypervisor(new MachineMemory(256 * 4096), 64, 1);

    @AfterEach
    void close()
    {
        hypervisor.close();
    }

    @Test
    void shouldBootWithRunningPrivilegedDom0()
    {
        final Domain dom0 = hypervisor.dom0();
        assertEquals(0, dom0.id());
        assertEquals("Domain-0", dom0.name());
        assertTrue(dom0.isPrivileged());
        assertEquals(DomainState.RUNNING, dom0.state());
        assertEquals(64, hypervisor.memory().framesOwnedBy(0));
    }

    @Test
    void shouldCreateGuestWithPopulatedP2M()
    {
        final Domain guest = hypervisor.dom0().hypercalls().createDomain("guest", 32, 2);
        assertEquals(1, guest.id());
        assertEquals(DomainState.CREATED, guest.state());
        assertEquals(32, guest.p2m().size());
        assertEquals(32, hypervisor.memory().framesOwnedBy(guest.id()));
        for (int gfn = 0; gfn < 32; gfn++)
        {
            assertEquals(guest.id(), hypervisor.memory().owner(guest.p2m().lookup(gfn)));
        }
        assertEquals(P2M.INVALID_MFN, guest.p2m().lookup(32));
        assertEquals(P2M.INVALID_MFN, guest.p2m().lookup(-1));
        assertSame(guest, hypervisor.domain(guest.id()));

        hypervisor.dom0().hypercalls().unpauseDomain(guest.id());
        assertEquals(DomainState.RUNNING, guest.state());
        hypervisor.dom0().hypercalls().pauseDomain(guest.id());
        assertEquals(DomainState.PAUSED, guest.state());
    }

    @Test
    void shouldGiveGuestItsOwnMemoryOnly()
    {
        final Domain a = hypervisor.dom0().hypercalls().createDomain("a", 4, 1);
        final Domain b = hypervisor.dom0().hypercalls().createDomain("b", 4, 1);
        a.guestFrame(0).putLong(0, 11);
        b.guestFrame(0).putLong(0, 22);
        assertEquals(11, a.guestFrame(0).getLong(0));
        assertNotEquals(a.mfnOf(0), b.mfnOf(0));
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> a.guestFrame(4));
        assertEquals("domain " + a.id() + " has no frame at gfn=4 (size 4)", ex.getMessage());
    }

    @Test
    void shouldRefuseDomainControlFromGuest()
    {
        final Domain guest = hypervisor.dom0().hypercalls().createDomain("guest", 4, 1);
        final HypercallException ex = assertThrows(
            HypercallException.class, () -> guest.hypercalls().createDomain("evil", 4, 1));
        assertEquals(Errno.EPERM, ex.errno());
        assertEquals("EPERM: createdomain: domain 1 is not privileged", ex.getMessage());
        assertThrows(HypercallException.class, () -> guest.hypercalls().destroyDomain(0));
        assertThrows(HypercallException.class, () -> guest.hypercalls().pauseDomain(guest.id()));
        assertEquals(1, guest.counters().get(HypercallKind.DOMCTL_CREATE), "refused calls are counted too");
        assertEquals(1, guest.counters().get(HypercallKind.DOMCTL_DESTROY));
    }

    @Test
    void shouldReportOutOfMemoryWithoutLeakingFrames()
    {
        final int free = hypervisor.memory().freeFrames();
        final HypercallException ex = assertThrows(
            HypercallException.class, () -> hypervisor.dom0().hypercalls().createDomain("huge", 10_000, 1));
        assertEquals(Errno.ENOMEM, ex.errno());
        assertEquals(free, hypervisor.memory().freeFrames());
        assertThrows(HypercallException.class, () -> hypervisor.dom0().hypercalls().createDomain("", 1, 1));
        assertThrows(HypercallException.class, () -> hypervisor.dom0().hypercalls().createDomain("z", 1, 0));
    }

    @Test
    void shouldReturnFramesWhenDomainIsDestroyed()
    {
        final int free = hypervisor.memory().freeFrames();
        final Domain guest = hypervisor.dom0().hypercalls().createDomain("guest", 16, 1);
        guest.guestFrame(3).putLong(0, 1234);
        final long mfn = guest.mfnOf(3);

        hypervisor.dom0().hypercalls().destroyDomain(guest.id());
        assertEquals(DomainState.DEAD, guest.state());
        assertNull(hypervisor.domain(guest.id()));
        assertEquals(free, hypervisor.memory().freeFrames());
        assertEquals(0, hypervisor.memory().frame(mfn).getLong(0), "scrubbed");

        final HypercallException ex = assertThrows(
            HypercallException.class, () -> hypervisor.dom0().hypercalls().destroyDomain(guest.id()));
        assertEquals(Errno.ESRCH, ex.errno());
        assertThrows(HypercallException.class, () -> guest.hypercalls().createDomain("x", 1, 1),
            "a dead domain makes no calls");
    }

    @Test
    void shouldHoldFrameMappedElsewhereAfterDestroy()
    {
        final Domain guest = hypervisor.dom0().hypercalls().createDomain("guest", 8, 1);
        final long mfn = guest.mfnOf(0);
        hypervisor.memory().retain(mfn);
        final int free = hypervisor.memory().freeFrames();

        hypervisor.dom0().hypercalls().destroyDomain(guest.id());
        assertEquals(free + 7, hypervisor.memory().freeFrames(), "the mapped frame is held");
        hypervisor.memory().release(mfn);
        assertEquals(free + 8, hypervisor.memory().freeFrames());
    }

    @Test
    void shouldNotDestroyDom0()
    {
        final HypercallException ex = assertThrows(
            HypercallException.class, () -> hypervisor.dom0().hypercalls().destroyDomain(0));
        assertEquals(Errno.EINVAL, ex.errno());
    }

    @Test
    void shouldCountHypercallsPerDomainAndKind()
    {
        final Hypercalls calls = hypervisor.dom0().hypercalls();
        final Domain guest = calls.createDomain("guest", 4, 1);
        calls.unpauseDomain(guest.id());
        calls.pauseDomain(guest.id());
        calls.unpauseDomain(guest.id());
        assertEquals(1, hypervisor.dom0().counters().get(HypercallKind.DOMCTL_CREATE));
        assertEquals(2, hypervisor.dom0().counters().get(HypercallKind.DOMCTL_UNPAUSE));
        assertEquals(4, hypervisor.dom0().counters().total());
        assertEquals(0, guest.counters().total());
        assertEquals(3, hypervisor.dom0().counters().snapshot().size());
    }

    @Test
    void shouldLookUpUntrustedIdsSafely()
    {
        assertNull(hypervisor.domain(-1));
        assertNull(hypervisor.domain(DomainId.SELF));
        assertNull(hypervisor.domain(65535));
        assertNull(hypervisor.domain(1234));
    }
}
