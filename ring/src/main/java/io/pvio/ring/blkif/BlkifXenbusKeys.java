package io.pvio.ring.blkif;

/**
 * Names of the XenStore nodes of a virtual block device ({@code vbd}), as Xen's {@code io/blkif.h} and Linux's
 * blkfront and blkback use them. Values are decimal ASCII without a trailing NUL.
 * <pre>
 * /local/domain/&lt;be&gt;/backend/vbd/&lt;fe&gt;/&lt;devid&gt;/     written by the back end (and the toolstack)
 *     state frontend frontend-id online mode params type
 *     sectors sector-size physical-sector-size info
 *     feature-flush-cache feature-barrier feature-discard discard-granularity discard-alignment discard-secure
 *     feature-persistent feature-max-indirect-segments multi-queue-max-queues max-ring-page-order
 *
 * /local/domain/&lt;fe&gt;/device/vbd/&lt;devid&gt;/               written by the front end (and the toolstack)
 *     state backend backend-id virtual-device device-type
 *     protocol feature-persistent ring-page-order multi-queue-num-queues
 *     ring-ref | ring-ref0..N              one queue
 *     event-channel                        one queue
 *     queue-&lt;i&gt;/ring-ref | ring-ref0..N  several queues (no top-level ring keys then)
 *     queue-&lt;i&gt;/event-channel
 * </pre>
 */
public final class BlkifXenbusKeys
{
    /** Device type directory name. */
    public static final String DEVICE_TYPE = "vbd";

    /** Back: absolute path of the front end's directory. */
    public static final String FRONTEND = "frontend";

    /** Back: the front end's domain id. */
    public static final String FRONTEND_ID = "frontend-id";

    /** Front: absolute path of the back end's directory. */
    public static final String BACKEND = "backend";

    /** Front: the back end's domain id. */
    public static final String BACKEND_ID = "backend-id";

    /** Back: 1 while the device should exist; 0 asks the back end to remove it once closed. */
    public static final String ONLINE = "online";

    /** Back: {@code r} or {@code w}. */
    public static final String MODE = "mode";

    /** Back: the backing image (a host path). */
    public static final String PARAMS = "params";

    /** Back: the kind of backing ({@code file}). */
    public static final String TYPE = "type";

    /** Back: size of the disk in 512-byte sectors. */
    public static final String SECTORS = "sectors";

    /** Back: logical block size in bytes. */
    public static final String SECTOR_SIZE = "sector-size";

    /** Back: physical block size in bytes (a hint). */
    public static final String PHYSICAL_SECTOR_SIZE = "physical-sector-size";

    /** Back: {@code VDISK_*} bits. */
    public static final String INFO = "info";

    /** Back: 1 if {@code BLKIF_OP_FLUSH_DISKCACHE} is served. */
    public static final String FEATURE_FLUSH_CACHE = "feature-flush-cache";

    /** Back: 1 if {@code BLKIF_OP_WRITE_BARRIER} is served. */
    public static final String FEATURE_BARRIER = "feature-barrier";

    /** Back: 1 if {@code BLKIF_OP_DISCARD} is served. */
    public static final String FEATURE_DISCARD = "feature-discard";

    /** Back: discard granularity in bytes. */
    public static final String DISCARD_GRANULARITY = "discard-granularity";

    /** Back: discard alignment in bytes. */
    public static final String DISCARD_ALIGNMENT = "discard-alignment";

    /** Back: 1 if secure discard is honoured. */
    public static final String DISCARD_SECURE = "discard-secure";

    /** Both: 1 if the end supports persistent grants; used only when both write 1. */
    public static final String FEATURE_PERSISTENT = "feature-persistent";

    /** Back: most segments in one {@code BLKIF_OP_INDIRECT} request; absent when indirect is not served. */
    public static final String FEATURE_MAX_INDIRECT_SEGMENTS = "feature-max-indirect-segments";

    /** Back: most queues the front end may use. */
    public static final String MULTI_QUEUE_MAX_QUEUES = "multi-queue-max-queues";

    /** Back: log2 of the most ring pages per queue. */
    public static final String MAX_RING_PAGE_ORDER = "max-ring-page-order";

    /** Front: the ABI of the requests ({@link #PROTOCOL_X86_64}). */
    public static final String PROTOCOL = "protocol";

    /** The x86_64 blkif ABI, the only one served. */
    public static final String PROTOCOL_X86_64 = "x86_64-abi";

    /** Front: log2 of the pages of each ring; written only when it is not 0. */
    public static final String RING_PAGE_ORDER = "ring-page-order";

    /** Front: the number of queues; written only when more than 1. */
    public static final String MULTI_QUEUE_NUM_QUEUES = "multi-queue-num-queues";

    /** Front: the ring's grant reference (one-page ring). */
    public static final String RING_REF = "ring-ref";

    /** Front: the event channel port of a queue, in the front end's port space. */
    public static final String EVENT_CHANNEL = "event-channel";

    /** Front: the virtual device number. */
    public static final String VIRTUAL_DEVICE = "virtual-device";

    /** Front: {@code disk} or {@code cdrom}. */
    public static final String DEVICE_TYPE_NODE = "device-type";

    /** {@code info} bit: the device is a CD-ROM. */
    public static final int VDISK_CDROM = 1;

    /** {@code info} bit: the device is removable. */
    public static final int VDISK_REMOVABLE = 2;

    /** {@code info} bit: the device is read-only. */
    public static final int VDISK_READONLY = 4;

    /** Largest {@code ring-page-order} this implementation accepts: 16 pages, 512 requests. */
    public static final int MAX_RING_PAGE_ORDER_LIMIT = 4;

    /** Largest {@code multi-queue-max-queues} this implementation offers. */
    public static final int MAX_QUEUES_LIMIT = 16;

    private BlkifXenbusKeys()
    {
    }

    /**
     * The name of page {@code page}'s grant reference node of a multi-page ring: {@code ring-ref<page>}.
     *
     * @param page the page index, 0 or more.
     * @return the node name.
     */
    public static String ringRef(final int page)
    {
        return RING_REF + page;
    }

    /**
     * The directory of queue {@code queue} of a multi-queue device, relative to the front end's directory.
     *
     * @param queue the queue index, 0 or more.
     * @return {@code queue-<queue>}.
     */
    public static String queueDirectory(final int queue)
    {
        return "queue-" + queue;
    }
}
