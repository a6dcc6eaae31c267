package io.pvio.backend.block;

/**
 * How blkback moves data between a guest's granted pages and the disk.
 */
public enum BlockDataPath
{
    /**
     * Map each granted page ({@code GNTTABOP_map_grant_ref}) and do the disk I/O straight into or out of it, then
     * unmap; with persistent grants the mapping is kept and reused.
     */
    GRANT_MAP,

    /**
     * Do the disk I/O into dom0's own bounce pages and move the bytes with {@code GNTTABOP_copy}; the guest's pages
     * are never mapped. With persistent grants, {@link #GRANT_MAP} is used instead, as persistence means mappings.
     */
    GRANT_COPY
}
