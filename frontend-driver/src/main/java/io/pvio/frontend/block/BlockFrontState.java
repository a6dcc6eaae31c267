package io.pvio.frontend.block;

/**
 * The life of a blkfront device as its users see it.
 */
public enum BlockFrontState
{
    /** Waiting for the back end and running the handshake; I/O submitted now waits. */
    INITIALISING,

    /** Connected: I/O flows. */
    CONNECTED,

    /** The back end went away; I/O in flight is kept and reissued once the handshake is redone. */
    RECOVERING,

    /** The back end broke the protocol; every I/O fails. */
    BROKEN,

    /** Closed by its owner (or its domain died); every I/O fails. */
    CLOSED
}
