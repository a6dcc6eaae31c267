package io.pvio.bench.nbd;

import io.netty.buffer.ByteBuf;
import io.pvio.frontend.block.BlockFrontException;
import io.pvio.frontend.block.BlockIo;
import io.pvio.frontend.block.BlockIoCallback;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * One NBD transmission request on its way through the guest's block device, pooled per connection. The connection
 * fills it and builds its reply buffer on the network event loop; the export's task submits its {@link BlockIo} on the
 * guest's vCPU; the completion, on the guest's event loop, writes the reply's header and hands it back to the
 * connection. Each hand-off goes through a queue, whose offer happens-before the poll that returns it.
 */
final class NbdRequest implements BlockIoCallback
{
    final NbdConnection connection;
    final BlockIo io = new BlockIo();
    final UnsafeBuffer view = new UnsafeBuffer(0, 0);
    long handle;
    int type;
    int flags;
    long offset;
    int length;
    /** The reply: header space first; for a READ the data lands after the header, for a WRITE it holds the data. */
    ByteBuf reply;
    /** Where the data starts in {@link #reply} (READ) or where it is (WRITE). */
    int dataIndex;
    int error;
    String message;
    boolean flushAfter;

    NbdRequest(final NbdConnection connection)
    {
        this.connection = connection;
        io.callback(this);
    }

    /** On the guest's vCPU: the block I/O. */
    void submit()
    {
        connection.export().front().submit(io);
    }

    @Override
    public void onComplete(final BlockIo completed, final BlockFrontException errorOrNull)
    {
        if (null != errorOrNull)
        {
            error = NbdWire.EIO;
            message = errorOrNull.getMessage();
        }
        else if (flushAfter)
        {
            // FUA: the write is acknowledged; now make it durable before answering
            flushAfter = false;
            io.flush();
            submit();
            return;
        }
        connection.complete(this);
    }
}
