package io.pvio.ring.blkif;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.SplittableRandom;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import io.pvio.ring.blkif.BlkifRequestValidator.Context;
import io.pvio.ring.blkif.BlkifRequestValidator.Verdict;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A million seeded random requests, biased towards the edges (segment counts around their limits, sectors around 7,
 * sector numbers near the end of the device and near 2^64), against four devices. For every one the validator must
 * not throw, must reach the verdict a plain restatement of the rules (using {@link BigInteger} for the range) reaches,
 * and may accept only requests whose sectors really lie inside the device.
 */
class BlkifRequestValidatorRandomTest
{
    private static final long SEED = 0x5EED_B10CL;
    private static final int REQUESTS = 1_000_000;
    private static final BigInteger TWO_TO_64 = BigInteger.ONE.shiftLeft(64);

    private record Device(
        long sectors, boolean readOnly, boolean barrier, boolean flush, boolean discard, int maxIndirect,
        long grefLimit)
    {
        Context context()
        {
            return new Context().sectors(sectors).readOnly(readOnly).barrier(barrier).flushCache(flush)
                .discard(discard).maxIndirectSegments(maxIndirect).grantRefLimit(grefLimit);
        }
    }

    private static final Device[] DEVICES = {
        new Device(2048, false, true, true, true, 256, 1024),
        new Device(1L << 33, true, false, true, false, 32, Context.NO_GRANT_REF_LIMIT),
        new Device(0, false, false, false, false, 0, 16),
        new Device(Long.MAX_VALUE, false, true, true, true, 4096, 1 << 20),
    };

    private final byte[] requestBytes = new byte[BlkifRequestDescriptor.REQUEST_LENGTH];
    private final byte[] segmentBytes = new byte[BlkifRequestDescriptor.MAX_INDIRECT_SEGMENTS * 8];
    private final UnsafeBuffer requestCopy = new UnsafeBuffer(requestBytes);
    private final UnsafeBuffer segmentCopy = new UnsafeBuffer(segmentBytes);
    private final ByteBuffer request = ByteBuffer.wrap(requestBytes).order(ByteOrder.LITTLE_ENDIAN);
    private final ByteBuffer segments = ByteBuffer.wrap(segmentBytes).order(ByteOrder.LITTLE_ENDIAN);

    @Test
    void shouldNeverThrowAndAcceptOnlyRequestsInsideTheDeviceWhenRequestsAreRandom()
    {
        final SplittableRandom random = new SplittableRandom(SEED);
        final BlkifRequestValidator[] validators = new BlkifRequestValidator[DEVICES.length];
        for (int d = 0; d < DEVICES.length; d++)
        {
            validators[d] = new BlkifRequestValidator(DEVICES[d].context());
        }
        final Map<Verdict, Integer> counts = new EnumMap<>(Verdict.class);

        for (int i = 0; i < REQUESTS; i++)
        {
            final int d = i & 3;
            final Device device = DEVICES[d];
            generate(random, device);
            final Verdict verdict;
            final long totalSectors;
            try
            {
                final Verdict header = validators[d].validate(requestCopy, 0);
                verdict = Verdict.FETCH_INDIRECT == header ?
                    validators[d].validateIndirectSegments(requestCopy, 0, segmentCopy, 0) : header;
                totalSectors = validators[d].totalSectors();
                if (verdict.isRefusal() && 0 == (i & 0xFF))
                {
                    validators[d].describeLastFailure();
                }
            }
            catch (final Throwable t)
            {
                throw new AssertionError(where(i, device) + " threw", t);
            }

            final Verdict expected = expected(device);
            if (expected != verdict)
            {
                fail(where(i, device) + ": verdict=" + verdict + " expected=" + expected + " (" +
                    validators[d].describeLastFailure() + ")");
            }
            if (Verdict.OK == verdict)
            {
                assertInsideDevice(i, device, totalSectors);
            }
            counts.merge(verdict, 1, Integer::sum);
        }

        for (final Verdict verdict : Verdict.values())
        {
            if (Verdict.FETCH_INDIRECT != verdict)
            {
                assertTrue(counts.getOrDefault(verdict, 0) > 2_000, "too few " + verdict + ": " + counts);
            }
        }
        assertTrue(counts.get(Verdict.OK) > REQUESTS / 20, "too few accepted: " + counts);
    }

    private void generate(final SplittableRandom random, final Device device)
    {
        random.nextBytes(requestBytes);
        final int op = random.nextInt(10) < 9 ? random.nextInt(8) : random.nextInt(256);
        request.put(0, (byte)op);
        request.putLong(16, sectorNumber(random, device.sectors()));
        if (BlkifOp.DISCARD.value() == op)
        {
            request.putLong(24, count(random, device.sectors() - Math.max(0, request.getLong(16))));
        }
        else if (BlkifOp.INDIRECT.value() == op)
        {
            request.put(1, (byte)(random.nextInt(5) < 4 ? random.nextInt(3) : random.nextInt(256)));
            final int nrSegments = indirectSegmentCount(random, device.maxIndirect());
            request.putShort(2, (short)nrSegments);
            for (int p = 0; p < BlkifRequestDescriptor.MAX_INDIRECT_PAGES_PER_REQUEST; p++)
            {
                request.putInt(28 + 4 * p, gref(random, device.grefLimit()));
            }
            if (nrSegments <= 64)
            {
                for (int s = 0; s < nrSegments; s++)
                {
                    segment(random, segments, s * 8, device.grefLimit());
                }
            }
            else if (nrSegments <= BlkifRequestDescriptor.MAX_INDIRECT_SEGMENTS)
            {
                // many segments: whole pages of valid ones, then a few random ones at random places
                final long valid = (long)(7 << 8) << 32 | Math.min(device.grefLimit() - 1, 12345);
                for (int s = 0; s < nrSegments; s++)
                {
                    segments.putLong(s * 8, valid);
                }
                for (int k = random.nextInt(3); k > 0; k--)
                {
                    segment(random, segments, random.nextInt(nrSegments) * 8, device.grefLimit());
                }
            }
        }
        else
        {
            request.put(1, (byte)(random.nextInt(8) < 7 ? random.nextInt(13) : random.nextInt(256)));
            for (int s = 0; s < BlkifRequestDescriptor.MAX_SEGMENTS_PER_REQUEST; s++)
            {
                segment(random, request, 24 + s * 8, device.grefLimit());
            }
        }
    }

    private static int indirectSegmentCount(final SplittableRandom random, final int maxIndirect)
    {
        switch (random.nextInt(10))
        {
            case 0:
                return random.nextInt(0x1_0000);
            case 1:
            case 2:
                return Math.max(0, maxIndirect + random.nextInt(3) - 1);
            case 3:
                return random.nextInt(3);
            case 4:
                return random.nextInt(maxIndirect + 2);
            default:
                return random.nextInt(Math.min(maxIndirect + 2, 64));
        }
    }

    private static void segment(
        final SplittableRandom random, final ByteBuffer into, final int offset, final long grefLimit)
    {
        final int kind = random.nextInt(200);
        final int first;
        final int last;
        if (kind == 0)
        {
            first = random.nextInt(256);
            last = random.nextInt(256);
        }
        else if (kind == 1)
        {
            first = random.nextInt(9);
            last = random.nextInt(9);
        }
        else
        {
            first = random.nextInt(8);
            last = first + random.nextInt(8 - first);
        }
        into.putInt(offset, gref(random, grefLimit));
        into.put(offset + 4, (byte)first);
        into.put(offset + 5, (byte)last);
    }

    private static int gref(final SplittableRandom random, final long grefLimit)
    {
        if (random.nextInt(400) == 0)
        {
            return random.nextInt();
        }
        return (int)random.nextLong(Math.min(grefLimit, 1L << 31));
    }

    private static long sectorNumber(final SplittableRandom random, final long sectors)
    {
        switch (random.nextInt(8))
        {
            case 0:
                return random.nextLong();
            case 1:
                return -1 - random.nextInt(4096);
            case 2:
                return sectors - random.nextInt(200);
            case 3:
                return sectors + random.nextInt(3);
            case 4:
                return Long.MIN_VALUE + random.nextInt(2) - 1;
            default:
                return 0 == sectors ? 0 : random.nextLong(Math.min(sectors, 1L << 20));
        }
    }

    private static long count(final SplittableRandom random, final long room)
    {
        switch (random.nextInt(6))
        {
            case 0:
                return random.nextLong();
            case 1:
                return -1 - random.nextInt(8);
            case 2:
                return room + random.nextInt(3) - 1;
            default:
                return random.nextInt(100);
        }
    }

    /**
     * The rules, restated independently of the validator's code.
     */
    private Verdict expected(final Device device)
    {
        final int op = request.get(0) & 0xFF;
        final boolean offered = switch (op)
        {
            case 0, 1 -> true;
            case 2 -> device.barrier();
            case 3 -> device.flush();
            case 5 -> device.discard();
            case 6 -> device.maxIndirect() > 0;
            default -> false;
        };
        if (!offered)
        {
            return Verdict.BAD_OPERATION;
        }
        final BigInteger start = unsigned(request.getLong(16));
        if (op == 5)
        {
            return rangeThenAccess(device, start, unsigned(request.getLong(24)), true, op);
        }

        final ByteBuffer segmentSource;
        final int segmentBase;
        final int nrSegments;
        final int dataOp;
        if (op == 6)
        {
            dataOp = request.get(1) & 0xFF;
            if (dataOp != 0 && dataOp != 1)
            {
                return Verdict.BAD_INDIRECT_OPERATION;
            }
            nrSegments = request.getShort(2) & 0xFFFF;
            if (nrSegments < 1 || nrSegments > device.maxIndirect() || Math.ceil(nrSegments / 512.0) > 8)
            {
                return Verdict.BAD_SEGMENTS;
            }
            for (int p = 0; p < Math.ceil(nrSegments / 512.0); p++)
            {
                if (Integer.toUnsignedLong(request.getInt(28 + 4 * p)) >= device.grefLimit())
                {
                    return Verdict.BAD_GRANT_REF;
                }
            }
            segmentSource = segments;
            segmentBase = 0;
        }
        else
        {
            dataOp = op;
            nrSegments = request.get(1) & 0xFF;
            final int min = op <= 1 ? 1 : 0;
            if (nrSegments < min || nrSegments > 11)
            {
                return Verdict.BAD_SEGMENTS;
            }
            segmentSource = request;
            segmentBase = 24;
        }

        long total = 0;
        for (int s = 0; s < nrSegments; s++)
        {
            final int at = segmentBase + s * 8;
            final int first = segmentSource.get(at + 4) & 0xFF;
            final int last = segmentSource.get(at + 5) & 0xFF;
            if (!(first <= last && last <= 7))
            {
                return Verdict.BAD_SEGMENTS;
            }
            if (Integer.toUnsignedLong(segmentSource.getInt(at)) >= device.grefLimit())
            {
                return Verdict.BAD_GRANT_REF;
            }
            total += last - first + 1;
        }
        return rangeThenAccess(device, start, BigInteger.valueOf(total), nrSegments > 0, dataOp);
    }

    private static Verdict rangeThenAccess(
        final Device device, final BigInteger start, final BigInteger count, final boolean rangeApplies,
        final int dataOp)
    {
        if (rangeApplies && start.add(count).compareTo(BigInteger.valueOf(device.sectors())) > 0)
        {
            return Verdict.BAD_RANGE;
        }
        if (device.readOnly() && dataOp != 0)
        {
            return Verdict.READ_ONLY;
        }
        return Verdict.OK;
    }

    private void assertInsideDevice(final int i, final Device device, final long totalSectors)
    {
        final int op = request.get(0) & 0xFF;
        final boolean movesNothing = (op == 2 || op == 3) && (request.get(1) & 0xFF) == 0;
        if (movesNothing)
        {
            assertEquals(0, totalSectors, where(i, device));
            return;
        }
        final BigInteger end = unsigned(request.getLong(16)).add(BigInteger.valueOf(totalSectors));
        assertTrue(totalSectors >= 0, where(i, device));
        assertTrue(end.compareTo(BigInteger.valueOf(device.sectors())) <= 0,
            where(i, device) + ": accepted a request ending at sector " + end);
        if (op == 5)
        {
            assertEquals(request.getLong(24), totalSectors, where(i, device));
        }
    }

    private String where(final int i, final Device device)
    {
        return "seed=" + Long.toHexString(SEED) + " request=" + i + " device=" + device + " bytes=" +
            HexFormat.of().formatHex(requestBytes);
    }

    private static BigInteger unsigned(final long value)
    {
        final BigInteger signed = BigInteger.valueOf(value);
        return value < 0 ? signed.add(TWO_TO_64) : signed;
    }
}
