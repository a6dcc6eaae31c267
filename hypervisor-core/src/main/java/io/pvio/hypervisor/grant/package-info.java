/**
 * Grant tables, version 1: how a domain shares its frames with another, and the hypervisor's map, unmap and copy
 * operations that check every grant reference before anything is touched.
 * <p>
 * {@link io.pvio.hypervisor.grant.GrantTable} is one domain's table: the guest side grants and ends access, the
 * hypervisor side keeps pin counts and the maptrack. {@link io.pvio.hypervisor.grant.GrantTableOps} is
 * {@code grant_table_op} bound to a caller. {@link io.pvio.hypervisor.grant.GrantEntryDescriptor} is the 8-byte entry
 * layout, {@link io.pvio.hypervisor.grant.GrantStatus} the {@code GNTST_*} codes, and
 * {@link io.pvio.hypervisor.grant.GrantCopyBatch} a reusable, allocation-free batch of copies.
 * <p>
 * Access grammar, as in the {@code ring} package: plain accesses are private to one thread or published by a later
 * release; {@code getIntVolatile}/{@code compareAndSetInt}/{@code compareAndExchangeInt} on an entry's flags/domid word
 * are the only way either side changes a valid entry; every atomic call carries a comment saying what it orders.
 * The guest never takes a hypervisor lock, and the hypervisor never blocks on the guest: a guest that keeps rewriting
 * an entry makes its own pins fail ({@code GNTST_general_error}), nothing else.
 */
package io.pvio.hypervisor.grant;
