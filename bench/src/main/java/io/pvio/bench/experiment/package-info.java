/**
 * The memory- and CPU-virtualization experiments of {@code ./pvio experiment}: page-table update cost, fault
 * delivery, walk length, ballooning against hypervisor swapping, page sharing, the idle memory tax and working-set
 * sampling, each with its table, chart and qualitative checks.
 */
package io.pvio.bench.experiment;
