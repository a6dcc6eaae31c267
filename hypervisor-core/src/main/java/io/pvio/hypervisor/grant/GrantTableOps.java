package io.pvio.hypervisor.grant;

import static io.pvio.machine.memory.MachineMemory.FRAME_SIZE;

import org.agrona.concurrent.UnsafeBuffer;

import io.pvio.hypervisor.Domain;
import io.pvio.hypervisor.DomainId;
import io.pvio.hypervisor.Errno;
import io.pvio.hypervisor.HypercallException;
import io.pvio.hypervisor.HypercallKind;
import io.pvio.hypervisor.Hypercalls;
import io.pvio.hypervisor.Hypervisor;
import io.pvio.hypervisor.P2M;
import io.pvio.machine.memory.MachineMemory;

/**
 * {@code grant_table_op} bound to one calling domain: map, unmap and copy other domains' grants, and size the
 * caller's own table. Every call starts with {@link Hypercalls#enter(HypercallKind)}, so it is counted and refused
 * (ESRCH) for a dying caller; refusals of the operation itself are {@link GrantStatus} codes, never exceptions, and
 * nothing here allocates once warmed up.
 * <p>
 * Checks, in order, for each grant reference handed in: the granter is a live domain ({@link GrantStatus#BAD_DOMAIN}),
 * the reference is inside its table ({@link GrantStatus#BAD_GNTREF}), for a map the caller has a free maptrack slot
 * ({@link GrantStatus#NO_SPACE}; Xen takes the slot before the range check), then the entry, read once: its type is
 * {@code GTF_permit_access} ({@link GrantStatus#BAD_GNTREF}), its domid is the caller
 * ({@link GrantStatus#PERMISSION_DENIED}), it is not {@code GTF_readonly} if write access is asked
 * ({@link GrantStatus#PERMISSION_DENIED}), and its frame is populated ({@link GrantStatus#BAD_PAGE}). Xen reports the
 * three entry mismatches as {@code GNTST_general_error} from the step that sets the status bits; pvio names them.
 * <p>
 * While a mapping exists or a copy runs, the entry's {@code GTF_reading} (and {@code GTF_writing} for write access)
 * stays set, so the granter cannot end access. A mapping also retains the machine frame; a copy instead holds the
 * granter's (and the caller's) teardown guard until its bytes have moved. Either way the frame cannot be freed while
 * in use.
 * <p>
 * Instances are stateless apart from their binding and may be used by any of the caller's threads.
 */
public final class GrantTableOps
{
    private final Hypervisor hypervisor;
    private final Domain caller;
    private final int callerId;
    private final Hypercalls hypercalls;
    private final GrantTable callerTable;
    private final MachineMemory memory;

    /**
     * Binds the operations to a caller.
     *
     * @param hypervisor the hypervisor.
     * @param caller     the domain making the calls.
     */
    public GrantTableOps(final Hypervisor hypervisor, final Domain caller)
    {
        this.hypervisor = hypervisor;
        this.caller = caller;
        this.callerId = caller.id();
        this.hypercalls = caller.hypercalls();
        this.callerTable = caller.grantTable();
        this.memory = hypervisor.memory();
    }

    /**
     * The calling domain.
     *
     * @return the caller.
     */
    public Domain caller()
    {
        return caller;
    }

    /**
     * {@code GNTTABOP_map_grant_ref}: maps frame {@code ref} of {@code granterDomid}'s table into the caller. The
     * mapping holds a pin on the entry and a retain on the machine frame until {@link #unmap(int)}, or until the
     * caller dies.
     * <p>
     * pvio has no guest page tables to install the mapping into: the caller reaches the frame through {@code view}.
     * Nothing stops code from writing through the view of a read-only mapping; the hypervisor's own accesses obey it.
     *
     * @param granterDomid the domain that granted {@code ref}; as in Xen, {@link DomainId#SELF} is not accepted here.
     * @param ref          the grant reference (an unsigned 32-bit value; negative means above 2^31).
     * @param readOnly     map for reading only ({@code GNTMAP_readonly}).
     * @param view         re-pointed at the frame on success; may be null.
     * @return a handle (0 or more) for {@link #unmap(int)}, or a negative {@link GrantStatus}:
     *         {@code BAD_DOMAIN}, {@code BAD_GNTREF}, {@code NO_SPACE} (the caller's maptrack is full),
     *         {@code PERMISSION_DENIED}, {@code BAD_PAGE} or {@code GENERAL_ERROR} (pin count overflow, or an entry
     *         the granter keeps changing).
     * @throws HypercallException ESRCH if the caller is dying.
     */
    public int map(final int granterDomid, final int ref, final boolean readOnly, final UnsafeBuffer view)
    {
        hypercalls.enter(HypercallKind.GRANT_MAP);
        final GrantTable callerTable = this.callerTable;
        enterCallerGuard(callerTable);
        try
        {
            final Domain granter = hypervisor.domain(granterDomid);
            final GrantTable table = null != granter && granter.isAlive() ? granter.grantTable() : null;
            if (null == table || !table.enterGuard())
            {
                return GrantStatus.BAD_DOMAIN;
            }
            try
            {
                if (ref < 0 || ref >= table.refLimit())
                {
                    return GrantStatus.BAD_GNTREF;
                }
                final Maptrack maptrack = callerTable.maptrack();
                final int slot = maptrack.allocate();
                if (slot < 0)
                {
                    return slot;
                }
                final boolean writable = !readOnly;
                final long mfn = table.pin(ref, callerId, writable);
                if (mfn < 0)
                {
                    maptrack.free(slot);
                    return (int)mfn;
                }
                // The granter frees its frames only after its guard closes, and we are inside it: the frame is owned.
                memory.retain(mfn);
                final int handle = maptrack.publish(slot, table, ref, mfn, writable);
                if (null != view)
                {
                    memory.wrapFrame(mfn, view);
                }
                return handle;
            }
            finally
            {
                table.exitGuard();
            }
        }
        finally
        {
            callerTable.exitGuard();
        }
    }

    /**
     * {@code GNTTABOP_unmap_grant_ref}: removes one of the caller's mappings. The entry's pin is dropped (clearing
     * {@code GTF_writing}/{@code GTF_reading} with the last one) and the frame released; if the granter has died
     * meanwhile, only the frame is released, and it returns to the allocator scrubbed.
     *
     * @param handle a handle returned by {@link #map(int, int, boolean, UnsafeBuffer)}.
     * @return {@link GrantStatus#OKAY}, or {@link GrantStatus#BAD_HANDLE} if the handle is not a live mapping of the
     *         caller (never issued, or already unmapped).
     * @throws HypercallException ESRCH if the caller is dying.
     */
    public int unmap(final int handle)
    {
        hypercalls.enter(HypercallKind.GRANT_UNMAP);
        final GrantTable callerTable = this.callerTable;
        enterCallerGuard(callerTable);
        try
        {
            return callerTable.maptrack().unmap(handle);
        }
        finally
        {
            callerTable.exitGuard();
        }
    }

    /**
     * {@code GNTTABOP_copy}: runs every operation of {@code batch} in order and stores one status per operation.
     * Each operation is checked on its own: a failed one copies nothing and does not stop the others.
     * <p>
     * Per operation: offsets and length must be non-negative and keep the copy inside each 4 KiB frame
     * ({@link GrantStatus#BAD_COPY_ARG}); a side without its {@code *_GREF} flag must name {@link DomainId#SELF}
     * ({@link GrantStatus#PERMISSION_DENIED}) and a populated GFN of the caller ({@link GrantStatus#BAD_PAGE}); a grant
     * side is checked as for a map, read access for the source and write access for the destination. Both grants are
     * pinned for the duration of the copy, so their granters cannot end access while the bytes move.
     *
     * @param batch the operations; their statuses are overwritten.
     * @return the number of operations that failed, 0 if all succeeded.
     * @throws HypercallException ESRCH if the caller is dying.
     */
    public int copy(final GrantCopyBatch batch)
    {
        hypercalls.enter(HypercallKind.GRANT_COPY);
        final GrantTable callerTable = this.callerTable;
        enterCallerGuard(callerTable);
        int failed = 0;
        try
        {
            final int count = batch.count;
            final short[] statuses = batch.statuses;
            for (int i = 0; i < count; i++)
            {
                final int status = copyOne(batch, i);
                statuses[i] = (short)status;
                if (GrantStatus.OKAY != status)
                {
                    failed++;
                }
            }
        }
        finally
        {
            callerTable.exitGuard();
        }
        return failed;
    }

    /**
     * {@code GNTTABOP_setup_table} for the caller's own table: grows it to at least {@code nrFrames} frames. A
     * smaller or equal size leaves it as it is.
     *
     * @param nrFrames frames wanted.
     * @return {@link GrantStatus#OKAY}, or {@link GrantStatus#GENERAL_ERROR} if {@code nrFrames} exceeds the
     *         caller's limit or machine memory runs out.
     * @throws HypercallException ESRCH if the caller is dying.
     */
    public int setupTable(final int nrFrames)
    {
        hypercalls.enter(HypercallKind.GRANT_SETUP_TABLE);
        final GrantTable callerTable = this.callerTable;
        enterCallerGuard(callerTable);
        try
        {
            return callerTable.grow(nrFrames);
        }
        finally
        {
            callerTable.exitGuard();
        }
    }

    /**
     * {@code GNTTABOP_query_size}'s {@code nr_frames}: the current size of a domain's table. Only a privileged
     * caller may ask about another domain.
     *
     * @param domid {@link DomainId#SELF}, the caller's id, or (privileged) any domain.
     * @return frames (0 or more), or {@link GrantStatus#BAD_DOMAIN} or {@link GrantStatus#PERMISSION_DENIED}.
     * @throws HypercallException ESRCH if the caller is dying.
     */
    public int querySize(final int domid)
    {
        hypercalls.enter(HypercallKind.GRANT_QUERY_SIZE);
        final GrantTable table = queryTarget(domid);
        return null == table ? queryStatus(domid) : table.nrFrames();
    }

    /**
     * {@code GNTTABOP_query_size}'s {@code max_nr_frames}: the size limit of a domain's table. Only a privileged
     * caller may ask about another domain.
     *
     * @param domid {@link DomainId#SELF}, the caller's id, or (privileged) any domain.
     * @return frames (1 or more), or {@link GrantStatus#BAD_DOMAIN} or {@link GrantStatus#PERMISSION_DENIED}.
     * @throws HypercallException ESRCH if the caller is dying.
     */
    public int queryMax(final int domid)
    {
        hypercalls.enter(HypercallKind.GRANT_QUERY_SIZE);
        final GrantTable table = queryTarget(domid);
        return null == table ? queryStatus(domid) : table.maxFrames();
    }

    private int copyOne(final GrantCopyBatch batch, final int i)
    {
        final int length = batch.lengths[i];
        final int sourceOffset = batch.sourceOffsets[i];
        final int destOffset = batch.destOffsets[i];
        if ((length | sourceOffset | destOffset) < 0 || length > FRAME_SIZE ||
            sourceOffset > FRAME_SIZE - length || destOffset > FRAME_SIZE - length)
        {
            return GrantStatus.BAD_COPY_ARG;
        }

        final int flags = batch.flags[i];
        if (0 == (flags & GrantCopyBatch.SOURCE_GREF))
        {
            if (DomainId.SELF != batch.sourceDomids[i])
            {
                return GrantStatus.PERMISSION_DENIED;
            }
            final long sourceMfn = caller.resolveFrame(batch.sources[i], false);
            if (P2M.INVALID_MFN == sourceMfn)
            {
                return GrantStatus.BAD_PAGE;
            }
            return copyToDest(batch, i, flags, sourceMfn, sourceOffset, destOffset, length);
        }

        final GrantTable table = liveTable(batch.sourceDomids[i]);
        if (null == table || !table.enterGuard())
        {
            return GrantStatus.BAD_DOMAIN;
        }
        try
        {
            final long ref = batch.sources[i];
            if (ref < 0 || ref >= table.refLimit())
            {
                return GrantStatus.BAD_GNTREF;
            }
            final long sourceMfn = table.pin((int)ref, callerId, false);
            if (sourceMfn < 0)
            {
                return (int)sourceMfn;
            }
            try
            {
                return copyToDest(batch, i, flags, sourceMfn, sourceOffset, destOffset, length);
            }
            finally
            {
                table.unpin((int)ref, false);
            }
        }
        finally
        {
            table.exitGuard();
        }
    }

    private int copyToDest(
        final GrantCopyBatch batch,
        final int i,
        final int flags,
        final long sourceMfn,
        final int sourceOffset,
        final int destOffset,
        final int length)
    {
        if (0 == (flags & GrantCopyBatch.DEST_GREF))
        {
            if (DomainId.SELF != batch.destDomids[i])
            {
                return GrantStatus.PERMISSION_DENIED;
            }
            final long destMfn = caller.resolveFrame(batch.dests[i], true);
            if (P2M.INVALID_MFN == destMfn)
            {
                return GrantStatus.BAD_PAGE;
            }
            return copyBytes(sourceMfn, sourceOffset, destMfn, destOffset, length);
        }

        final GrantTable table = liveTable(batch.destDomids[i]);
        if (null == table || !table.enterGuard())
        {
            return GrantStatus.BAD_DOMAIN;
        }
        try
        {
            final long ref = batch.dests[i];
            if (ref < 0 || ref >= table.refLimit())
            {
                return GrantStatus.BAD_GNTREF;
            }
            final long destMfn = table.pin((int)ref, callerId, true);
            if (destMfn < 0)
            {
                return (int)destMfn;
            }
            try
            {
                return copyBytes(sourceMfn, sourceOffset, destMfn, destOffset, length);
            }
            finally
            {
                table.unpin((int)ref, true);
            }
        }
        finally
        {
            table.exitGuard();
        }
    }

    private int copyBytes(
        final long sourceMfn, final int sourceOffset, final long destMfn, final int destOffset, final int length)
    {
        final Runnable probe = callerTable.copyProbe;
        if (null != probe)
        {
            probe.run();
        }
        memory.copy(sourceMfn, sourceOffset, destMfn, destOffset, length);
        return GrantStatus.OKAY;
    }

    private GrantTable liveTable(final int domid)
    {
        final Domain domain = DomainId.SELF == domid ? caller : hypervisor.domain(domid);
        return null != domain && domain.isAlive() ? domain.grantTable() : null;
    }

    private GrantTable queryTarget(final int domid)
    {
        if (DomainId.SELF != domid && callerId != domid && !caller.isPrivileged())
        {
            return null;
        }
        return liveTable(domid);
    }

    private int queryStatus(final int domid)
    {
        return DomainId.SELF != domid && callerId != domid && !caller.isPrivileged() ?
            GrantStatus.PERMISSION_DENIED : GrantStatus.BAD_DOMAIN;
    }

    private void enterCallerGuard(final GrantTable callerTable)
    {
        if (!callerTable.enterGuard())
        {
            throw new HypercallException(Errno.ESRCH, "grant_table_op: domain " + callerId + " is " + caller.state());
        }
    }
}
