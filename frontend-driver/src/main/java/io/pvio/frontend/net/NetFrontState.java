package io.pvio.frontend.net;

/**
 * The life of a netfront interface as its users see it.
 */
public enum NetFrontState
{
    /** Waiting for the back end and running the handshake; nothing is transmitted. */
    INITIALISING,

    /** Connected: frames flow both ways. */
    CONNECTED,

    /** The back end broke the protocol; the rings are not used again. */
    BROKEN,

    /** Closed by its owner or by the back end going away; every grant is ended. */
    CLOSED
}
