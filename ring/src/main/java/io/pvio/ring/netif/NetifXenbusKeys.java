package io.pvio.ring.netif;

/**
 * The XenStore keys of the netif handshake ({@code io/netif.h}, "Feature and Parameter Negotiation"): written by the
 * front end under its device directory, by the back end under its own.
 */
public final class NetifXenbusKeys
{
    /** The device type, the {@code <type>} element of both directories. */
    public static final String DEVICE_TYPE = "vif";
    /** Back end: the front end's directory. */
    public static final String FRONTEND = "frontend";
    /** Back end: the front end's domain id. */
    public static final String FRONTEND_ID = "frontend-id";
    /** Front end: the back end's directory. */
    public static final String BACKEND = "backend";
    /** Front end: the back end's domain id. */
    public static final String BACKEND_ID = "backend-id";
    /** Front end: the grant of the transmit ring's page. */
    public static final String TX_RING_REF = "tx-ring-ref";
    /** Front end: the grant of the receive ring's page. */
    public static final String RX_RING_REF = "rx-ring-ref";
    /** Front end: one event channel for both rings. */
    public static final String EVENT_CHANNEL = "event-channel";
    /** Front end: the transmit ring's event channel, when split. */
    public static final String EVENT_CHANNEL_TX = "event-channel-tx";
    /** Front end: the receive ring's event channel, when split. */
    public static final String EVENT_CHANNEL_RX = "event-channel-rx";
    /** Front end: 1 when the back end must copy received packets into posted pages (the only mode today). */
    public static final String REQUEST_RX_COPY = "request-rx-copy";
    /** Front end: the number of queues it uses (a subdirectory {@code queue-N} each when more than one). */
    public static final String MULTI_QUEUE_NUM_QUEUES = "multi-queue-num-queues";
    /** Back end: the most queues it offers. */
    public static final String MULTI_QUEUE_MAX_QUEUES = "multi-queue-max-queues";
    /** Front end: 1 when it notifies the back end after posting receive buffers. */
    public static final String FEATURE_RX_NOTIFY = "feature-rx-notify";
    /** Back end: whether it can flip pages into the front end (obsolete; pvio writes 0). */
    public static final String FEATURE_RX_FLIP = "feature-rx-flip";
    /** Either end: whether it accepts packets in several slots (scatter-gather). */
    public static final String FEATURE_SG = "feature-sg";
    /** Toolstack: the interface's MTU, 1500 when absent. */
    public static final String MTU = "mtu";
    /** Back end: whether it can use separate transmit and receive event channels. */
    public static final String FEATURE_SPLIT_EVENT_CHANNELS = "feature-split-event-channels";
    /** Back end: whether it supports copying received packets. */
    public static final String FEATURE_RX_COPY = "feature-rx-copy";
    /** Either end: the interface's MAC address, {@code xx:xx:xx:xx:xx:xx}. */
    public static final String MAC = "mac";

    private NetifXenbusKeys()
    {
    }
}
