package io.pvio.bench.nbd;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import org.jctools.queues.MpscArrayQueue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One NBD client: fixed newstyle negotiation, then transmission. Runs on the export's event loop, except
 * {@link #complete}, which the guest's event loop calls. Every field the client sends is read once from the received
 * bytes into a local and checked there; see {@link NbdExport} for what is cut off and what gets an error reply.
 */
final class NbdConnection extends ByteToMessageDecoder
{
    private static final Logger LOG = Logger.getLogger(NbdConnection.class.getName());
    private static final int MAX_OPTION_LENGTH = 2 * NbdWire.MAX_STRING_LENGTH + 64;
    private static final int PREFERRED_BLOCK = 4096;
    private static final int MAX_ERROR_MESSAGE = 1024;
    private static final long LINGER_NANOS = 20_000;

    private enum Phase
    {
        CLIENT_FLAGS, OPTIONS, TRANSMISSION, CLOSING
    }

    private final NbdExport export;
    private final ArrayDeque<NbdRequest> pool = new ArrayDeque<>(NbdExport.MAX_IN_FLIGHT);
    private final MpscArrayQueue<NbdRequest> done = new MpscArrayQueue<>(NbdExport.MAX_IN_FLIGHT);
    private final AtomicBoolean drainScheduled = new AtomicBoolean();
    private final Runnable drain = this::drainReplies;
    private ChannelHandlerContext ctx;
    private Phase phase = Phase.CLIENT_FLAGS;
    private boolean noZeroes;
    private boolean structured;
    private boolean paused;
    private int outstanding;

    NbdConnection(final NbdExport export)
    {
        this.export = export;
        for (int i = 0; i < NbdExport.MAX_IN_FLIGHT; i++)
        {
            pool.add(new NbdRequest(this));
        }
    }

    NbdExport export()
    {
        return export;
    }

    @Override
    public void channelActive(final ChannelHandlerContext context) throws Exception
    {
        ctx = context;
        export.connections.incrementAndGet();
        if (export.openConnections.incrementAndGet() > NbdExport.MAX_CONNECTIONS)
        {
            LOG.warning(() -> "NBD: refused a connection from " + context.channel().remoteAddress() + ": " +
                NbdExport.MAX_CONNECTIONS + " are open");
            context.close();
            return;
        }
        export.channels.add(context.channel());
        final ByteBuf greeting = context.alloc().buffer(NbdWire.GREETING_LENGTH);
        greeting.writeLong(NbdWire.INIT_MAGIC).writeLong(NbdWire.OPTION_MAGIC)
            .writeShort(NbdWire.FLAG_FIXED_NEWSTYLE | NbdWire.FLAG_NO_ZEROES);
        context.writeAndFlush(greeting);
        super.channelActive(context);
    }

    @Override
    public void channelInactive(final ChannelHandlerContext context) throws Exception
    {
        export.openConnections.decrementAndGet();
        phase = Phase.CLOSING;
        super.channelInactive(context);
    }

    @Override
    public void exceptionCaught(final ChannelHandlerContext context, final Throwable cause)
    {
        LOG.log(Level.FINE, "NBD connection " + context.channel().remoteAddress() + " failed", cause);
        context.close();
    }

    @Override
    protected void decode(final ChannelHandlerContext context, final ByteBuf in, final List<Object> out)
    {
        while (context.channel().isActive())
        {
            final boolean progressed;
            switch (phase)
            {
                case CLIENT_FLAGS:
                    progressed = decodeClientFlags(in);
                    break;
                case OPTIONS:
                    progressed = decodeOption(in);
                    break;
                case TRANSMISSION:
                    progressed = decodeRequest(in);
                    break;
                default:
                    in.skipBytes(in.readableBytes());
                    return;
            }
            if (!progressed)
            {
                return;
            }
        }
    }

    // ---- negotiation ----

    private boolean decodeClientFlags(final ByteBuf in)
    {
        if (in.readableBytes() < Integer.BYTES)
        {
            return false;
        }
        final int flags = in.readInt();
        if (0 != (flags & ~(NbdWire.CLIENT_FIXED_NEWSTYLE | NbdWire.CLIENT_NO_ZEROES)) ||
            0 == (flags & NbdWire.CLIENT_FIXED_NEWSTYLE))
        {
            return cutOff("client flags 0x" + Integer.toHexString(flags) +
                " (expected fixed newstyle, optionally no zeroes)");
        }
        noZeroes = 0 != (flags & NbdWire.CLIENT_NO_ZEROES);
        phase = Phase.OPTIONS;
        return true;
    }

    private boolean decodeOption(final ByteBuf in)
    {
        if (in.readableBytes() < NbdWire.OPTION_HEADER_LENGTH)
        {
            return false;
        }
        final int at = in.readerIndex();
        final long magic = in.getLong(at);
        final int option = in.getInt(at + 8);
        final int length = in.getInt(at + 12);
        if (NbdWire.OPTION_MAGIC != magic)
        {
            return cutOff("option magic 0x" + Long.toHexString(magic) + " (expected IHAVEOPT)");
        }
        if (length < 0 || length > MAX_OPTION_LENGTH)
        {
            optionReply(option, NbdWire.REP_ERR_TOO_BIG, "option data of " + Integer.toUnsignedString(length) +
                " bytes (at most " + MAX_OPTION_LENGTH + ")");
            return cutOff("option " + option + " with " + Integer.toUnsignedString(length) + " bytes of data");
        }
        if (in.readableBytes() < NbdWire.OPTION_HEADER_LENGTH + length)
        {
            return false;
        }
        in.skipBytes(NbdWire.OPTION_HEADER_LENGTH);
        final ByteBuf data = in.readSlice(length);
        switch (option)
        {
            case NbdWire.OPT_EXPORT_NAME:
                return exportName(data);
            case NbdWire.OPT_ABORT:
                optionReply(option, NbdWire.REP_ACK, null);
                ctx.flush();
                ctx.close();
                return false;
            case NbdWire.OPT_LIST:
                if (0 != length)
                {
                    optionReply(option, NbdWire.REP_ERR_INVALID, "LIST takes no data");
                    break;
                }
                final byte[] name = export.name().getBytes(StandardCharsets.UTF_8);
                final ByteBuf server = optionReplyHeader(option, NbdWire.REP_SERVER, Integer.BYTES + name.length);
                server.writeInt(name.length).writeBytes(name);
                ctx.write(server);
                optionReply(option, NbdWire.REP_ACK, null);
                break;
            case NbdWire.OPT_INFO:
            case NbdWire.OPT_GO:
                return infoOrGo(option, data);
            case NbdWire.OPT_STRUCTURED_REPLY:
                if (0 != length)
                {
                    optionReply(option, NbdWire.REP_ERR_INVALID, "STRUCTURED_REPLY takes no data");
                    break;
                }
                structured = true;
                optionReply(option, NbdWire.REP_ACK, null);
                break;
            case NbdWire.OPT_STARTTLS:
                optionReply(option, NbdWire.REP_ERR_POLICY, "TLS is not offered (the export is on loopback)");
                break;
            default:
                optionReply(option, NbdWire.REP_ERR_UNSUP, "option " + option + " is not supported");
                break;
        }
        ctx.flush();
        return true;
    }

    private boolean exportName(final ByteBuf data)
    {
        final String name = data.toString(StandardCharsets.UTF_8);
        if (!name.isEmpty() && !name.equals(export.name()))
        {
            return cutOff("EXPORT_NAME '" + abbreviate(name) + "' (the export is '" + export.name() + "')");
        }
        final ByteBuf reply = ctx.alloc().buffer(10 + NbdWire.EXPORT_NAME_ZEROES);
        reply.writeLong(export.size()).writeShort(transmissionFlags());
        if (!noZeroes)
        {
            reply.writeZero(NbdWire.EXPORT_NAME_ZEROES);
        }
        ctx.writeAndFlush(reply);
        phase = Phase.TRANSMISSION;
        return true;
    }

    private boolean infoOrGo(final int option, final ByteBuf data)
    {
        final int length = data.readableBytes();
        final int nameLength = length >= Integer.BYTES ? data.readInt() : -1;
        if (nameLength < 0 || nameLength > length - Integer.BYTES - Short.BYTES)
        {
            optionReply(option, NbdWire.REP_ERR_INVALID, "name length " + nameLength + " in " + length +
                " bytes of data");
            ctx.flush();
            return true;
        }
        final String name = data.readCharSequence(nameLength, StandardCharsets.UTF_8).toString();
        final int requests = data.readUnsignedShort();
        if (data.readableBytes() != requests * Short.BYTES)
        {
            optionReply(option, NbdWire.REP_ERR_INVALID, requests + " information requests in " +
                data.readableBytes() + " bytes");
            ctx.flush();
            return true;
        }
        if (!name.isEmpty() && !name.equals(export.name()))
        {
            optionReply(option, NbdWire.REP_ERR_UNKNOWN, "no export '" + abbreviate(name) + "' (there is '" +
                export.name() + "')");
            ctx.flush();
            return true;
        }
        boolean wantName = false;
        boolean wantDescription = false;
        for (int i = 0; i < requests; i++)
        {
            final int item = data.readUnsignedShort();
            wantName |= NbdWire.INFO_NAME == item;
            wantDescription |= NbdWire.INFO_DESCRIPTION == item;
        }
        final ByteBuf info = optionReplyHeader(option, NbdWire.REP_INFO, 12);
        info.writeShort(NbdWire.INFO_EXPORT).writeLong(export.size()).writeShort(transmissionFlags());
        ctx.write(info);
        final ByteBuf sizes = optionReplyHeader(option, NbdWire.REP_INFO, 14);
        sizes.writeShort(NbdWire.INFO_BLOCK_SIZE).writeInt(export.front().sectorSize()).writeInt(PREFERRED_BLOCK)
            .writeInt(NbdExport.MAX_REQUEST_BYTES);
        ctx.write(sizes);
        if (wantName)
        {
            infoString(option, NbdWire.INFO_NAME, export.name());
        }
        if (wantDescription)
        {
            infoString(option, NbdWire.INFO_DESCRIPTION, export.description());
        }
        optionReply(option, NbdWire.REP_ACK, null);
        ctx.flush();
        if (NbdWire.OPT_GO == option)
        {
            phase = Phase.TRANSMISSION;
        }
        return true;
    }

    private void infoString(final int option, final int item, final String value)
    {
        final byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        final ByteBuf reply = optionReplyHeader(option, NbdWire.REP_INFO, Short.BYTES + bytes.length);
        reply.writeShort(item).writeBytes(bytes);
        ctx.write(reply);
    }

    private int transmissionFlags()
    {
        int flags = NbdWire.TFLAG_HAS_FLAGS | NbdWire.TFLAG_CAN_MULTI_CONN;
        if (export.isReadOnly())
        {
            flags |= NbdWire.TFLAG_READ_ONLY;
        }
        else
        {
            if (export.front().flushSupported())
            {
                flags |= NbdWire.TFLAG_SEND_FLUSH | NbdWire.TFLAG_SEND_FUA;
            }
            if (export.front().discardSupported())
            {
                flags |= NbdWire.TFLAG_SEND_TRIM | NbdWire.TFLAG_SEND_WRITE_ZEROES;
            }
        }
        return flags;
    }

    private ByteBuf optionReplyHeader(final int option, final int type, final int length)
    {
        final ByteBuf reply = ctx.alloc().buffer(20 + length);
        return reply.writeLong(NbdWire.OPTION_REPLY_MAGIC).writeInt(option).writeInt(type).writeInt(length);
    }

    private void optionReply(final int option, final int type, final String message)
    {
        final byte[] bytes = null == message ? new byte[0] : message.getBytes(StandardCharsets.UTF_8);
        ctx.write(optionReplyHeader(option, type, bytes.length).writeBytes(bytes));
    }

    // ---- transmission ----

    private boolean decodeRequest(final ByteBuf in)
    {
        if (in.readableBytes() < NbdWire.REQUEST_HEADER_LENGTH)
        {
            return false;
        }
        final int at = in.readerIndex();
        final int magic = in.getInt(at);
        final int flags = in.getUnsignedShort(at + 4);
        final int type = in.getUnsignedShort(at + 6);
        final long handle = in.getLong(at + 8);
        final long offset = in.getLong(at + 16);
        final int length = in.getInt(at + 24);
        if (NbdWire.REQUEST_MAGIC != magic)
        {
            return cutOff("request magic 0x" + Integer.toHexString(magic) + " (expected 0x25609513)");
        }
        final boolean write = NbdWire.CMD_WRITE == type;
        if (write && (length < 0 || length > NbdExport.MAX_REQUEST_BYTES))
        {
            return cutOff("WRITE of " + Integer.toUnsignedString(length) + " bytes (at most " +
                NbdExport.MAX_REQUEST_BYTES + "): its data cannot be skipped safely");
        }
        if (write && in.readableBytes() < NbdWire.REQUEST_HEADER_LENGTH + length)
        {
            return false;
        }
        if (pool.isEmpty())
        {
            // back-pressure: leave the bytes where they are until a reply returns a request to the pool
            paused = true;
            ctx.channel().config().setAutoRead(false);
            return false;
        }
        in.skipBytes(NbdWire.REQUEST_HEADER_LENGTH);
        if (NbdWire.CMD_DISC == type)
        {
            phase = Phase.CLOSING;
            closeIfDone();
            return false;
        }
        final NbdRequest request = pool.poll();
        request.handle = handle;
        request.type = type;
        request.flags = flags;
        request.offset = offset;
        request.length = length;
        request.error = 0;
        request.message = null;
        request.flushAfter = false;
        final String problem = check(type, flags, offset, length);
        if (null != problem)
        {
            if (write)
            {
                in.skipBytes(length);
            }
            request.error = errorFor(type, offset, length);
            request.message = problem;
            request.reply = ctx.alloc().directBuffer(replyHeaderLength(false) + errorLength(problem));
            outstanding++;
            export.inFlight.incrementAndGet();
            complete(request);
            return true;
        }
        final int sectorShift = Integer.numberOfTrailingZeros(export.front().sectorSize());
        final long sector = offset >>> sectorShift;
        switch (type)
        {
            case NbdWire.CMD_READ:
            {
                final int header = replyHeaderLength(true);
                request.reply = ctx.alloc().directBuffer(header + length);
                request.dataIndex = header;
                wrap(request, header, length);
                request.io.read(sector, request.view, 0, length);
                break;
            }
            case NbdWire.CMD_WRITE:
            {
                final int header = replyHeaderLength(false);
                request.reply = ctx.alloc().directBuffer(header + length);
                request.dataIndex = header;
                request.reply.setBytes(header, in, in.readerIndex(), length);
                in.skipBytes(length);
                wrap(request, header, length);
                request.io.write(sector, request.view, 0, length);
                request.flushAfter = 0 != (flags & NbdWire.CMD_FLAG_FUA);
                break;
            }
            case NbdWire.CMD_FLUSH:
                request.reply = ctx.alloc().directBuffer(replyHeaderLength(false));
                request.io.flush();
                break;
            default: // TRIM and WRITE_ZEROES: a discard reads back as zeros
                request.reply = ctx.alloc().directBuffer(replyHeaderLength(false));
                request.io.discard(sector, (long)length >>> sectorShift);
                request.flushAfter = 0 != (flags & NbdWire.CMD_FLAG_FUA);
                break;
        }
        outstanding++;
        export.hand(request);
        return true;
    }

    /** What is wrong with a well-framed request, or null. */
    private String check(final int type, final int flags, final long offset, final int length)
    {
        final boolean supported = NbdWire.CMD_READ == type || NbdWire.CMD_WRITE == type ||
            NbdWire.CMD_FLUSH == type || NbdWire.CMD_TRIM == type || NbdWire.CMD_WRITE_ZEROES == type;
        if (!supported)
        {
            return "command " + type + " is not supported";
        }
        final int allowedFlags = NbdWire.CMD_WRITE_ZEROES == type ?
            NbdWire.CMD_FLAG_FUA | NbdWire.CMD_FLAG_NO_HOLE : NbdWire.CMD_FLAG_FUA;
        if (0 != (flags & ~allowedFlags))
        {
            return "command flags 0x" + Integer.toHexString(flags) + " for command " + type;
        }
        final int tflags = transmissionFlags();
        if (NbdWire.CMD_READ != type && NbdWire.CMD_FLUSH != type && export.isReadOnly())
        {
            return "the export is read-only";
        }
        if ((NbdWire.CMD_FLUSH == type && 0 == (tflags & NbdWire.TFLAG_SEND_FLUSH)) ||
            ((NbdWire.CMD_TRIM == type || NbdWire.CMD_WRITE_ZEROES == type) &&
                0 == (tflags & NbdWire.TFLAG_SEND_TRIM)) ||
            (0 != (flags & NbdWire.CMD_FLAG_FUA) && 0 == (tflags & NbdWire.TFLAG_SEND_FUA)))
        {
            return "command " + type + (0 != flags ? " with flags 0x" + Integer.toHexString(flags) : "") +
                " was not offered for this disk";
        }
        if (NbdWire.CMD_FLUSH == type)
        {
            return 0 == offset && 0 == length ? null : "FLUSH with offset " + offset + " and length " + length;
        }
        final long unsignedLength = Integer.toUnsignedLong(length);
        if (0 == unsignedLength || (NbdWire.CMD_READ == type && unsignedLength > NbdExport.MAX_REQUEST_BYTES))
        {
            return "length " + unsignedLength + " (expected 1.." + NbdExport.MAX_REQUEST_BYTES + ")";
        }
        final int sectorSize = export.front().sectorSize();
        if (0 != (offset & (sectorSize - 1)) || 0 != (unsignedLength & (sectorSize - 1)))
        {
            return "offset " + Long.toUnsignedString(offset) + " and length " + unsignedLength +
                " are not multiples of the " + sectorSize + "-byte block size";
        }
        if (offset < 0 || offset > export.size() - unsignedLength)
        {
            return "offset " + Long.toUnsignedString(offset) + " + length " + unsignedLength +
                " is beyond the export's " + export.size() + " bytes";
        }
        return null;
    }

    /** The error number for a request {@link #check} refused: EPERM, ENOSPC (a change beyond the end) or EINVAL. */
    private int errorFor(final int type, final long offset, final int length)
    {
        final boolean change = NbdWire.CMD_WRITE == type || NbdWire.CMD_TRIM == type ||
            NbdWire.CMD_WRITE_ZEROES == type;
        if (change && export.isReadOnly())
        {
            return NbdWire.EPERM;
        }
        final long unsignedLength = Integer.toUnsignedLong(length);
        final boolean beyondEnd = offset < 0 || offset > export.size() - unsignedLength;
        return change && beyondEnd && 0 != unsignedLength ? NbdWire.ENOSPC : NbdWire.EINVAL;
    }

    private void wrap(final NbdRequest request, final int index, final int length)
    {
        final ByteBuf buf = request.reply;
        if (buf.hasMemoryAddress())
        {
            request.view.wrap(buf.memoryAddress() + index, length);
        }
        else
        {
            request.view.wrap(buf.nioBuffer(index, length));
        }
    }

    private int replyHeaderLength(final boolean read)
    {
        if (!structured)
        {
            return NbdWire.SIMPLE_REPLY_LENGTH;
        }
        return NbdWire.STRUCTURED_HEADER_LENGTH + (read ? Long.BYTES : 0);
    }

    private static int errorLength(final String message)
    {
        return Integer.BYTES + Short.BYTES + Math.min(message.length() * 3, MAX_ERROR_MESSAGE);
    }

    // ---- completion (guest's event loop) and replies (network event loop) ----

    /**
     * A request is done: its reply's header is written here, on the completing thread, and the reply is handed to the
     * event loop, which writes a batch with one flush. Allocates nothing but the event-loop task of a new batch.
     */
    void complete(final NbdRequest request)
    {
        final ByteBuf reply = request.reply;
        final int dataLength = NbdWire.CMD_READ == request.type && 0 == request.error ? request.length : 0;
        if (0 != request.error)
        {
            writeErrorReply(request, reply);
        }
        else if (!structured)
        {
            reply.setInt(0, NbdWire.SIMPLE_REPLY_MAGIC).setInt(4, 0).setLong(8, request.handle);
            reply.writerIndex(NbdWire.SIMPLE_REPLY_LENGTH + dataLength);
        }
        else if (NbdWire.CMD_READ == request.type)
        {
            reply.setInt(0, NbdWire.STRUCTURED_REPLY_MAGIC).setShort(4, NbdWire.REPLY_FLAG_DONE)
                .setShort(6, NbdWire.REPLY_TYPE_OFFSET_DATA).setLong(8, request.handle)
                .setInt(16, Long.BYTES + dataLength).setLong(20, request.offset);
            reply.writerIndex(NbdWire.STRUCTURED_HEADER_LENGTH + Long.BYTES + dataLength);
        }
        else
        {
            reply.setInt(0, NbdWire.STRUCTURED_REPLY_MAGIC).setShort(4, NbdWire.REPLY_FLAG_DONE)
                .setShort(6, NbdWire.REPLY_TYPE_NONE).setLong(8, request.handle).setInt(16, 0);
            reply.writerIndex(NbdWire.STRUCTURED_HEADER_LENGTH);
        }
        done.offer(request); // capacity is the pool's size: never full
        if (drainScheduled.compareAndSet(false, true))
        {
            try
            {
                ctx.executor().execute(drain);
            }
            catch (final RejectedExecutionException ex)
            {
                drainReplies(); // the export is shutting down: release here
            }
        }
    }

    private void writeErrorReply(final NbdRequest request, final ByteBuf reply)
    {
        if (!structured)
        {
            reply.setInt(0, NbdWire.SIMPLE_REPLY_MAGIC).setInt(4, request.error).setLong(8, request.handle);
            reply.writerIndex(NbdWire.SIMPLE_REPLY_LENGTH);
            return;
        }
        final String message = null == request.message ? "I/O error" : request.message;
        final byte[] bytes = message.getBytes(StandardCharsets.UTF_8);
        final int messageLength = Math.min(bytes.length, MAX_ERROR_MESSAGE);
        reply.clear(); // the buffer grows if the message does not fit
        reply.writeInt(NbdWire.STRUCTURED_REPLY_MAGIC).writeShort(NbdWire.REPLY_FLAG_DONE)
            .writeShort(NbdWire.REPLY_TYPE_ERROR).writeLong(request.handle)
            .writeInt(Integer.BYTES + Short.BYTES + messageLength)
            .writeInt(request.error).writeShort(messageLength).writeBytes(bytes, 0, messageLength);
    }

    /**
     * On the event loop: writes every finished reply, flushes once per batch, returns the requests to the pool. While
     * requests are still in flight it lingers up to {@link #LINGER_NANOS} for the next completions, so a steady
     * stream of them costs no event-loop wake-up each; then it clears {@code drainScheduled} and looks once more
     * (a completion offered after that look finds the flag clear and schedules a new drain).
     */
    private void drainReplies()
    {
        long lingerFrom = System.nanoTime();
        for (;;)
        {
            if (drainOnce() > 0)
            {
                lingerFrom = System.nanoTime();
                resumeIfPaused();
            }
            if (outstanding > 0 && ctx.channel().isActive() && System.nanoTime() - lingerFrom < LINGER_NANOS)
            {
                Thread.onSpinWait();
                continue;
            }
            drainScheduled.set(false);
            if (done.isEmpty() || !drainScheduled.compareAndSet(false, true))
            {
                break;
            }
        }
        closeIfDone();
    }

    private int drainOnce()
    {
        int drained = 0;
        NbdRequest request;
        while (null != (request = done.poll()))
        {
            export.inFlight.decrementAndGet();
            export.requests.incrementAndGet();
            if (0 != request.error)
            {
                export.errors.incrementAndGet();
            }
            final ByteBuf reply = request.reply;
            request.reply = null;
            request.view.wrap(0, 0);
            if (ctx.channel().isActive())
            {
                ctx.write(reply, ctx.voidPromise());
            }
            else
            {
                reply.release();
            }
            outstanding--;
            pool.add(request);
            drained++;
        }
        if (drained > 0)
        {
            ctx.flush();
        }
        return drained;
    }

    private void resumeIfPaused()
    {
        if (paused && ctx.channel().isActive())
        {
            paused = false;
            ctx.channel().config().setAutoRead(true);
            ctx.pipeline().fireChannelRead(Unpooled.EMPTY_BUFFER); // decode what waited in the cumulation
        }
    }

    private void closeIfDone()
    {
        if (Phase.CLOSING == phase && 0 == outstanding && ctx.channel().isActive())
        {
            ctx.flush();
            ctx.close();
        }
    }

    private boolean cutOff(final String why)
    {
        export.cutOff.incrementAndGet();
        LOG.warning(() -> "NBD: closing the connection from " + ctx.channel().remoteAddress() + ": " + why);
        phase = Phase.CLOSING;
        ctx.flush();
        ctx.close();
        return false;
    }

    private static String abbreviate(final String text)
    {
        return text.length() <= 64 ? text : text.substring(0, 64) + "...";
    }
}
