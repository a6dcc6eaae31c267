package io.pvio.hypervisor.event;

/**
 * The event-channel part of Xen's {@code shared_info} page for the 2-level ABI with 64-bit words (x86_64 and Arm),
 * and where each of its words sits in the {@code long[]} that pvio keeps per domain.
 * <p>
 * Mirrors {@code xen/include/public/xen.h} {@code struct shared_info} and {@code struct vcpu_info}. Writers: [X] the
 * hypervisor (a sender's {@code EVTCHNOP_send}, {@code EVTCHNOP_unmask}), [G] the guest (its upcall handler and
 * its mask writes).
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  | upcall_pending|  upcall_mask  |             pad               |     0  vcpu_info[0]
 *  |                              pad                              |     4
 *  |         evtchn_pending_sel, one bit per pending word          |     8  [X] set, [G] exchange with 0
 *  |                 (64 bits)                                     |    12
 *  |           arch and time fields (not modelled)                ...   16
 *  |        vcpu_info[1..31], 64 bytes each, same shape           ...   64
 *  |      evtchn_pending[64], one bit per port, 64 bits a word    ...  2048  [X] set, [G] test-and-clear
 *  |      evtchn_mask[64], one bit per port, 64 bits a word       ...  2560  [G] set and clear, [X] clear
 *  |           wallclock and arch fields (not modelled)           ...  3072
 *  +---------------------------------------------------------------+
 * </pre>
 * Byte 0 of a {@code vcpu_info}, {@code evtchn_upcall_pending}, is the low byte of its first little-endian word;
 * [X] sets it to 1 and [G] clears it. Port {@code p} is bit {@code p % 64} of word {@code p / 64} in both arrays,
 * which gives {@value #EVTCHN_2L_NR_CHANNELS} ports.
 * <p>
 * pvio holds bytes 0 to {@value #MODELLED_BYTES} as {@code long} words in a Java array, with
 * {@value #PAD_WORDS} words of padding before and after, so the array header (read by every bounds check) and the
 * neighbouring heap objects never share a cache line with {@code vcpu_info[0]} or the pending words, which senders
 * and the receiving loop both write. Xen's own layout already keeps the two hot areas 2048 bytes apart.
 */
public final class SharedInfoDescriptor
{
    /** Bytes of one {@code vcpu_info}. */
    public static final int VCPU_INFO_LENGTH = 64;

    /** {@code vcpu_info} entries in {@code shared_info} ({@code XEN_LEGACY_MAX_VCPUS}). */
    public static final int MAX_VCPUS = 32;

    /** Offset of {@code evtchn_upcall_pending} (u8) in a {@code vcpu_info}. */
    public static final int EVTCHN_UPCALL_PENDING_OFFSET = 0;

    /** Offset of {@code evtchn_upcall_mask} (u8) in a {@code vcpu_info}; not used by pvio. */
    public static final int EVTCHN_UPCALL_MASK_OFFSET = 1;

    /** Offset of {@code evtchn_pending_sel} (xen_ulong) in a {@code vcpu_info}. */
    public static final int EVTCHN_PENDING_SEL_OFFSET = 8;

    /** Offset of {@code evtchn_pending[]} in {@code shared_info}. */
    public static final int EVTCHN_PENDING_OFFSET = MAX_VCPUS * VCPU_INFO_LENGTH;

    /** Bits in one {@code xen_ulong_t} word of the pending, mask and selector arrays. */
    public static final int BITS_PER_WORD = Long.SIZE;

    /** Words in {@code evtchn_pending[]} and in {@code evtchn_mask[]}. */
    public static final int EVTCHN_WORDS = BITS_PER_WORD;

    /** Offset of {@code evtchn_mask[]} in {@code shared_info}. */
    public static final int EVTCHN_MASK_OFFSET = EVTCHN_PENDING_OFFSET + EVTCHN_WORDS * Long.BYTES;

    /** Ports of the 2-level ABI with 64-bit words, {@code EVTCHN_2L_NR_CHANNELS}. */
    public static final int EVTCHN_2L_NR_CHANNELS = EVTCHN_WORDS * BITS_PER_WORD;

    /** Bytes of {@code shared_info} that pvio models: everything up to the end of {@code evtchn_mask[]}. */
    public static final int MODELLED_BYTES = EVTCHN_MASK_OFFSET + EVTCHN_WORDS * Long.BYTES;

    /** Padding words before and after the modelled bytes in the Java array: 128 bytes, two cache lines. */
    public static final int PAD_WORDS = 16;

    /** Length of the Java array that holds one domain's modelled {@code shared_info}. */
    public static final int ARRAY_LENGTH = PAD_WORDS + MODELLED_BYTES / Long.BYTES + PAD_WORDS;

    /** The value of the {@code evtchn_upcall_pending} byte within its word, set by the hypervisor. */
    public static final long UPCALL_PENDING = 1L;

    /** The bits of the {@code evtchn_upcall_pending} byte within its word. */
    public static final long UPCALL_PENDING_BYTE_MASK = 0xFFL;

    private static final int PORT_WORD_SHIFT = 6;

    private SharedInfoDescriptor()
    {
    }

    /**
     * Array index of the 8-byte word at a {@code shared_info} byte offset.
     *
     * @param byteOffset an 8-byte aligned offset below {@link #MODELLED_BYTES}.
     * @return the index in the domain's array.
     */
    public static int wordIndex(final int byteOffset)
    {
        return PAD_WORDS + (byteOffset >> 3);
    }

    /**
     * Array index of the word holding {@code evtchn_upcall_pending} of a vCPU.
     *
     * @param vcpu vCPU number, {@code 0 <= vcpu < MAX_VCPUS}.
     * @return the index.
     */
    public static int upcallPendingIndex(final int vcpu)
    {
        return wordIndex(vcpu * VCPU_INFO_LENGTH + EVTCHN_UPCALL_PENDING_OFFSET);
    }

    /**
     * Array index of {@code evtchn_pending_sel} of a vCPU.
     *
     * @param vcpu vCPU number, {@code 0 <= vcpu < MAX_VCPUS}.
     * @return the index.
     */
    public static int pendingSelectorIndex(final int vcpu)
    {
        return wordIndex(vcpu * VCPU_INFO_LENGTH + EVTCHN_PENDING_SEL_OFFSET);
    }

    /**
     * Array index of {@code evtchn_pending[word]}.
     *
     * @param word word number, {@code 0 <= word < EVTCHN_WORDS}.
     * @return the index.
     */
    public static int pendingIndex(final int word)
    {
        return PAD_WORDS + (EVTCHN_PENDING_OFFSET >> 3) + word;
    }

    /**
     * Array index of {@code evtchn_mask[word]}.
     *
     * @param word word number, {@code 0 <= word < EVTCHN_WORDS}.
     * @return the index.
     */
    public static int maskIndex(final int word)
    {
        return PAD_WORDS + (EVTCHN_MASK_OFFSET >> 3) + word;
    }

    /**
     * The word of the pending and mask arrays that holds a port.
     *
     * @param port a port, {@code 0 <= port < EVTCHN_2L_NR_CHANNELS}.
     * @return {@code port / 64}.
     */
    public static int portWord(final int port)
    {
        return port >>> PORT_WORD_SHIFT;
    }

    /**
     * The bit of a port within its word.
     *
     * @param port a port, {@code 0 <= port < EVTCHN_2L_NR_CHANNELS}.
     * @return {@code 1L << (port % 64)}.
     */
    public static long portBit(final int port)
    {
        return 1L << port;
    }

    /**
     * The port of a bit within a word, inverse of {@link #portWord(int)} and {@link #portBit(int)}.
     *
     * @param word word number.
     * @param bit  bit number within the word, {@code 0 <= bit < 64}.
     * @return {@code word * 64 + bit}.
     */
    public static int port(final int word, final int bit)
    {
        return (word << PORT_WORD_SHIFT) | bit;
    }
}
