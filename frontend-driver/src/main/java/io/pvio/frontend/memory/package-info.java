/**
 * Guest memory management: the balloon driver that follows the toolstack's {@code memory/target}, and a model of the
 * guest kernel's own paging (resident pages, clock replacement, its swap device) that experiments run workloads on.
 */
package io.pvio.frontend.memory;
