/**
 * Block I/O through the whole split driver (guest front end, ring, grants, events, driver-domain back end, image
 * file) against the same I/O issued directly on the image with {@code FileChannel}.
 */
package io.pvio.bench.block;
