/**
 * Grant-table measurements: the cost of a hypervisor-checked grant copy beside a plain copy of the same bytes, and
 * the cost of a map/unmap pair.
 */
package io.pvio.bench.grant;
