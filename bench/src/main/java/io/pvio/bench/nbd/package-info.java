/**
 * A guest's PV disk exported over NBD (fixed newstyle) with Netty: the wire's numbers and layouts
 * ({@link io.pvio.bench.nbd.NbdWire}) and the export ({@link io.pvio.bench.nbd.NbdExport}), whose every request is
 * served by an application on the guest's vCPU through blkfront, the ring, blkback and the image.
 */
package io.pvio.bench.nbd;
