package io.pvio.bench.machine;

import java.util.concurrent.TimeUnit;

import io.pvio.backend.block.BlockBack;
import io.pvio.backend.block.BlockBackOptions;
import io.pvio.backend.block.BlockStore;
import io.pvio.frontend.block.BlockFront;
import io.pvio.frontend.block.BlockFrontOptions;
import io.pvio.hypervisor.xenstore.XenbusDevice;
import io.pvio.hypervisor.xenstore.XenbusState;

/**
 * A virtual disk of a guest: the toolstack's device directories, the back end in dom0 and the front end in the guest.
 */
public final class PvDisk
{
    /** How long teardown waits for the back end to reach {@code Closed}, in milliseconds. */
    public static final long CLOSE_TIMEOUT_MILLIS = 10_000;

    private final PvMachine machine;
    private final PvGuest guest;
    private final XenbusDevice device;
    private final BlockStore store;
    private final BlockBackOptions backOptions;
    private volatile BlockBack back;
    private volatile BlockFront front;
    private boolean closed;

    PvDisk(
        final PvMachine machine,
        final PvGuest guest,
        final XenbusDevice device,
        final BlockStore store,
        final BlockBackOptions backOptions)
    {
        this.machine = machine;
        this.guest = guest;
        this.device = device;
        this.store = store;
        this.backOptions = backOptions;
        this.back = BlockBack.start(machine.dom0(), machine.xenStore(), device.backendPath(), store, backOptions);
    }

    /**
     * The guest using the disk.
     *
     * @return the guest.
     */
    public PvGuest guest()
    {
        return guest;
    }

    /**
     * The virtual device number.
     *
     * @return the devid.
     */
    public int devid()
    {
        return device.devid();
    }

    /**
     * The guest's front end.
     *
     * @return the front end.
     */
    public BlockFront front()
    {
        return front;
    }

    /**
     * dom0's back end; a new instance after {@link #restartBackend()}.
     *
     * @return the current back end.
     */
    public BlockBack back()
    {
        return back;
    }

    /**
     * The disk behind the back end.
     *
     * @return the store.
     */
    public BlockStore store()
    {
        return store;
    }

    /**
     * The toolstack's XenStore directories of the device.
     *
     * @return the device.
     */
    public XenbusDevice device()
    {
        return device;
    }

    /**
     * Restarts the back end, as a driver domain does when it restarts a device: the current back end stops, unmaps
     * everything and goes {@code Closed}; a new one on the same directory and store publishes its features again. The
     * front end reconnects by itself and reissues its requests in flight; this call does not wait for that.
     */
    public void restartBackend()
    {
        back.close();
        back = BlockBack.start(machine.dom0(), machine.xenStore(), device.backendPath(), store, backOptions);
    }

    void startFront(final BlockFrontOptions options)
    {
        front = BlockFront.start(guest.domain(), machine.xenStore(), device.frontendPath(), options);
    }

    void close()
    {
        detach(false);
    }

    void detachAfterGuestDeath()
    {
        detach(true);
    }

    /**
     * Closes the front end (after the toolstack removed it and the back end let go, if the guest died), then the back
     * end, the device nodes and the store; the first failure is thrown with the later ones suppressed.
     */
    private synchronized void detach(final boolean guestDied)
    {
        if (closed)
        {
            return;
        }
        closed = true;
        RuntimeException failure = null;
        try
        {
            if (guestDied)
            {
                device.removeFrontend(machine.toolstack());
                awaitBackClosed();
            }
            if (null != front)
            {
                front.close();
            }
        }
        catch (final RuntimeException ex)
        {
            failure = ex;
        }
        failure = finishBack(failure);
        if (null != failure)
        {
            throw failure;
        }
    }

    private RuntimeException finishBack(final RuntimeException failure)
    {
        RuntimeException result = failure;
        try
        {
            back.close();
        }
        catch (final RuntimeException ex)
        {
            result = PvMachine.addSuppressed(result, ex);
        }
        try
        {
            device.remove(machine.toolstack());
        }
        catch (final RuntimeException ex)
        {
            result = PvMachine.addSuppressed(result, ex);
        }
        try
        {
            store.close();
        }
        catch (final RuntimeException ex)
        {
            result = PvMachine.addSuppressed(result, ex);
        }
        return result;
    }

    private void awaitBackClosed()
    {
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(CLOSE_TIMEOUT_MILLIS);
        while (back.state() != XenbusState.CLOSED)
        {
            if (System.nanoTime() - deadline > 0)
            {
                throw new IllegalStateException(device + ": back end still " + back.state() + " " +
                    CLOSE_TIMEOUT_MILLIS + " ms after its guest died");
            }
            try
            {
                Thread.sleep(1);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while " + device + " was closing", ex);
            }
        }
    }

    @Override
    public String toString()
    {
        return "PvDisk{" + device + '}';
    }
}
