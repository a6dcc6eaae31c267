package io.pvio.hypervisor.grant;

import static io.pvio.machine.memory.MachineMemory.FRAME_SIZE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

import org.agrona.concurrent.UnsafeBuffer;

import io.pvio.hypervisor.Domain;
import io.pvio.hypervisor.Errno;
import io.pvio.hypervisor.HypercallException;
import io.pvio.machine.memory.MachineMemory;

/**
 * Random scripts of grant, end access, map, unmap, copy, guest writes, domain creation and destruction, run by several
 * domains against a model of what each may see. After every step: every frame of a live domain holds exactly what the
 * model says (so no domain wrote where it had no writable grant, and no read-only grant was written), every status is
 * the one the model predicts (so no domain read a frame it was not granted), each mapped frame is still allocated and
 * retained once per mapping, the shared entries' in-use bits match the mappings, and every machine frame is accounted
 * for. At the end all guests are destroyed and dom0 unmaps what it still holds: nothing may be left held.
 */
class GrantPropertyTest
{
    private static final int GUEST_FRAMES = 4;
    private static final int MAPTRACK = 4;
    private static final int MAX_PARTICIPANTS = 5;
    private static final int NOBODY = 700;

    enum Kind
    {
        GRANT, END_ACCESS, MAP, UNMAP, COPY, WRITE_OWN, WRITE_MAPPED, CREATE, DESTROY
    }

    record Step(Kind kind, int a, int b, int c, int d, int e)
    {
    }

    @Property(tries = 150, edgeCases = EdgeCasesMode.NONE)
    void shouldKeepEveryFrameGrantedAndAccountedWhenDomainsActAtRandom(@ForAll("scripts") final List<Step> script)
    {
        try (World world = new World())
        {
            for (final Step step : script)
            {
                world.apply(step);
                world.check();
            }
            world.finish();
        }
    }

    @Provide
    Arbitrary<List<Step>> scripts()
    {
        final Arbitrary<Kind> kinds = Arbitraries.frequency(
            Tuple.of(18, Kind.GRANT),
            Tuple.of(10, Kind.END_ACCESS),
            Tuple.of(22, Kind.MAP),
            Tuple.of(12, Kind.UNMAP),
            Tuple.of(20, Kind.COPY),
            Tuple.of(6, Kind.WRITE_OWN),
            Tuple.of(6, Kind.WRITE_MAPPED),
            Tuple.of(2, Kind.CREATE),
            Tuple.of(3, Kind.DESTROY));
        final Arbitrary<Integer> any = Arbitraries.integers().between(0, 1 << 20);
        return Combinators.combine(kinds, any, any, any, any, any).as(Step::new).list().ofMinSize(1).ofMaxSize(160);
    }

    private static final class Grant
    {
        final int granter;
        final int ref;
        final int grantee;
        final long gfn;
        final boolean readOnly;

        Grant(final int granter, final int ref, final int grantee, final long gfn, final boolean readOnly)
        {
            this.granter = granter;
            this.ref = ref;
            this.grantee = grantee;
            this.gfn = gfn;
            this.readOnly = readOnly;
        }
    }

    private static final class Mapping
    {
        final int grantee;
        final int handle;
        final Grant grant;
        final long mfn;
        final boolean readOnly;

        Mapping(final int grantee, final int handle, final Grant grant, final long mfn, final boolean readOnly)
        {
            this.grantee = grantee;
            this.handle = handle;
            this.grant = grant;
            this.mfn = mfn;
            this.readOnly = readOnly;
        }
    }

    private static final class World implements AutoCloseable
    {
        final GrantFixture fixture = new GrantFixture(256);
        final MachineMemory memory = fixture.memory;
        final List<Domain> participants = new ArrayList<>();
        final Map<Long, byte[]> content = new HashMap<>();
        final List<Grant> grants = new ArrayList<>();
        final List<Mapping> mappings = new ArrayList<>();
        final List<Integer> staleHandles = new ArrayList<>();
        final Map<Integer, Boolean> grown = new HashMap<>();
        final GrantCopyBatch batch = new GrantCopyBatch(1);
        final byte[] scratch = new byte[FRAME_SIZE];
        int created;

        World()
        {
            fixture.dom0.grantTable().configureLimits(1, MAPTRACK);
            join(fixture.dom0);
            create();
            create();
        }

        void apply(final Step step)
        {
            switch (step.kind())
            {
                case GRANT -> grant(step);
                case END_ACCESS -> endAccess(step);
                case MAP -> map(step);
                case UNMAP -> unmap(step);
                case COPY -> copy(step);
                case WRITE_OWN -> writeOwn(step);
                case WRITE_MAPPED -> writeMapped(step);
                case CREATE -> create();
                case DESTROY -> destroy(step);
                default -> throw new IllegalStateException("kind=" + step.kind());
            }
        }

        void create()
        {
            if (participants.size() < MAX_PARTICIPANTS)
            {
                final Domain guest = fixture.guest("guest-" + created++, GUEST_FRAMES);
                guest.grantTable().configureLimits(1, MAPTRACK);
                join(guest);
            }
        }

        void join(final Domain domain)
        {
            participants.add(domain);
            for (int gfn = 0; gfn < domain.p2m().size(); gfn++)
            {
                final byte[] bytes = new byte[FRAME_SIZE];
                Arrays.fill(bytes, (byte)(domain.id() * 16 + gfn + 1));
                domain.guestFrame(gfn).putBytes(0, bytes);
                content.put(domain.mfnOf(gfn), bytes);
            }
        }

        void grant(final Step step)
        {
            final Domain granter = participant(step.a());
            final int grantee = 0 == step.b() % 11 ? NOBODY : participant(step.b()).id();
            final long gfn = step.c() % (GUEST_FRAMES + 1);
            final boolean readOnly = 0 == step.d() % 2;
            if (!granter.isAlive())
            {
                assertEsrch(() -> granter.grantTable().grantAccess(grantee, gfn, readOnly));
                return;
            }
            final int ref = granter.grantTable().grantAccess(grantee, gfn, readOnly);
            assertTrue(ref >= GrantEntryDescriptor.NR_RESERVED_ENTRIES, "ref=" + ref);
            assertEquals(null, findGrant(granter.id(), ref), "ref handed out twice");
            grown.put(granter.id(), true);
            grants.add(new Grant(granter.id(), ref, grantee, gfn, readOnly));
        }

        void endAccess(final Step step)
        {
            if (grants.isEmpty())
            {
                return;
            }
            final Grant grant = grants.get(step.a() % grants.size());
            final boolean expected = mappingsOf(grant) == 0;
            final boolean ended = domain(grant.granter).grantTable().endAccess(grant.ref);
            assertEquals(expected, ended, "endAccess while mapped " + mappingsOf(grant) + " times");
            if (ended)
            {
                grants.remove(grant);
            }
        }

        void map(final Step step)
        {
            final Domain grantee = participant(step.a());
            final boolean readOnly = 0 == step.e() % 2;
            final int granterId;
            final int ref;
            if (grants.isEmpty() || 0 == step.c() % 5)
            {
                granterId = participant(step.b()).id();
                ref = step.d() % 600;
            }
            else
            {
                final Grant grant = grants.get(step.b() % grants.size());
                granterId = grant.granter;
                ref = grant.ref;
            }
            if (!grantee.isAlive())
            {
                assertEsrch(() -> GrantFixture.ops(grantee).map(granterId, ref, readOnly, null));
                return;
            }
            final int expected = expectMap(grantee.id(), granterId, ref, readOnly);
            final UnsafeBuffer view = new UnsafeBuffer(0, 0);
            final int result = GrantFixture.ops(grantee).map(granterId, ref, readOnly, view);
            if (GrantStatus.OKAY != expected)
            {
                assertEquals(GrantStatus.name(expected), GrantStatus.name(result));
                return;
            }
            assertTrue(result >= 0, () -> "map refused: " + GrantStatus.name(result));
            final Grant grant = findGrant(granterId, ref);
            final long mfn = domain(granterId).mfnOf(grant.gfn);
            assertEquals(memory.frameAddress(mfn), view.addressOffset(), "view points at the granted frame");
            mappings.add(new Mapping(grantee.id(), result, grant, mfn, readOnly));
        }

        void unmap(final Step step)
        {
            final Domain grantee = participant(step.a());
            if (!grantee.isAlive())
            {
                assertEsrch(() -> GrantFixture.ops(grantee).unmap(step.b()));
                return;
            }
            final List<Mapping> own = new ArrayList<>();
            for (final Mapping mapping : mappings)
            {
                if (mapping.grantee == grantee.id())
                {
                    own.add(mapping);
                }
            }
            if (0 == step.c() % 4 && !staleHandles.isEmpty())
            {
                final int stale = staleHandles.get(step.b() % staleHandles.size());
                if (own.stream().noneMatch((m) -> m.handle == stale))
                {
                    assertEquals(GrantStatus.BAD_HANDLE, GrantFixture.ops(grantee).unmap(stale));
                }
                return;
            }
            if (own.isEmpty())
            {
                assertEquals(GrantStatus.BAD_HANDLE, GrantFixture.ops(grantee).unmap(step.b() % MAPTRACK));
                return;
            }
            final Mapping mapping = own.get(step.b() % own.size());
            assertEquals(GrantStatus.OKAY, GrantFixture.ops(grantee).unmap(mapping.handle));
            mappings.remove(mapping);
            staleHandles.add(mapping.handle);
            forgetIfUnreachable(mapping.mfn);
        }

        void copy(final Step step)
        {
            final Domain caller = participant(step.a());
            final int mode = step.b() % 3;
            final int length = 0 == step.e() % 97 ? -1 : step.e() % 512;
            final int sourceOffset = step.c() % 3700;
            final int destOffset = step.d() % 3700;
            final long localGfn = (step.a() / 7) % (GUEST_FRAMES + 1);
            final int[] first = pickGrant(step.b() / 3, step.c() / 3);
            final int[] second = pickGrant(step.d() / 3, step.e() / 3);
            batch.clear();
            switch (mode)
            {
                case 0 -> batch.addFromGrant(first[0], first[1], sourceOffset, localGfn, destOffset, length);
                case 1 -> batch.addToGrant(localGfn, sourceOffset, first[0], first[1], destOffset, length);
                default -> batch.addGrantToGrant(
                    first[0], first[1], sourceOffset, second[0], second[1], destOffset, length);
            }
            if (!caller.isAlive())
            {
                assertEsrch(() -> GrantFixture.ops(caller).copy(batch));
                return;
            }
            int expected = expectCopyArgs(sourceOffset, destOffset, length);
            long sourceMfn = -1;
            long destMfn = -1;
            if (GrantStatus.OKAY == expected)
            {
                if (1 == mode)
                {
                    sourceMfn = caller.p2m().lookup(localGfn);
                    expected = sourceMfn < 0 ? GrantStatus.BAD_PAGE : GrantStatus.OKAY;
                }
                else
                {
                    expected = expectGrantUse(caller.id(), first[0], first[1], false);
                    sourceMfn = GrantStatus.OKAY == expected ? grantedMfn(first[0], first[1]) : -1;
                }
            }
            if (GrantStatus.OKAY == expected)
            {
                if (0 == mode)
                {
                    destMfn = caller.p2m().lookup(localGfn);
                    expected = destMfn < 0 ? GrantStatus.BAD_PAGE : GrantStatus.OKAY;
                }
                else
                {
                    final int[] dest = 1 == mode ? first : second;
                    expected = expectGrantUse(caller.id(), dest[0], dest[1], true);
                    destMfn = GrantStatus.OKAY == expected ? grantedMfn(dest[0], dest[1]) : -1;
                }
            }

            final int failed = GrantFixture.ops(caller).copy(batch);

            assertEquals(GrantStatus.name(expected), GrantStatus.name(batch.status(0)));
            assertEquals(GrantStatus.OKAY == expected ? 0 : 1, failed);
            if (GrantStatus.OKAY == expected)
            {
                System.arraycopy(content.get(sourceMfn), sourceOffset, content.get(destMfn), destOffset, length);
            }
        }

        void writeOwn(final Step step)
        {
            final Domain domain = participant(step.a());
            if (!domain.isAlive())
            {
                return;
            }
            final long gfn = step.b() % domain.p2m().size();
            final int offset = step.c() % FRAME_SIZE;
            final int length = Math.min(step.d() % 256, FRAME_SIZE - offset);
            final byte value = (byte)step.e();
            domain.guestFrame(gfn).setMemory(offset, length, value);
            Arrays.fill(content.get(domain.mfnOf(gfn)), offset, offset + length, value);
        }

        void writeMapped(final Step step)
        {
            final List<Mapping> writable = new ArrayList<>();
            for (final Mapping mapping : mappings)
            {
                if (!mapping.readOnly)
                {
                    writable.add(mapping);
                }
            }
            if (writable.isEmpty())
            {
                return;
            }
            final Mapping mapping = writable.get(step.a() % writable.size());
            final int offset = step.c() % FRAME_SIZE;
            final int length = Math.min(step.d() % 256, FRAME_SIZE - offset);
            final byte value = (byte)step.e();
            memory.frame(mapping.mfn).setMemory(offset, length, value);
            Arrays.fill(content.get(mapping.mfn), offset, offset + length, value);
        }

        void destroy(final Step step)
        {
            final Domain victim = participant(step.a());
            if (0 == victim.id() || !victim.isAlive())
            {
                return;
            }
            final List<Long> frames = new ArrayList<>();
            for (int gfn = 0; gfn < victim.p2m().size(); gfn++)
            {
                frames.add(victim.mfnOf(gfn));
            }
            fixture.destroy(victim);
            final List<Long> released = new ArrayList<>();
            mappings.removeIf((m) ->
            {
                if (m.grantee == victim.id())
                {
                    released.add(m.mfn);
                    return true;
                }
                return false;
            });
            grants.removeIf((g) -> g.granter == victim.id());
            for (final long mfn : frames)
            {
                forgetIfUnreachable(mfn);
            }
            for (final long mfn : released)
            {
                forgetIfUnreachable(mfn);
            }
        }

        void check()
        {
            for (final Domain domain : participants)
            {
                if (!domain.isAlive())
                {
                    continue;
                }
                for (int gfn = 0; gfn < domain.p2m().size(); gfn++)
                {
                    assertFrame(domain.mfnOf(gfn), "domain " + domain.id() + " gfn " + gfn);
                }
                assertEquals(countMappingsHeldBy(domain.id()), domain.grantTable().mappingCount());
                assertEquals(countGrantsBy(domain.id()), domain.grantTable().grantedCount());
            }
            final Map<Long, Integer> retains = new HashMap<>();
            for (final Mapping mapping : mappings)
            {
                retains.merge(mapping.mfn, 1, Integer::sum);
                final Domain granter = domain(mapping.grant.granter);
                final int owner = memory.owner(mapping.mfn);
                assertEquals(granter.isAlive() ? granter.id() : MachineMemory.FREE_WHEN_RELEASED, owner,
                    "owner of mapped mfn " + mapping.mfn);
                assertFrame(mapping.mfn, "mapped mfn " + mapping.mfn);
            }
            for (final Map.Entry<Long, Integer> entry : retains.entrySet())
            {
                assertEquals(entry.getValue(), memory.retainCount(entry.getKey()), "retains of " + entry.getKey());
            }
            for (final Grant grant : grants)
            {
                int readers = 0;
                int writers = 0;
                for (final Mapping mapping : mappings)
                {
                    if (mapping.grant == grant)
                    {
                        if (mapping.readOnly)
                        {
                            readers++;
                        }
                        else
                        {
                            writers++;
                        }
                    }
                }
                final Domain granter = domain(grant.granter);
                final int flags = GrantFixture.entryFlags(granter, grant.ref);
                final int expected = GrantEntryDescriptor.GTF_PERMIT_ACCESS |
                    (grant.readOnly ? GrantEntryDescriptor.GTF_READONLY : 0) |
                    (readers + writers > 0 ? GrantEntryDescriptor.GTF_READING : 0) |
                    (writers > 0 ? GrantEntryDescriptor.GTF_WRITING : 0);
                assertEquals(Integer.toHexString(expected), Integer.toHexString(flags), "flags of ref " + grant.ref);
                assertEquals(readers, granter.grantTable().readPins(grant.ref));
                assertEquals(writers, granter.grantTable().writePins(grant.ref));
            }
            fixture.assertFramesAccounted();
        }

        void finish()
        {
            for (final Domain domain : participants)
            {
                if (0 != domain.id() && domain.isAlive())
                {
                    destroy(new Step(Kind.DESTROY, participants.indexOf(domain), 0, 0, 0, 0));
                    check();
                }
            }
            for (final Mapping mapping : new ArrayList<>(mappings))
            {
                assertEquals(0, mapping.grantee);
                assertEquals(GrantStatus.OKAY, GrantFixture.ops(fixture.dom0).unmap(mapping.handle));
                mappings.remove(mapping);
            }
            check();
            assertEquals(0, fixture.framesHeldAfterFree());
            assertEquals(memory.frameCount() - GrantFixture.DOM0_FRAMES - fixture.dom0.grantTable().nrFrames(),
                memory.freeFrames());
        }

        @Override
        public void close()
        {
            fixture.close();
        }

        private int expectMap(final int grantee, final int granterId, final int ref, final boolean readOnly)
        {
            final Domain granter = fixture.hypervisor.domain(granterId);
            if (null == granter || !granter.isAlive())
            {
                return GrantStatus.BAD_DOMAIN;
            }
            if (ref >= refLimit(granterId))
            {
                return GrantStatus.BAD_GNTREF;
            }
            if (countMappingsHeldBy(grantee) == MAPTRACK)
            {
                return GrantStatus.NO_SPACE;
            }
            return expectEntry(grantee, granterId, ref, !readOnly);
        }

        private int expectGrantUse(final int caller, final int granterId, final int ref, final boolean write)
        {
            final Domain granter = fixture.hypervisor.domain(granterId);
            if (null == granter || !granter.isAlive())
            {
                return GrantStatus.BAD_DOMAIN;
            }
            if (ref >= refLimit(granterId))
            {
                return GrantStatus.BAD_GNTREF;
            }
            return expectEntry(caller, granterId, ref, write);
        }

        private int expectEntry(final int grantee, final int granterId, final int ref, final boolean write)
        {
            final Grant grant = findGrant(granterId, ref);
            if (null == grant)
            {
                return GrantStatus.BAD_GNTREF;
            }
            if (grant.grantee != grantee || (write && grant.readOnly))
            {
                return GrantStatus.PERMISSION_DENIED;
            }
            return domain(granterId).p2m().lookup(grant.gfn) < 0 ? GrantStatus.BAD_PAGE : GrantStatus.OKAY;
        }

        private static int expectCopyArgs(final int sourceOffset, final int destOffset, final int length)
        {
            if (length < 0 || sourceOffset + length > FRAME_SIZE || destOffset + length > FRAME_SIZE)
            {
                return GrantStatus.BAD_COPY_ARG;
            }
            return GrantStatus.OKAY;
        }

        private int[] pickGrant(final int pick, final int bogus)
        {
            if (grants.isEmpty() || 0 == bogus % 6)
            {
                return new int[] {participant(pick).id(), bogus % 600};
            }
            final Grant grant = grants.get(pick % grants.size());
            return new int[] {grant.granter, grant.ref};
        }

        private long grantedMfn(final int granterId, final int ref)
        {
            return domain(granterId).mfnOf(findGrant(granterId, ref).gfn);
        }

        private int refLimit(final int domainId)
        {
            return grown.getOrDefault(domainId, false) ? GrantEntryDescriptor.ENTRIES_PER_FRAME : 0;
        }

        private Grant findGrant(final int granterId, final int ref)
        {
            for (final Grant grant : grants)
            {
                if (grant.granter == granterId && grant.ref == ref)
                {
                    return grant;
                }
            }
            return null;
        }

        private int mappingsOf(final Grant grant)
        {
            int count = 0;
            for (final Mapping mapping : mappings)
            {
                if (mapping.grant == grant)
                {
                    count++;
                }
            }
            return count;
        }

        private int countMappingsHeldBy(final int grantee)
        {
            int count = 0;
            for (final Mapping mapping : mappings)
            {
                if (mapping.grantee == grantee)
                {
                    count++;
                }
            }
            return count;
        }

        private int countGrantsBy(final int granter)
        {
            int count = 0;
            for (final Grant grant : grants)
            {
                if (grant.granter == granter)
                {
                    count++;
                }
            }
            return count;
        }

        private void forgetIfUnreachable(final long mfn)
        {
            final int owner = memory.owner(mfn);
            if (MachineMemory.NO_OWNER == owner)
            {
                content.remove(mfn);
            }
        }

        private void assertFrame(final long mfn, final String what)
        {
            final byte[] expected = content.get(mfn);
            assertTrue(null != expected, "no model content for " + what);
            memory.frame(mfn).getBytes(0, scratch);
            assertArrayEquals(expected, scratch, what);
        }

        private Domain participant(final int pick)
        {
            return participants.get(pick % participants.size());
        }

        private Domain domain(final int id)
        {
            for (final Domain domain : participants)
            {
                if (domain.id() == id)
                {
                    return domain;
                }
            }
            throw new IllegalStateException("no participant " + id);
        }

        private static void assertEsrch(final Runnable call)
        {
            assertEquals(Errno.ESRCH, assertThrows(HypercallException.class, call::run).errno());
        }
    }
}
