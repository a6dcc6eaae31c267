/**
 * XenStore: the hierarchical key-value store through which domains find each other and negotiate devices, with
 * watches, transactions, permissions and quotas as Xen's {@code xenstored} implements them, its wire protocol
 * ({@code io/xs_wire.h}), its shared ring page, the server that serves the rings, and the xenbus state handshake.
 *
 * <h2>Pieces</h2>
 * <ul>
 *   <li>{@link io.pvio.hypervisor.xenstore.XenStore} holds the tree; a domain works through a
 *       {@link io.pvio.hypervisor.xenstore.XenStoreConnection}. Paths follow
 *       {@link io.pvio.hypervisor.xenstore.XenStorePath}, permissions are
 *       {@link io.pvio.hypervisor.xenstore.XsPermissions}, limits are
 *       {@link io.pvio.hypervisor.xenstore.XenStoreLimits}, and failures are
 *       {@link io.pvio.hypervisor.xenstore.XenStoreException} carrying an
 *       {@link io.pvio.hypervisor.xenstore.XsError}.</li>
 *   <li>The wire: {@link io.pvio.hypervisor.xenstore.XsWireDescriptor} (header layout),
 *       {@link io.pvio.hypervisor.xenstore.XsMessageType}, {@link io.pvio.hypervisor.xenstore.XsMessage},
 *       {@link io.pvio.hypervisor.xenstore.XsFrameDecoder} (reassembly and the length check) and
 *       {@link io.pvio.hypervisor.xenstore.XsRequestProcessor} (validation and execution).</li>
 *   <li>The ring page: {@link io.pvio.hypervisor.xenstore.XenStoreRingDescriptor} (layout),
 *       {@link io.pvio.hypervisor.xenstore.XsRingProducer} and {@link io.pvio.hypervisor.xenstore.XsRingConsumer}
 *       (one byte stream each), {@link io.pvio.hypervisor.xenstore.XenStoreRingClient} (guest) and
 *       {@link io.pvio.hypervisor.xenstore.XenStoreServer} with one
 *       {@link io.pvio.hypervisor.xenstore.XenStoreRingConnection} per ring (server).</li>
 *   <li>{@link io.pvio.hypervisor.xenstore.XenStoreSocketServer}: the store on a Unix domain socket, as dom0's
 *       management interface, so Xen's own tools ({@code xenstore-ls}, {@code -read}, {@code -write}, ...) work
 *       against it through {@code XENSTORED_PATH}.</li>
 *   <li>{@link io.pvio.hypervisor.xenstore.XenbusState} and {@link io.pvio.hypervisor.xenstore.XenbusStateWatcher}
 *       for the device handshake.</li>
 * </ul>
 *
 * <h2>Threads</h2>
 * Any domain's thread may call into the store; one lock serialises the tree. A change never runs a watcher's code:
 * the events go into the watcher connection's bounded queue, a wake-up (an event channel, an unpark) is signalled
 * after the lock is released, and the watcher's own thread polls them. The ring server is an Agrona
 * {@link org.agrona.concurrent.Agent} driven by one thread; the socket server has a selector thread of its own.
 *
 * <h2>Memory ordering on the ring page</h2>
 * A producer copies bytes into its stream, then stores its index with release; a consumer loads the peer's
 * producer index with acquire before copying bytes out, then stores its own consumer index with release; a
 * producer loads the peer's consumer index with acquire before overwriting freed bytes. Every update is followed by
 * a notification (XenStore rings have no event-index hold-off), so no full fence is needed. Each end keeps its own
 * index privately and validates the peer's ({@code prod - cons <= 1024}, unsigned) before touching the data.
 */
package io.pvio.hypervisor.xenstore;
