package io.pvio.machine.vm;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import io.pvio.machine.CostModel;
import io.pvio.machine.memory.MachineMemory;
import io.pvio.machine.vm.GuestKernel.AddressSpace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Random sequences of map, unmap, fork, destroy, switch, write, read and demand faults, checked against a plain model
 * of what each address space should hold: every read in every mode must see exactly what the model says, whatever
 * the shadow pager, the direct-paging batches or the 2-D walk did underneath.
 */
class GuestKernelRandomTest
{
    private static final int PAGE = MachineMemory.FRAME_SIZE;
    private static final int SLOTS = 48;
    private static final long DEMAND = 0x6000_0000L;

    static List<Arguments> cases()
    {
        final List<Arguments> cases = new ArrayList<>();
        for (final PagingMode mode : PagingMode.values())
        {
            for (int seed = 1; seed <= 6; seed++)
            {
                cases.add(Arguments.of(mode, seed, seed % 2 == 0, new int[] {0, 8, 1024}[seed % 3]));
            }
        }
        return cases;
    }

    @ParameterizedTest(name = "{0} seed {1} batching {2} shadow cache {3}")
    @MethodSource("cases")
    void everyReadSeesWhatTheModelSays(
        final PagingMode mode, final int seed, final boolean batching, final int shadowCache)
    {
        final SplittableRandom random = new SplittableRandom(seed);
        try (MachineMemory memory = new MachineMemory(8192L * PAGE);
            GuestKernel kernel = new GuestKernel(mode, memory, 1, 640, new CostModel(), null,
                new KernelOptions().withTlbEntries(8).withBatching(batching).withWalkCacheEntries(seed % 2 * 4)
                    .withShadowCacheFrames(shadowCache)))
        {
            final List<AddressSpace> spaces = new ArrayList<>();
            final Map<AddressSpace, Map<Long, Long>> model = new HashMap<>();
            final AddressSpace first = kernel.createAddressSpace();
            kernel.demandRegion(first, DEMAND, DEMAND + 16L * PAGE);
            spaces.add(first);
            model.put(first, new HashMap<>());
            kernel.switchTo(first);
            for (int step = 0; step < 5000; step++)
            {
                final AddressSpace current = kernel.current();
                final Map<Long, Long> view = model.get(current);
                final long va = GuestWorkloads.HEAP + (long)random.nextInt(SLOTS) * PAGE;
                switch (random.nextInt(24))
                {
                    case 0:
                    {
                        final AddressSpace target = spaces.get(random.nextInt(spaces.size()));
                        if (!model.get(target).containsKey(va))
                        {
                            kernel.map(target, va, true);
                            model.get(target).put(va, 0L);
                        }
                        break;
                    }
                    case 1:
                    {
                        final AddressSpace target = spaces.get(random.nextInt(spaces.size()));
                        assertEquals(model.get(target).remove(va) != null, kernel.unmap(target, va));
                        break;
                    }
                    case 2:
                        if (spaces.size() < 6)
                        {
                            final AddressSpace child = kernel.fork(current);
                            spaces.add(child);
                            final Map<Long, Long> copy = new HashMap<>(view);
                            copy.keySet().removeIf((address) -> address >= DEMAND);
                            copy.putAll(demandPages(view));
                            model.put(child, copy);
                        }
                        break;
                    case 3:
                        if (spaces.size() > 1)
                        {
                            final AddressSpace victim = spaces.get(random.nextInt(spaces.size()));
                            spaces.remove(victim);
                            model.remove(victim);
                            kernel.destroy(victim, spaces.get(0));
                        }
                        break;
                    case 4:
                        kernel.switchTo(spaces.get(random.nextInt(spaces.size())));
                        break;
                    case 8:
                    case 9:
                    case 10:
                    {
                        // unmap and map again in the current space: the old translation must not survive
                        if (view.containsKey(va))
                        {
                            kernel.unmap(current, va);
                        }
                        kernel.map(current, va, true);
                        view.put(va, 0L);
                        break;
                    }
                    case 11:
                    case 12:
                    case 13:
                    case 14:
                    case 15:
                        if (view.containsKey(va))
                        {
                            assertEquals(view.get(va), kernel.access(va + 8, false, 0), mode + " step " + step);
                        }
                        break;
                    case 5:
                    {
                        final long demand = DEMAND + (long)random.nextInt(16) * PAGE;
                        final long value = random.nextLong();
                        kernel.access(demand, true, value);
                        view.put(demand, value);
                        break;
                    }
                    case 6:
                    case 7:
                    case 16:
                    case 17:
                        if (view.containsKey(va))
                        {
                            final long value = random.nextLong();
                            kernel.access(va + 8, true, value);
                            view.put(va, value);
                        }
                        break;
                    case 18:
                        for (final Map.Entry<Long, Long> entry : view.entrySet())
                        {
                            final long offset = entry.getKey() >= DEMAND ? 0 : 8;
                            assertEquals(entry.getValue(), kernel.access(entry.getKey() + offset, false, 0),
                                mode + " step " + step + " va 0x" + Long.toHexString(entry.getKey()));
                            // and the frame the kernel believes is mapped there holds it: a translation that
                            // reached another frame (a stale shadow, a missed flush) would read and write there
                            final long pfn = current.frameAt(entry.getKey());
                            assertEquals(entry.getValue(), memory.frame(kernel.frames().machineFrame(pfn))
                                .getLong((int)offset), mode + " step " + step + " frame of 0x" +
                                Long.toHexString(entry.getKey()));
                        }
                        break;
                    case 19:
                    case 20:
                        if (!view.containsKey(va))
                        {
                            // nothing mapped there: no stale translation may answer
                            assertThrows(GuestSegfault.class, () -> kernel.access(va, false, 0),
                                mode + " step " + step + " unmapped 0x" + Long.toHexString(va));
                        }
                        break;
                    default:
                        break;
                }
            }
        }
    }

    /** Demand pages fork too: they are ordinary mapped pages once faulted in. */
    private static Map<Long, Long> demandPages(final Map<Long, Long> view)
    {
        final Map<Long, Long> pages = new HashMap<>();
        for (final Map.Entry<Long, Long> entry : view.entrySet())
        {
            if (entry.getKey() >= DEMAND)
            {
                pages.put(entry.getKey(), entry.getValue());
            }
        }
        return pages;
    }
}
