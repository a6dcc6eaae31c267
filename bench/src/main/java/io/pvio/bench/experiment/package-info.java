/**
 * The experiments of {@code ./pvio experiment}: the I/O ones (exits per disk I/O, notification suppression,
 * small-packet sensitivity of the PV and emulated NICs) and the memory- and CPU-virtualization ones (page-table update
 * cost, fault delivery, walk length, ballooning against hypervisor swapping, page sharing, the idle memory tax,
 * working-set sampling, time slices and fairness), each with its table, chart and qualitative checks.
 */
package io.pvio.bench.experiment;
