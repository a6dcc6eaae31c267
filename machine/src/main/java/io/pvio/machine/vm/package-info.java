/**
 * A guest kernel's memory management running unchanged over native, full (shadow), para (direct) and nested paging,
 * with per-domain counters priced by the cost model, and the guest workloads that exercise it.
 */
package io.pvio.machine.vm;
