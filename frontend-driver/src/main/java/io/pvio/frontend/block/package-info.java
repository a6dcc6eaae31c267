/**
 * blkfront: the guest side of the Xen block device protocol ({@code io/blkif.h}).
 * <p>
 * {@link io.pvio.frontend.block.BlockFrontShadow} keeps the requests in flight, keyed by the {@code id} the back end
 * echoes in its response, and checks every response against them before the guest acts on it: the back end is not
 * trusted (see the frontend checklist in the protocol notes, section 7.4).
 */
package io.pvio.frontend.block;
