package io.pvio.hypervisor.xenstore;

/**
 * Strict parsing of the decimal values front and back ends read from each other's XenStore directories: the peer is
 * not trusted, so a value is accepted only as plain ASCII digits, without sign, spaces or leading zeros, inside the
 * range the reader expects.
 */
public final class XenbusValues
{
    private static final int MAX_DIGITS = 19;

    private XenbusValues()
    {
    }

    /**
     * Parses a decimal value.
     *
     * @param value the node's value.
     * @param name  the node's name, for the message.
     * @param min   smallest accepted value.
     * @param max   largest accepted value.
     * @return the value.
     * @throws IllegalArgumentException naming the node, the value and the range if it is not accepted.
     */
    public static long parseDecimal(final String value, final String name, final long min, final long max)
    {
        boolean valid = !value.isEmpty() && value.length() <= MAX_DIGITS &&
            (1 == value.length() || '0' != value.charAt(0));
        long result = 0;
        for (int i = 0; valid && i < value.length(); i++)
        {
            final char c = value.charAt(i);
            valid = c >= '0' && c <= '9';
            result = result * 10 + (c - '0');
        }
        if (!valid || result < min || result > max)
        {
            throw new IllegalArgumentException(name + "=\"" + value + "\" (expected: a decimal number " + min + ".." +
                max + ")");
        }
        return result;
    }

    /**
     * Parses a decimal value that fits an {@code int}.
     *
     * @param value the node's value.
     * @param name  the node's name, for the message.
     * @param min   smallest accepted value.
     * @param max   largest accepted value.
     * @return the value.
     * @throws IllegalArgumentException naming the node, the value and the range if it is not accepted.
     */
    public static int parseInt(final String value, final String name, final int min, final int max)
    {
        return (int)parseDecimal(value, name, min, max);
    }
}
