package io.pvio.bench.nbd;

import io.pvio.backend.block.BlockBackOptions;
import io.pvio.backend.block.FileBlockStore;
import io.pvio.bench.ExternalTools;
import io.pvio.bench.machine.PvDisk;
import io.pvio.bench.machine.PvGuest;
import io.pvio.bench.machine.PvMachine;
import io.pvio.frontend.block.BlockFrontOptions;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A guest's PV disk exported over NBD: Debian's nbdcopy, qemu-img and fio against it (every byte checked against the
 * image), and a raw client of the test's own for the negotiation, simple and structured replies and hostile input.
 * The tool tests are skipped where the tools are not installed, unless {@code PVIO_REQUIRE_TOOLS=1} (set by CI).
 */
class NbdExportTest
{
    private static final long DISK_BYTES = 16L << 20;
    private static final int TOOL_TIMEOUT_SECONDS = 120;

    @TempDir
    Path dir;

    private PvMachine machine;
    private PvDisk disk;
    private NbdExport export;
    private Path image;

    @BeforeEach
    void start() throws IOException
    {
        image = dir.resolve("disk.img");
        machine = PvMachine.start(16_384, 4096);
        final PvGuest guest = machine.createGuest("nbd-guest", 4096);
        disk = machine.attachDisk(guest, 51712, FileBlockStore.createSparse(image, DISK_BYTES),
            new BlockBackOptions(), new BlockFrontOptions());
        export = NbdExport.start(disk.front(), guest.vcpus()[0], "disk", false, InetAddress.getLoopbackAddress(), 0);
    }

    @AfterEach
    void stop()
    {
        if (null != export)
        {
            export.close();
        }
        if (null != machine)
        {
            machine.close();
        }
    }

    private String uri()
    {
        return "nbd://127.0.0.1:" + export.port() + "/disk";
    }

    @Test
    void nbdcopyCopiesAnImageInAndOutUnchanged() throws Exception
    {
        ExternalTools.requireTool("/usr/bin/nbdcopy", "libnbd-bin");
        final Path source = dir.resolve("source.img");
        final byte[] data = new byte[(int)DISK_BYTES];
        new Random(7).nextBytes(data);
        Files.write(source, data);
        tool("nbdcopy", source.toString(), uri());
        final Path back = dir.resolve("back.img");
        tool("nbdcopy", uri(), back.toString());
        assertArrayEquals(data, Files.readAllBytes(back), "the image read back over NBD");
        export.close();
        export = null;
        machine.close(); // blkback flushes and closes the image: the writes went through to it
        machine = null;
        assertArrayEquals(data, Files.readAllBytes(image), "the image file behind the guest's disk");
    }

    @Test
    void qemuImgComparesAndConvertsThroughTheExport() throws Exception
    {
        ExternalTools.requireTool("/usr/bin/qemu-img", "qemu-utils");
        final Path source = dir.resolve("source.img");
        final byte[] data = new byte[(int)DISK_BYTES];
        new Random(9).nextBytes(data);
        Arrays.fill(data, 4096, 1 << 20, (byte)0); // a zero run, which qemu-img may write as zeroes or a trim
        Files.write(source, data);
        tool("qemu-img", "convert", "-n", "-f", "raw", "-O", "raw", source.toString(), uri());
        final String compare = tool("qemu-img", "compare", "-f", "raw", "-F", "raw", source.toString(), uri());
        assertTrue(compare.contains("Images are identical"), compare);
        final String info = tool("qemu-img", "info", uri());
        assertTrue(info.contains("16 MiB") || info.contains(Long.toString(DISK_BYTES)), info);
    }

    @Test
    void fioVerifiesRandomWritesThroughTheExport() throws Exception
    {
        ExternalTools.requireTool("/usr/bin/fio", "fio");
        final String output = tool("fio", "--name=verify", "--ioengine=nbd", "--uri=" + uri(), "--rw=randwrite",
            "--bs=4k", "--iodepth=16", "--size=4M", "--verify=crc32c", "--do_verify=1", "--verify_fatal=1",
            "--verify_state_save=0");
        assertTrue(output.contains("err= 0"), output);
        assertTrue(export.requests() >= 2 * 1024, "fio's writes and verifying reads went through: " +
            export.requests());
    }

    @Test
    void simpleRepliesWriteAndReadBackThroughTheGuest() throws Exception
    {
        final byte[] data = new byte[8192];
        new Random(3).nextBytes(data);
        try (RawClient client = new RawClient(export.port()))
        {
            client.negotiate(false);
            client.request(NbdWire.CMD_WRITE, 0, 7, 65536, data.length, data);
            assertEquals(0, client.simpleReply(7, 0));
            client.request(NbdWire.CMD_READ, 0, 8, 65536, data.length, null);
            assertEquals(0, client.simpleReply(8, data.length));
            assertArrayEquals(data, client.lastData);
            client.request(NbdWire.CMD_FLUSH, 0, 9, 0, 0, null);
            assertEquals(0, client.simpleReply(9, 0));
            client.request(NbdWire.CMD_READ, 0, 10, 100, 512, null); // unaligned
            assertEquals(NbdWire.EINVAL, client.simpleReply(10, 0));
        }
        final byte[] onDisk = new byte[8192];
        disk.store().read(65536 >>> 9, new UnsafeBuffer(onDisk), 0, onDisk.length);
        assertArrayEquals(data, onDisk, "the image behind the guest's disk holds the NBD write");
        assertEquals(1, export.errors());
    }

    @Test
    void structuredErrorsNameWhatWasWrongAndTheConnectionGoesOn() throws Exception
    {
        try (RawClient client = new RawClient(export.port()))
        {
            client.negotiate(true);
            client.request(NbdWire.CMD_READ, 0, 1, 512, 100, null);
            assertStructuredError(client, 1, NbdWire.EINVAL, "not multiples");
            client.request(NbdWire.CMD_READ, 0, 2, DISK_BYTES, 4096, null);
            assertStructuredError(client, 2, NbdWire.EINVAL, "beyond the export");
            client.request(NbdWire.CMD_WRITE, 0, 3, DISK_BYTES - 512, 4096, new byte[4096]);
            assertStructuredError(client, 3, NbdWire.ENOSPC, "beyond the export");
            client.request(NbdWire.CMD_READ, 0x40, 4, 0, 4096, null);
            assertStructuredError(client, 4, NbdWire.EINVAL, "command flags");
            client.request(77, 0, 5, 0, 4096, null);
            assertStructuredError(client, 5, NbdWire.EINVAL, "not supported");
            // still serving: a good read gets an OFFSET_DATA chunk with the bytes
            client.request(NbdWire.CMD_READ, 0, 6, 4096, 4096, null);
            final Chunk chunk = client.chunk();
            assertEquals(NbdWire.REPLY_TYPE_OFFSET_DATA, chunk.type);
            assertEquals(6, chunk.handle);
            assertEquals(4096 + 8, chunk.payload.length);
        }
        assertEquals(0, export.cutOff());
    }

    @Test
    void negotiationAnswersListUnknownOptionsAndUnknownExports() throws Exception
    {
        try (RawClient client = new RawClient(export.port()))
        {
            client.greeting();
            client.option(NbdWire.OPT_LIST, new byte[0]);
            OptionReply reply = client.optionReply();
            assertEquals(NbdWire.REP_SERVER, reply.type);
            assertEquals("disk", new String(reply.data, 4, reply.data.length - 4, StandardCharsets.UTF_8));
            assertEquals(NbdWire.REP_ACK, client.optionReply().type);
            client.option(99, new byte[3]);
            reply = client.optionReply();
            assertEquals(NbdWire.REP_ERR_UNSUP, reply.type);
            client.option(NbdWire.OPT_GO, goData("other"));
            reply = client.optionReply();
            assertEquals(NbdWire.REP_ERR_UNKNOWN, reply.type);
            assertTrue(new String(reply.data, StandardCharsets.UTF_8).contains("other"));
            client.option(NbdWire.OPT_GO, new byte[] {0, 0, 0, 100, 0, 0}); // name longer than the data
            assertEquals(NbdWire.REP_ERR_INVALID, client.optionReply().type);
            client.option(NbdWire.OPT_ABORT, new byte[0]);
            assertEquals(NbdWire.REP_ACK, client.optionReply().type);
        }
    }

    @Test
    void aHostileClientIsCutOffAndTheOthersCarryOn() throws Exception
    {
        try (RawClient good = new RawClient(export.port()))
        {
            good.negotiate(true);
            try (RawClient bad = new RawClient(export.port()))
            {
                bad.negotiate(true);
                bad.request(NbdWire.CMD_WRITE, 0, 1, 0, Integer.MAX_VALUE, null); // data that cannot be framed
                assertClosed(bad);
            }
            try (RawClient bad = new RawClient(export.port()))
            {
                bad.negotiate(true);
                bad.out.writeInt(0xdeadbeef); // bad request magic
                bad.out.write(new byte[24]);
                bad.out.flush();
                assertClosed(bad);
            }
            try (RawClient bad = new RawClient(export.port()))
            {
                bad.greeting();
                bad.out.writeLong(0x1234); // bad option magic
                bad.out.writeLong(0);
                bad.out.flush();
                assertClosed(bad);
            }
            good.request(NbdWire.CMD_READ, 0, 42, 0, 512, null);
            final Chunk chunk = good.chunk();
            assertEquals(42, chunk.handle);
            assertEquals(NbdWire.REPLY_TYPE_OFFSET_DATA, chunk.type);
        }
        assertEquals(3, export.cutOff());
    }

    @Test
    void aReadOnlyExportRefusesWritesWithEperm() throws Exception
    {
        export.close();
        export = NbdExport.start(disk.front(), null, "disk", true, InetAddress.getLoopbackAddress(), 0);
        try (RawClient client = new RawClient(export.port()))
        {
            final int flags = client.negotiate(true);
            assertTrue(0 != (flags & NbdWire.TFLAG_READ_ONLY));
            client.request(NbdWire.CMD_WRITE, 0, 5, 0, 512, new byte[512]);
            assertStructuredError(client, 5, NbdWire.EPERM, "read-only");
            assertEquals(0, flags & NbdWire.TFLAG_SEND_FLUSH, "no FLUSH offered on a read-only export");
            client.request(NbdWire.CMD_FLUSH, 0, 6, 0, 0, null);
            assertStructuredError(client, 6, NbdWire.EINVAL, "not offered");
        }
    }

    @Test
    void onlyLoopbackAddressesAreServed() throws Exception
    {
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () ->
            NbdExport.start(disk.front(), null, "x", false, InetAddress.getByName("198.18.0.1"), 0));
        assertTrue(ex.getMessage().contains("not a loopback"), ex.getMessage());
    }

    private static void assertStructuredError(
        final RawClient client, final long handle, final int error, final String text) throws IOException
    {
        final Chunk chunk = client.chunk();
        assertEquals(handle, chunk.handle);
        assertEquals(NbdWire.REPLY_TYPE_ERROR, chunk.type);
        assertEquals(NbdWire.REPLY_FLAG_DONE, chunk.flags & NbdWire.REPLY_FLAG_DONE);
        final DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(chunk.payload));
        assertEquals(error, in.readInt());
        final int length = in.readUnsignedShort();
        final String message = new String(in.readNBytes(length), StandardCharsets.UTF_8);
        assertTrue(message.contains(text), message);
    }

    private static void assertClosed(final RawClient client) throws IOException
    {
        client.socket.setSoTimeout(10_000);
        try
        {
            while (client.in.read() >= 0)
            {
                // drain whatever was sent before the close
            }
        }
        catch (final SocketTimeoutException ex)
        {
            fail("the server did not close the connection in 10 s");
        }
        catch (final IOException ex)
        {
            // reset by the server: closed
        }
    }

    private static byte[] goData(final String name)
    {
        final byte[] bytes = name.getBytes(StandardCharsets.UTF_8);
        final byte[] data = new byte[4 + bytes.length + 2];
        data[3] = (byte)bytes.length;
        System.arraycopy(bytes, 0, data, 4, bytes.length);
        return data;
    }


    private static String tool(final String... command) throws IOException, InterruptedException
    {
        final Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        final String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(TOOL_TIMEOUT_SECONDS, TimeUnit.SECONDS))
        {
            process.destroyForcibly();
            fail(String.join(" ", command) + " did not finish");
        }
        assertEquals(0, process.exitValue(), String.join(" ", command) + " failed: " + output);
        return output;
    }

    private record OptionReply(int option, int type, byte[] data)
    {
    }

    private record Chunk(int flags, int type, long handle, byte[] payload)
    {
    }

    /** A blocking NBD client of the test's own, to send exactly the bytes a test wants. */
    private static final class RawClient implements AutoCloseable
    {
        final Socket socket;
        final DataInputStream in;
        final DataOutputStream out;
        byte[] lastData;

        RawClient(final int port) throws IOException
        {
            socket = new Socket(InetAddress.getLoopbackAddress(), port);
            socket.setSoTimeout(30_000);
            in = new DataInputStream(socket.getInputStream());
            out = new DataOutputStream(socket.getOutputStream());
        }

        void greeting() throws IOException
        {
            assertEquals(NbdWire.INIT_MAGIC, in.readLong());
            assertEquals(NbdWire.OPTION_MAGIC, in.readLong());
            final int flags = in.readUnsignedShort();
            assertEquals(NbdWire.FLAG_FIXED_NEWSTYLE | NbdWire.FLAG_NO_ZEROES, flags);
            out.writeInt(NbdWire.CLIENT_FIXED_NEWSTYLE | NbdWire.CLIENT_NO_ZEROES);
            out.flush();
        }

        /** Greeting, optionally structured replies, then GO: returns the transmission flags. */
        int negotiate(final boolean structured) throws IOException
        {
            greeting();
            if (structured)
            {
                option(NbdWire.OPT_STRUCTURED_REPLY, new byte[0]);
                assertEquals(NbdWire.REP_ACK, optionReply().type);
            }
            option(NbdWire.OPT_GO, goData("disk"));
            int flags = -1;
            final List<Integer> infos = new ArrayList<>();
            for (;;)
            {
                final OptionReply reply = optionReply();
                if (NbdWire.REP_ACK == reply.type)
                {
                    break;
                }
                assertEquals(NbdWire.REP_INFO, reply.type);
                final int item = ((reply.data[0] & 0xff) << 8) | (reply.data[1] & 0xff);
                infos.add(item);
                if (NbdWire.INFO_EXPORT == item)
                {
                    final DataInputStream d = new DataInputStream(new java.io.ByteArrayInputStream(reply.data, 2,
                        10));
                    assertEquals(DISK_BYTES, d.readLong());
                    flags = d.readUnsignedShort();
                }
            }
            assertTrue(infos.contains(NbdWire.INFO_EXPORT) && infos.contains(NbdWire.INFO_BLOCK_SIZE),
                infos.toString());
            return flags;
        }

        void option(final int option, final byte[] data) throws IOException
        {
            out.writeLong(NbdWire.OPTION_MAGIC);
            out.writeInt(option);
            out.writeInt(data.length);
            out.write(data);
            out.flush();
        }

        OptionReply optionReply() throws IOException
        {
            assertEquals(NbdWire.OPTION_REPLY_MAGIC, in.readLong());
            final int option = in.readInt();
            final int type = in.readInt();
            final int length = in.readInt();
            return new OptionReply(option, type, in.readNBytes(length));
        }

        void request(
            final int type, final int flags, final long handle, final long offset, final int length,
            final byte[] data) throws IOException
        {
            out.writeInt(NbdWire.REQUEST_MAGIC);
            out.writeShort(flags);
            out.writeShort(type);
            out.writeLong(handle);
            out.writeLong(offset);
            out.writeInt(length);
            if (null != data)
            {
                out.write(data);
            }
            out.flush();
        }

        int simpleReply(final long handle, final int dataLength) throws IOException
        {
            assertEquals(NbdWire.SIMPLE_REPLY_MAGIC, in.readInt());
            final int error = in.readInt();
            assertEquals(handle, in.readLong());
            lastData = 0 == error ? in.readNBytes(dataLength) : null;
            return error;
        }

        Chunk chunk() throws IOException
        {
            assertEquals(NbdWire.STRUCTURED_REPLY_MAGIC, in.readInt());
            final int flags = in.readUnsignedShort();
            final int type = in.readUnsignedShort();
            final long handle = in.readLong();
            final int length = in.readInt();
            final byte[] payload = in.readNBytes(length);
            if (payload.length != length)
            {
                throw new EOFException("chunk of " + length + " bytes cut at " + payload.length);
            }
            return new Chunk(flags, type, handle, payload);
        }

        @Override
        public void close() throws IOException
        {
            socket.close();
        }
    }
}
