package io.pvio.bench.ring;

/**
 * Names of the implementations the ring benchmarks compare, as used in their {@code impl} parameter.
 */
public final class Impl
{
    /** pvio's Xen-layout ring: {@link io.pvio.ring.FrontRing} and {@link io.pvio.ring.BackRing} over one buffer. */
    public static final String PVIO = "pvio";

    /** JCTools {@code SpscArrayQueue} (Unsafe based) carrying pre-allocated {@link Message}s. */
    public static final String JCTOOLS_SPSC = "jctoolsSpsc";

    /** JCTools {@code SpscVarHandleArrayQueue} from {@code jctools-core-jdk11}, the Unsafe-free flavour. */
    public static final String JCTOOLS_SPSC_VH = "jctoolsSpscVh";

    /** Agrona {@code OneToOneRingBuffer}, copying the payload in with {@code write} and out in {@code read}. */
    public static final String AGRONA_O2O = "agronaO2O";

    /** JCTools {@code MpscBlockingConsumerArrayQueue}, whose consumer blocks when the queue is empty. */
    public static final String JCTOOLS_MPSC_BLOCKING = "jctoolsMpscBlocking";

    /** Agrona {@code OneToOneRingBuffer} whose consumer backs off with {@code BackoffIdleStrategy}. */
    public static final String AGRONA_O2O_BACKOFF = "agronaO2OBackoff";

    private Impl()
    {
    }

    /**
     * The error for a name the benchmark at hand does not know; callers throw it.
     *
     * @param impl the parameter value.
     * @return the exception to throw.
     */
    public static IllegalArgumentException unknown(final String impl)
    {
        return new IllegalArgumentException("unknown impl: impl=" + impl);
    }
}
