package io.pvio.hypervisor.xenstore;

import java.nio.charset.StandardCharsets;

/**
 * The state of one end of a split device, {@code enum xenbus_state} of Xen's {@code io/xenbus.h}, stored as a
 * decimal string in the end's {@code state} node.
 */
public enum XenbusState
{
    /** 0: the node is missing or the device is gone. */
    UNKNOWN(0),

    /** 1: early set-up. */
    INITIALISING(1),

    /** 2: (back end) features published, waiting for the front end's transport parameters. */
    INIT_WAIT(2),

    /** 3: (front end) transport parameters published, waiting for the back end to connect. */
    INITIALISED(3),

    /** 4: connected; I/O may flow. */
    CONNECTED(4),

    /** 5: tear-down requested. */
    CLOSING(5),

    /** 6: closed. */
    CLOSED(6),

    /** 7: a reconfiguration is in progress. */
    RECONFIGURING(7),

    /** 8: the reconfiguration is done. */
    RECONFIGURED(8);

    private static final XenbusState[] BY_VALUE = values();

    private final int value;

    XenbusState(final int value)
    {
        this.value = value;
    }

    /**
     * The number stored in the {@code state} node.
     *
     * @return the value, 0 to 8.
     */
    public int value()
    {
        return value;
    }

    /**
     * The node value that stands for this state.
     *
     * @return the decimal digit, as the bytes written to XenStore.
     */
    public byte[] toBytes()
    {
        return new byte[] { (byte)('0' + value) };
    }

    /**
     * The state a number stands for.
     *
     * @param value the number.
     * @return the state.
     * @throws IllegalArgumentException if the number is not 0 to 8.
     */
    public static XenbusState fromValue(final int value)
    {
        if (value < 0 || value >= BY_VALUE.length)
        {
            throw new IllegalArgumentException("xenbus state out of range: value=" + value + " (expected: 0..8)");
        }
        return BY_VALUE[value];
    }

    /**
     * Parses a {@code state} node value strictly: exactly one decimal digit 0 to 8, no sign, no spaces, no NUL.
     *
     * @param value the node's bytes.
     * @return the state, or null if the bytes are not a valid state.
     */
    public static XenbusState tryParse(final byte[] value)
    {
        if (1 != value.length || value[0] < '0' || value[0] > '8')
        {
            return null;
        }
        return BY_VALUE[value[0] - '0'];
    }

    /**
     * Parses a {@code state} node value strictly.
     *
     * @param value the node's text.
     * @return the state.
     * @throws IllegalArgumentException if the text is not exactly one digit 0 to 8.
     */
    public static XenbusState parse(final String value)
    {
        final XenbusState state = tryParse(value.getBytes(StandardCharsets.ISO_8859_1));
        if (null == state)
        {
            throw new IllegalArgumentException("invalid xenbus state: value=" + XenStorePath.quote(value) +
                " (expected: one digit 0..8)");
        }
        return state;
    }
}
