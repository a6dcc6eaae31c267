package io.pvio.bench.ring;

/**
 * The JVM settings every ring benchmark fork runs with, in one place so the annotations of
 * {@link AbstractRingBenchmark} and the {@link RingBenchReport} runner cannot drift apart.
 * <ul>
 *   <li>{@link #ADD_EXPORTS}: Agrona 2.x reaches {@code jdk.internal.misc.Unsafe} and fails without it;</li>
 *   <li>{@link #NO_BOUNDS_CHECKS}: Agrona's bounds checks off, as Agrona's own benchmarks run;</li>
 *   <li>a fixed, pre-touched 1 GiB heap, so no heap resizing or first-touch page faults land in a measurement.</li>
 * </ul>
 */
public final class RingBenchJvm
{
    /** Opens {@code jdk.internal.misc} to Agrona. */
    public static final String ADD_EXPORTS = "--add-exports";

    /** The package exported by {@link #ADD_EXPORTS}. */
    public static final String ADD_EXPORTS_VALUE = "java.base/jdk.internal.misc=ALL-UNNAMED";

    /** Turns off Agrona's buffer bounds checks. */
    public static final String NO_BOUNDS_CHECKS = "-Dagrona.disable.bounds.checks=true";

    /** Initial heap. */
    public static final String XMS = "-Xms1g";

    /** Maximum heap, equal to the initial heap. */
    public static final String XMX = "-Xmx1g";

    /** Touches every heap page at start-up. */
    public static final String PRE_TOUCH = "-XX:+AlwaysPreTouch";

    private RingBenchJvm()
    {
    }

    /**
     * The arguments appended to every benchmark fork's command line, in order.
     *
     * @return a new array each call.
     */
    public static String[] jvmArgsAppend()
    {
        return new String[] {ADD_EXPORTS, ADD_EXPORTS_VALUE, NO_BOUNDS_CHECKS, XMS, XMX, PRE_TOUCH};
    }
}
