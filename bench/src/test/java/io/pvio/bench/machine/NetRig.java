package io.pvio.bench.machine;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import io.pvio.backend.net.Bridge;
import io.pvio.backend.net.NetBack;
import io.pvio.frontend.net.NetFront;
import io.pvio.frontend.net.NetFrontOptions;
import io.pvio.hypervisor.xenstore.XenbusDevice;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * A machine with dom0's bridge and guests plugged into it by vifs: the toolstack writes each vif's directories (with
 * its {@code mac}), dom0 starts a {@link NetBack} on the bridge and the guest a {@link NetFront}. Closing the rig
 * unplugs every vif (fronts first, then backs, then the directories) before the machine goes.
 */
final class NetRig implements AutoCloseable
{
    static final int DEVID = 0;
    static final int ETHERTYPE = 0x88B5;

    final PvMachine machine;
    final Bridge bridge = new Bridge();
    final List<Vif> vifs = new ArrayList<>();

    NetRig(final int machineFrames)
    {
        this.machine = PvMachine.start(machineFrames, 2048);
    }

    /** A guest with one vif, connected. */
    Vif plug(final String name, final int index, final NetFrontOptions options)
    {
        final PvGuest guest = machine.createGuest(name, 1024);
        final Vif vif = new Vif(this, guest, index, options);
        vifs.add(vif);
        return vif;
    }

    static String macText(final int index)
    {
        return String.format("00:16:3e:00:00:%02x", index);
    }

    static long mac(final int index)
    {
        return 0x00163E000000L | index;
    }

    /** A frame from {@code source} to {@code destination} whose payload is {@code seed}-determined bytes. */
    static byte[] frame(final long destination, final long source, final int length, final int seed)
    {
        final byte[] bytes = new byte[length];
        for (int i = 0; i < 6; i++)
        {
            bytes[i] = (byte)(destination >>> (40 - 8 * i));
            bytes[6 + i] = (byte)(source >>> (40 - 8 * i));
        }
        bytes[12] = (byte)(ETHERTYPE >>> 8);
        bytes[13] = (byte)ETHERTYPE;
        int x = seed * 0x9E3779B1 + 1;
        for (int i = 14; i < length; i++)
        {
            x = x * 1_103_515_245 + 12_345;
            bytes[i] = (byte)(x >>> 16);
        }
        if (length >= 18)
        {
            bytes[14] = (byte)(seed >>> 24);
            bytes[15] = (byte)(seed >>> 16);
            bytes[16] = (byte)(seed >>> 8);
            bytes[17] = (byte)seed;
        }
        return bytes;
    }

    static long source(final byte[] frame)
    {
        return macAt(frame, 6);
    }

    static long destination(final byte[] frame)
    {
        return macAt(frame, 0);
    }

    private static long macAt(final byte[] frame, final int offset)
    {
        long mac = 0;
        for (int i = offset; i < offset + 6; i++)
        {
            mac = (mac << 8) | (frame[i] & 0xFF);
        }
        return mac;
    }

    static void await(final BooleanSupplier condition, final String what)
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() - deadline > 0)
            {
                fail("timed out waiting for " + what);
            }
            Thread.onSpinWait();
            Thread.yield();
        }
    }

    @Override
    public void close()
    {
        try
        {
            for (final Vif vif : vifs)
            {
                vif.unplug();
            }
        }
        finally
        {
            machine.close();
        }
    }

    /** One guest's vif: the toolstack's directories, its front and back end, and what the guest received. */
    static final class Vif
    {
        final NetRig rig;
        final PvGuest guest;
        final int index;
        final XenbusDevice device;
        final NetBack back;
        final NetFront front;
        private final PvVif vif;
        final ConcurrentLinkedQueue<byte[]> received = new ConcurrentLinkedQueue<>();
        final AtomicLong receivedCount = new AtomicLong();
        volatile boolean keep = true;

        Vif(final NetRig rig, final PvGuest guest, final int index, final NetFrontOptions options)
        {
            this.rig = rig;
            this.guest = guest;
            this.index = index;
            this.vif = rig.machine.attachVif(guest, rig.bridge, DEVID, macText(index), options, this::onFrame);
            this.device = vif.device();
            this.back = vif.back();
            this.front = vif.front();
        }

        long mac()
        {
            return NetRig.mac(index);
        }

        private void onFrame(final DirectBuffer frame, final int offset, final int length)
        {
            if (keep)
            {
                final byte[] copy = new byte[length];
                frame.getBytes(offset, copy);
                received.add(copy);
            }
            receivedCount.incrementAndGet();
        }

        /** Transmits, retrying while the ring is full. */
        void send(final byte[] frame)
        {
            final UnsafeBuffer buffer = new UnsafeBuffer(frame);
            NetRig.await(() -> front.transmit(buffer, 0, frame.length), "room to transmit on " + this);
        }

        void unplug()
        {
            vif.close();
        }

        @Override
        public String toString()
        {
            return "vif" + guest.domain().id() + "." + DEVID;
        }
    }
}
