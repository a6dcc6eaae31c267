/**
 * Grant tables, version 1: how a domain shares its frames with another, and the hypervisor's map, unmap and copy
 * operations that check every grant reference before anything is touched.
 */
package io.pvio.hypervisor.grant;
