package io.pvio.bench.cli;

import java.io.PrintStream;

import org.agrona.concurrent.UnsafeBuffer;

/**
 * Checks, before anything else touches Agrona, that this JVM lets Agrona 2.x reach {@code jdk.internal.misc.Unsafe}.
 * Without {@link #REQUIRED_JVM_FLAG} the first Agrona buffer fails with a bare {@link IllegalAccessError} (or a
 * {@link NoClassDefFoundError} on later attempts); this class turns that into one sentence that names the fix.
 */
public final class AgronaAccess
{
    /** The JVM flag that opens {@code jdk.internal.misc} to class-path code such as Agrona. */
    public static final String REQUIRED_JVM_FLAG = "--add-exports java.base/jdk.internal.misc=ALL-UNNAMED";

    /** What is printed when the flag is missing. */
    public static final String MISSING_FLAG_MESSAGE =
        "pvio needs the JVM flag " + REQUIRED_JVM_FLAG + " (Agrona 2.x uses jdk.internal.misc.Unsafe)";

    private static final String UNSAFE_PACKAGE = "jdk.internal.misc";
    private static final int PROBE_VALUE = 0x5056_494F;

    private AgronaAccess()
    {
    }

    /**
     * Can Agrona buffers be used in this JVM? Builds a small on-heap {@link UnsafeBuffer} and writes and reads it
     * back with release/acquire ordering.
     *
     * @return true if Agrona works here, false if the JVM denies it access to {@code jdk.internal.misc.Unsafe}.
     * @throws LinkageError if Agrona fails for another reason, for example because it is not on the class path.
     */
    public static boolean isAvailable()
    {
        try
        {
            final UnsafeBuffer probe = new UnsafeBuffer(new byte[Long.BYTES]);
            probe.putIntRelease(0, PROBE_VALUE);
            return probe.getIntAcquire(0) == PROBE_VALUE;
        }
        catch (final LinkageError ex)
        {
            if (Object.class.getModule().isExported(UNSAFE_PACKAGE, UnsafeBuffer.class.getModule()))
            {
                throw ex;
            }
            return false;
        }
    }

    /**
     * Checks access and, if it is denied, prints {@link #MISSING_FLAG_MESSAGE} to {@code err}.
     *
     * @param err where to explain a missing flag.
     * @return true if Agrona works here, false if the message was printed.
     */
    public static boolean checkAccess(final PrintStream err)
    {
        if (isAvailable())
        {
            return true;
        }
        err.println(MISSING_FLAG_MESSAGE);
        return false;
    }
}
