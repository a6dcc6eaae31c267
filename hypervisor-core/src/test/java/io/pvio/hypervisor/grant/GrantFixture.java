package io.pvio.hypervisor.grant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.agrona.concurrent.UnsafeBuffer;

import io.pvio.hypervisor.Domain;
import io.pvio.hypervisor.Hypervisor;
import io.pvio.machine.memory.MachineMemory;

/**
 * A small machine for grant tests: a hypervisor with dom0 and helpers to make guests, fill frames and check that
 * every machine frame is accounted for.
 */
final class GrantFixture implements AutoCloseable
{
    static final int DOM0_FRAMES = 16;
    static final int GUEST_FRAMES = 8;

    final MachineMemory memory;
    final Hypervisor hypervisor;
    final Domain dom0;

    GrantFixture()
    {
        this(1024);
    }

    GrantFixture(final int machineFrames)
    {
        memory = new MachineMemory((long)machineFrames * MachineMemory.FRAME_SIZE);
        hypervisor = new Hypervisor(memory, DOM0_FRAMES, 1);
        dom0 = hypervisor.dom0();
    }

    Domain guest(final String name)
    {
        return guest(name, GUEST_FRAMES);
    }

    Domain guest(final String name, final int frames)
    {
        final Domain domain = dom0.hypercalls().createDomain(name, frames, 1);
        dom0.hypercalls().unpauseDomain(domain.id());
        return domain;
    }

    void destroy(final Domain domain)
    {
        dom0.hypercalls().destroyDomain(domain.id());
    }

    static GrantTableOps ops(final Domain domain)
    {
        return domain.hypercalls().grantTableOp();
    }

    static void fill(final Domain domain, final long gfn, final byte value)
    {
        domain.guestFrame(gfn).setMemory(0, MachineMemory.FRAME_SIZE, value);
    }

    static boolean allBytes(final UnsafeBuffer frame, final int offset, final int length, final byte value)
    {
        for (int i = offset; i < offset + length; i++)
        {
            if (frame.getByte(i) != value)
            {
                return false;
            }
        }
        return true;
    }

    /**
     * The flags of a domain's grant entry, read from its table frame as the guest would.
     */
    static int entryFlags(final Domain granter, final int ref)
    {
        final UnsafeBuffer view = granter.grantTable().wrapTableFrame(
            GrantEntryDescriptor.frameIndex(ref), new UnsafeBuffer(0, 0));
        return view.getShort(GrantEntryDescriptor.entryOffset(ref) + GrantEntryDescriptor.FLAGS_OFFSET) & 0xFFFF;
    }

    int framesHeldAfterFree()
    {
        int held = 0;
        for (int mfn = 0; mfn < memory.frameCount(); mfn++)
        {
            if (MachineMemory.FREE_WHEN_RELEASED == memory.owner(mfn))
            {
                held++;
            }
        }
        return held;
    }

    /**
     * Every frame is free, owned by a live domain, or held by a mapping after its owner freed it; the allocator's
     * free count agrees; each live domain owns exactly its populated guest frames plus its grant-table frames; and a
     * free frame is retained by nobody.
     */
    void assertFramesAccounted()
    {
        final List<Domain> domains = hypervisor.domains();
        int free = 0;
        int owned = 0;
        int held = 0;
        for (int mfn = 0; mfn < memory.frameCount(); mfn++)
        {
            final int owner = memory.owner(mfn);
            if (MachineMemory.NO_OWNER == owner)
            {
                free++;
                assertEquals(0, memory.retainCount(mfn), "free frame retained: mfn=" + mfn);
            }
            else if (MachineMemory.FREE_WHEN_RELEASED == owner)
            {
                held++;
                assertTrue(memory.retainCount(mfn) > 0, "held frame without a retain: mfn=" + mfn);
            }
            else
            {
                owned++;
                final Domain domain = hypervisor.domain(owner);
                assertTrue(null != domain && domain.isAlive(), "frame owned by a dead domain: mfn=" + mfn +
                    " owner=" + owner);
            }
        }
        assertEquals(memory.frameCount(), free + owned + held);
        assertEquals(memory.freeFrames(), free, "allocator free count");
        int expectedOwned = 0;
        for (final Domain domain : domains)
        {
            int populated = 0;
            for (int gfn = 0; gfn < domain.p2m().size(); gfn++)
            {
                if (domain.p2m().lookup(gfn) >= 0)
                {
                    populated++;
                }
            }
            final int expected = populated + domain.grantTable().nrFrames();
            assertEquals(expected, memory.framesOwnedBy(domain.id()), "frames owned by domain " + domain.id());
            expectedOwned += expected;
        }
        assertEquals(expectedOwned, owned, "owned frames");
    }

    @Override
    public void close()
    {
        hypervisor.close();
    }
}
