package io.pvio.ring;

/**
 * Xen's notification hold-off rule. A producer that moved its index from {@code old} to {@code new} must notify
 * the consumer iff the consumer's event index lies in the half-open window {@code (old, new]}:
 * <pre>
 *     notify  &lt;=&gt;  (uint32)(new - event) &lt; (uint32)(new - old)
 * </pre>
 * The arithmetic is unsigned 32-bit and wraps, so the rule holds across {@code 0xFFFF_FFFF -> 0}.
 */
public final class EventIndex
{
    private EventIndex()
    {
    }

    /**
     * Whether a producer that moved its index from {@code oldIndex} to {@code newIndex} must notify a consumer
     * whose event index is {@code eventIndex}.
     *
     * @param newIndex   producer index after the push.
     * @param oldIndex   producer index before the push.
     * @param eventIndex the consumer's event index, read after the push with a full fence in between.
     * @return true if the consumer asked to be woken for one of the entries just published.
     */
    public static boolean needsNotify(final int newIndex, final int oldIndex, final int eventIndex)
    {
        return Integer.compareUnsigned(newIndex - eventIndex, newIndex - oldIndex) < 0;
    }
}
