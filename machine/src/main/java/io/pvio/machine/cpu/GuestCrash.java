package io.pvio.machine.cpu;

/**
 * The guest kernel failed in a way real hardware would make fatal: an exception with no handler (a double then triple
 * fault). The hypervisor kills the domain; nothing outside it is affected.
 */
public final class GuestCrash extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    /**
     * A crash.
     *
     * @param message what happened, naming the vector.
     */
    public GuestCrash(final String message)
    {
        super(message);
    }
}
