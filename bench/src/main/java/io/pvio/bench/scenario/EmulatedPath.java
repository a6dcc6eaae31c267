package io.pvio.bench.scenario;

import io.pvio.backend.block.BlockStore;
import io.pvio.bench.machine.EmulatedDisk;
import io.pvio.bench.machine.PvGuest;
import io.pvio.bench.machine.PvMachine;
import io.pvio.frontend.ahci.AhciDisk;
import io.pvio.frontend.block.BlockIo;

/**
 * What a scenario run needs of an emulated disk: the guest's AHCI driver to submit to, the disk's size, its
 * counters and its teardown.
 */
interface EmulatedPath extends AutoCloseable
{
    /**
     * Attaches an emulated AHCI disk on {@code store} to {@code guest}: driven directly in a native guest, through
     * dom0's device model in a full one.
     *
     * @param machine the machine.
     * @param guest   the guest, native or full mode.
     * @param store   the image.
     * @return the attached disk, initialized by the guest's driver.
     */
    static EmulatedPath attach(final PvMachine machine, final PvGuest guest, final BlockStore store)
    {
        final EmulatedDisk disk = EmulatedDisk.attach(machine, guest, store);
        return new EmulatedPath()
        {
            @Override
            public void submit(final BlockIo io)
            {
                disk.driver().submit(io);
            }

            @Override
            public long sectors()
            {
                return disk.driver().capacitySectors();
            }

            @Override
            public ScenarioReport.Emulated counters()
            {
                final AhciDisk driver = disk.driver();
                return new ScenarioReport.Emulated(driver.completed() + driver.failed(), driver.ioAccesses(),
                    disk.mmioExits(), disk.ioreqs(), driver.interrupts(), disk.device().errors());
            }

            @Override
            public String state()
            {
                return disk.state();
            }

            @Override
            public String describe()
            {
                return disk.describe();
            }

            @Override
            public void close()
            {
                disk.close();
            }
        };
    }

    /**
     * Submits an I/O to the guest's driver; it completes through the I/O's callback.
     *
     * @param io the I/O.
     */
    void submit(BlockIo io);

    /**
     * The disk's size as the guest's driver found it (IDENTIFY DEVICE).
     *
     * @return 512-byte sectors.
     */
    long sectors();

    /**
     * The counters since the disk was attached, after its initialization.
     *
     * @return the counters.
     */
    ScenarioReport.Emulated counters();

    /**
     * What the disk is doing, in words, for a stall's message.
     *
     * @return one line.
     */
    String state();

    /**
     * How it is attached, in words.
     *
     * @return for example {@code full mode, device model in dom0}.
     */
    String describe();

    /** Detaches the disk; idempotent. */
    @Override
    void close();
}
